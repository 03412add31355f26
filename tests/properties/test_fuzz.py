"""Property tests of the pure rules at the edges: prompts, callback tokens, webhook payloads, the job fold."""

from __future__ import annotations

import asyncio
import json
import string
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.backends.acedata import AceDataBackend
from bot.backends.base import Backend
from bot.backends.imagineapi import ImagineApiBackend
from bot.backends.mjproxy import MjProxyBackend
from bot.delivery.keyboards import CALLBACK_PREFIX, callback_data, parse_callback_data
from bot.domain import Action, ActionKind, FailureKind, InvalidCallback, Job, JobKind, JobStatus, TaskUpdate
from bot.domain.errors import DomainError
from bot.preferences import (
    ASPECT_RATIOS,
    LANGUAGES,
    MAX_DAILY_POOL,
    MAX_OPTION_PARAMS_LENGTH,
    MAX_SUFFIX_LENGTH,
    OPTION_NAME,
    SPEED_MODES,
    STYLIZE_RANGE,
    VERSIONS,
    Preferences,
    effective_prompt,
    is_option_name,
)
from bot.prompts import (
    checked_prompt,
    normalize_prompt,
    numbered_prompts,
    with_zoom,
    zoom_is_valid,
)
from bot.storage.buttons import new_token

# Deterministic and database-less: CI sees the same examples on every run.
FUZZ = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FEW = settings(FUZZ, max_examples=60)

TELEGRAM_CALLBACK_DATA_BYTES = 64
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
COLLAPSED_SPACES = frozenset(" \t\u00a0\n")
HOOK_URL = "https://bot.example.com/hooks/x/secret"


# --- prompts ------------------------------------------------------------------------------------------------

MJ_WORDS = (
    "--ar", "16:9", "--v", "6.1", "--niji", "--s", "250", "--style", "raw", "--fast", "--relax", "--no",
    "--zoom", "1.5", "—ar", "–v", "--cine", "--moody", "https://cdn.example.com/a.png", "<https://x.io/b.jpg>",
    "1️⃣", "2\u20e3", "::", "--", "—", "a", "cat", "👨\u200d👩\u200d👧",
)  # fmt: skip
prompt_words = st.one_of(st.sampled_from(MJ_WORDS), st.text(max_size=8))
separators = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", "\x00", "\u202e", "\r\n", ""])
prompt_like = st.lists(st.tuples(prompt_words, separators), max_size=12).map(
    lambda parts: "".join(word + sep for word, sep in parts)
)
prompts = st.one_of(st.text(max_size=80), prompt_like)


def is_forbidden_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS


def longest_run(text: str, members: Callable[[str], bool]) -> int:
    best = current = 0
    for ch in text:
        current = current + 1 if members(ch) else 0
        best = max(best, current)
    return best


@FUZZ
@given(prompts)
def test_normalize_prompt_is_idempotent_and_clean(text: str) -> None:
    once = normalize_prompt(text)
    assert normalize_prompt(once) == once
    assert not any(is_forbidden_control(ch) for ch in once), repr(once)
    assert longest_run(once, COLLAPSED_SPACES.__contains__) <= 1, repr(once)
    assert once == once.strip()


@FEW
@given(prompts)
@example("a\u2028--ar 16:9")
@example("a\u3000\u3000cat")
def test_normalize_prompt_leaves_no_line_breaks_or_unicode_space_runs(text: str) -> None:
    once = normalize_prompt(text)
    assert len(once.splitlines()) <= 1, repr(once)
    assert longest_run(once, str.isspace) <= 1, repr(once)


@FUZZ
@given(st.none() | prompts, st.integers(min_value=1, max_value=60))
def test_checked_prompt_returns_a_prompt_within_the_limit_or_a_domain_error(
    text: str | None, limit: int
) -> None:
    try:
        prompt = checked_prompt(text, limit=limit)
    except DomainError:
        return
    assert 0 < len(prompt) <= limit
    assert prompt == normalize_prompt(text or "")


