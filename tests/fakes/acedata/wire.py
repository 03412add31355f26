"""What the fake Ace Data Cloud says: error codes and bodies, model flavours and the buttons each offers.

Sources, read from Ace Data Cloud's own clients (never its prose docs alone):
- Nexior `src/models/midjourney.ts`: the action names (`MidjourneyImagineAction`), the task `state` values
  (`MidjourneyImagineState`: pending, generating, finished, failed), `async` in every request, and the
  answer shapes (`task_id`, `actions`, `error {code, message}`, `success`).
- Nexior `src/operators/midjourney.ts`: `/midjourney/tasks` with `action: retrieve` (one id) and
  `action: retrieve_batch` (`ids`, `limit`, `offset`) answering `{items, count}`.
- Nexior `src/constants/errorCode.ts` and `src/utils/quotaExhausted.ts` (`used_up`, nested under `error` or,
  on older answers, at the top level); SDK `python/src/acedatacloud/_runtime/transport.py` (`_ERROR_CODE_MAP`:
  `invalid_token`, `token_expired`, `no_token`, `token_mismatched`, `used_up`, `disabled`; the code decides
  before the HTTP status).
- MidjourneyMCP `core/client.py` (`/midjourney/shorten` and `async: true` unless a callback is given) and
  `tools/task_tools.py` (`retrieve_batch` lists `limit` items, 12 unless told).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Final, Literal

from aiohttp import web

DEFAULT_TOKEN: Final = "ad-token"
NDJSON: Final = "application/x-ndjson"

Model = Literal["v5", "v6"]
"""The Midjourney model behind the account: v5(.2) upscales offer 2x/4x, v6 and v7 Subtle/Creative."""
ImageKind = Literal["preview", "grid", "upscale", "upscale_hd"]

# HTTP statuses: the SDK maps by code first, so these are the fake's choice where no client names one;
# `used_up` comes with 403 (what made a balance error read as moderation before).
STATUS_OF_CODE: Final[dict[str, int]] = {
    "bad_request": 400,
    "token_mismatched": 400,
    "api_not_implemented": 400,
    "invalid_token": 401,
    "token_expired": 401,
    "no_token": 401,
    "forbidden": 403,
    "used_up": 403,
    "disabled": 403,
    "too_many_requests": 429,
    "api_error": 500,
    "timeout": 504,
}
CODE_OF_STATUS: Final[dict[int, str]] = {
    400: "bad_request",
    401: "invalid_token",
    403: "forbidden",
    429: "too_many_requests",
    500: "api_error",
    504: "timeout",
}
MESSAGES: Final[dict[str, str]] = {
    "bad_request": "The json payload is not valid to request the API",
    "token_mismatched": "The specified token is not matched with API.",
    "api_not_implemented": "The API is not implemented.",
    "invalid_token": "The specified token is invalid or wrong.",
    "token_expired": "The specified token has expired.",
    "no_token": "The token is not specified.",
    # Verbatim from the service's OpenAPI examples, "Al" included.
    "forbidden": "Sorry! Our Al moderators feel your prompt might be against our community standards.",
    "used_up": "The remaining balance of your application is used up.",
    "disabled": "The application is disabled.",
    "too_many_requests": "You have exceeded the rate limit.",
    "api_error": "Internal server error.",
    "timeout": "Timeout to generate the image.",
}


def error_response(
    code: str, message: str | None = None, *, status: int | None = None, legacy: bool = False
) -> web.Response:
    """An error answer: `{"success": false, "error": {code, message}}`, or the legacy top-level code."""
    detail = {"code": code, "message": message or MESSAGES.get(code, code)}
    body: dict[str, Any] = {"success": False, **detail} if legacy else {"success": False, "error": detail}
    body["trace_id"] = str(uuid.uuid4())
    return web.json_response(body, status=status or STATUS_OF_CODE.get(code, 400))


# --- buttons ------------------------------------------------------------------------------------------
# The names are Nexior's `MidjourneyImagineAction`; which result carries which is Midjourney's own button set
# per model (the Discord buttons these names stand for), which no Ace Data source lists.

GRID_ACTIONS: Final = (
    *(f"upscale{i}" for i in range(1, 5)),
    "reroll",
    *(f"variation{i}" for i in range(1, 5)),
)
VARY_ZOOM_PAN: Final = (
    "variation_subtle",
    "variation_strong",
    "zoom_out_2x",
    "zoom_out_1_5x",
    "pan_left",
    "pan_right",
    "pan_up",
    "pan_down",
)
UPSCALERS: Final[dict[Model, tuple[str, str]]] = {
    "v5": ("upscale_2x", "upscale_4x"),
    "v6": ("upscale_subtle", "upscale_creative"),
}
# A finished upscale can be made again with its own "Redo" button.
REDO_OF: Final[dict[str, str]] = {
    "upscale_2x": "redo_upscale_2x",
    "upscale_4x": "redo_upscale_4x",
    "upscale_subtle": "redo_upscale_subtle",
    "upscale_creative": "redo_upscale_creative",
}
UPSCALED_BY: Final[dict[str, str]] = {
    **{redo: made for made, redo in REDO_OF.items()},
    **{m: m for m in REDO_OF},
}
SQUARE: Final = "square"  # "Make Square": offered under an upscale that is not square


def kind_after(action: str) -> ImageKind:
    """What an action makes: a single upscale, a further upscale, or a new grid."""
    if re.fullmatch(r"upscale[1-4]", action):
        return "upscale"
    if action in UPSCALED_BY:
        return "upscale_hd"
    return "grid"


def actions_for(kind: ImageKind, model: Model, *, made_by: str, square: bool) -> list[str]:
    """The buttons under a result of `kind` made by the action `made_by`."""
    make_square = [] if square else [SQUARE]
    match kind:
        case "grid":
            return list(GRID_ACTIONS)
        case "upscale":
            return [*UPSCALERS[model], *VARY_ZOOM_PAN, *make_square]
        case "upscale_hd":
            return [REDO_OF[UPSCALED_BY[made_by]], *VARY_ZOOM_PAN]
        case "preview":
            return []


def is_square(prompt: str) -> bool:
    """A prompt without --ar (or --aspect) W:H, or with W equal to H, makes square pictures."""
    match = re.search(r"--(?:ar|aspect)\s+(\d+):(\d+)", prompt)
    return match is None or match.group(1) == match.group(2)
