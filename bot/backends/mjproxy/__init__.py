"""midjourney-proxy (plus / trueai): the adapter and the pure mapping of its wire format."""

from bot.backends.mjproxy.adapter import AUTH_HEADER, Flavour, MjProxyBackend
from bot.backends.mjproxy.buttons import parse_button
from bot.backends.mjproxy.submits import data_url, raise_for_code, strip_keycap, submission_from_reply
from bot.backends.mjproxy.tasks import classify_failure, parse_progress, task_to_update
from bot.backends.mjproxy.wire import ProxyStatus, ProxyTask, ReturnCode, SubmitReply

__all__ = [
    "AUTH_HEADER",
    "Flavour",
    "MjProxyBackend",
    "ProxyStatus",
    "ProxyTask",
    "ReturnCode",
    "SubmitReply",
    "classify_failure",
    "data_url",
    "parse_button",
    "parse_progress",
    "raise_for_code",
    "strip_keycap",
    "submission_from_reply",
    "task_to_update",
]
