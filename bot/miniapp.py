"""Vary (Region) as a Telegram Mini App: initData checks, signed editor links and masks, all without I/O."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import re
import struct
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl

from PIL import Image, ImageChops

from bot.media import DECODE_ERRORS, HEADER_ONLY_MAX_PIXELS, NotAnImage, open_image

INIT_DATA_KEY = b"WebAppData"  # Telegram's fixed key for deriving the initData secret from the bot token
INIT_DATA_MAX_CHARS = 8192
INIT_DATA_FUTURE_SKEW = 60.0  # seconds an auth_date may lie ahead of our clock
_HASH_FORMAT = re.compile(r"[0-9a-f]{64}")

LINK_VERSION = 1
LINK_MAC_BYTES = 16
LINK_DOMAIN = b"mjgram/region-link\x00"  # keeps these MACs apart from any other use of the same secret
_LINK_HEADER = struct.Struct(">BIq")  # version, expires_at (u32 seconds), user_id (i64)
LINK_MAX_EXPIRY = 2**32
LINK_MAX_USER_ID = 2**63
_JOB_ID_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,200}")

MASK_MAX_SIDE = 8192
MASK_MAX_PIXELS = 40_000_000  # of the picture a mask is for; a mask itself is never larger than its picture
MASK_FORMATS = ("PNG",)  # what the page's canvas.toDataURL("image/png") makes
MASK_THRESHOLD = 128  # alpha or brightness at or above which a pixel counts as painted
MASK_ASPECT_TOLERANCE = 0.02  # the page draws at the image's natural size; allow rounding, not distortion
MASK_BLACK, MASK_WHITE = 0, 255


@dataclass(frozen=True, slots=True)
class WebAppUser:
    """The Telegram user a verified initData speaks for."""

    id: int
    first_name: str
    language_code: str | None = None


class InitDataProblem(StrEnum):
    MALFORMED = "malformed"
    MISSING_HASH = "missing hash"
    BAD_SIGNATURE = "bad signature"
    STALE = "stale"
    FROM_THE_FUTURE = "from the future"
    BAD_USER = "malformed user"


class InitDataInvalid(ValueError):
    """initData that does not prove who opened the Mini App."""

    def __init__(self, reason: InitDataProblem) -> None:
        super().__init__(reason.value)
        self.reason = reason


def verify_init_data(init_data: str, bot_token: str, *, max_age: float, now: float) -> WebAppUser:
    """Check Telegram's signature and age of a Mini App's initData; return the user it names."""
    if not init_data or len(init_data) > INIT_DATA_MAX_CHARS:
        raise InitDataInvalid(InitDataProblem.MALFORMED)
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise InitDataInvalid(InitDataProblem.MALFORMED) from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a repeated key would make the signed string ambiguous
        raise InitDataInvalid(InitDataProblem.MALFORMED)
    received = fields.pop("hash", None)
    if received is None:
        raise InitDataInvalid(InitDataProblem.MISSING_HASH)
    check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(INIT_DATA_KEY, bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    if not _HASH_FORMAT.fullmatch(received) or not hmac.compare_digest(expected, received):
        raise InitDataInvalid(InitDataProblem.BAD_SIGNATURE)
    auth_date = fields.get("auth_date", "")
    if not auth_date.isdigit():
        raise InitDataInvalid(InitDataProblem.MALFORMED)
    if now - int(auth_date) > max_age:
        raise InitDataInvalid(InitDataProblem.STALE)
    if int(auth_date) - now > INIT_DATA_FUTURE_SKEW:
        raise InitDataInvalid(InitDataProblem.FROM_THE_FUTURE)
    return _user(fields.get("user"))


def _user(raw: str | None) -> WebAppUser:
    try:
        data = json.loads(raw) if raw is not None else None
    except ValueError as exc:
        raise InitDataInvalid(InitDataProblem.BAD_USER) from exc
    if not isinstance(data, dict):
        raise InitDataInvalid(InitDataProblem.BAD_USER)
    user_id, first_name, language = data.get("id"), data.get("first_name"), data.get("language_code")
    if type(user_id) is not int or user_id <= 0 or not isinstance(first_name, str):
        raise InitDataInvalid(InitDataProblem.BAD_USER)
    if language is not None and not isinstance(language, str):
        raise InitDataInvalid(InitDataProblem.BAD_USER)
    return WebAppUser(id=user_id, first_name=first_name, language_code=language)


# --- signed editor links ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionGrant:
    """What a valid editor link allows: this user may paint the mask of this job."""

    job_id: str
    user_id: int


class RegionLinkInvalid(ValueError):
    """An editor link that is malformed, forged or expired."""


def region_token(job_id: str, user_id: int, *, secret: str, expires_at: int) -> str:
    """A URL-safe token (also a valid Telegram start parameter) binding a job to the user who may act."""
    if not _JOB_ID_FORMAT.fullmatch(job_id):
        raise ValueError("job id must be 1-64 characters of A-Z, a-z, 0-9, _ and -")
    if not 0 < user_id < LINK_MAX_USER_ID:
        raise ValueError("user id out of range")
    if not 0 <= expires_at < LINK_MAX_EXPIRY:
        raise ValueError("expires_at must be a Unix time before 2106")
    payload = _LINK_HEADER.pack(LINK_VERSION, expires_at, user_id) + job_id.encode("ascii")
    return _b64encode(payload + _link_mac(payload, secret))


def read_region_token(token: str, *, secret: str, now: float) -> RegionGrant:
    """The grant a token carries; RegionLinkInvalid unless it is ours, intact and not expired."""
    if not _TOKEN_FORMAT.fullmatch(token):
        raise RegionLinkInvalid("malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise RegionLinkInvalid("malformed") from exc
    payload, mac = raw[:-LINK_MAC_BYTES], raw[-LINK_MAC_BYTES:]
    if len(payload) <= _LINK_HEADER.size or not hmac.compare_digest(mac, _link_mac(payload, secret)):
        raise RegionLinkInvalid("bad signature")
    version, expires_at, user_id = _LINK_HEADER.unpack_from(payload)
    job_id = payload[_LINK_HEADER.size :].decode("ascii", errors="replace")
    if version != LINK_VERSION or not _JOB_ID_FORMAT.fullmatch(job_id):
        raise RegionLinkInvalid("malformed")
    if now >= expires_at:
        raise RegionLinkInvalid("expired")
    return RegionGrant(job_id=job_id, user_id=user_id)


def _link_mac(payload: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), LINK_DOMAIN + payload, hashlib.sha256).digest()[:LINK_MAC_BYTES]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --- the job the editor works on ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionJob:
    """A job waiting for its Vary (Region) mask, as the editor needs it."""

    job_id: str
    owner_user_id: int
    prompt: str
    image_url: str  # one the page may load: our own route, absolute or relative to the site
    width: int
    height: int
    language: str

    def __post_init__(self) -> None:
        if not (0 < self.width <= MASK_MAX_SIDE and 0 < self.height <= MASK_MAX_SIDE):
            raise ValueError(f"image size out of range: {self.width}x{self.height}")
        if not self.image_url.startswith(("https://", "http://", "/")) or self.image_url.startswith("//"):
            raise ValueError("image_url must be an http(s) URL or a path on this site")


class MaskTaken(Exception):
    """The job took its mask already (on any replica: its row says so); it takes no other."""


# --- masks ----------------------------------------------------------------------------------------------


class MaskProblem(StrEnum):
    UNREADABLE = "not a readable PNG"
    BAD_SIZE = "size out of range"
    WRONG_SHAPE = "aspect ratio differs from the image"
    EMPTY = "nothing painted"


class MaskInvalid(ValueError):
    """A painted mask that cannot become a backend's mask."""

    def __init__(self, reason: MaskProblem) -> None:
        super().__init__(reason.value)
        self.reason = reason