keycap_lines = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=12),
        st.sampled_from(["\ufe0f\u20e3", "\u20e3", "", "."]),
        st.text(max_size=20),
    ),
    max_size=6,
).map(lambda lines: "\n".join(f"{n}{cap} {body}" for n, cap, body in lines))


@FUZZ
@given(st.none() | st.text() | keycap_lines)
def test_numbered_prompts_never_raises_and_keys_are_keycap_digits(text: str | None) -> None:
    found = numbered_prompts(text)
    assert all(1 <= number <= 9 for number in found)
    assert all(isinstance(line, str) and line for line in found.values())


@FEW
@given(st.none() | keycap_lines)
@example("1\ufe0f\u20e3 ")
def test_numbered_prompts_are_never_blank(text: str | None) -> None:
    assert all(line.strip() == line != "" for line in numbered_prompts(text).values())


@FUZZ
@given(prompts, st.sampled_from(["1", "1.25", "1.5", "2", "2.0"]))
def test_custom_zoom_offer_is_always_a_valid_zoom(text: str, zoom: str) -> None:
    offered = with_zoom(normalize_prompt(text), zoom)
    assert zoom_is_valid(offered), repr(offered)
    assert zoom_is_valid(text) in (True, False)


# --- preferences --------------------------------------------------------------------------------------------

OPTION_SET_NAMES = ("cine", "moody", "x", "ar2", "a-b_c")
option_names = st.sampled_from(OPTION_SET_NAMES) | st.from_regex(OPTION_NAME, fullmatch=True).filter(
    is_option_name
)
option_params = st.one_of(prompt_like, st.text(max_size=40)).filter(
    lambda params: 0 < len(params) <= MAX_OPTION_PARAMS_LENGTH
)
preferences = st.builds(
    Preferences,
    version=st.none() | st.sampled_from(VERSIONS),
    aspect=st.none() | st.sampled_from(ASPECT_RATIOS),
    stylize=st.none() | st.integers(*STYLIZE_RANGE),
    raw=st.booleans(),
    speed=st.none() | st.sampled_from(SPEED_MODES),
    remix=st.booleans(),
    language=st.none() | st.sampled_from(LANGUAGES),
    suffix=st.one_of(prompt_like, st.text(max_size=30)).filter(lambda s: len(s) <= MAX_SUFFIX_LENGTH),
    option_sets=st.dictionaries(option_names, option_params, max_size=3),
    buttons_open=st.booleans(),
    daily_pool=st.none() | st.integers(1, MAX_DAILY_POOL),
)
set_references = st.lists(st.sampled_from([f"--{name}" for name in OPTION_SET_NAMES]), max_size=3)
prompts_with_sets = st.tuples(prompts, set_references).map(lambda p: " ".join([p[0], *p[1]]))


@FUZZ
@given(prompts_with_sets, preferences, st.none() | preferences)
def test_effective_prompt_is_idempotent(text: str, user: Preferences, chat: Preferences | None) -> None:
    once = effective_prompt(text, user, chat)
    assert effective_prompt(once, user, chat) == once
    assert once == normalize_prompt(once)


# --- callback tokens ----------------------------------------------------------------------------------------

TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"
callback_strings = st.one_of(
    st.text(),
    st.text().map(lambda rest: CALLBACK_PREFIX + rest),
    st.text(TOKEN_ALPHABET, max_size=40).map(lambda rest: CALLBACK_PREFIX + rest),
    st.sampled_from(["", "a1:", "a1", "s1:1:u:sw", "d1:x:go", "a2:abc", CALLBACK_PREFIX + "ab c"]),
)


@FUZZ
@given(st.none() | callback_strings)
def test_parse_callback_data_returns_a_round_tripping_token_or_none(data: str | None) -> None:
    token = parse_callback_data(data)
    if token is None:
        return
    assert token and data == callback_data(token)
    assert parse_callback_data(callback_data(token)) == token


