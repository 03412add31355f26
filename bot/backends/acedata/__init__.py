"""Ace Data Cloud: the adapter and the pure mapping of its wire format."""

from bot.backends.acedata.adapter import AceDataBackend
from bot.backends.acedata.errors import raise_for_error
from bot.backends.acedata.results import (
    action_ref,
    blend_prompt,
    classify_failure,
    describe_text,
    describe_update,
    modal_task_id,
    parse_action,
    parse_action_ref,
    parse_modal_task_id,
    parse_progress,
    record_to_update,
    result_to_update,
)
from bot.backends.acedata.wire import AceError, AceErrorCode, AceResult, AceTaskRecord

__all__ = [
    "AceDataBackend",
    "AceError",
    "AceErrorCode",
    "AceResult",
    "AceTaskRecord",
    "action_ref",
    "blend_prompt",
    "classify_failure",
    "describe_text",
    "describe_update",
    "modal_task_id",
    "parse_action",
    "parse_action_ref",
    "parse_modal_task_id",
    "parse_progress",
    "raise_for_error",
    "record_to_update",
    "result_to_update",
]
