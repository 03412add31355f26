"""Small but well-formed moving pictures for the fakes and the tests: an MP4 and a GIF."""

from __future__ import annotations

import io
import struct

from PIL import Image

MP4_BRANDS = b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41"  # major brand, version, compatible


def _box(kind: bytes, payload: bytes) -> bytes:
    """An ISO base media box: 32-bit big-endian size (header included), four-letter type, payload."""
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def tiny_mp4(payload_bytes: int = 256) -> bytes:
    """An MP4 file as far as its boxes go: `ftyp`, then an `mdat` of `payload_bytes` zero bytes."""
    return _box(b"ftyp", MP4_BRANDS) + _box(b"mdat", bytes(payload_bytes))


def tiny_gif(size: tuple[int, int] = (48, 32), frames: int = 4, frame_ms: int = 250) -> bytes:
    """A looping GIF whose frames differ in colour."""
    pictures = [Image.new("RGB", size, (60 * i % 256, 120, 200 - 40 * i % 200)) for i in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return out.getvalue()
