"""Image bytes: decoding caps, photos for Telegram, metadata stripping, videos told apart."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from bot.media import (
    MAX_DECODE_PIXELS,
    NotAnImage,
    NotAVideo,
    VideoFormat,
    as_telegram_photo,
    open_image,
    prepare_input_image,
    video_format,
)
from tests.fakes.videos import tiny_gif, tiny_mp4


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions (a decompression bomb's header) with almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x013B] = "Jane Photographer"  # Artist
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_decompression_bomb_is_refused_before_decoding() -> None:
    side = int(MAX_DECODE_PIXELS**0.5) + 10
    with pytest.raises(NotAnImage):
        open_image(png_header_only(side, side))
    with pytest.raises(NotAnImage):
        prepare_input_image(png_header_only(side, side))


def test_not_an_image_is_refused() -> None:
    with pytest.raises(NotAnImage):
        prepare_input_image(b"GIF89a but not really")


def test_users_picture_is_reencoded_without_metadata() -> None:
    original = jpeg_with_exif()
    assert b"SecretCameraMaker" in original and b"Jane Photographer" in original
    data, mime = prepare_input_image(original)
    assert mime == "image/jpeg" and b"SecretCameraMaker" not in data and b"Jane" not in data
    assert not Image.open(io.BytesIO(data)).getexif()


def test_large_picture_is_downscaled_and_transparency_kept() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (4000, 1000), (255, 0, 0, 128)).save(out, "PNG")
    data, mime = prepare_input_image(out.getvalue())
    image = Image.open(io.BytesIO(data))
    assert mime == "image/png" and image.mode == "RGBA" and max(image.size) == 1536


def test_telegram_photo_fits_the_limits() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (9000, 3000), (0, 0, 255, 0)).save(out, "WEBP")
    picture = as_telegram_photo(out.getvalue(), "grid")
    image = Image.open(io.BytesIO(picture.data))
    assert image.format == "JPEG" and picture.width + picture.height <= 10_000
    assert picture.filename == "grid.jpg"


def test_video_format_is_read_from_the_signature_not_the_name() -> None:
    assert video_format(tiny_mp4()) is VideoFormat.VIDEO
    assert video_format(tiny_gif()) is VideoFormat.ANIMATION
    assert (VideoFormat.VIDEO.extension, VideoFormat.ANIMATION.extension) == ("mp4", "gif")
    for not_moving in (b"", b"\x89PNG\r\n\x1a\n" + bytes(16), b"<html>ftyp</html>"):
        with pytest.raises(NotAVideo):
            video_format(not_moving)