@FUZZ
@given(st.text(TOKEN_ALPHABET, min_size=1, max_size=32).filter(lambda token: token.strip("-_")))
def test_ascii_tokens_are_accepted_and_fit_telegram(token: str) -> None:
    assert parse_callback_data(callback_data(token)) == token
    assert len(callback_data(token).encode()) <= TELEGRAM_CALLBACK_DATA_BYTES


def test_issued_tokens_are_accepted_and_fit_telegram() -> None:
    for token in (new_token() for _ in range(200)):
        assert parse_callback_data(callback_data(token)) == token
        assert len(callback_data(token).encode()) <= TELEGRAM_CALLBACK_DATA_BYTES


@FEW
@given(callback_strings)
@example(CALLBACK_PREFIX + "中" * 32)
def test_accepted_callback_data_fits_telegram(data: str) -> None:
    token = parse_callback_data(data)
    if token is not None:
        assert len(callback_data(token).encode()) <= TELEGRAM_CALLBACK_DATA_BYTES


# --- webhook payloads ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adapters() -> Iterator[dict[str, Backend]]:
    """The three HTTP adapters; parse_callback is pure, so the client is never used."""
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(599)))
    yield {
        "mjproxy": MjProxyBackend(client, "http://proxy.internal:8080", api_key="k", notify_url=HOOK_URL),
        "imagineapi": ImagineApiBackend(client, "https://cl.imagineapi.dev", api_key="k", push=True),
        "acedata": AceDataBackend(client, "https://api.acedata.cloud", api_key="k", callback_url=HOOK_URL),
    }
    asyncio.run(client.aclose())


finite_floats = st.floats(
    allow_nan=False, allow_infinity=False
)  # JSON has no NaN; see the literal test below
json_scalars = st.none() | st.booleans() | st.integers() | finite_floats | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
odd_values = st.one_of(
    json_scalars,
    st.lists(json_scalars, max_size=3),
    st.dictionaries(st.text(max_size=5), json_scalars, max_size=2),
)
odd_progress_text = st.one_of(
    st.sampled_from(["46%", "0%", "100%", "", " 7 % ", "150%", "-5%", "abc", "١٠٠%", "50.5%", "1e3", "%"]),
    st.text(string.digits + ".%-+e ", max_size=8),
    st.text(max_size=6),
)
odd_progress = st.one_of(odd_progress_text, st.integers(), finite_floats, st.none(), st.booleans())
ids = st.text(min_size=1, max_size=24) | st.integers()
urls = st.sampled_from(["https://cdn.example.com/p.png", "/attachments/1.png", "", "data:,x", "ftp://x/y"])


