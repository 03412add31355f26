"""The simulator backend: update order, buttons, images, text formats, errors and shutdown."""

from __future__ import annotations

import asyncio
import io
import re
import secrets
from collections.abc import AsyncIterator, Callable

import pytest
from PIL import Image, ImageChops, ImageSequence, ImageStat

from bot.backends.base import Backend
from bot.backends.simulator import SimulatorBackend
from bot.domain import (
    Action,
    ActionKind,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    Command,
    JobStatus,
    PromptRejected,
    Submission,
    TaskNotFound,
    TaskUpdate,
)

TILE = 64  # small tiles keep every render in these tests to milliseconds
STEPS = (0, 25, 50, 75)
WAIT_LIMIT = 5.0  # seconds; only reached when a task never finishes
MAX_BYTES = 10 * 1024 * 1024
JOB = "job-1"
TASK_ID_RE = re.compile(r"^sim-[0-9a-f]{12}$")
KEYCAP = "\ufe0f\u20e3"

GRID_BUTTONS = [
    *((ActionKind.UPSCALE, i) for i in range(1, 5)),
    (ActionKind.REROLL, 0),
    *((ActionKind.VARIATION, i) for i in range(1, 5)),
]
UPSCALE_BUTTONS = [
    ActionKind.VARY_SUBTLE,
    ActionKind.VARY_STRONG,
    ActionKind.UPSCALE_SUBTLE,
    ActionKind.UPSCALE_CREATIVE,
    ActionKind.ZOOM_OUT_2X,
    ActionKind.ZOOM_OUT_1_5X,
    ActionKind.PAN_LEFT,
    ActionKind.PAN_RIGHT,
    ActionKind.PAN_UP,
    ActionKind.PAN_DOWN,
    ActionKind.ANIMATE_HIGH,
    ActionKind.ANIMATE_LOW,
]


class Recorder:
    """An update sink a test can wait on: it keeps every update and wakes waiters on each."""

    def __init__(self) -> None:
        self.updates: list[TaskUpdate] = []
        self._changed = asyncio.Condition()

    async def __call__(self, update: TaskUpdate) -> None:
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()

    def of(self, task_id: str) -> list[TaskUpdate]:
        return [update for update in self.updates if update.task_id == task_id]

    async def final(self, task_id: str) -> TaskUpdate:
        def finished() -> bool:
            return any(update.status.is_final for update in self.of(task_id))

        async with asyncio.timeout(WAIT_LIMIT), self._changed:
            await self._changed.wait_for(finished)
        return self.of(task_id)[-1]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def backend(recorder: Recorder) -> AsyncIterator[SimulatorBackend]:
    sim = SimulatorBackend(step_seconds=0, steps=STEPS, tile_size=TILE)
    await sim.start(recorder)
    yield sim
    await sim.aclose()


async def imagined(
    backend: SimulatorBackend, recorder: Recorder, prompt: str = "a red fox at sunset"
) -> TaskUpdate:
    submission = await backend.imagine(prompt, job_id=JOB)
    return await recorder.final(submission.task_id)


async def pressed(
    backend: SimulatorBackend, recorder: Recorder, parent: TaskUpdate, kind: ActionKind, index: int = 0
) -> TaskUpdate:
    submission = await backend.act(parent.task_id, button(parent, kind, index), job_id=JOB)
    return await recorder.final(submission.task_id)


def button(update: TaskUpdate, kind: ActionKind, index: int = 0) -> Action:
    assert update.actions is not None
    matches = [
        action for action in update.actions if action.kind is kind and (index == 0 or action.index == index)
    ]
    assert matches, f"{kind} {index} not offered"
    return matches[0]


def kinds_and_indices(update: TaskUpdate) -> list[tuple[ActionKind, int]]:
    return [(action.kind, action.index) for action in update.actions or ()]


async def picture(backend: SimulatorBackend, url: str | None) -> Image.Image:
    assert url is not None
    data = await backend.download(url, max_bytes=MAX_BYTES)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image


