"""What one replica learned, another must know: two Runtimes on one PostgreSQL, as behind one PUBLIC_URL.

Each test sends the parts of one piece of work to different replicas: a picture hosted by one and fetched
from the other, an album split between them, a backend report reaching one while the other records the
task id, and a Vary (Region) mask submitted to one and then to the other.
"""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiogram.types import Message
from PIL import Image

from bot.runtime import Runtime
from tests.browser.launch import signed_init_data
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    FAST_LIMITS,
    PROXY_SECRET,
    TOKEN,
    free_port,
    grid_and_upscale,
    make_settings,
    running_bot,
    wait_for_caption,
    wait_for_text,
)
from tests.postgres import PostgresServer
from tests.relay import Relay

_databases = itertools.count(1)
REGION_BUTTON = "🖌️ Vary (Region)"


def fresh_postgres(postgres: PostgresServer) -> str:
    return postgres.create_database(f"mjgram_shared_{os.getpid()}_{next(_databases)}")


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def local(port: int) -> str:
    return f"http://127.0.0.1:{port}"


@asynccontextmanager
async def replicas(
    tg: FakeTelegram, tmp_path: Path, database_url: str, ports: list[int], **overrides: Any
) -> AsyncIterator[list[Runtime]]:
    """Runtimes on one database, started in order (the first takes the polling lease), all closed after."""
    started: list[Runtime] = []
    try:
        for n, port in enumerate(ports):
            settings = make_settings(
                tg, tmp_path / f"r{n}", database_url=database_url, http_port=port, **overrides
            )
            runtime = await Runtime.build(settings, limits=FAST_LIMITS)
            started.append(runtime)
            await runtime.start()
        yield started
    finally:
        for runtime in reversed(started):
            await runtime.close()


# --- 1. pictures hosted for the backend ---------------------------------------------------------------


async def test_a_picture_published_by_one_replica_is_served_by_the_other(
    tg: FakeTelegram, tmp_path: Path, postgres: PostgresServer
) -> None:
    ports = [free_port(), free_port()]
    async with replicas(tg, tmp_path, fresh_postgres(postgres), ports, public_url=local(ports[0])) as (a, b):
        assert a.image_host is not None
        picture = png((10, 200, 30))
        link = await a.image_host.publish(picture, "image/png")
        path = urlsplit(link).path
        async with httpx.AsyncClient(base_url=local(b.http_port)) as client:
            served = await client.get(path)
            assert served.status_code == 200
            assert served.content == picture and served.headers["content-type"] == "image/png"
            guessed = await client.get(path[:-8] + "AAAA.png")
            assert guessed.status_code == 404


# --- 2. albums split between replicas ----------------------------------------------------------------


async def test_an_album_split_between_replicas_becomes_one_draft_with_every_picture(
    tg: FakeTelegram, tmp_path: Path, postgres: PostgresServer
) -> None:
    ports = [free_port(), free_port()]
    async with (
        Relay(targets=[local(p) for p in ports]) as relay,
        replicas(
            tg,
            tmp_path,
            fresh_postgres(postgres),
            ports,
            telegram_mode="webhook",
            public_url=relay.base_url,
        ),
    ):
        for i in range(4):
            caption = "/blend" if i == 0 else None
            tg.user_sends(ALICE_CHAT, ALICE, photo=png((i * 60, 0, 0)), media_group_id="g1", caption=caption)
        panel = await wait_for_text(tg, ALICE_CHAT.id, "choose the shape")
        assert "Blend 4 images" in (panel.text or "")
        await asyncio.sleep(2.0)  # nothing else may follow from the other replica's parts
        panels = [m for m in tg.chat_messages(ALICE_CHAT.id) if m.text and "Blend" in m.text]
        assert panels == [panel]
        assert relay.routed_to(0, ["/telegram/"]) and relay.routed_to(1, ["/telegram/"])
        tg.press_button(ALICE_CHAT.id, panel.message_id, ALICE, text="Square 1:1")
        await wait_for_caption(tg, ALICE_CHAT.id, "/blend 4", "Done")


# --- 4. a backend report that comes before the submit's answer ----------------------------------------


async def test_a_report_reaching_one_replica_before_the_other_records_the_task_is_not_lost(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path, postgres: PostgresServer
) -> None:
    ports = [free_port(), free_port()]
    async with Relay(targets=[proxy.base_url]) as to_backend:
        answer = to_backend.hold("/mj/submit/imagine")
        settings = {
            "mj_backend": "mjproxy",
            "mj_base_url": to_backend.base_url,
            "mj_api_key": PROXY_SECRET,
            "public_url": local(ports[1]),  # every callback reaches the second replica
            "push_silence": 120.0,  # no polling during the test: only the callback can finish the job
        }
        async with replicas(tg, tmp_path, fresh_postgres(postgres), ports, **settings):
            tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse in the fog")  # the first replica polls
            task_id = await tg.wait_for(lambda: next(iter(proxy.tasks), None))
            await proxy.succeed(task_id)  # the first replica still waits for the submit's answer
            assert any(
                body.get("id") == task_id and status == 404 for _, body, status in proxy.notifications
            ), "the second replica did not know the task yet"
            answer.set()
            done = await wait_for_caption(tg, ALICE_CHAT.id, "a lighthouse in the fog", "Done")
            assert done.photo


