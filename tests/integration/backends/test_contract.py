"""What every backend adapter does the same way: refuse malformed or forged callbacks, download safely.

Each HTTP adapter runs against its fake service on 127.0.0.1 (with the bot side standing in for a CDN);
the simulator runs in-process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest

from bot.backends.acedata import AceDataBackend
from bot.backends.base import Backend
from bot.backends.imagineapi import ImagineApiBackend
from bot.backends.mjproxy import MjProxyBackend
from bot.backends.simulator import SimulatorBackend
from bot.domain import BackendRefused, BackendUnavailable, ImageTooLarge, InvalidCallback, JobStatus
from tests.fakes import acedata, imagineapi, mjproxy
from tests.fakes.bot_side import BotSide, RecordingSink, serving_bot_side, statuses_until_final
from tests.fakes.loopback import FakeRequest

HOOK_PATH = "/hooks/contract/s3cret"
PROMPT = "a lighthouse at dusk, oil painting"
JOB_ID = "job-contract"
LARGE = 10 * 1024 * 1024
TOO_SMALL = 512  # bytes; every adapter's pictures are larger

# A report each backend pushes; every other backend must take it for a forgery.
REPORTS = {
    "mjproxy": b'{"id": "1763772345123456", "status": "SUCCESS", "progress": "100%"}',
    "imagineapi": b'{"event": "images.items.update", "payload": {"id": "41b7ac2b", "status": "completed"}}',
    "acedata": b'{"task_id": "1bae3bec", "success": true, "progress": 100}',
}
MALFORMED = [b"not json", b"\xff\xfe\x00", b"[]", b'"SUCCESS"', b"null", b"{}"]
PRIVATE_OR_LOCAL = [
    "http://10.1.2.3/a.png",
    "http://192.168.0.10/a.png",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/a.png",
    "http://localhost/a.png",
]
NOT_HTTP = ["ftp://example.invalid/x.png", "file:///etc/passwd", "javascript:alert(1)"]
ADAPTERS = [
    "mjproxy",
    "mjproxy-java",
    "imagineapi",
    "imagineapi-cloud",
    "acedata",
    "acedata-async",
    "simulator",
]
HTTP_ADAPTERS = ["mjproxy", "mjproxy-java", "imagineapi", "imagineapi-cloud", "acedata", "acedata-async"]


@dataclass
class Kit:
    """One adapter under test, with what the contract needs to know about its backend."""

    name: str
    backend: Backend
    finish: Callable[[str], Awaitable[None]]  # run a submitted task to success on the backend
    missing_image_url: str  # a picture the backend's own host does not have
    credential: tuple[str, str] | None = None  # the header that authenticates the bot, lower-case
    requests: list[FakeRequest] | None = None  # what the fake service saw
    cdn: BotSide | None = None  # a host other than the backend's, serving a picture

    async def finished_image_url(self) -> str:
        submission = await self.backend.imagine(PROMPT, job_id=JOB_ID)
        await self.finish(submission.task_id)
        done = await self.backend.fetch(submission.task_id)
        assert done is not None and done.status is JobStatus.SUCCEEDED and done.image_url is not None
        return done.image_url


async def _mjproxy(
    stack: AsyncExitStack, client: httpx.AsyncClient, cdn: BotSide, flavour: mjproxy.Flavour = mjproxy.TRUEAI
) -> Kit:
    """trueai's build, or the original Java one: the same wire for tasks and hooks, fewer endpoints
    (detected at start, as the bot does)."""
    fake = await stack.enter_async_context(mjproxy.FakeMjProxy(flavour=flavour))
    backend = MjProxyBackend(client, fake.base_url, api_key=mjproxy.DEFAULT_SECRET, notify_url=None)
    if flavour == mjproxy.JAVA:
        await backend.detect_flavour()
    return Kit(
        "mjproxy",
        backend,
        fake.run_to_success,
        fake.base_url + "/attachments/1/missing.png",
        ("mj-api-secret", mjproxy.DEFAULT_SECRET),
        fake.requests,
        cdn,
    )


async def _mjproxy_java(stack: AsyncExitStack, client: httpx.AsyncClient, cdn: BotSide) -> Kit:
    return await _mjproxy(stack, client, cdn, mjproxy.JAVA)


async def _imagineapi(
    stack: AsyncExitStack,
    client: httpx.AsyncClient,
    cdn: BotSide,
    flavour: imagineapi.Flavour = "self-hosted",
) -> Kit:
    # Self-hosted: files named under the server's PUBLIC_URL (another origin), readable with the token only.
    fake = await stack.enter_async_context(imagineapi.FakeImagineApi(flavour=flavour))
    backend = ImagineApiBackend(client, fake.base_url, api_key=imagineapi.DEFAULT_TOKEN, push=False)
    image_id = "41b7ac2b-8a51-481b-a19c-74626a93cacc"
    return Kit(
        "imagineapi",
        backend,
        fake.run_to_completion,
        f"{fake.base_url}/assets/{image_id}/{image_id}.png",
        ("authorization", f"Bearer {imagineapi.DEFAULT_TOKEN}"),
        fake.requests,
        cdn,
    )


async def _acedata(stack: AsyncExitStack, client: httpx.AsyncClient, cdn: BotSide) -> Kit:
    fake = await stack.enter_async_context(acedata.FakeAceData())
    backend = AceDataBackend(
        client, fake.base_url, api_key=acedata.DEFAULT_TOKEN, callback_url=cdn.url + HOOK_PATH
    )
    return Kit(
        "acedata",
        backend,
        fake.run_to_completion,
        fake.base_url + "/attachments/1/2/missing.png",
        ("authorization", f"Bearer {acedata.DEFAULT_TOKEN}"),
        fake.requests,
        cdn,
    )


async def _acedata_async(stack: AsyncExitStack, client: httpx.AsyncClient, cdn: BotSide) -> Kit:
    """Without a PUBLIC_URL: v6/v7 model, jobs submitted `async` and polled (no callback, no stream)."""
    fake = await stack.enter_async_context(acedata.FakeAceData(model="v6"))
    backend = AceDataBackend(client, fake.base_url, api_key=acedata.DEFAULT_TOKEN, callback_url=None)
    return Kit(
        "acedata",
        backend,
        fake.run_to_completion,
        fake.base_url + "/attachments/1/2/missing.png",
        ("authorization", f"Bearer {acedata.DEFAULT_TOKEN}"),
        fake.requests,
        cdn,
    )


async def _simulator(stack: AsyncExitStack, client: httpx.AsyncClient, cdn: BotSide) -> Kit:
    backend = SimulatorBackend(step_seconds=0, tile_size=64)

    async def finish(task_id: str) -> None:
        assert (await statuses_until_final(backend, task_id))[-1] is JobStatus.SUCCEEDED

    return Kit("simulator", backend, finish, "sim://sim-000000000000/grid.png")


async def _imagineapi_cloud(stack: AsyncExitStack, client: httpx.AsyncClient, cdn: BotSide) -> Kit:
    return await _imagineapi(stack, client, cdn, "cloud")


KITS = {
    "mjproxy": _mjproxy,
    "mjproxy-java": _mjproxy_java,
    "imagineapi": _imagineapi,
    "imagineapi-cloud": _imagineapi_cloud,
    "acedata": _acedata,
    "acedata-async": _acedata_async,
    "simulator": _simulator,
}


@pytest.fixture(params=ADAPTERS)
async def kit(request: pytest.FixtureRequest, client: httpx.AsyncClient) -> AsyncIterator[Kit]:
    async with AsyncExitStack() as stack:
        cdn = await stack.enter_async_context(serving_bot_side(HOOK_PATH))
        made = await KITS[request.param](stack, client, cdn)
        await made.backend.start(RecordingSink())
        stack.push_async_callback(made.backend.aclose)
        yield made


# --- callbacks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_callbacks_raise(kit: Kit, body: bytes) -> None:
    with pytest.raises(InvalidCallback):
        kit.backend.parse_callback(body, {"content-type": "application/json"})


@pytest.mark.parametrize("provider", list(REPORTS))
def test_another_backends_report_is_a_forgery_and_its_own_is_read(kit: Kit, provider: str) -> None:
    if provider == kit.name:
        [update] = kit.backend.parse_callback(REPORTS[provider], {"content-type": "application/json"})
        assert update.task_id
        return
    with pytest.raises(InvalidCallback):
        kit.backend.parse_callback(REPORTS[provider], {"content-type": "application/json"})


# --- downloads ----------------------------------------------------------------------------------------------


async def test_a_finished_picture_downloads_and_is_capped(kit: Kit) -> None:
    url = await kit.finished_image_url()
    assert len(await kit.backend.download(url, max_bytes=LARGE)) > TOO_SMALL
    with pytest.raises(ImageTooLarge):
        await kit.backend.download(url, max_bytes=TOO_SMALL)


async def test_a_picture_the_backend_does_not_have_is_unavailable(kit: Kit) -> None:
    with pytest.raises(BackendUnavailable):
        await kit.backend.download(kit.missing_image_url, max_bytes=LARGE)


@pytest.mark.parametrize("url", PRIVATE_OR_LOCAL + NOT_HTTP)
async def test_private_addresses_and_other_schemes_are_refused(kit: Kit, url: str) -> None:
    seen = len(kit.requests) if kit.requests is not None else 0
    with pytest.raises(BackendUnavailable) as refused:
        await kit.backend.download(url, max_bytes=LARGE)
    assert not isinstance(refused.value, ImageTooLarge)
    assert (len(kit.requests) if kit.requests is not None else 0) == seen


@pytest.mark.parametrize("kit", HTTP_ADAPTERS, indirect=True)
async def test_credentials_go_to_the_backend_only(kit: Kit) -> None:
    assert kit.credential is not None and kit.requests is not None and kit.cdn is not None
    header, value = kit.credential
    url = await kit.finished_image_url()
    await kit.backend.download(url, max_bytes=LARGE)
    assert {key.lower(): v for key, v in kit.requests[-1].headers.items()}.get(header) == value

    foreign = await kit.backend.download(kit.cdn.url + "/cdn/picture.png", max_bytes=LARGE)
    assert foreign == kit.cdn.image
    assert header not in {key.lower() for key in kit.cdn.image_request_headers[-1]}


# --- batch polling ------------------------------------------------------------------------------------------


async def test_a_batch_fetch_reports_what_single_fetches_do(kit: Kit) -> None:
    """Where an adapter declares batch_fetch, one call answers for many tasks and leaves out unknown ones."""
    if not kit.backend.capabilities.batch_fetch:
        with pytest.raises(BackendRefused):  # undeclared, it declines: the poller then fetches one by one
            await kit.backend.fetch_many(["1763772345000999"])
        return
    first = await kit.backend.imagine(PROMPT, job_id=JOB_ID)
    second = await kit.backend.imagine(PROMPT + ", at dawn", job_id=JOB_ID)
    await kit.finish(first.task_id)
    seen = len(kit.requests) if kit.requests is not None else 0
    updates = await kit.backend.fetch_many([first.task_id, second.task_id, "1763772345000999"])
    assert set(updates) == {first.task_id, second.task_id}
    assert updates[first.task_id] == await kit.backend.fetch(first.task_id)
    assert updates[second.task_id] == await kit.backend.fetch(second.task_id)
    if kit.requests is not None:
        assert len(kit.requests) - seen == 1 + 2, "one call for the batch, then the two single fetches"
