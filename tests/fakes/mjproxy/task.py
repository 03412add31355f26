"""A fake proxy task, its JSON per build, the buttons Midjourney puts under it, and the proxies' wording.

Sources (read, not copied): trueai-org/midjourney-proxy `src/Midjourney.Base/Models/TaskInfo.cs`,
`Models/CustomComponentModel.cs`, `Models/SubmitResultVO.cs`, `Models/Result.cs`; novicezk/midjourney-proxy
`support/Task.java`, `result/SubmitResultVO.java`, `enums/TaskStatus.java`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from aiohttp import web

Flavour = Literal["trueai", "java"]
TRUEAI: Final = "trueai"
JAVA: Final = "java"

DEFAULT_SECRET: Final = "proxy-secret"
KEYCAPS: Final = tuple(f"{n}\ufe0f\u20e3" for n in range(1, 6))  # 1️⃣ … 5️⃣

# Descriptions as the proxies write them (SubmitController.cs / TaskService.cs; SubmitController.java).
OK_SUBMITTED: Final = "提交成功"
OK_SEED: Final = "成功"
IN_QUEUE: Final = "排队中，前面还有{n}个任务"
QUEUE_FULL: Final = {23: "队列已满，请稍后尝试", 9: "提交失败，队列已满，请稍后重试"}
BANNED: Final = "可能包含敏感词"
WAIT_MODAL: Final = "Waiting for window confirm"  # TaskService.SubmitAction, every code-21 answer
PARENT_MISSING: Final = "关联任务不存在或已失效"
PARENT_STATUS: Final = "关联任务状态错误"
BAD_PARAMS: Final = "参数错误"
EMPTY_PROMPT: Final = "prompt不能为空"
BAD_BASE64: Final = "base64格式错误"
NO_UPLOADS: Final = "禁止上传"  # trueai with EnableUserCustomUploadBase64 off
NO_IMAGE: Final = "base64或link不能为空"
BAD_LINK: Final = "链接格式错误"
BLEND_COUNT: Final = "图片参数错误，2~5张图片"
BAD_DIMENSIONS: Final = "dimensions参数错误"
BAD_ZOOM: Final = "自定义变焦参数错误，--zoom 需在 1~2 之间"
TASK_MISSING: Final = "任务不存在"
NO_ACCOUNT: Final = "无可用的账号实例"  # TaskService.cs (trueai) and TaskServiceImpl.java: code 3
UNKNOWN_ACTION: Final = "未知的 Action 类型"  # SubmitController.Action: any customId it does not list
REMIX_OFF: Final = "当前账号不支持 remix，请开启 remix 功能"  # TaskService.SubmitAction, enableRemix
CANCEL_REFUSED: Final = "演示模式，禁止操作"  # TaskController.Cancel for a non-admin secret
# Java build (SubmitController.java)
JAVA_NO_BASE64: Final = "base64不能为空"
JAVA_BAD_ACTION: Final = "action参数错误"
JAVA_NOT_CHANGEABLE: Final = "关联任务不允许执行变化"
JAVA_BAD_CONTENT: Final = "content参数错误"
JAVA_CHANGEABLE: Final = frozenset({"IMAGINE", "VARIATION", "REROLL", "BLEND"})

# A customId that is not on the parent's message is accepted, then Discord rejects the interaction.
INTERACTION_FAILED: Final = "[Interaction failed] This interaction failed"

TaskStatus = Literal["NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS", "SUCCESS", "FAILURE", "CANCEL"]
FINAL_STATUSES: Final = frozenset({"SUCCESS", "FAILURE", "CANCEL"})
GRID_ACTIONS: Final = frozenset({"IMAGINE", "VARIATION", "REROLL", "BLEND", "ZOOM", "PAN", "INPAINT"})
UPSCALE_ACTIONS: Final = frozenset({"UPSCALE", "UPSCALE_HD"})
VIDEO_ACTION: Final = "VIDEO"
TEXT_ACTIONS: Final = frozenset({"DESCRIBE", "SHORTEN"})
VIDEO_BATCH: Final = 4  # TaskInfo.GetVideoBatchSize without --bs

_DATA_URL_RE: Final = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.+)$", re.DOTALL)


def dumps(value: Any) -> str:
    # .NET and Jackson write UTF-8 JSON without \u escapes.
    return json.dumps(value, ensure_ascii=False)


def reply(
    code: int,
    description: str,
    result: str | None = None,
    properties: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """A SubmitResultVO: code, description, result (the task id), properties."""
    body = {"code": code, "description": description, "result": result, "properties": properties or {}}
    return web.json_response(body, status=status, dumps=dumps)


def logic_failure(message: str) -> web.Response:
    """trueai's CustomLogicExceptionFilterAttribute: a LogicException becomes Result.Fail, HTTP 200."""
    body = {"success": False, "code": -1, "message": message, "timestamp": "638990000000000000"}
    return web.json_response(body, dumps=dumps)


