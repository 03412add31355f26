"""Making Telegram show each job's stored state: queue, sync, media, method builders, rate limits, looks."""

from bot.delivery.job_delivery import JobDelivery

__all__ = ["JobDelivery"]
