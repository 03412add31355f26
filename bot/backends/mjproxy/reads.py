"""Reading midjourney-proxy's tasks: one by id, many by list-by-condition, one by job id, an image's seed."""

from __future__ import annotations

import json
import logging
from typing import Final
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError

from bot.backends.http import HTTP_BAD_REQUEST, HTTP_NO_CONTENT, HTTP_NOT_FOUND
from bot.backends.mjproxy.submits import raise_for_code
from bot.backends.mjproxy.tasks import task_to_update
from bot.backends.mjproxy.transport import ProxyTransport, not_found_or_missing, parse_reply
from bot.backends.mjproxy.wire import STATE_MAX_LENGTH, ProxyTask, ReturnCode
from bot.domain import BackendRefused, BackendUnavailable, TaskUpdate

log = logging.getLogger(__name__)

LISTED_TASKS: Final = 100  # trueai's GET /mj/task/list answers the newest 100 tasks
CLOCK_SKEW: Final = 300.0  # seconds the proxy's clock may differ from ours
_TASK_LIST: Final = TypeAdapter(list[ProxyTask])
LIST_PATH: Final = "/mj/task/list-by-condition"
MAX_IDS_PER_LIST: Final = 1000  # one list-by-condition answer is ~2 kB per task


async def image_seed(proxy: ProxyTransport, task_id: str) -> str:
    response = await proxy.read("GET", f"/mj/task/{quote(task_id, safe='')}/image-seed")
    reply = parse_reply(response)
    if reply is None:
        if response.status_code == HTTP_NOT_FOUND:
            raise not_found_or_missing(response, f"task {task_id}")
        raise BackendUnavailable(
            f"midjourney-proxy image-seed answer is not JSON (HTTP {response.status_code})"
        )
    raise_for_code(reply, task_scoped=True)
    if reply.code != ReturnCode.SUCCESS or not reply.result:
        raise BackendRefused(f"no seed for task {task_id}: {reply.reason}")
    return reply.result


async def fetch(proxy: ProxyTransport, task_id: str) -> TaskUpdate | None:
    response = await proxy.read("GET", f"/mj/task/{quote(task_id, safe='')}/fetch")
    # Unknown ids: trueai answers 204, the Java build 200 with an empty body.
    if response.status_code in (HTTP_NO_CONTENT, HTTP_NOT_FOUND) or not response.content.strip():
        return None
    if response.status_code >= HTTP_BAD_REQUEST:
        raise BackendRefused(f"midjourney-proxy refused fetch with HTTP {response.status_code}")
    if response.content.strip() == b"null":
        return None
    return task_to_update(proxy.http.decode(response.content, ProxyTask.model_validate_json, what="task"))


async def find_task(proxy: ProxyTransport, job_id: str, *, since: float) -> TaskUpdate | None:
    """The task whose `state` is the job id, from `GET /mj/task/list`.

    `list-by-condition` looks tasks up by id only (J: `dto/TaskConditionDTO.java`, T:
    `Dto/TaskConditionDTO.cs`), so the listing is searched instead: every stored task, newest
    first (J: `controller/TaskController.java`), or the newest LISTED_TASKS (T:
    `Controllers/TaskController.cs`).
    A full listing that does not reach back to `since` cannot prove the task absent.
    """
    response = await proxy.read("GET", "/mj/task/list")
    if response.status_code >= HTTP_BAD_REQUEST:
        raise BackendRefused(f"midjourney-proxy refused the task list with HTTP {response.status_code}")
    tasks = proxy.http.decode(response.content, _TASK_LIST.validate_json, what="task list")
    state = job_id[:STATE_MAX_LENGTH]
    found = [task for task in tasks if task.state == state]
    if found:
        return task_to_update(max(found, key=lambda task: task.submit_time or 0))
    reaches_back = any(
        task.submit_time is not None and task.submit_time < (since - CLOCK_SKEW) * 1000 for task in tasks
    )
    if len(tasks) >= LISTED_TASKS and not reaches_back:
        raise BackendUnavailable("midjourney-proxy's task list does not reach back to the job")
    return None


async def fetch_many(proxy: ProxyTransport, task_ids: list[str]) -> dict[str, TaskUpdate]:
    """Both builds' POST /mj/task/list-by-condition: the tasks it knows among `task_ids`."""
    updates: dict[str, TaskUpdate] = {}
    unique = list(dict.fromkeys(task_ids))
    for start in range(0, len(unique), MAX_IDS_PER_LIST):
        chunk = unique[start : start + MAX_IDS_PER_LIST]
        response = await proxy.read("POST", LIST_PATH, {"ids": list(chunk)})
        if response.status_code >= HTTP_BAD_REQUEST:
            raise BackendRefused(f"midjourney-proxy refused {LIST_PATH} with HTTP {response.status_code}")
        for task in _tasks(response.content):
            updates[task.id] = task_to_update(task)
    return updates


def _tasks(content: bytes) -> list[ProxyTask]:
    """The tasks of a list answer; one malformed task is skipped, not the whole poll."""
    try:
        items = json.loads(content)
    except ValueError as exc:
        raise BackendUnavailable("midjourney-proxy's task list is not JSON") from exc
    if not isinstance(items, list):
        raise BackendUnavailable("midjourney-proxy's task list is not a list")
    tasks: list[ProxyTask] = []
    for item in items:
        try:
            tasks.append(ProxyTask.model_validate(item))
        except ValidationError as exc:
            log.info("skipping a malformed midjourney-proxy task (%d errors)", exc.error_count())
    return tasks