def button(custom_id: str, *, label: str = "", emoji: str = "", style: int = 2) -> dict[str, Any]:
    return {"customId": custom_id, "emoji": emoji, "label": label, "type": 2, "style": style}


def decode_data_url(value: object) -> tuple[str, bytes] | None:
    if not isinstance(value, str):
        return None
    match = _DATA_URL_RE.match(value.strip())
    if match is None:
        return None
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return (match.group("mime"), data) if data else None


def _prompt_parts(prompt: str) -> list[str]:
    return [part.strip() for part in prompt.split(",") if part.strip()] or [prompt.strip() or "untitled"]


def shorten_analysis(prompt: str) -> str:
    """The /shorten answer in Midjourney's layout: marked tokens, then five shorter prompts."""
    parts = _prompt_parts(prompt)
    marked = [f"**{p}**" if i == 0 else (f"~~{p}~~" if i % 2 else p) for i, p in enumerate(parts)]
    shorter = [", ".join(parts[: max(1, len(parts) - n)]) for n in range(len(KEYCAPS))]
    lines = "\n\n".join(f"{cap} {text}" for cap, text in zip(KEYCAPS, shorter, strict=True))
    return "## Important tokens\n" + ", ".join(marked) + f"\n## Shortened prompts\n{lines}"


def keycap_line(text: str, index: int) -> str | None:
    """Line `index` (1-based) of a describe answer, keycap kept as trueai does."""
    prefix = KEYCAPS[index - 1] if 1 <= index <= len(KEYCAPS) else None
    if prefix is None:
        return None
    return next((line.strip() for line in text.splitlines() if line.startswith(prefix)), None)


