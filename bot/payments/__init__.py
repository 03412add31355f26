"""Credits sold for Telegram Stars: the service, the job writer's credit hook, the Telegram side."""

from bot.payments.credits import CreditHook, CreditRules
from bot.payments.service import Account, Credited, PaymentService, Refunded

__all__ = ["Account", "CreditHook", "CreditRules", "Credited", "PaymentService", "Refunded"]
