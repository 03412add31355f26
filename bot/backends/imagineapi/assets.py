"""An image's own files, read through the address the bot uses for the API rather than the server's
PUBLIC_URL: the token goes to that address only, never to a host an answer names."""

from __future__ import annotations

import re
from typing import Final

from bot.backends.imagineapi.wire import ImagineImage

# The self-hosted server writes every file URL as `${env.PUBLIC_URL}/assets/${file.id}/${file.filename_disk}`
# (imagineapi/imagineapi `api/image/src/index.ts`), and PUBLIC_URL need not be an address the bot can
# reach, nor one it should send its token to. Directus serves the same file at `/assets/<id>/…` on any
# address it answers at, so the bot reads it from MJ_BASE_URL, where its token goes anyway.
_ASSET_PATH: Final = re.compile(r"/assets/(?P<file>[0-9A-Za-z-]+)/(?P<name>[^/?#]+)$")


def rebased(url: str | None, base: str, files: frozenset[str]) -> str | None:
    """`url` read through `base` when it names one of `files`; any other URL unchanged."""
    if url is None:
        return None
    match = _ASSET_PATH.search(url.split("?", 1)[0])
    if match is None or match.group("file") not in files:
        return url
    return f"{base}/assets/{match.group('file')}/{match.group('name')}"


def through_api(image: ImagineImage, base: str) -> ImagineImage:
    """The image with its own files (`results` behind `url`, `upscaled` behind `upscaled_urls`) via `base`.

    Only files the item itself lists move: a URL naming anything else keeps its host, and gets no token.
    """
    files = frozenset(f for f in (image.results, *image.upscaled) if f)
    if not files:
        return image
    urls = tuple(rebased(u, base, files) or u for u in image.upscaled_urls)
    return image.model_copy(update={"url": rebased(image.url, base, files), "upscaled_urls": urls})
