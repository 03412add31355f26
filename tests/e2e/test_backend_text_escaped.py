"""A hostile backend's text reaches users as text: reasons and seeds never become markup or links."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram, StoredMessage
from tests.harness import ALICE, ALICE_CHAT, free_port, running_bot, wait_for_caption, wait_for_text

SECRET = "proxy-secret"
# A stray "<" alone makes Telegram refuse the caption; a link would put the backend's URL into our message.
HOSTILE = 'x < y <a href="https://evil.example/login">Sign in again</a> & <b>now</b>'


def proxy_settings(proxy: FakeMjProxy) -> dict[str, object]:
    port = free_port()
    return {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": SECRET,
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
    }


def markup_of(message: StoredMessage) -> set[str]:
    return {entity["type"] for entity in message.entities}


def links_of(message: StoredMessage) -> list[str]:
    return [entity["url"] for entity in message.entities if entity["type"] == "text_link"]


async def test_a_failure_reason_with_markup_is_shown_as_text(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse")
        task_id = await tg.wait_for(lambda: next(iter(proxy.tasks), None))
        await wait_for_caption(tg, ALICE_CHAT.id, "Queued")
        await proxy.fail(task_id, HOSTILE)
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "Failed")
        assert failed.caption is not None and HOSTILE in failed.caption, "the reason, word for word"
        assert links_of(failed) == [f"tg://user?id={ALICE.id}"], "no link but the requester's"
        assert sum(entity["type"] == "bold" for entity in failed.entities) == 1, "only the prompt is bold"
        assert failed.button_texts() == ["🔁 Try again"]
        assert [c.error for c in tg.calls if c.error] == []


async def test_a_seed_with_markup_is_shown_as_text(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a koi pond")
        task_id = await tg.wait_for(lambda: next(iter(proxy.tasks), None))
        proxy.seed_texts[task_id] = HOSTILE
        await proxy.succeed(task_id)
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="🌱 Seed")
        by_button = await wait_for_text(tg, ALICE_CHAT.id, "Seed:")
        tg.user_sends(ALICE_CHAT, ALICE, "/seed", reply_to=grid.message_id)
        await tg.wait_for(
            lambda: len([m for m in tg.chat_messages(ALICE_CHAT.id) if "Seed:" in (m.text or "")]) == 2
        )
        by_command = [m for m in tg.chat_messages(ALICE_CHAT.id) if "Seed:" in (m.text or "")][1]
        for answer in (by_button, by_command):
            assert answer.text == f"🌱 Seed: {HOSTILE}"
            assert markup_of(answer) == {"code"}, "only the locale's own <code>"
        assert [c.error for c in tg.calls if c.error] == []