# --- 3. one Vary (Region) mask per job ---------------------------------------------------------------


def painted_square(size: tuple[int, int]) -> str:
    strokes = Image.new("RGBA", size, (0, 0, 0, 0))
    for x in range(size[0] // 4, size[0] // 2):
        for y in range(size[1] // 4, size[1] // 2):
            strokes.putpixel((x, y), (255, 0, 0, 255))
    out = io.BytesIO()
    strokes.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def region_settings(proxy: FakeMjProxy, port: int) -> dict[str, Any]:
    return {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": PROXY_SECRET,
        # Telegram opens Mini Apps over https only; the test talks to each replica's port directly.
        "public_url": f"https://127.0.0.1:{port}",
        "push_silence": 0.2,
    }


async def waiting_for_a_mask(tg: FakeTelegram, proxy: FakeMjProxy, port: int) -> tuple[str, dict[str, str]]:
    """A Vary (Region) job waiting for its mask: the editor's path, and a submission for it."""
    _, upscale = await grid_and_upscale(tg, proxy, "/imagine a garden with a fountain")
    tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text=REGION_BUTTON)
    waiting = await wait_for_caption(tg, ALICE_CHAT.id, "Waiting for your input")
    editor_url = waiting.reply_markup["inline_keyboard"][0][0]["web_app"]["url"]  # type: ignore[index]
    path = urlsplit(editor_url).path
    owner = signed_init_data(TOKEN, auth_date=int(time.time()), user={"id": ALICE.id, "first_name": "A"})
    async with httpx.AsyncClient(base_url=local(port)) as client:
        page = await client.get(path)
        image_path = urlsplit(next(p for p in page.text.split('"') if "/files/" in p)).path
        picture = Image.open(io.BytesIO((await client.get(image_path)).content))
    return path, {"prompt": "a stone bench", "mask": painted_square(picture.size), "init_data": owner}


def modals(proxy: FakeMjProxy) -> int:
    return len([p for p, _ in proxy.submissions if p.endswith("/mj/submit/modal")])


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_second_mask_is_refused_by_any_replica(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    if kind == "sqlite":
        url, ports = f"sqlite:///{tmp_path / 'one.db'}", [free_port()]
    else:
        url, ports = fresh_postgres(request.getfixturevalue("postgres")), [free_port(), free_port()]
    async with replicas(tg, tmp_path, url, ports, **region_settings(proxy, ports[0])):
        path, body = await waiting_for_a_mask(tg, proxy, ports[0])
        async with httpx.AsyncClient(base_url=local(ports[0])) as client:
            accepted = await client.post(f"{path}/submit", json=body)
            assert accepted.status_code == 200, accepted.text
        async with httpx.AsyncClient(base_url=local(ports[-1])) as client:
            again = await client.post(f"{path}/submit", json=body)
        assert (again.status_code, again.json()["code"]) == (409, "gone"), again.text
        assert modals(proxy) == 1


async def test_masks_submitted_to_two_replicas_at_once_are_taken_once(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path, postgres: PostgresServer
) -> None:
    ports = [free_port(), free_port()]
    async with replicas(tg, tmp_path, fresh_postgres(postgres), ports, **region_settings(proxy, ports[0])):
        path, body = await waiting_for_a_mask(tg, proxy, ports[0])
        async with httpx.AsyncClient() as client:
            answers = await asyncio.gather(
                *(client.post(f"{local(port)}{path}/submit", json=body) for port in ports)
            )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        assert modals(proxy) == 1


def album_part(message_id: int, *, caption: str | None = None) -> Message:
    """A photo of an album as stored for another replica (its file is never fetched here)."""
    return Message.model_validate(
        {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": ALICE_CHAT.id, "type": "private"},
            "from": ALICE.to_api(),
            "media_group_id": "left",
            "photo": [
                {"file_id": f"f{message_id}", "file_unique_id": f"u{message_id}", "width": 9, "height": 9}
            ],
            "caption": caption,
        }
    )


async def test_an_album_left_by_a_dead_replica_gets_the_handlers_answers(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.register_chat(ALICE_CHAT, ALICE)
    async with running_bot(tg, tmp_path) as runtime:
        assert runtime.finish_album is not None
        await runtime.finish_album([album_part(n, caption="/blend" if n == 1 else None) for n in (1, 2, 3)])
        await wait_for_text(tg, ALICE_CHAT.id, "Blend 3 images")
        await runtime.finish_album(
            [album_part(n, caption="/blend" if n == 11 else None) for n in range(11, 17)]
        )
        await wait_for_text(tg, ALICE_CHAT.id, "the most /blend takes")