def strictly(
    valid: dict[str, st.SearchStrategy[Any]], required: tuple[str, ...]
) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with every required field and only well-typed values."""
    return st.fixed_dictionaries(
        {key: valid[key] for key in required},
        optional={key: strategy for key, strategy in valid.items() if key not in required},
    )


PROXY_BUTTON = {
    "customId": st.sampled_from(
        ["MJ::JOB::upsample::1::abc", "MJ::JOB::reroll::0::abc::SOLO", "MJ::Inpaint::1"]
    )
    | st.text(max_size=30),
    "label": st.text(max_size=5),
    "emoji": st.text(max_size=3),
}
PROXY_TASK = {
    "id": st.text(min_size=1, max_size=24),
    "status": st.sampled_from(
        ["NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS", "SUCCESS", "FAILURE", "CANCEL"]
    ),
    "action": st.sampled_from(["IMAGINE", "UPSCALE", "DESCRIBE", "SHORTEN"]),
    "prompt": st.text(max_size=20),
    "progress": odd_progress_text,
    "imageUrl": urls,
    "failReason": st.text(max_size=20),
    "properties": st.fixed_dictionaries(
        {}, optional={"finalPrompt": st.text(max_size=20), "numberOfQueues": st.integers(0, 99)}
    ),
    "buttons": st.lists(strictly(PROXY_BUTTON, ()), max_size=4),
}
IMAGINE_IMAGE = {
    "id": st.text(min_size=1, max_size=24),
    "status": st.sampled_from(["pending", "in-progress", "completed", "failed"]),
    "prompt": st.text(max_size=20),
    "progress": st.none() | st.floats(min_value=-1e6, max_value=1e6),
    "url": urls,
    "error": st.text(max_size=20),
    "upscaled_urls": st.none() | st.lists(urls, max_size=5),
}
ACE_RESULT = {
    "success": st.booleans(),
    "task_id": st.text(min_size=1, max_size=24),
    "image_id": st.text(max_size=12),
    "image_url": urls,
    "raw_image_url": urls,
    "progress": st.none() | st.floats(min_value=-1e6, max_value=1e6),
    "actions": st.lists(
        st.sampled_from(["upscale1", "variation4", "reroll", "zoom_out_2x", "?"]), max_size=4
    ),
    "descriptions": st.lists(st.text(max_size=20), max_size=4),
    "error": st.none()
    | st.fixed_dictionaries({"code": st.text(max_size=10), "message": st.text(max_size=20)}),
}
VALID: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "mjproxy": strictly(PROXY_TASK, ("id", "status")),
    "imagineapi": st.fixed_dictionaries(
        {
            "event": st.sampled_from(["images.items.create", "images.items.update"]),
            "payload": strictly(IMAGINE_IMAGE, ("id", "status")),
        }
    ),
    "acedata": strictly(ACE_RESULT, ("success", "task_id")),
}
odd_statuses = st.sampled_from(["success", "", "UNKNOWN", "DONE", "in_progress", "Completed"]) | st.text(
    max_size=6
)
ODD_FIELDS: dict[str, st.SearchStrategy[Any]] = {"progress": odd_progress, "status": odd_statuses, "id": ids}


def mutate(draw: st.DrawFn, obj: dict[str, Any], fields: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """The object with up to three fields dropped, retyped or given odd values."""
    obj = dict(obj)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        key = draw(st.sampled_from(sorted(fields)))
        match draw(st.sampled_from(["drop", "odd", "wrong type"])):
            case "drop":
                obj.pop(key, None)
            case "odd":
                obj[key] = draw(ODD_FIELDS.get(key, fields[key]))
            case _:
                obj[key] = draw(odd_values)
    return obj


@st.composite
def near_valid(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A valid payload of backend `name` with a few fields missing, of the wrong type or odd."""
    payload = draw(VALID[name])
    if name != "imagineapi":
        return mutate(draw, payload, PROXY_TASK if name == "mjproxy" else ACE_RESULT)
    envelope = {"event": payload["event"], "payload": mutate(draw, payload["payload"], IMAGINE_IMAGE)}
    return draw(st.just(envelope) | st.builds(lambda odd: {**envelope, "event": odd}, odd_statuses))


BACKENDS = sorted(VALID)


def encode(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False).encode()


def parse_or_refuse(backend: Backend, body: bytes) -> list[TaskUpdate] | None:
    """The updates of a callback body, or None when the adapter refused it as InvalidCallback."""
    try:
        updates = backend.parse_callback(body, {"content-type": "application/json"})
    except InvalidCallback:
        return None
    assert isinstance(updates, list)
    for update in updates:
        assert isinstance(update, TaskUpdate) and isinstance(update.status, JobStatus)
        assert update.task_id
        assert update.progress is None or 0 <= update.progress <= 100, update
    return updates


@FUZZ
@pytest.mark.parametrize("name", BACKENDS)
@given(body=st.binary(max_size=300))
def test_callback_bytes_parse_or_are_refused(adapters: dict[str, Backend], name: str, body: bytes) -> None:
    parse_or_refuse(adapters[name], body)


