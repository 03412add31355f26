"""midjourney-proxy's submit answers: return codes mapped onto a Submission or a domain error."""

from __future__ import annotations

import base64
import re
from typing import Final

from bot.backends.mjproxy.wire import ProxyStatus, ReturnCode, SubmitReply
from bot.domain import (
    BackendBusy,
    BackendOffline,
    BackendRefused,
    BackendUnavailable,
    JobStatus,
    PromptRejected,
    RemixUnavailable,
    Submission,
    TaskNotFound,
)

# trueai keeps the chosen line's keycap ("1️⃣ ") at the start of a PicReader modal's finalPrompt.
_KEYCAP_PREFIX: Final = re.compile(r"^\s*\d\ufe0f?\u20e3\s*")
_QUEUE_FULL_WORDING: Final = "队列已满"
# Code 3 means "no live account" ("无可用的账号实例", the Java build's "账号不可用: …") as well as "no such
# task"; only the wording tells them apart (TaskService.cs, TaskServiceImpl.java).
_ACCOUNT_WORDING: Final = "账号"
_TASK_WORDING: Final = "任务"
# Code 4 for enableRemix on an account whose Discord Remix is off (TaskService.SubmitAction).
_REMIX_WORDING: Final = "remix"


def strip_keycap(prompt: str) -> str:
    return _KEYCAP_PREFIX.sub("", prompt, count=1).strip()


def _is_modal(reply: SubmitReply) -> bool:
    """Code 21 means "modal required" in plus/trueai but "task already exists" in old Java builds."""
    props = reply.properties
    if props.remix or props.final_prompt is not None or props.status == ProxyStatus.MODAL:
        return True
    # The plus doc's own modal example has no properties; only an EXISTED answer carries status/imageUrl.
    return props.status is None and props.image_url is None


def _task_ids(reply: SubmitReply) -> tuple[str, ...]:
    # trueai answers "Imagine all" with the four new task ids joined by commas.
    ids = tuple(part.strip() for part in (reply.result or "").split(",") if part.strip())
    if not ids:
        raise BackendUnavailable(f"midjourney-proxy accepted a task without an id (code {reply.code})")
    return ids


def raise_for_code(reply: SubmitReply, *, task_scoped: bool = False) -> None:
    """Raise the domain error for a refusal code; return for the codes that carry a task.

    `task_scoped`: the call names an existing task, so a code 3 may mean that task is gone.
    """
    reason = reply.reason
    match reply.code:
        case ReturnCode.SUCCESS | ReturnCode.IN_QUEUE | ReturnCode.MODAL_OR_EXISTED:
            return
        case ReturnCode.QUEUE_REJECTED:
            raise BackendBusy(reason or "queue full")
        case ReturnCode.FAILURE if _QUEUE_FULL_WORDING in reason:
            raise BackendBusy(reason)
        case ReturnCode.FAILURE:
            # 9 is the proxy's "system exception" (Discord send failed, upload failed): it broke.
            raise BackendUnavailable(f"midjourney-proxy failure: {reason}")
        case ReturnCode.BANNED_PROMPT:
            raise PromptRejected(reason or "banned prompt", banned_word=reply.properties.banned_word)
        case ReturnCode.NOT_FOUND if _ACCOUNT_WORDING not in reason and (
            task_scoped or _TASK_WORDING in reason
        ):
            raise TaskNotFound(reason or "task not found")
        case ReturnCode.NOT_FOUND:
            raise BackendOffline(f"midjourney-proxy has no account to run it: {reason}")
        case ReturnCode.VALIDATION_ERROR if _REMIX_WORDING in reason.lower():
            raise RemixUnavailable(reason)
        case ReturnCode.VALIDATION_ERROR | ReturnCode.LOGIC_FAILURE:
            # -1: a limit of the proxy's own (daily draws, concurrency, banned user); its message says which.
            raise BackendRefused(reason or "validation error")
        case _:
            raise BackendRefused(f"midjourney-proxy refused (code {reply.code}): {reason}")


def submission_from_reply(reply: SubmitReply, *, task_scoped: bool = False) -> Submission:
    """Map a submit answer onto a Submission, or raise the domain error its code stands for."""
    raise_for_code(reply, task_scoped=task_scoped)
    first, *extra = _task_ids(reply)
    if reply.code == ReturnCode.IN_QUEUE:
        return Submission(first, JobStatus.QUEUED, queue_position=reply.properties.number_of_queues)
    if reply.code == ReturnCode.MODAL_OR_EXISTED and _is_modal(reply):
        modal_prompt = strip_keycap(reply.properties.final_prompt) if reply.properties.final_prompt else None
        return Submission(first, JobStatus.NEEDS_INPUT, modal_prompt=modal_prompt)
    # Code 1 (and an old build's "already exists"): the proxy reports SUBMITTED/progress later.
    return Submission(first, JobStatus.QUEUED, extra_task_ids=tuple(extra))


def data_url(data: bytes, mime_type: str) -> str:
    """The proxy takes images as data URLs ("data:image/png;base64,…"), never bare base64."""
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"