def image_bytes(colour: tuple[int, int, int], size: tuple[int, int] = (90, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


# -- the simulator as a backend ------------------------------------------------------------------------------


def test_simulator_fulfils_the_backend_protocol_and_says_it_is_simulated() -> None:
    sim = SimulatorBackend(max_prompt_length=300)
    assert isinstance(sim, Backend)
    assert sim.name == "simulator"
    assert sim.capabilities.simulated
    assert sim.capabilities.push
    assert sim.capabilities.commands == frozenset(Command)
    assert sim.capabilities.max_prompt_length == 300


async def test_imagine_reports_ordered_progress_with_previews_then_a_grid_with_nine_buttons(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    submission = await backend.imagine("a red fox at sunset", job_id=JOB)
    assert submission == Submission(task_id=submission.task_id, status=JobStatus.QUEUED)
    assert TASK_ID_RE.match(submission.task_id)

    final = await recorder.final(submission.task_id)

    updates = recorder.of(submission.task_id)
    assert [(u.status, u.progress) for u in updates] == [
        *((JobStatus.RUNNING, step) for step in STEPS),
        (JobStatus.SUCCEEDED, 100),
    ]
    task = submission.task_id
    assert [u.preview_url for u in updates[:-1]] == [
        None,
        *(f"sim://{task}/preview-{p}.png" for p in STEPS[1:]),
    ]
    assert final.image_url == f"sim://{task}/grid.png"
    assert kinds_and_indices(final) == GRID_BUTTONS
    assert [a.label or a.emoji for a in final.actions or ()] == [
        "U1",
        "U2",
        "U3",
        "U4",
        "🔄",
        "V1",
        "V2",
        "V3",
        "V4",
    ]
    assert await backend.fetch(task) == final


async def test_fetch_tells_queued_then_latest_and_none_for_strangers(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    submission = await backend.imagine("a quiet lake", job_id=JOB)
    assert await backend.fetch(submission.task_id) == TaskUpdate(submission.task_id, JobStatus.QUEUED)
    final = await recorder.final(submission.task_id)
    assert await backend.fetch(submission.task_id) == final
    assert await backend.fetch("sim-000000000000") is None


async def test_concurrent_tasks_each_report_in_order(backend: SimulatorBackend, recorder: Recorder) -> None:
    submissions = [await backend.imagine(f"prompt number {n}", job_id=JOB) for n in range(5)]
    for submission in submissions:
        await recorder.final(submission.task_id)
        assert [u.progress for u in recorder.of(submission.task_id)] == [*STEPS, 100]


async def test_works_without_a_sink_for_polling() -> None:
    sim = SimulatorBackend(step_seconds=0, tile_size=TILE)
    try:
        submission = await sim.imagine("polled", job_id=JOB)
        runner = next(iter(sim._running))
        await runner
        latest = await sim.fetch(submission.task_id)
        assert latest is not None and latest.status is JobStatus.SUCCEEDED
    finally:
        await sim.aclose()


async def test_a_failing_sink_does_not_stop_later_updates(recorder: Recorder) -> None:
    async def flaky(update: TaskUpdate) -> None:
        await recorder(update)
        if update.status is JobStatus.RUNNING:
            raise RuntimeError("delivery broke")

    sim = SimulatorBackend(step_seconds=0, tile_size=TILE)
    await sim.start(flaky)
    try:
        submission = await sim.imagine("resilient", job_id=JOB)
        final = await recorder.final(submission.task_id)
        assert final.status is JobStatus.SUCCEEDED
    finally:
        await sim.aclose()


@pytest.mark.parametrize("prompt", ["", "   ", "--ar 2:3", "x" * 31])
async def test_empty_or_too_long_prompts_are_rejected(prompt: str) -> None:
    sim = SimulatorBackend(step_seconds=0, tile_size=TILE, max_prompt_length=30)
    with pytest.raises(PromptRejected):
        await sim.imagine(prompt, job_id=JOB)
    assert not sim._running


# -- images --------------------------------------------------------------------------------------------------


async def test_grid_and_previews_download_as_pngs_twice_the_tile(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    final = await imagined(backend, recorder)
    grid = await picture(backend, final.image_url)
    assert grid.size == (2 * TILE, 2 * TILE)
    for update in recorder.of(final.task_id):
        if update.preview_url:
            assert (await picture(backend, update.preview_url)).size == grid.size


@pytest.mark.parametrize(
    ("prompt", "ratio"),
    [
        ("wide city --ar 16:9", 16 / 9),
        ("tall tower --ar 2:3", 2 / 3),
        ("ribbon --ar 10:1", 3.0),
        ("plain", 1.0),
    ],
)
async def test_aspect_ratio_parameter_shapes_the_grid(
    backend: SimulatorBackend, recorder: Recorder, prompt: str, ratio: float
) -> None:
    grid = await picture(backend, (await imagined(backend, recorder, prompt)).image_url)
    assert max(grid.size) == 2 * TILE
    assert grid.width / grid.height == pytest.approx(ratio, rel=0.06)


async def test_renders_are_deterministic_for_a_prompt_and_task_id(monkeypatch: pytest.MonkeyPatch) -> None:
    async def render(task_hex: str) -> tuple[bytes, bytes]:
        monkeypatch.setattr(secrets, "token_hex", lambda _: task_hex)
        recorder = Recorder()
        sim = SimulatorBackend(step_seconds=0, tile_size=TILE)
        await sim.start(recorder)
        try:
            final = await imagined(sim, recorder, "same prompt")
            assert final.image_url is not None
            grid = await sim.download(final.image_url, max_bytes=MAX_BYTES)
            preview = await sim.download(final.image_url.replace("grid", "preview-50"), max_bytes=MAX_BYTES)
            return grid, preview
        finally:
            await sim.aclose()

    first, again, other = await render("a1" * 6), await render("a1" * 6), await render("b2" * 6)
    assert first == again
    assert first[0] != other[0]


async def test_download_refuses_unknown_or_unpublished_images(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    final = await imagined(backend, recorder)
    task = final.task_id
    # Unknown tasks, private addresses, other schemes and the size cap: test_contract.py.
    for url in (f"sim://{task}/upscale.png", f"sim://{task}/preview-60.png", "https://example.com/grid.png",
                f"sim://{task}/../grid.png"):  # fmt: skip
        with pytest.raises(BackendUnavailable):
            await backend.download(url, max_bytes=MAX_BYTES)


# -- buttons -------------------------------------------------------------------------------------------------


def closest_tile(grid: Image.Image, single: Image.Image) -> int:
    """Which grid tile (1–4) the single image looks most like."""
    width, height = grid.width // 2, grid.height // 2
    small = single.convert("RGB").resize((width, height))

    def distance(index: int) -> float:
        left, top = (index % 2) * width, (index // 2) * height
        tile = grid.convert("RGB").crop((left, top, left + width, top + height))
        return sum(ImageStat.Stat(ImageChops.difference(tile, small)).mean)

    return min(range(4), key=distance) + 1


async def test_upscale_makes_tile_two_bigger_with_the_upscale_buttons(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    grid_update = await imagined(backend, recorder)
    upscale = await pressed(backend, recorder, grid_update, ActionKind.UPSCALE, 2)

    assert [(u.status, u.progress) for u in recorder.of(upscale.task_id)] == [
        (JobStatus.RUNNING, 0),
        (JobStatus.SUCCEEDED, 100),
    ]
    assert upscale.image_url == f"sim://{upscale.task_id}/upscale.png"
    assert [a.kind for a in upscale.actions or ()] == UPSCALE_BUTTONS
    single = await picture(backend, upscale.image_url)
    grid = await picture(backend, grid_update.image_url)
    assert single.size == (2 * TILE, 2 * TILE)
    assert closest_tile(grid, single) == 2


async def test_hd_upscale_of_an_upscale_is_a_single_image_again(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    upscale = await pressed(backend, recorder, await imagined(backend, recorder), ActionKind.UPSCALE, 1)
    for kind in (ActionKind.UPSCALE_SUBTLE, ActionKind.UPSCALE_CREATIVE):
        hd = await pressed(backend, recorder, upscale, kind)
        assert [a.kind for a in hd.actions or ()] == UPSCALE_BUTTONS
        assert (await picture(backend, hd.image_url)).size == (4 * TILE, 4 * TILE)


def frame_spread(gif: bytes) -> float:
    """How much a GIF's frames differ from its first: the mean pixel difference, over all frames."""
    with Image.open(io.BytesIO(gif)) as image:
        assert image.format == "GIF" and image.info.get("loop") == 0
        frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
    assert len(frames) > 1
    return sum(sum(ImageStat.Stat(ImageChops.difference(frames[0], f)).mean) for f in frames[1:])


async def test_animate_turns_an_upscale_into_a_looping_gif(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    upscale = await pressed(backend, recorder, await imagined(backend, recorder), ActionKind.UPSCALE, 4)
    assert backend.capabilities.animate
    spreads = {}
    for kind in (ActionKind.ANIMATE_LOW, ActionKind.ANIMATE_HIGH):
        video = await pressed(backend, recorder, upscale, kind)
        assert (video.status, video.image_url, video.actions) == (JobStatus.SUCCEEDED, None, ())
        assert video.video_url is not None and video.video_url.endswith(".gif")
        gif = await backend.download(video.video_url, max_bytes=MAX_BYTES)
        spreads[kind] = frame_spread(gif)
        with pytest.raises(BackendUnavailable):
            await backend.download(video.video_url.removesuffix(".gif") + ".png", max_bytes=MAX_BYTES)
    assert 0 < spreads[ActionKind.ANIMATE_LOW] < spreads[ActionKind.ANIMATE_HIGH]


@pytest.mark.parametrize(
    ("kind", "ratio"),
    [
        (ActionKind.VARY_SUBTLE, 1.0),
        (ActionKind.VARY_STRONG, 1.0),
        (ActionKind.ZOOM_OUT_2X, 1.0),
        (ActionKind.ZOOM_OUT_1_5X, 1.0),
        (ActionKind.PAN_LEFT, 1.5),
        (ActionKind.PAN_RIGHT, 1.5),
        (ActionKind.PAN_UP, 1 / 1.5),
        (ActionKind.PAN_DOWN, 1 / 1.5),
    ],
)
async def test_upscale_buttons_make_new_grids(
    backend: SimulatorBackend, recorder: Recorder, kind: ActionKind, ratio: float
) -> None:
    upscale = await pressed(backend, recorder, await imagined(backend, recorder), ActionKind.UPSCALE, 3)
    result = await pressed(backend, recorder, upscale, kind)
    assert kinds_and_indices(result) == GRID_BUTTONS
    grid = await picture(backend, result.image_url)
    assert grid.width / grid.height == pytest.approx(ratio, rel=0.05)


@pytest.mark.parametrize(("kind", "index"), [(ActionKind.REROLL, 0), (ActionKind.VARIATION, 3)])
async def test_grid_buttons_make_different_grids(
    backend: SimulatorBackend, recorder: Recorder, kind: ActionKind, index: int
) -> None:
    first = await imagined(backend, recorder)
    second = await pressed(backend, recorder, first, kind, index)
    assert kinds_and_indices(second) == GRID_BUTTONS
    before, after = await picture(backend, first.image_url), await picture(backend, second.image_url)
    assert before.size == after.size
    assert before.tobytes() != after.tobytes()


async def test_remixed_reroll_is_drawn_for_the_edited_prompt(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    first = await imagined(backend, recorder, "a red fox at sunset")
    submission = await backend.remix(
        first.task_id, button(first, ActionKind.REROLL), "a red fox at sunset --ar 16:9", job_id=JOB
    )
    remixed = await recorder.final(submission.task_id)
    assert kinds_and_indices(remixed) == GRID_BUTTONS
    grid = await picture(backend, remixed.image_url)
    assert grid.width / grid.height == pytest.approx(16 / 9, rel=0.05)


@pytest.mark.parametrize(("kind", "index"), [(ActionKind.VARIATION, 2), (ActionKind.PAN_LEFT, 0)])
async def test_remixed_variations_and_pans_make_grids(
    backend: SimulatorBackend, recorder: Recorder, kind: ActionKind, index: int
) -> None:
    parent = await imagined(backend, recorder)
    if kind is ActionKind.PAN_LEFT:
        parent = await pressed(backend, recorder, parent, ActionKind.UPSCALE, 1)
    submission = await backend.remix(parent.task_id, button(parent, kind, index), "a blue fox", job_id=JOB)
    assert kinds_and_indices(await recorder.final(submission.task_id)) == GRID_BUTTONS


async def test_remix_refuses_buttons_that_take_no_prompt_and_empty_prompts(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    grid = await imagined(backend, recorder)
    assert ActionKind.UPSCALE not in backend.capabilities.remix
    with pytest.raises(BackendRefused):
        await backend.remix(grid.task_id, button(grid, ActionKind.UPSCALE, 1), "a fox", job_id=JOB)
    with pytest.raises(PromptRejected):
        await backend.remix(grid.task_id, button(grid, ActionKind.REROLL), "--ar 1:1", job_id=JOB)


async def test_action_on_an_unknown_task_is_not_found(backend: SimulatorBackend) -> None:
    u1 = Action(ActionKind.UPSCALE, "sim:upscale:1", 1, "U1")
    with pytest.raises(TaskNotFound):
        await backend.act("sim-000000000000", u1, job_id=JOB)


async def test_actions_not_offered_or_on_unfinished_tasks_are_refused(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    running = await backend.imagine("not yet", job_id=JOB)
    u1 = Action(ActionKind.UPSCALE, "sim:upscale:1", 1, "U1")
    with pytest.raises(BackendRefused):
        await backend.act(running.task_id, u1, job_id=JOB)

    grid = await imagined(backend, recorder)
    for stranger in (
        Action(ActionKind.VARY_SUBTLE, "sim:vary_subtle:1", 1),
        Action(ActionKind.UPSCALE, "sim:upscale:5", 5, "U5"),
        Action(ActionKind.VARIATION, "sim:upscale:1", 1, "V1"),
    ):
        with pytest.raises(BackendRefused):
            await backend.act(grid.task_id, stranger, job_id=JOB)


# -- describe, blend, shorten, seed --------------------------------------------------------------------------


DESCRIBE_RE = re.compile(rf"^1{KEYCAP} (.+)\n\n2{KEYCAP} (.+)\n\n3{KEYCAP} (.+)\n\n4{KEYCAP} (.+)$")


async def test_describe_offers_four_prompts_from_the_pictures_colours_and_shape(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    submission = await backend.describe(image_bytes((30, 60, 200), (300, 200)), "image/png", job_id=JOB)
    final = await recorder.final(submission.task_id)

    assert final.text is not None
    match = DESCRIBE_RE.match(final.text)
    assert match, final.text
    assert all(prompt.endswith("--ar 3:2") for prompt in match.groups())
    assert "blue" in final.text
    assert kinds_and_indices(final) == [
        *((ActionKind.PROMPT_PICK, i) for i in range(1, 5)),
        (ActionKind.DESCRIBE_AGAIN, 0),
        (ActionKind.IMAGINE_ALL, 0),
    ]
    assert (await picture(backend, final.image_url)).size == (300, 200)


async def test_describe_refuses_bytes_that_are_no_image(backend: SimulatorBackend) -> None:
    with pytest.raises(BackendRefused):
        await backend.describe(b"definitely not a picture", "image/png", job_id=JOB)


async def test_describe_buttons_start_imagines_and_describe_again(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    submission = await backend.describe(image_bytes((200, 120, 40)), "image/png", job_id=JOB)
    described = await recorder.final(submission.task_id)

    picked = await pressed(backend, recorder, described, ActionKind.PROMPT_PICK, 2)
    assert kinds_and_indices(picked) == GRID_BUTTONS

    everything = await backend.act(described.task_id, button(described, ActionKind.IMAGINE_ALL), job_id=JOB)
    assert len({everything.task_id, *everything.extra_task_ids}) == 4
    for task_id in (everything.task_id, *everything.extra_task_ids):
        assert (await recorder.final(task_id)).status is JobStatus.SUCCEEDED

    again = await pressed(backend, recorder, described, ActionKind.DESCRIBE_AGAIN)
    assert again.text is not None and DESCRIBE_RE.match(again.text)


@pytest.mark.parametrize(
    ("dimensions", "ratio"),
    [(BlendDimensions.PORTRAIT, 2 / 3), (BlendDimensions.SQUARE, 1.0), (BlendDimensions.LANDSCAPE, 3 / 2)],
)
async def test_blend_makes_a_grid_of_the_chosen_shape(
    backend: SimulatorBackend, recorder: Recorder, dimensions: BlendDimensions, ratio: float
) -> None:
    images = [(image_bytes((220, 30, 30)), "image/png"), (image_bytes((30, 40, 220)), "image/png")]
    submission = await backend.blend(images, dimensions, job_id=JOB)
    final = await recorder.final(submission.task_id)
    assert kinds_and_indices(final) == GRID_BUTTONS
    grid = await picture(backend, final.image_url)
    assert grid.width / grid.height == pytest.approx(ratio, rel=0.05)


async def test_blend_mixes_the_colours_of_its_images(backend: SimulatorBackend, recorder: Recorder) -> None:
    images = [(image_bytes((220, 30, 30)), "image/png"), (image_bytes((30, 40, 220)), "image/png")]
    final = await recorder.final((await backend.blend(images, BlendDimensions.SQUARE, job_id=JOB)).task_id)
    data = (await picture(backend, final.image_url)).convert("RGB").tobytes()
    pixels = list(zip(data[0::3], data[1::3], data[2::3], strict=True))
    reddish = sum(r > b + 40 and r > g + 40 for r, g, b in pixels)
    bluish = sum(b > r + 40 and b > g + 40 for r, g, b in pixels)
    greenish = sum(g > r + 40 and g > b + 40 for r, g, b in pixels)
    assert reddish > len(pixels) // 50
    assert bluish > len(pixels) // 50
    assert greenish < len(pixels) // 100


@pytest.mark.parametrize("count", [1, 6])
async def test_blend_takes_two_to_five_images(backend: SimulatorBackend, count: int) -> None:
    with pytest.raises(BackendRefused):
        await backend.blend(
            [(image_bytes((9, 9, 9)), "image/png")] * count, BlendDimensions.SQUARE, job_id=JOB
        )


SHORTEN_PROMPT = (
    "appdash appdash, in the style of expert draftsmanship, commission for, ethereal, dreamlike quality, "
    "dadaistic, toonami --ar 3:2"
)
SHORTEN_RE = re.compile(
    rf"^## Important tokens\n(.+)\n## Shortened prompts\n"
    rf"1{KEYCAP} (.+)\n\n2{KEYCAP} (.+)\n\n3{KEYCAP} (.+)\n\n4{KEYCAP} (.+)\n\n5{KEYCAP} (.+)$",
    re.DOTALL,
)


async def test_shorten_keeps_the_heavy_words_in_ever_shorter_prompts(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    final = await recorder.final((await backend.shorten(SHORTEN_PROMPT, job_id=JOB)).task_id)

    assert final.text is not None and final.image_url is None
    match = SHORTEN_RE.match(final.text)
    assert match, final.text
    tokens, *prompts = match.groups()
    assert "**appdash**" in tokens and "~~dreamlike~~" in tokens
    assert "--ar" not in final.text
    lengths = [len(prompt.split()) for prompt in prompts]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] > lengths[-1]
    assert all(prompt.startswith("appdash") for prompt in prompts)
    assert not any({"the", "of", "in"} & set(prompt.replace(",", " ").split()) for prompt in prompts)
    assert kinds_and_indices(final) == [
        *((ActionKind.PROMPT_PICK, i) for i in range(1, 6)),
        (ActionKind.SHOW_DETAILS, 0),
    ]

    details = await pressed(backend, recorder, final, ActionKind.SHOW_DETAILS)
    assert details.text is not None and SHORTEN_RE.match(details.text)
    assert "(1.00)" in details.text and "█" in details.text
    assert ActionKind.SHOW_DETAILS not in {action.kind for action in details.actions or ()}


async def test_image_seed_is_a_stable_number_for_finished_images_only(
    backend: SimulatorBackend, recorder: Recorder
) -> None:
    grid = await imagined(backend, recorder)
    seed = await backend.image_seed(grid.task_id)
    assert seed.isdigit() and seed == await backend.image_seed(grid.task_id)

    shortened = await recorder.final((await backend.shorten("a cat", job_id=JOB)).task_id)
    running = await backend.imagine("still running", job_id=JOB)
    for task_id in ("sim-000000000000", shortened.task_id, running.task_id):
        with pytest.raises(TaskNotFound):
            await backend.image_seed(task_id)


async def test_submit_modal_needs_a_known_task(backend: SimulatorBackend, recorder: Recorder) -> None:
    with pytest.raises(TaskNotFound):
        await backend.submit_modal("sim-000000000000", "a fox", job_id=JOB)
    grid = await imagined(backend, recorder)
    follow_up = await backend.submit_modal(grid.task_id, "a fox, remixed", job_id=JOB)
    assert (await recorder.final(follow_up.task_id)).status is JobStatus.SUCCEEDED


# -- shutdown ------------------------------------------------------------------------------------------------


async def test_aclose_cancels_running_tasks_quietly(
    recorder: Recorder, recwarn: pytest.WarningsRecorder
) -> None:
    sim = SimulatorBackend(step_seconds=3600, tile_size=TILE)
    await sim.start(recorder)
    submissions = [await sim.imagine(f"slow {n}", job_id=JOB) for n in range(3)]
    await asyncio.sleep(0)  # let the runners reach their first wait

    await sim.aclose()

    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []
    assert recorder.updates == []
    for submission in submissions:
        assert (await sim.fetch(submission.task_id)) == TaskUpdate(submission.task_id, JobStatus.QUEUED)
    with pytest.raises(BackendUnavailable):
        await sim.imagine("after shutdown", job_id=JOB)
    assert len(recwarn) == 0


def test_constructor_refuses_nonsense_settings() -> None:
    bad: list[Callable[[], SimulatorBackend]] = [
        lambda: SimulatorBackend(step_seconds=-1),
        lambda: SimulatorBackend(steps=(50, 25)),
        lambda: SimulatorBackend(steps=(0, 100)),
        lambda: SimulatorBackend(tile_size=4),
    ]
    for make in bad:
        with pytest.raises(ValueError):
            make()
