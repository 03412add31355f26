"""The Vary (Region) Mini App's page: the editor rendered for a job, its static files, and their headers."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.i18n import Translator
from bot.miniapp import RegionJob
from webhook.miniapp_requests import MAX_PROMPT_CHARS

STATIC_DIR: Final = Path(__file__).resolve().parent / "static" / "region"
STATIC_TYPES: Final = {"region.js": "text/javascript; charset=utf-8", "region.css": "text/css; charset=utf-8"}
VERSION_CHARS: Final = 12

PAGE_HEADERS: Final = {
    "Content-Security-Policy": "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors https://web.telegram.org",  # Telegram Web shows Mini Apps in an iframe
        )
    ),
    "Referrer-Policy": "no-referrer",  # the path carries the editor link
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

# Labels the page needs after it has loaded (status lines), by the key region.js uses.
SCRIPT_LABELS: Final = {
    "submit": "region-submit",
    "sending": "region-sending",
    "done": "region-done",
    "cancelled": "region-cancelled",
    "empty_mask": "region-error-empty",
    "auth": "region-error-auth",
    "forbidden": "region-error-forbidden",
    "gone": "region-error-gone",
    "failed": "region-error-failed",
}
PAGE_LABELS: Final = (
    "region-title",
    "region-hint",
    "region-image-alt",
    "region-prompt-label",
    "region-tools-label",
    "region-tool-brush",
    "region-tool-eraser",
    "region-tool-rect",
    "region-tool-lasso",
    "region-brush-size",
    "region-undo",
    "region-clear",
    "region-submit",
    "region-cancel",
)
_SLOT = re.compile(r"\{\{\s*([a-z0-9_-]+)\s*\}\}")
_JSON_IN_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    media_type: str
    version: str


def page_template() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def static_files() -> dict[str, StaticFile]:
    """The page's script and style, each with a content hash its links carry."""
    return {name: _static_file(name, media_type) for name, media_type in STATIC_TYPES.items()}


def _static_file(name: str, media_type: str) -> StaticFile:
    body = (STATIC_DIR / name).read_bytes()
    return StaticFile(body, media_type, hashlib.sha256(body).hexdigest()[:VERSION_CHARS])


def render(
    template: str, job: RegionJob, token: str, t: Translator, statics: Mapping[str, StaticFile]
) -> str:
    """The editor page for `job`; every value is escaped for where it lands."""
    config = {
        "width": job.width,
        "height": job.height,
        "submitUrl": f"{token}/submit",  # relative: right for /region/<token> and /region/app alike
        "maxPromptChars": MAX_PROMPT_CHARS,
        "labels": {key: t(message_id) for key, message_id in SCRIPT_LABELS.items()},
    }
    slots = {message_id: html.escape(t(message_id)) for message_id in PAGE_LABELS}
    slots |= {
        "lang": html.escape(t.language),
        "prompt": html.escape(job.prompt),
        "image-url": html.escape(job.image_url),
        "width": str(job.width),
        "height": str(job.height),
        "max-prompt": str(MAX_PROMPT_CHARS),
        "js-version": statics["region.js"].version,
        "css-version": statics["region.css"].version,
        "config": json.dumps(config, ensure_ascii=True).translate(_JSON_IN_HTML),
    }
    return _SLOT.sub(lambda match: slots[match.group(1)], template)