def mask_png(painted: bytes, width: int, height: int) -> bytes:
    """The backend's mask at the image's size: black background, white where the user painted, PNG mode L.

    A picture with transparency counts its opaque pixels as painted (strokes of any colour on a clear
    canvas); a fully opaque one counts its bright pixels (white or coloured strokes on black). The page
    paints at the image's own size, so a larger drawing is refused before it is decoded.
    """
    if not _size_ok(width, height):
        raise MaskInvalid(MaskProblem.BAD_SIZE)
    try:
        picture = open_image(painted, formats=MASK_FORMATS, max_pixels=HEADER_ONLY_MAX_PIXELS)
    except NotAnImage as exc:
        raise MaskInvalid(MaskProblem.UNREADABLE) from exc
    if not (0 < picture.width <= MASK_MAX_SIDE and 0 < picture.height <= MASK_MAX_SIDE):
        raise MaskInvalid(MaskProblem.BAD_SIZE)
    if not _same_shape(picture.width, picture.height, width, height):
        raise MaskInvalid(MaskProblem.WRONG_SHAPE)
    if picture.width > width or picture.height > height:
        raise MaskInvalid(MaskProblem.BAD_SIZE)
    try:
        picture.load()
    except DECODE_ERRORS as exc:
        raise MaskInvalid(MaskProblem.UNREADABLE) from exc
    coverage = _coverage(picture)
    if coverage.size != (width, height):
        coverage = coverage.resize((width, height), Image.Resampling.BILINEAR)
    mask = _threshold(coverage)
    if mask.getbbox() is None:
        raise MaskInvalid(MaskProblem.EMPTY)
    out = io.BytesIO()
    mask.save(out, "PNG", optimize=True)
    return out.getvalue()


def _size_ok(width: int, height: int) -> bool:
    return 0 < width <= MASK_MAX_SIDE and 0 < height <= MASK_MAX_SIDE and width * height <= MASK_MAX_PIXELS


def _same_shape(width: int, height: int, target_width: int, target_height: int) -> bool:
    expected_height = width * target_height / target_width
    return abs(height - expected_height) <= max(1.0, MASK_ASPECT_TOLERANCE * expected_height)


def _coverage(picture: Image.Image) -> Image.Image:
    """0/255 per pixel: painted or not, before scaling."""
    if picture.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in picture.info:
        alpha = picture.convert("RGBA").getchannel("A")
        fully_opaque = alpha.histogram()[MASK_WHITE] == alpha.width * alpha.height
        if not fully_opaque:
            return _threshold(alpha)
    red, green, blue = picture.convert("RGB").split()
    # The brightest channel, so a pure red or blue stroke on black counts as painted.
    return _threshold(ImageChops.lighter(ImageChops.lighter(red, green), blue))


def _threshold(channel: Image.Image) -> Image.Image:
    return channel.point(lambda v: MASK_WHITE if v >= MASK_THRESHOLD else MASK_BLACK, mode="L")
