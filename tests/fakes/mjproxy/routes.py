"""The fake proxy's endpoints, answering as each build's controllers do.

trueai: `src/Midjourney.API/Controllers/SubmitController.cs`, `TaskController.cs`,
`src/Midjourney.Services/TaskService.cs` (SubmitAction: remix, modal, bookmark). Java build:
`controller/SubmitController.java`, `controller/TaskController.java`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from tests.fakes.loopback import json_object
from tests.fakes.mjproxy.task import (
    BAD_BASE64,
    BAD_DIMENSIONS,
    BAD_LINK,
    BAD_PARAMS,
    BAD_ZOOM,
    BANNED,
    BLEND_COUNT,
    CANCEL_REFUSED,
    EMPTY_PROMPT,
    JAVA,
    JAVA_BAD_ACTION,
    JAVA_BAD_CONTENT,
    JAVA_CHANGEABLE,
    JAVA_NO_BASE64,
    JAVA_NOT_CHANGEABLE,
    NO_IMAGE,
    NO_UPLOADS,
    OK_SEED,
    PARENT_MISSING,
    PARENT_STATUS,
    REMIX_OFF,
    TEXT_ACTIONS,
    UNKNOWN_ACTION,
    WAIT_MODAL,
    FakeTask,
    action_of,
    decode_data_url,
    dumps,
    keycap_line,
    logic_failure,
    reply,
)

if TYPE_CHECKING:
    from tests.fakes.mjproxy.server import FakeMjProxy

ZOOM_MIN: Final = 1.0
ZOOM_MAX: Final = 2.0
BLEND_MIN_IMAGES: Final = 2
BLEND_MAX_IMAGES: Final = 5
_ZOOM_RE: Final = re.compile(r"--zoom\s+(?P<value>\d+(?:\.\d+)?)")
_LINK_RE: Final = re.compile(r"^https?://.+")
_TRAILING_NUMBER_RE: Final = re.compile(r"::(\d+)(?:::|$)")
_SIMPLE_CHANGE_RE: Final = re.compile(
    r"^\s*(?P<id>\d+)\s+(?P<kind>[UV])(?P<index>[1-4])\s*$|^\s*(?P<rid>\d+)\s+R\s*$"
)
# trueai's remix flow (TaskService.SubmitAction) covers these; the Discord account's Remix decides.
_REMIX_CUSTOM_IDS: Final = ("MJ::JOB::reroll", "MJ::JOB::variation::", "MJ::JOB::low_variation::")
_REMIX_CUSTOM_IDS_MORE: Final = ("MJ::JOB::high_variation::", "MJ::JOB::pan_", "MJ::JOB::animate_")


def _given(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _remix_flow(custom_id: str) -> bool:
    return custom_id.startswith(_REMIX_CUSTOM_IDS + _REMIX_CUSTOM_IDS_MORE)


class Routes:
    """Request handlers; mixed into FakeMjProxy, whose state they read and change."""

    async def imagine(self: FakeMjProxy, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self.bad_json()
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return reply(4, EMPTY_PROMPT)
        if self.limit_message is not None:
            # SubmitController.Imagine catches NewTask's LogicException itself: code 4, its message.
            return reply(4, self.limit_message)
        banned = self.banned_word(prompt)
        if banned is not None:
            return reply(24, BANNED, properties={"promptEn": prompt, "bannedWord": banned})
        refusal = self.refusal()
        if refusal is not None:
            return refusal
        return self.accept(self.new_task("IMAGINE", prompt, f"/imagine {prompt}", body))

    async def action(self: FakeMjProxy, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self.bad_json()
        task_id, custom_id = body.get("taskId"), body.get("customId")
        if not isinstance(task_id, str) or not isinstance(custom_id, str) or not task_id or not custom_id:
            return reply(4, BAD_PARAMS)
        parent = self.tasks.get(task_id)
        if parent is None:
            return reply(3, PARENT_MISSING, status=404)
        if parent.status != "SUCCESS":
            return reply(4, PARENT_STATUS)
        if self.limit_message is not None:
            return logic_failure(self.limit_message)  # NewTask throws; the exception filter answers
        action = action_of(custom_id)
        if action is None:
            return reply(4, UNKNOWN_ACTION)
        if action == "REROLL" or custom_id.startswith("MJ::JOB::reroll::"):
            # Reroll keeps the parent's action; an upscale's reroll runs as an imagine.
            action = "IMAGINE" if parent.action == "UPSCALE" else parent.action
        refusal = self.refusal()
        if refusal is not None:
            return refusal
        if custom_id.startswith("MJ::Job::PicReader::all"):
            return self.imagine_all(parent, body)
        task = self.new_task(action, parent.prompt, f"/up {parent.id} {custom_id}", body, parent)
        task.custom_id = custom_id
        task.doomed = custom_id not in {b["customId"] for b in parent.buttons}
        if custom_id.startswith("MJ::JOB::video_virtual_upscale"):
            task.clip_of = parent.id
        if custom_id.startswith(("MJ::CustomZoom::", "MJ::Inpaint::", "MJ::Job::PicReader::")):
            return self.open_modal(task, parent, custom_id)
        if body.get("enableRemix") is True and _remix_flow(custom_id):
            if not self.remix:
                del self.tasks[task.id]
                return reply(4, REMIX_OFF)
            return self.open_modal(task, parent, custom_id)  # always, even with remix auto-submit
        if self.remix and _remix_flow(custom_id):
            if not self.remix_auto_submit:
                return self.open_modal(task, parent, custom_id)
            task.prompt = task.prompt_en = parent.prompt_en or parent.prompt  # submitted with the parent's
        if action == "DESCRIBE":
            task.upload = parent.upload
        return self.accept(task)

    def imagine_all(self: FakeMjProxy, parent: FakeTask, body: dict[str, Any]) -> web.Response:
        lines = [line.partition(" ")[2] for line in parent.properties.get("finalPrompt", "").split("\n\n")]
        started = [self.new_task("IMAGINE", line, f"/imagine {line}", body, parent) for line in lines if line]
        for task in started:
            self.start_auto(task)
        return reply(1, "成功", ",".join(task.id for task in started))

    def open_modal(self: FakeMjProxy, task: FakeTask, parent: FakeTask, custom_id: str) -> web.Response:
        offered = parent.prompt
        index = _TRAILING_NUMBER_RE.search(custom_id)
        if custom_id.startswith("MJ::Job::PicReader::") and index:
            offered = keycap_line(parent.properties.get("finalPrompt", ""), int(index.group(1))) or offered
        elif custom_id.startswith("MJ::CustomZoom::"):
            offered = f"{parent.prompt} --zoom 2"
        task.status, task.modal_action = "MODAL", task.action
        task.properties.update({"finalPrompt": offered, "remix": True})
        props = {"finalPrompt": offered, "remix": True, "discordInstanceId": self.instance_id}
        return reply(21, WAIT_MODAL, task.id, props)

    async def modal(self: FakeMjProxy, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self.bad_json()
        task_id, prompt = body.get("taskId"), body.get("prompt")
        if not isinstance(task_id, str) or not task_id:
            return reply(4, BAD_PARAMS)
        task = self.tasks.get(task_id)
        if task is None:
            return reply(3, PARENT_MISSING, status=404)
        if task.status != "MODAL":
            return reply(4, PARENT_STATUS)
        parent = self.tasks.get(task.parent_id or "")
        if not isinstance(prompt, str) or not prompt.strip():
            # SubmitController.Modal falls back to the parent's prompt, then its finalPrompt.
            prompt = (parent.prompt or parent.properties.get("finalPrompt")) if parent else None
            if not prompt:
                return reply(4, EMPTY_PROMPT)
        banned = self.banned_word(prompt)
        if banned is not None:
            return reply(24, BANNED, properties={"promptEn": prompt, "bannedWord": banned})
        if (task.custom_id or "").startswith("MJ::CustomZoom::"):
            zoom = _ZOOM_RE.search(prompt)
            if zoom is None or not ZOOM_MIN <= float(zoom.group("value")) <= ZOOM_MAX:
                return reply(4, BAD_ZOOM)
        mask = body.get("maskBase64")
        task.mask_base64 = mask if isinstance(mask, str) else None
        task.prompt = task.prompt_en = prompt
        task.action = task.modal_action or task.action
        task.status, task.progress = "NOT_START", "0%"
        task.properties.pop("remix", None)
        task.properties["finalPrompt"] = prompt
        return self.accept(task)

    async def describe(self: FakeMjProxy, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self.bad_json()
        encoded, link = body.get("base64"), body.get("link")
        if self.flavour == JAVA:
            if not isinstance(encoded, str) or not encoded.strip():
                return reply(4, JAVA_NO_BASE64)  # the Java build reads base64 only
            link = None
        elif not _given(encoded) and not _given(link):
            return reply(4, NO_IMAGE)
        elif isinstance(link, str) and link.strip() and not _LINK_RE.match(link):
            return reply(4, BAD_LINK)
        upload: tuple[str, bytes] | None
        if isinstance(encoded, str) and encoded.strip():
            if not self.base64_uploads:
                return reply(4, NO_UPLOADS)
            upload = decode_data_url(encoded)
            if upload is None:
                return reply(4, BAD_BASE64)
        else:
            assert isinstance(link, str)
            upload = await self.fetch_link(link)
            if upload is None:
                return reply(9, f"获取图片失败 {link}")
        if self.limit_message is not None:
            return logic_failure(self.limit_message)
        refusal = self.refusal()
        if refusal is not None:
            return refusal
        task = self.new_task("DESCRIBE", "", "/describe", body)
        task.upload = upload
        return self.accept(task)

    async def blend(self: FakeMjProxy, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self.bad_json()
        images = body.get("base64Array")
        if not isinstance(images, list) or not BLEND_MIN_IMAGES <= len(images) <= BLEND_MAX_IMAGES:
            return reply(4, BLEND_COUNT)
        dimensions = body.get("dimensions", "SQUARE")
        if dimensions not in ("PORTRAIT", "SQUARE", "LANDSCAPE"):
            return reply(4, BAD_DIMENSIONS)
        for image in images:
            # DataUrl.Parse: an http(s) entry is a link; base64 needs EnableUserCustomUploadBase64.
            if isinstance(image, str) and image.lower().startswith("http") and self.flavour != JAVA:
                if await self.fetch_link(image) is None:
                    return reply(9, f"获取图片失败 {image}")
            elif not self.base64_uploads or decode_data_url(image) is None:
                return reply(4, BAD_BASE64)
        if self.limit_message is not None:
            return logic_failure(self.limit_message)
        refusal = self.refusal()
        if refusal is not None:
            return refusal
        task = self.new_task("BLEND", "", "", body)
        task.description = f"/blend {task.id} {len(images)}"
        task.properties["dimensions"] = dimensions
        return self.accept(task)

    async def shorten(self: FakeMjProxy, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self.bad_json()
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return reply(4, EMPTY_PROMPT)
        if self.limit_message is not None:
            return logic_failure(self.limit_message)
        refusal = self.refusal()
        if refusal is not None:
            return refusal
        return self.accept(self.new_task("SHORTEN", prompt, f"/shorten {prompt}", body))

    # --- the Java build's variations ---

    async def change(self: FakeMjProxy, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self.bad_json()
        return self.run_change(body, body.get("taskId"), body.get("action"), body.get("index"))

    async def simple_change(self: FakeMjProxy, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self.bad_json()
        match = _SIMPLE_CHANGE_RE.match(str(body.get("content", "")))
        if match is None:
            return reply(4, JAVA_BAD_CONTENT)
        if match.group("rid"):
            return self.run_change(body, match.group("rid"), "REROLL", None)
        kind = "UPSCALE" if match.group("kind") == "U" else "VARIATION"
        return self.run_change(body, match.group("id"), kind, int(match.group("index")))

    def run_change(
        self: FakeMjProxy, body: dict[str, Any], task_id: Any, kind: Any, index: Any
    ) -> web.Response:
        if not isinstance(task_id, str) or not task_id.strip():
            return reply(4, "taskId不能为空")
        if kind not in ("UPSCALE", "VARIATION", "REROLL"):
            return reply(4, JAVA_BAD_ACTION)
        parent = self.tasks.get(task_id)
        if parent is None:
            return reply(3, PARENT_MISSING)  # HTTP 200 in the Java build
        if parent.status != "SUCCESS":
            return reply(4, PARENT_STATUS)
        if parent.action not in JAVA_CHANGEABLE:
            return reply(4, JAVA_NOT_CHANGEABLE)
        refusal = self.refusal()
        if refusal is not None:
            return refusal
        suffix = "R" if kind == "REROLL" else f"{kind[0]}{index}"
        task = self.new_task(kind, parent.prompt, f"/up {parent.id} {suffix}", body, parent)
        return self.accept(task)

    # --- task queries ---

    async def fetch(self: FakeMjProxy, request: web.Request) -> web.Response:
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            # trueai: a null ActionResult is 204; Spring writes a null body as an empty 200.
            return web.Response(status=200 if self.flavour == JAVA else 204)
        return web.json_response(task.to_json(self.flavour), dumps=dumps)

    async def cancel(self: FakeMjProxy, request: web.Request) -> web.Response:
        """TaskController.Cancel: admins only (400 + a JSON string otherwise); else an empty 200."""
        if not self.admin:
            return web.json_response(CANCEL_REFUSED, status=400, dumps=dumps)
        task = self.tasks.get(request.match_info["id"])
        if task is not None and task.status not in ("SUCCESS", "FAILURE", "CANCEL"):
            await self.fail(task.id, "取消任务")
        return web.Response(status=200)

    async def image_seed(self: FakeMjProxy, request: web.Request) -> web.Response:
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return reply(3, PARENT_MISSING, status=404)
        if task.status != "SUCCESS" or task.action in TEXT_ACTIONS or not task.image_url:
            return reply(4, PARENT_STATUS, status=400)
        return reply(1, OK_SEED, self.seed_of(task))

    async def list_by_condition(self: FakeMjProxy, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self.bad_json()
        ids = body.get("ids")
        wanted = {i.strip() for i in ids if isinstance(i, str)} if isinstance(ids, list) else set()
        found = [task.to_json(self.flavour) for task in self.tasks.values() if task.id in wanted]
        return web.json_response(found, dumps=dumps)

    async def list_latest(self: FakeMjProxy, request: web.Request) -> web.Response:
        latest = list(self.tasks.values())[-100:][::-1]
        return web.json_response([task.to_json(self.flavour) for task in latest], dumps=dumps)

    async def missing(self: FakeMjProxy, request: web.Request) -> web.Response:
        """No such endpoint: Spring Boot's error body in the Java build, an empty 404 from ASP.NET."""
        if self.flavour == JAVA:
            error = {"timestamp": "2025-08-03T07:41:14.000+00:00", "status": 404, "error": "Not Found"}
            return web.json_response({**error, "path": request.path}, status=404, dumps=dumps)
        return web.Response(status=404)
