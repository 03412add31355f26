"""What the bot's operators use: its audience, /stats, /broadcast and the Prometheus metrics."""

from bot.operators.audience import Audience, AudienceMiddleware
from bot.operators.broadcast import (
    BroadcastAlreadyRunning,
    Broadcaster,
    BroadcastUsage,
    NobodyToBroadcastTo,
    NoBroadcastRunning,
)
from bot.operators.metrics import Metrics, TelegramCallMetrics
from bot.operators.stats import StarsTotals, StatsService

__all__ = [
    "Audience",
    "AudienceMiddleware",
    "BroadcastAlreadyRunning",
    "BroadcastUsage",
    "Broadcaster",
    "Metrics",
    "NoBroadcastRunning",
    "NobodyToBroadcastTo",
    "StarsTotals",
    "StatsService",
    "TelegramCallMetrics",
]
