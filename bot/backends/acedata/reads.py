"""Reading Ace Data Cloud's tasks: one record, batches of them, and the tasks the adapter answered itself."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Final

import httpx

from bot.backends.acedata.errors import parse_error, raise_for_error
from bot.backends.acedata.results import (
    DESCRIBE_TASK_PREFIX,
    MODAL_TASK_PREFIX,
    SHORTEN_TASK_PREFIX,
    parse_modal_task_id,
    record_to_update,
)
from bot.backends.acedata.wire import AceTaskRecord, TaskBatch
from bot.backends.http import HTTP_BAD_REQUEST, HTTP_NOT_FOUND, BackendHttp
from bot.domain import JobStatus, TaskUpdate

JSON_MIME: Final = "application/json"
ACCEPT_JSON: Final = {"accept": JSON_MIME}
TASKS_PATH: Final = "/midjourney/tasks"
# retrieve_batch answers `limit` items (12 unless told); MidjourneyMCP `tools/task_tools.py` recommends
# at most 50 ids a call.
BATCH_SIZE: Final = 50
SYNTHETIC_RESULTS_KEPT: Final = 256


class AceTasks:
    """Tasks as `/midjourney/tasks` reports them, and those only the adapter knows: describe and shorten
    answers (finished at once), a Vary (Region) awaiting input."""

    def __init__(self, http: BackendHttp) -> None:
        self._http = http
        self._synthetic: OrderedDict[str, TaskUpdate] = OrderedDict()

    def remember(self, update: TaskUpdate) -> None:
        """Keep a result answered at once (the newest SYNTHETIC_RESULTS_KEPT), so fetch finds it."""
        self._synthetic[update.task_id] = update
        while len(self._synthetic) > SYNTHETIC_RESULTS_KEPT:
            self._synthetic.popitem(last=False)

    async def fetch(self, task_id: str) -> TaskUpdate | None:
        local = self._local(task_id)
        if local is not None or not is_remote(task_id):
            return local
        record = await self.retrieve(task_id)
        return None if record is None else record_to_update(task_id, record)

    async def fetch_many(self, task_ids: Sequence[str]) -> dict[str, TaskUpdate]:
        """Every known task among `task_ids`, read `BATCH_SIZE` at a time with `retrieve_batch`."""
        found: dict[str, TaskUpdate] = {}
        remote: list[str] = []
        for task_id in dict.fromkeys(task_ids):
            local = self._local(task_id)
            if local is not None:
                found[task_id] = local
            elif is_remote(task_id):
                remote.append(task_id)
        for start in range(0, len(remote), BATCH_SIZE):
            chunk = remote[start : start + BATCH_SIZE]
            for record in await self._retrieve_batch(chunk):
                if record.id in chunk:
                    found[record.id] = record_to_update(record.id, record)
        return found

    async def retrieve(self, task_id: str) -> AceTaskRecord | None:
        """The task record, retried on network errors, 5xx and 429 (a read is safe to repeat)."""
        body = {"action": "retrieve", "id": task_id}
        return self._record(await self._http.read("POST", TASKS_PATH, body, headers=ACCEPT_JSON))

    def _record(self, response: httpx.Response) -> AceTaskRecord | None:
        if response.status_code == HTTP_NOT_FOUND:
            return None
        if response.status_code >= HTTP_BAD_REQUEST:
            raise_for_error(response.status_code, parse_error(response.content))
        if response.content.strip() in (b"", b"null"):
            return None
        record = self._http.decode(response.content, AceTaskRecord.model_validate_json, what="task")
        # An unknown id retrieves an empty record.
        return None if record.id is None and record.response is None else record

    def _local(self, task_id: str) -> TaskUpdate | None:
        """A task only this adapter knows: a describe or shorten answer, a Vary (Region) awaiting input."""
        if task_id.startswith((DESCRIBE_TASK_PREFIX, SHORTEN_TASK_PREFIX)):
            return self._synthetic.get(task_id)
        if parse_modal_task_id(task_id) is not None:
            return TaskUpdate(task_id=task_id, status=JobStatus.NEEDS_INPUT)
        return None

    async def _retrieve_batch(self, task_ids: list[str]) -> tuple[AceTaskRecord, ...]:
        """The records of the known tasks among `task_ids` (one read, retried like any other)."""
        body = {"action": "retrieve_batch", "ids": task_ids, "limit": len(task_ids)}
        response = await self._http.read("POST", TASKS_PATH, body, headers=ACCEPT_JSON)
        if response.status_code >= HTTP_BAD_REQUEST:
            raise_for_error(response.status_code, parse_error(response.content))
        return self._http.decode(response.content, TaskBatch.model_validate_json, what="task list").items


def is_remote(task_id: str) -> bool:
    """A task id Ace Data Cloud issued (not one of the adapter's own prefixed ids)."""
    return not task_id.startswith((DESCRIBE_TASK_PREFIX, SHORTEN_TASK_PREFIX, MODAL_TASK_PREFIX))
