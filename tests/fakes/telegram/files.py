"""Files the fake issued a file_id for, and photos, GIFs and MP4s decoded the way Telegram accepts them."""

from __future__ import annotations

import itertools
import mimetypes
from dataclasses import replace
from io import BytesIO
from typing import Any

from PIL import Image

from tests.fakes.telegram.limits import (
    ANIMATION_MIME,
    ERR_ENTITY_TOO_LARGE,
    ERR_FILE_TOO_BIG,
    ERR_IMAGE_PROCESS_FAILED,
    ERR_PHOTO_DIMENSIONS,
    GIF_SIGNATURES,
    MP4_BRAND_BOX,
    PHOTO_MAX_ASPECT_RATIO,
    PHOTO_MAX_BYTES,
    PHOTO_MAX_SIDES_SUM,
    THUMBNAIL_SIDE,
    UPLOAD_MAX_BYTES,
    ApiError,
)
from tests.fakes.telegram.models import FileKind, MediaContent, NewFile, StoredFile
from tests.fakes.telegram.params import Params


class FileStore:
    """Every file the fake issued a file_id for, addressable by id and by download path."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}
        self._documents: dict[str, dict[str, Any]] = {}
        self._videos: dict[str, dict[str, Any]] = {}
        self._animations: dict[str, dict[str, Any]] = {}
        self._serial = itertools.count(1)

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def photo_sizes(self, file_id: str) -> list[dict[str, Any]] | None:
        return self._photo_sets.get(file_id)

    def document(self, file_id: str) -> dict[str, Any] | None:
        return self._documents.get(file_id)

    def video(self, file_id: str) -> dict[str, Any] | None:
        return self._videos.get(file_id)

    def animation(self, file_id: str) -> dict[str, Any] | None:
        return self._animations.get(file_id)

    def add_photo(self, data: bytes) -> list[dict[str, Any]]:
        """Validate like Telegram; return the PhotoSize list: a thumbnail (if bigger) and the full size."""
        image = decode_photo(data)
        suffix = ".png" if image.format == "PNG" else ".jpg"
        sizes: list[dict[str, Any]] = []
        if max(image.size) > THUMBNAIL_SIDE:
            thumbnail = make_thumbnail(image)
            sizes.append(self._photo_size(thumbnail, ".jpg", Image.open(BytesIO(thumbnail)).size))
        sizes.append(self._photo_size(data, suffix, image.size))
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return sizes

    def add_video(self, source: NewFile, params: Params) -> MediaContent:
        """An MP4 becomes a video; anything else Telegram can't play arrives as a plain document."""
        if not is_mp4(source.data):
            return self._as_document(source)
        _check_upload_size(source.data)
        stored = self._add(source.data, "video", ".mp4")
        video = {
            **self._file_fields(stored, source, "video/mp4"),
            # The fake reads no MP4 boxes: it reports what the bot declared (0 when it declared nothing).
            "width": params.opt_int("width") or 0,
            "height": params.opt_int("height") or 0,
            "duration": params.opt_int("duration") or 0,
        }
        self._videos[stored.file_id] = video
        return MediaContent(video=video)

    def add_animation(self, source: NewFile, params: Params) -> MediaContent:
        """A GIF (turned into a silent MP4, as Telegram does) or an MP4 becomes an animation."""
        if not (is_mp4(source.data) or source.data.startswith(GIF_SIGNATURES)):
            return self._as_document(source)
        _check_upload_size(source.data)
        width, height, duration = params.opt_int("width") or 0, params.opt_int("height") or 0, 0
        name = source.file_name
        if source.data.startswith(GIF_SIGNATURES):
            width, height, duration = gif_geometry(source.data)
            name += ".mp4"
        stored = self._add(source.data, "animation", ".mp4")
        animation = {
            **self._file_fields(stored, replace(source, file_name=name), ANIMATION_MIME),
            "width": width,
            "height": height,
            "duration": duration or params.opt_int("duration") or 0,
        }
        self._animations[stored.file_id] = animation
        return MediaContent(animation=animation)

    def _as_document(self, source: NewFile) -> MediaContent:
        return MediaContent(document=self.add_document(source.data, source.file_name, source.content_type))

    @staticmethod
    def _file_fields(stored: StoredFile, source: NewFile, mime_type: str) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": source.file_name,
            "mime_type": mime_type,
            "file_size": len(stored.data),
        }

    def add_document(self, data: bytes, file_name: str, mime_type: str | None) -> dict[str, Any]:
        _check_upload_size(data)
        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        stored = self._add(data, "document", suffix)
        guessed = mimetypes.guess_type(file_name)[0]
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": _specific_mime(mime_type) or guessed or "application/octet-stream",
            "file_size": len(data),
        }
        self._documents[stored.file_id] = document
        return document

    def _photo_size(self, data: bytes, suffix: str, size: tuple[int, int]) -> dict[str, Any]:
        stored = self._add(data, "photo", suffix)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
            "width": size[0],
            "height": size[1],
        }

    def _add(self, data: bytes, kind: FileKind, suffix: str) -> StoredFile:
        serial = next(self._serial)
        stored = StoredFile(
            file_id=f"{FILE_ID_PREFIXES[kind]}{serial:08d}",
            file_unique_id=f"AQAD{serial:08d}",
            file_path=f"{kind}s/file_{serial}{suffix}",
            kind=kind,
            data=data,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored


# The start of real file ids of each kind (they encode the file's type).
FILE_ID_PREFIXES: dict[FileKind, str] = {
    "photo": "AgACAgIAAxkBAA",
    "document": "BQACAgIAAxkBAA",
    "video": "BAACAgIAAxkBAA",
    "animation": "CgACAgIAAxkBAA",
}


def _check_upload_size(data: bytes) -> None:
    if len(data) > UPLOAD_MAX_BYTES:
        raise ApiError(ERR_ENTITY_TOO_LARGE, error_code=413)


def is_mp4(data: bytes) -> bool:
    return data[4:8] == MP4_BRAND_BOX


def gif_geometry(data: bytes) -> tuple[int, int, int]:
    """Width, height and whole seconds of a GIF, or Telegram's "can't process" error."""
    try:
        image = Image.open(BytesIO(data))
        frames = getattr(image, "n_frames", 1)
        milliseconds = 0
        for index in range(frames):
            image.seek(index)
            milliseconds += int(image.info.get("duration", 0))
    except (OSError, ValueError, SyntaxError, EOFError):
        raise ApiError(ERR_IMAGE_PROCESS_FAILED) from None
    return image.width, image.height, milliseconds // 1000


def _specific_mime(mime_type: str | None) -> str | None:
    return None if mime_type in (None, "", "application/octet-stream") else mime_type


def decode_photo(data: bytes) -> Image.Image:
    """Open an image the way Telegram's photo pipeline accepts it, or fail with Telegram's error."""
    if len(data) > PHOTO_MAX_BYTES:
        raise ApiError(ERR_FILE_TOO_BIG)
    try:
        image = Image.open(BytesIO(data))
        width, height = image.size
        if not _acceptable_dimensions(width, height):
            raise ApiError(ERR_PHOTO_DIMENSIONS)
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ApiError(ERR_IMAGE_PROCESS_FAILED) from None
    return image


def _acceptable_dimensions(width: int, height: int) -> bool:
    return width + height <= PHOTO_MAX_SIDES_SUM and max(width, height) <= PHOTO_MAX_ASPECT_RATIO * min(
        width, height
    )


def make_thumbnail(image: Image.Image) -> bytes:
    thumbnail = image.convert("RGB")
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = BytesIO()
    thumbnail.save(buffer, format="JPEG")
    return buffer.getvalue()