@dataclass(slots=True)
class FakeTask:
    """One proxy task; mutable, because the fake moves it along."""

    id: str
    action: str
    prompt: str
    description: str
    hash: str
    submit_time: int
    status: TaskStatus = "NOT_START"
    progress: str = "0%"
    prompt_en: str = ""
    image_url: str | None = None
    image_size: tuple[int, int] | None = None
    content_type: str | None = None
    video_url: str | None = None
    video_urls: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    fail_reason: str | None = None
    notify_hook: str | None = None
    state: str | None = None
    parent_id: str | None = None
    custom_id: str | None = None
    start_time: int | None = None
    finish_time: int | None = None
    modal_action: str | None = None  # the action a MODAL task becomes once confirmed
    mask_base64: str | None = None
    upload: tuple[str, bytes] | None = None  # describe input (mime, bytes)
    clip_of: str | None = None  # a clip pick: the VIDEO task whose clip it serves
    doomed: bool = False
    files: dict[str, str] = field(default_factory=dict)  # attachment name → what it renders
    last_notified: tuple[int, int] | None = None

    @property
    def percent(self) -> int:
        digits = self.progress.rstrip("%")
        return int(digits) if digits.isdigit() else 0

    def to_json(self, flavour: Flavour = TRUEAI) -> dict[str, Any]:
        """The task as the build serialises it; each carries fields a client must ignore."""
        if flavour == JAVA:
            # Task.java: no buttons, no MODAL/CANCEL, no video; properties as the task collected them.
            return {
                "id": self.id,
                "action": self.action,
                "status": self.status,
                "prompt": self.prompt,
                "promptEn": self.prompt_en or self.prompt,
                "description": self.description,
                "state": self.state,
                "submitTime": self.submit_time,
                "startTime": self.start_time,
                "finishTime": self.finish_time,
                "imageUrl": self.image_url,
                "progress": self.progress,
                "failReason": self.fail_reason,
                "properties": copy.deepcopy(self.properties),
            }
        # TaskInfo.cs through System.Text.Json (camelCase, enum names).
        return {
            "id": self.id,
            "action": self.action,
            "status": self.status,
            "prompt": self.prompt,
            "promptEn": self.prompt_en or self.prompt,
            "description": self.description,
            "state": self.state,
            "submitTime": self.submit_time,
            "startTime": self.start_time,
            "finishTime": self.finish_time,
            "progress": self.progress,
            "imageUrl": self.image_url,
            "imageWidth": self.image_size[0] if self.image_size else None,
            "imageHeight": self.image_size[1] if self.image_size else None,
            "contentType": self.content_type,
            "failReason": self.fail_reason,
            "properties": copy.deepcopy(self.properties),
            "buttons": copy.deepcopy(self.buttons),
            "botType": "MID_JOURNEY",
            "mode": "FAST",
            "parentId": self.parent_id,
            "seed": None,
            "isCompleted": self.status in FINAL_STATUSES,
            "imageUrls": [{"url": self.image_url, "thumbnail": None}] if self.status == "SUCCESS" else None,
            "videoUrl": self.video_url,
            "videoUrls": copy.deepcopy(self.video_urls) or None,
        }


def trueai_buttons(task: FakeTask, *, version: int, video: bool) -> list[dict[str, Any]]:
    """The components Midjourney (through trueai) puts under a finished task of this kind."""
    h = task.hash
    if task.action == VIDEO_ACTION:
        # TaskInfo.SetVideoUpscaleButtons: one U per clip of the batch, then 🔄.
        return [
            *(button(f"MJ::JOB::video_virtual_upscale::{i}::{h}", label=f"U{i}") for i in range(1, 5)),
            button(f"MJ::JOB::reroll::0::{h}::SOLO", emoji="🔄"),
        ]
    if task.clip_of is not None:
        # TaskInfo.SetVideoExtendButtons: under one clip, extend it.
        return [
            button(f"MJ::JOB::animate_high_extend::1::{h}", label="Extend (High motion)", emoji="🎞️"),
            button(f"MJ::JOB::animate_low_extend::1::{h}", label="Extend (Low motion)", emoji="🎞️"),
        ]
    if task.action in GRID_ACTIONS:
        return [
            *(button(f"MJ::JOB::upsample::{i}::{h}", label=f"U{i}") for i in range(1, 5)),
            button(f"MJ::JOB::reroll::0::{h}::SOLO", emoji="🔄"),
            *(button(f"MJ::JOB::variation::{i}::{h}", label=f"V{i}") for i in range(1, 5)),
        ]
    if task.action in UPSCALE_ACTIONS:
        return upscale_buttons(h, hd=task.action == "UPSCALE", version=version, video=video)
    if task.action == "DESCRIBE":
        return [
            *(button(f"MJ::Job::PicReader::{n}", emoji=KEYCAPS[n - 1]) for n in range(1, 5)),
            button("MJ::Picread::Retry", emoji="🔄"),
            button("MJ::Job::PicReader::all", label="Imagine all", emoji="🎉"),
        ]
    if task.action == "SHORTEN":
        picks = [button(f"MJ::Job::PromptAnalyzer::{n}", emoji=KEYCAPS[n - 1]) for n in range(1, 6)]
        return [*picks, button("MJ::Job::PromptAnalyzerExtended", label="Show Details")]
    return []


