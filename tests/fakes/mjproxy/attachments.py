"""The fake proxy's pictures and videos: Discord-like attachment URLs, drawn or served on first download."""

from __future__ import annotations

import asyncio
import hashlib
import io
from typing import TYPE_CHECKING, Final

from aiohttp import web
from PIL import Image, ImageDraw

from tests.fakes.mjproxy.task import FakeTask
from tests.fakes.videos import tiny_mp4

if TYPE_CHECKING:
    from tests.fakes.mjproxy.server import FakeMjProxy

GRID_SIZE: Final = (1024, 1024)
PREVIEW_SIZE: Final = (128, 128)
LINK_TTL_SECONDS: Final = 86_400  # Discord's ex= is about a day after is=


class Attachments:
    """Serves /attachments/{task}/{name}; mixed into FakeMjProxy."""

    def video_of(self: FakeMjProxy, task_id: str) -> bytes:
        """The MP4 a finished video task serves."""
        task = self.tasks[task_id]
        name = next(name for name, kind in task.files.items() if kind == "video")
        return self._render(task, name, "video")[0]

    async def _attachment(self: FakeMjProxy, request: web.Request) -> web.Response:
        task = self.tasks.get(request.match_info["task"])
        name = request.match_info["name"]
        if task is None or name not in task.files:
            return web.Response(status=404, text="Not Found")
        data, mime = self._render(task, name, task.files[name])
        self.downloads_in_flight += 1
        self.most_downloads_in_flight = max(self.most_downloads_in_flight, self.downloads_in_flight)
        try:
            await asyncio.sleep(self.attachment_delay)
        finally:
            self.downloads_in_flight -= 1
        return web.Response(body=data, content_type=mime)

    def _publish(self: FakeMjProxy, task: FakeTask, name: str, kind: str) -> str:
        """A Discord-like attachment URL for `name`; bytes are rendered on first download."""
        task.files[name] = kind
        issued = task.submit_time // 1000
        signature = hashlib.sha256(f"{task.id}/{name}".encode()).hexdigest()
        query = f"ex={issued + LINK_TTL_SECONDS:x}&is={issued:x}&hm={signature}"
        return f"{self.base_url}/attachments/{task.id}/{name}?{query}"

    def _render(self: FakeMjProxy, task: FakeTask, name: str, kind: str) -> tuple[bytes, str]:
        if kind == "upload" and task.upload is not None:
            return task.upload[1], task.upload[0]
        if kind == "video":
            return tiny_mp4(self.video_bytes), "video/mp4"
        mime = "image/webp" if kind in ("preview", "still") else "image/png"
        if kind in self.served_instead:
            return self.served_instead[kind], mime
        key = (task.id, name)
        if key not in self._images:
            self._images[key] = self._draw(task, kind)
        return self._images[key], mime

    @staticmethod
    def _draw(task: FakeTask, kind: str) -> bytes:
        digest = hashlib.sha256(f"{task.id}:{kind}".encode()).digest()
        colours = [tuple(digest[i : i + 3]) for i in range(0, 12, 3)]
        size = PREVIEW_SIZE if kind == "preview" else GRID_SIZE
        image = Image.new("RGB", size, colours[0])
        draw = ImageDraw.Draw(image)
        width, height = size
        if kind in ("grid", "preview"):
            for i, colour in enumerate(colours):
                x, y = (i % 2) * width // 2, (i // 2) * height // 2
                draw.rectangle((x, y, x + width // 2 - 1, y + height // 2 - 1), fill=colour)
        else:
            draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=colours[1])
        out = io.BytesIO()
        image.save(out, "WEBP" if kind in ("preview", "still") else "PNG")
        return out.getvalue()
