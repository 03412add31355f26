"""Which midjourney-proxy build answers (trueai or the original Java one), what each runs, and the probe."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Final

from bot.backends.http import HTTP_NOT_FOUND
from bot.backends.mjproxy.transport import ProxyTransport, parse_reply
from bot.domain import REMIX_ACTIONS, ActionKind, BackendError, Capabilities, Command

log = logging.getLogger(__name__)

PROBE_PATH: Final = "/mj/task/mjgram-probe/image-seed"


class Flavour(StrEnum):
    """Which midjourney-proxy build answers: trueai (plus) or the original Java build."""

    TRUEAI = "trueai"
    JAVA = "java"


def capabilities_of(flavour: Flavour, *, push: bool, max_prompt_length: int) -> Capabilities:
    """What each build runs: the Java one only imagine, change (U/V/🔄), describe and blend."""
    if flavour is Flavour.JAVA:
        return Capabilities(
            commands=frozenset({Command.IMAGINE, Command.DESCRIBE, Command.BLEND}),
            push=push,
            max_prompt_length=max_prompt_length,
            remix=frozenset({ActionKind.REROLL}),  # runs as an imagine of the edited prompt
            batch_fetch=True,
            find_task=True,  # its GET /mj/task/list answers every stored task
        )
    return Capabilities(
        commands=frozenset(Command),
        push=push,
        max_prompt_length=max_prompt_length,
        remix=REMIX_ACTIONS,
        animate=True,
        cancel=True,
        batch_fetch=True,
        find_task=True,
    )


async def is_java_build(proxy: ProxyTransport) -> bool:
    """Whether the Java build answers: trueai's 404 for an unknown task is a submit answer, the Java build
    has no such endpoint. Unreachable: False (assume trueai, learn on the way)."""
    try:
        response = await proxy.read("GET", PROBE_PATH)
    except BackendError as exc:
        log.warning("could not tell which midjourney-proxy build answers: %s", exc)
        return False
    return response.status_code == HTTP_NOT_FOUND and parse_reply(response) is None
