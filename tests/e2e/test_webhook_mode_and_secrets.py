"""Telegram webhook mode with its secret header, and secrets kept out of logs and backend requests."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from bot.logs import QUIET_LOGGERS, REDACTED, SecretRedaction, configured_secrets, install_redaction
from bot.miniapp import read_region_token, region_token
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    TOKEN,
    free_port,
    grid_and_upscale,
    make_settings,
    running_bot,
    wait_for_caption,
    wait_for_text,
    webhook_settings,
)
from webhook.app import TELEGRAM_SECRET_HEADER

TELEGRAM_SECRET = "telegram-header-secret-0123456789abcdef"
HOOK_SECRET = "hook-secret-for-tests-0123456789"
PROXY_SECRET = "proxy-secret"
REGION_BUTTON = "🖌️ Vary (Region)"


def derived_from_hook_secret(label: bytes) -> str:
    """What earlier versions used as Telegram's secrets and the editor-link key: anyone who saw the backend
    callback URL could compute them."""
    return hmac.new(HOOK_SECRET.encode(), label, hashlib.sha256).hexdigest()


def forged_imagine(prompt: str) -> dict[str, Any]:
    return {
        "update_id": 999,
        "message": {
            "message_id": 99,
            "date": int(time.time()),
            "chat": {"id": ALICE.id, "type": "private", "first_name": ALICE.first_name},
            "from": ALICE.to_api(),
            "text": f"/imagine {prompt}",
            "entities": [{"type": "bot_command", "offset": 0, "length": len("/imagine")}],
        },
    }


async def test_webhook_mode_takes_only_telegrams_signed_posts(tg: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    settings = webhook_settings(
        port,
        telegram_webhook_secret=TELEGRAM_SECRET,
        webhook_secret=HOOK_SECRET,
    )
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


async def test_a_backend_cannot_forge_telegram_updates_from_the_hook_secret(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    settings = webhook_settings(
        port,
        webhook_secret=HOOK_SECRET,
    )
    async with running_bot(tg, tmp_path, **settings) as runtime:
        path_secret = derived_from_hook_secret(b"telegram-path")
        header_secret = derived_from_hook_secret(b"telegram-header")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            forged = await client.post(
                f"/telegram/{path_secret}",
                json=forged_imagine("forged by a backend"),
                headers={TELEGRAM_SECRET_HEADER: header_secret},
            )
        assert forged.status_code == 404
        # A genuine update after the forged one: once it is answered, the forged one would have been too.
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a genuine lighthouse")
        await wait_for_caption(tg, ALICE_CHAT.id, "a genuine lighthouse", "Done")
        sent = repr([call.params for call in tg.calls])
        assert "forged by a backend" not in sent
        webhook = tg.calls_of("setWebhook")[-1].params
        telegram_secrets = {webhook["url"].rsplit("/", 1)[1], webhook["secret_token"]}
        independent = {*telegram_secrets, runtime.secrets.region_link, HOOK_SECRET}
        assert len(independent) == 4, "every secret is its own"
        assert not telegram_secrets & {path_secret, header_secret}


async def test_telegram_secrets_are_generated_once_and_kept(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(QUIET_LOGGERS["aiosqlite"], logger="aiosqlite")  # as `mjgram` sets it
    port = free_port()
    settings = webhook_settings(port)
    seen = []
    for _ in range(2):
        async with running_bot(tg, tmp_path, **settings) as runtime:
            webhook = tg.calls_of("setWebhook")[-1].params
            seen.append((webhook["url"], webhook["secret_token"], runtime.secrets))
    assert seen[0] == seen[1]
    url, header, secrets = seen[0]
    assert len(header) >= 32 and len(url.rsplit("/", 1)[1]) >= 32
    assert secrets.hook not in url and secrets.hook != header
    for secret in (secrets.hook, secrets.telegram_path, secrets.telegram_header, secrets.region_link):
        assert secret not in caplog.text


async def test_a_configured_telegram_secret_is_the_header_telegram_sends(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    settings = webhook_settings(
        port,
        telegram_webhook_secret=TELEGRAM_SECRET,
    )
    async with running_bot(tg, tmp_path, **settings):
        assert tg.calls_of("setWebhook")[-1].params["secret_token"] == TELEGRAM_SECRET
        tg.user_sends(ALICE_CHAT, ALICE, "/help")
        await wait_for_text(tg, ALICE_CHAT.id, "How to use me")


async def test_editor_links_signed_with_a_key_derived_from_the_hook_secret_are_refused(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    port = free_port()
    settings = {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": PROXY_SECRET,
        "http_port": port,
        # Telegram opens Mini Apps over https only; the test talks to the app directly, and the proxy's
        # callbacks to https fail, so the bot polls it.
        "public_url": f"https://127.0.0.1:{port}",
        "push_silence": 0.2,
        "webhook_secret": HOOK_SECRET,
    }
    async with running_bot(tg, tmp_path, **settings) as runtime:
        _, upscale = await grid_and_upscale(tg, proxy, "/imagine a garden with a fountain")
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text=REGION_BUTTON)
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, "Waiting for your input")
        editor_url = waiting.reply_markup["inline_keyboard"][0][0]["web_app"]["url"]  # type: ignore[index]
        genuine = editor_url.rsplit("/", 1)[1]
        assert runtime.region_links is not None
        grant = read_region_token(genuine, secret=runtime.region_links.secret, now=time.time())
        forged = region_token(
            grant.job_id,
            grant.user_id,
            secret=derived_from_hook_secret(b"region-link"),
            expires_at=int(time.time()) + 600,
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get(f"/region/{forged}")).status_code == 404
            assert (await client.get(f"/region/{genuine}")).status_code == 200


async def test_a_failed_picture_download_keeps_the_bot_token_out_of_the_logs(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    picture = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 40, 40)).save(picture, "PNG")
    # Installed as `mjgram` installs it (bot.cli), around a real run.
    uninstall = install_redaction(SecretRedaction(configured_secrets(make_settings(tg, tmp_path))))
    try:
        async with running_bot(tg, tmp_path):
            tg.fail_next_download(404)
            tg.user_sends(ALICE_CHAT, ALICE, photo=picture.getvalue(), caption="/describe")
            answer = await wait_for_text(tg, ALICE_CHAT.id, "")
    finally:
        uninstall()
    token_secret = TOKEN.split(":", 1)[1]
    assert token_secret not in caplog.text
    for record in caplog.records:
        assert token_secret not in record.getMessage()
        assert token_secret not in (record.exc_text or "")
    assert f"/file/bot{REDACTED}/" in caplog.text, "the failure was logged, redacted"
    assert answer.text == "Telegram did not hand me that picture. Please send it again."
