"""Image bytes: decoding caps, photos for Telegram, metadata stripping, videos told apart."""

from __future__ import annotations

import asyncio
import io
import struct
import threading
import time
import zlib

import pytest
from PIL import Image

from bot.media import (
    MAX_DECODE_PIXELS,
    ImageDecoder,
    NotAnImage,
    NotAVideo,
    VideoFormat,
    as_telegram_photo,
    image_extension,
    open_image,
    prepare_input_image,
    video_format,
)
from tests.fakes.videos import tiny_gif, tiny_mp4


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions (a decompression bomb's header) with almost no data.

    Pillow opens it (the header is well-formed up to the first IDAT), so only a size check refuses it.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(bytes(64)))
        + png_chunk(b"IEND", b"")
    )


def test_a_bomb_header_is_an_image_header_to_pillow() -> None:
    """Guards the tests below: the refusals must come from the size checks, not from a broken file."""
    with Image.open(io.BytesIO(png_header_only(5000, 5000))) as image:
        assert image.size == (5000, 5000)


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


def truncated_png(size: tuple[int, int] = (600, 400)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(out, "PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


def eps() -> bytes:
    """An EPS file: Pillow would hand it to Ghostscript when that is installed."""
    return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n%%EOF\n"


def bmp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "BMP")
    return out.getvalue()


# A header above Pillow's own bomb limit (2 x 89 megapixels): Image.open raises DecompressionBombError,
# which is no OSError; ~50 bytes suffice.
OVER_PILLOWS_LIMIT = png_header_only(20_000, 20_000)


@pytest.mark.parametrize(
    "data", [truncated_png(), OVER_PILLOWS_LIMIT, eps(), bmp()], ids=["truncated", "bomb", "eps", "bmp"]
)
def test_broken_bombs_and_other_formats_are_not_images(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        as_telegram_photo(data, "grid")
    with pytest.raises(NotAnImage):
        prepare_input_image(data)


def test_document_extension_never_fails_and_names_only_allowed_formats() -> None:
    assert len(OVER_PILLOWS_LIMIT) < 100
    assert [image_extension(data) for data in (OVER_PILLOWS_LIMIT, eps(), bmp())] == ["bin"] * 3
    assert image_extension(jpeg_with_exif()) == "jpg"


async def test_decoding_runs_in_worker_threads_a_few_at_a_time() -> None:
    decoder = ImageDecoder(slots=2)
    running = 0
    most = 0
    threads: set[str] = set()
    lock = threading.Lock()

    def decode(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.current_thread().name)
        time.sleep(0.05)
        with lock:
            running -= 1
        return n

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    beating = asyncio.create_task(ticker())
    results = await asyncio.gather(*(decoder.run(decode, n) for n in range(6)))
    beating.cancel()
    assert results == list(range(6))
    assert most == 2, "never more decodes at once than slots"
    assert threading.current_thread().name not in threads, "never on the event loop's thread"
    assert ticks >= 10, "the event loop kept running while pictures were decoded"


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