@FUZZ
@pytest.mark.parametrize("name", BACKENDS)
@given(value=json_values)
def test_callback_json_values_parse_or_are_refused(
    adapters: dict[str, Backend], name: str, value: Any
) -> None:
    parse_or_refuse(adapters[name], encode(value))


@FUZZ
@pytest.mark.parametrize("name", BACKENDS)
@given(data=st.data())
def test_near_valid_callbacks_parse_or_are_refused(
    adapters: dict[str, Backend], name: str, data: st.DataObject
) -> None:
    parse_or_refuse(adapters[name], encode(data.draw(near_valid(name))))


@FUZZ
@pytest.mark.parametrize("name", BACKENDS)
@given(data=st.data())
def test_valid_callbacks_give_one_update_with_sane_progress(
    adapters: dict[str, Backend], name: str, data: st.DataObject
) -> None:
    updates = parse_or_refuse(adapters[name], encode(data.draw(VALID[name])))
    assert updates is not None and len(updates) == 1


NON_FINITE_PROGRESS = {
    "imagineapi": '{"event":"images.items.update","payload":{"id":"i","status":"in-progress","progress":%s}}',
    "acedata": '{"task_id":"t1","success":true,"progress":%s}',
    "mjproxy": '{"id":"t1","status":"IN_PROGRESS","progress":%s}',
}
NON_FINITE = ("1e400", "-1e400", "NaN", "Infinity", '"inf"', '"nan"')


@pytest.mark.parametrize("literal", NON_FINITE)
@pytest.mark.parametrize("name", BACKENDS)
def test_non_finite_progress_is_refused_or_ignored(
    adapters: dict[str, Backend], name: str, literal: str
) -> None:
    parse_or_refuse(adapters[name], (NON_FINITE_PROGRESS[name] % literal).encode())


# --- the job fold -------------------------------------------------------------------------------------------

actions = st.builds(
    Action, kind=st.sampled_from(ActionKind), ref=st.text(min_size=1, max_size=6), index=st.integers(0, 4)
)
task_updates = st.builds(
    TaskUpdate,
    task_id=st.just("t1"),
    status=st.sampled_from(JobStatus),
    progress=st.none() | st.integers(0, 100),
    preview_url=st.none() | st.sampled_from(["p1", "p2", ""]),
    image_url=st.none() | st.sampled_from(["i1", "i2", ""]),
    actions=st.none() | st.lists(actions, max_size=3).map(tuple),
    text=st.none() | st.sampled_from(["", "1️⃣ a cat"]),
    fail_reason=st.none() | st.text(max_size=5),
    failure=st.none() | st.sampled_from(FailureKind),
    queue_position=st.none() | st.integers(0, 9),
)
start_jobs = st.builds(
    Job,
    id=st.just("j1"),
    kind=st.sampled_from(JobKind),
    prompt=st.just("a cat"),
    chat_id=st.just(1),
    user_id=st.just(2),
    user_name=st.just("Ann"),
    backend=st.just("x"),
    status=st.sampled_from(JobStatus),
    task_id=st.just("t1"),
    progress=st.integers(0, 100),
    version=st.integers(0, 5),
)


def without_stamps(job: Job) -> Job:
    return replace(job, version=0, updated_at=0.0)


@FUZZ
@given(start_jobs, st.lists(task_updates, max_size=12))
def test_job_apply_never_moves_backwards_and_versions_every_change(
    start: Job, updates: list[TaskUpdate]
) -> None:
    job = start
    for now, update in enumerate(updates, start=1):
        after = job.apply(update, float(now))
        assert after.status.rank >= job.status.rank
        assert after.progress >= job.progress
        if job.status.is_final:
            assert after == job
        changed = without_stamps(after) != without_stamps(job)
        assert after.version == job.version + (1 if changed else 0)
        if not changed:
            assert after == job
        job = after
