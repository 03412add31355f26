"""/metrics on the real HTTP app: off without METRICS_TOKEN; with it, only that bearer token reads it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.e2e.test_groups_and_limits import on_proxy
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram
from tests.harness import ALICE, ALICE_CHAT, grid_and_upscale, running_bot, wait_for_text

TOKEN = "metrics-token-for-tests-0123456789abcdef"


def sample(body: str, name: str) -> float:
    """The value of one sample line (`name` with its labels exactly as exposed)."""
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", body, re.MULTILINE)
    assert match is not None, f"{name} not in:\n{body}"
    return float(match.group(1))


async def test_metrics_answer_only_the_bearer_token(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy, metrics_token=TOKEN)) as bot:
        await grid_and_upscale(tg, proxy)
        tg.fail_next("sendMessage", retry_after=1)  # Telegram's flood control answers one call with 429
        tg.user_sends(ALICE_CHAT, ALICE, "/help")
        await wait_for_text(tg, ALICE_CHAT.id, "/imagine")
        url = f"http://127.0.0.1:{bot.http_port}/metrics"
        async with httpx.AsyncClient(trust_env=False) as client:
            refused = [
                await client.get(url),
                await client.get(
                    url, headers={"Authorization": "Bearer wrong-token-of-the-same-length-000000"}
                ),
                await client.get(url, headers={"Authorization": f"Bearer {TOKEN[:-1]}"}),  # a prefix
                await client.get(url, headers={"Authorization": f"Bearer {TOKEN}x"}),  # the token and more
                await client.get(url, headers={"Authorization": TOKEN}),  # not as a bearer token
                await client.get(url, params={"token": TOKEN}),
            ]
            answered = await client.get(url, headers={"Authorization": f"Bearer {TOKEN}"})

    assert [r.status_code for r in refused] == [401] * len(refused)
    assert all("mjgram_" not in r.text for r in refused)
    assert answered.status_code == 200
    assert answered.headers["content-type"].startswith("text/plain; version=0.0.4")
    body = answered.text
    assert sample(body, 'mjgram_jobs_total{kind="imagine",outcome="succeeded"}') == 1
    assert sample(body, 'mjgram_jobs_total{kind="upscale",outcome="succeeded"}') == 1
    assert sample(body, 'mjgram_job_duration_seconds_count{kind="imagine"}') == 1
    assert sample(body, 'mjgram_telegram_calls_total{method="sendPhoto"}') >= 2
    assert sample(body, 'mjgram_telegram_retry_after_total{method="sendMessage"}') == 1
    assert sample(body, "mjgram_delivery_queue_depth") == 0
    assert sample(body, "mjgram_credits_sold_total") == 0
    assert "# TYPE mjgram_backend_errors_total counter" in body


async def test_metrics_are_off_without_a_token(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path) as bot, httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(
            f"http://127.0.0.1:{bot.http_port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert response.status_code == 404
