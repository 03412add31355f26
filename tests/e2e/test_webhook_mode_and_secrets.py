"""Telegram webhook mode with its secret header, and secrets kept out of logs and backend requests."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram
from tests.harness import ALICE, ALICE_CHAT, TOKEN, free_port, running_bot, wait_for_caption, wait_for_text

TELEGRAM_SECRET = "telegram-header-secret-0123456789abcdef"
HOOK_SECRET = "hook-secret-for-tests-0123456789"
PROXY_SECRET = "proxy-secret"


async def test_webhook_mode_takes_only_telegrams_signed_posts(tg: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    settings = {
        "telegram_mode": "webhook",
        "public_url": f"http://127.0.0.1:{port}",
        "http_port": port,
        "telegram_webhook_secret": TELEGRAM_SECRET,
        "webhook_secret": HOOK_SECRET,
    }
    async with running_bot(tg, tmp_path, **settings):
        assert tg.webhook_url is not None and tg.webhook_url.startswith(f"http://127.0.0.1:{port}/telegram/")
        telegram_path = tg.webhook_url.split(f":{port}", 1)[1]
        assert HOOK_SECRET not in telegram_path, "backends know the hook secret: Telegram's path differs"
        assert tg.calls_of("getUpdates") == []
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a weathervane")
        await wait_for_caption(tg, ALICE_CHAT.id, "a weathervane", "Done")
        forged = {
            "update_id": 999,
            "message": {
                "message_id": 99,
                "date": 0,
                "chat": {"id": ALICE.id, "type": "private"},
                "from": {"id": ALICE.id, "is_bot": False, "first_name": "Mallory"},
                "text": "/imagine forged",
            },
        }
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            no_header = await client.post(telegram_path, json=forged)
            wrong_header = await client.post(
                telegram_path, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            wrong_path = await client.post(
                "/telegram/guess", json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
            )
        assert (no_header.status_code, wrong_header.status_code, wrong_path.status_code) == (404, 404, 404)
        assert not any("forged" in (m.caption or "") for m in tg.chat_messages(ALICE_CHAT.id))


async def test_secrets_never_reach_logs_or_the_backend(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    async with FakeMjProxy(api_secret=PROXY_SECRET) as proxy:
        settings = {
            "mj_backend": "mjproxy",
            "mj_base_url": proxy.base_url,
            "mj_api_key": PROXY_SECRET,
            "http_port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "webhook_secret": HOOK_SECRET,
        }
        async with running_bot(tg, tmp_path, **settings):
            tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lantern")
            await tg.wait_for(lambda: len(proxy.tasks) == 1)
            await proxy.succeed(next(iter(proxy.tasks)))
            await wait_for_caption(tg, ALICE_CHAT.id, "Done")
            proxy.fail_next_http(500)
            tg.user_sends(ALICE_CHAT, ALICE, "/imagine a second lantern")
            await wait_for_caption(tg, ALICE_CHAT.id, "a second lantern", "could not be reached")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await client.post("/hooks/mjproxy/wrong-secret", json={"id": "x"})
                health = await client.get("/healthz")
            tg.user_sends(ALICE_CHAT, ALICE, "/help")
            await wait_for_text(tg, ALICE_CHAT.id, "How to use me")
        token_secret = TOKEN.split(":", 1)[1]
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert logged, "the run produced log lines to check"
        for secret in (token_secret, PROXY_SECRET, HOOK_SECRET):
            assert secret not in logged
        assert all(secret not in health.text for secret in (token_secret, PROXY_SECRET, HOOK_SECRET))
        sent_to_backend = repr(proxy.submissions)
        assert token_secret not in sent_to_backend and "api.telegram.org" not in sent_to_backend
        captions = " ".join(m.caption or m.text or "" for m in tg.chat_messages(ALICE_CHAT.id))
        assert all(secret not in captions for secret in (token_secret, PROXY_SECRET, HOOK_SECRET))