def upscale_buttons(h: str, *, hd: bool, version: int, video: bool) -> list[dict[str, Any]]:
    """The set under an upscale; it depends on the model version (v8 has no HD upscale, zoom or pan)."""
    buttons: list[dict[str, Any]] = []
    if hd and version == 5:
        buttons += [
            button(f"MJ::JOB::upsample_v5_2x::1::{h}::SOLO", label="Upscale (2x)", emoji="upscale_1"),
            button(f"MJ::JOB::upsample_v5_4x::1::{h}::SOLO", label="Upscale (4x)", emoji="upscale_1"),
        ]
    elif hd and version in (6, 7):
        for style in ("subtle", "creative"):
            buttons.append(
                button(
                    f"MJ::JOB::upsample_v{version}_2x_{style}::1::{h}::SOLO",
                    label=f"Upscale ({style.title()})",
                    emoji="upscale_1",
                )
            )
    buttons += [
        button(f"MJ::JOB::low_variation::1::{h}::SOLO", label="Vary (Subtle)", emoji="🪄"),
        button(f"MJ::JOB::high_variation::1::{h}::SOLO", label="Vary (Strong)", emoji="🪄"),
        button(f"MJ::Inpaint::1::{h}::SOLO", label="Vary (Region)", emoji="🖌️"),
    ]
    if version < 8:
        buttons += [
            button(f"MJ::Outpaint::50::1::{h}::SOLO", label="Zoom Out 2x", emoji="🔍"),
            button(f"MJ::Outpaint::75::1::{h}::SOLO", label="Zoom Out 1.5x", emoji="🔍"),
            button(f"MJ::CustomZoom::{h}", label="Custom Zoom", emoji="🔍"),
            *(
                button(f"MJ::JOB::pan_{side}::1::{h}::SOLO", emoji=arrow)
                for side, arrow in (("left", "⬅️"), ("right", "➡️"), ("up", "⬆️"), ("down", "⬇️"))
            ),
        ]
    if video:
        # TaskInfo.OnUpscaleButtons: with EnableVideo every upscale gets Animate, whatever the version.
        buttons += [
            button(f"MJ::JOB::animate_high::1::{h}::SOLO", label="Animate (High motion)", emoji="🎞️"),
            button(f"MJ::JOB::animate_low::1::{h}::SOLO", label="Animate (Low motion)", emoji="🎞️"),
        ]
    buttons.append(button(f"MJ::BOOKMARK::{h}", emoji="❤️"))
    return buttons


def action_of(custom_id: str) -> str | None:
    """trueai's SubmitController.Action: the TaskAction a customId starts; None for those it refuses."""
    rules = (
        ("MJ::JOB::upsample::", "UPSCALE"),
        ("MJ::JOB::video_virtual_upscale", "UPSCALE"),  # a clip pick is an UPSCALE whose result is a video
        ("MJ::JOB::variation::", "VARIATION"),
        ("MJ::JOB::reroll::", "REROLL"),
        ("MJ::JOB::high_variation::", "VARIATION"),
        ("MJ::JOB::low_variation::", "VARIATION"),
        ("MJ::Outpaint::", "ZOOM"),
        ("MJ::JOB::pan_", "PAN"),
        ("MJ::JOB::upsample_", "UPSCALE_HD"),
        ("MJ::CustomZoom::", "ZOOM"),
        ("MJ::Inpaint::", "VARIATION"),
        ("MJ::JOB::animate_", VIDEO_ACTION),
        ("MJ::Job::PicReader", "IMAGINE"),
    )
    if "MJ::Picread::Retry" in custom_id:
        return "DESCRIBE"
    # PromptAnalyzer (shorten picks, Show Details) and MJ::BOOKMARK fall through to "未知的 Action 类型".
    return next((action for prefix, action in rules if custom_id.startswith(prefix)), None)
