"""Tests of the fake Telegram Bot API server, driven by the real aiogram Bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from io import BytesIO
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAnimation,
    InputMediaPhoto,
    InputMediaVideo,
    MediaUnion,
    Message,
    WebAppInfo,
)
from aiohttp import web
from PIL import Image

from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser, FloodLimits, LoopbackSession
from tests.fakes.videos import tiny_gif, tiny_mp4
from tests.integration.conftest import TOKEN

ALICE = FakeUser(id=1001, first_name="Alice", username="alice")
BOB = FakeUser(id=1002, first_name="Bob")
ALICE_CHAT = FakeChat(id=ALICE.id, type="private")
GROUP = FakeChat(id=-100200300, type="supergroup", title="Makers")
FORUM = FakeChat(id=-100400500, type="supergroup", title="Studio", is_forum=True)
SECRET = "s3cret-token_1"


def png(width: int = 640, height: int = 480) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


def bot_for(fake: FakeTelegram, token: str = TOKEN) -> Bot:
    return Bot(token, session=LoopbackSession(fake.base_url))


async def test_the_documented_stock_session_reaches_the_fake(fake: FakeTelegram) -> None:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()

    assert me.username == fake.bot_user.username


@asynccontextmanager
async def loopback_server(routes: list[web.RouteDef]) -> AsyncIterator[str]:
    """A tiny aiohttp server of the test itself on 127.0.0.1; yields its base URL."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
def alice_wrote(fake: FakeTelegram) -> None:
    """Alice has opened the private chat, so the bot may write there."""
    fake.user_sends(ALICE_CHAT, ALICE, "hi")


# --------------------------------------------------------------------------- basics
async def test_get_me_describes_the_configured_bot(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (123456, "mjgram_test_bot", True)


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    stranger = bot_for(fake, token="999:WRONG-token")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    finally:
        await stranger.session.close()

    assert fake.calls[-1].error == "Unauthorized"


async def test_unknown_method_is_404_and_json_bodies_are_accepted(fake: FakeTelegram) -> None:
    fake.register_chat(ALICE_CHAT, ALICE)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}/bot{TOKEN}/sendTelepathy", json={}) as response:
            unknown = (response.status, await response.json())
        async with http.post(
            f"{fake.base_url}/bot{TOKEN}/sendmessage", json={"chat_id": ALICE.id, "text": "by json"}
        ) as response:
            sent = await response.json()

    assert unknown == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert sent["ok"] and sent["result"]["text"] == "by json"
    assert fake.calls[-1].method == "sendMessage"


async def test_sending_to_a_chat_nobody_wrote_from_is_chat_not_found(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hello?")
    fake.user_sends(GROUP, BOB, "hi all")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(BOB.id, "psst")


# --------------------------------------------------------------------------- text and HTML
@pytest.mark.usefixtures("alice_wrote")
async def test_html_is_stored_as_plain_text_with_the_source_kept(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ALICE.id, "<b>Done</b> &amp; <i>ready</i> 1 &lt; 2", parse_mode="HTML")

    stored = fake.message(ALICE.id, sent.message_id)
    assert stored.text == sent.text == "Done & ready 1 < 2"
    assert stored.raw_text == "<b>Done</b> &amp; <i>ready</i> 1 &lt; 2"
    assert [(entity.type, entity.offset, entity.length) for entity in sent.entities or []] == [
        ("bold", 0, 4),
        ("italic", 7, 5),
    ]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
@pytest.mark.usefixtures("alice_wrote")
async def test_bad_html_cannot_be_parsed(bot: Bot, html: str, reason: str) -> None:
    with pytest.raises(TelegramBadRequest) as raised:
        await bot.send_message(ALICE.id, html, parse_mode="HTML")

    assert raised.value.message == f"Bad Request: can't parse entities: {reason}"


@pytest.mark.usefixtures("alice_wrote")
async def test_text_limits(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE.id, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ALICE.id, "<b> </b>", parse_mode="HTML")

    at_limit = await bot.send_message(ALICE.id, f"<b>{'x' * 4096}</b>", parse_mode="HTML")
    assert len(at_limit.text or "") == 4096


@pytest.mark.usefixtures("alice_wrote")
async def test_caption_over_1024_characters_is_rejected(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ALICE.id, BufferedInputFile(png(), "p.png"), caption="c" * 1025)

    tags_do_not_count = f"<i>{'c' * 1024}</i>"
    sent = await bot.send_photo(
        ALICE.id, BufferedInputFile(png(), "p.png"), caption=tags_do_not_count, parse_mode="HTML"
    )
    assert sent.caption == "c" * 1024


# --------------------------------------------------------------------------- files
@pytest.mark.usefixtures("alice_wrote")
async def test_uploaded_photo_round_trips_through_get_file_and_download(fake: FakeTelegram, bot: Bot) -> None:
    image = png(640, 480)

    sent = await bot.send_photo(ALICE.id, BufferedInputFile(image, "grid.png"), caption="grid")

    assert sent.photo is not None
    thumbnail, full = sent.photo
    assert (full.width, full.height, full.file_size) == (640, 480, len(image))
    assert max(thumbnail.width, thumbnail.height) == 90
    assert fake.file_bytes(full.file_id) == image
    file = await bot.get_file(full.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == image
    upload = fake.calls_of("sendPhoto")[-1].upload("photo")
    assert upload is not None and upload.data == image


@pytest.mark.usefixtures("alice_wrote")
async def test_photo_by_url_is_fetched_from_loopback_only(fake: FakeTelegram, bot: Bot) -> None:
    image = png(320, 200)

    async def serve_image(request: web.Request) -> web.Response:
        return web.Response(body=image, content_type="image/png")

    async with loopback_server([web.get("/preview.png", serve_image)]) as base:
        sent = await bot.send_photo(ALICE.id, f"{base}/preview.png")
        with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
            await bot.send_photo(ALICE.id, f"{base}/missing.png")
    with pytest.raises(TelegramBadRequest, match="failed to get HTTP URL content"):
        await bot.send_photo(ALICE.id, "https://cdn.example.com/preview.png")

    assert sent.photo is not None
    assert fake.file_bytes(sent.photo[-1].file_id) == image
    resent = await bot.send_photo(ALICE.id, sent.photo[-1].file_id)
    assert resent.photo == sent.photo


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"definitely not an image", "IMAGE_PROCESS_FAILED"),
        (png(2100, 100), "PHOTO_INVALID_DIMENSIONS"),
        (png(9600, 481), "PHOTO_INVALID_DIMENSIONS"),
    ],
)
@pytest.mark.usefixtures("alice_wrote")
async def test_unusable_photos_are_rejected(bot: Bot, content: bytes, error: str) -> None:
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.send_photo(ALICE.id, BufferedInputFile(content, "p.png"))


@pytest.mark.usefixtures("alice_wrote")
async def test_document_upload_keeps_name_type_and_bytes(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_document(ALICE.id, BufferedInputFile(b"%PDF-1.4 fake", "report.pdf"))

    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("report.pdf", "application/pdf")
    assert fake.file_bytes(sent.document.file_id) == b"%PDF-1.4 fake"
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_photo(ALICE.id, sent.document.file_id)


@pytest.mark.usefixtures("alice_wrote")
async def test_media_group_shares_one_group_id(fake: FakeTelegram, bot: Bot) -> None:
    album: list[MediaUnion] = [
        InputMediaPhoto(media=BufferedInputFile(png(100 + i, 100), f"{i}.png")) for i in range(4)
    ]

    sent = await bot.send_media_group(ALICE.id, album)

    assert len({message.media_group_id for message in sent}) == 1
    assert [m.message_id for m in fake.chat_messages(ALICE.id)] == [m.message_id for m in sent]


@pytest.mark.usefixtures("alice_wrote")
async def test_video_upload_keeps_its_bytes_and_its_file_id_can_be_sent_again(
    fake: FakeTelegram, bot: Bot
) -> None:
    clip = tiny_mp4()

    sent = await bot.send_video(
        ALICE.id, BufferedInputFile(clip, "clip.mp4"), caption="<b>done</b>", parse_mode="HTML"
    )
    again = await bot.send_video(ALICE.id, sent.video.file_id if sent.video else "")

    assert sent.video is not None and sent.document is None and sent.caption == "done"
    assert (sent.video.mime_type, sent.video.file_size) == ("video/mp4", len(clip))
    assert fake.file_bytes(sent.video.file_id) == clip
    assert again.video == sent.video
    assert fake.calls_of("sendVideo")[0].upload("video") is not None
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_photo(ALICE.id, sent.video.file_id)
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_animation(ALICE.id, sent.video.file_id)


@pytest.mark.usefixtures("alice_wrote")
async def test_a_video_telegram_cannot_play_arrives_as_a_document(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_video(ALICE.id, BufferedInputFile(b"RIFF....AVI LIST", "clip.avi"))

    assert sent.video is None and sent.document is not None
    assert sent.document.file_name == "clip.avi"


@pytest.mark.usefixtures("alice_wrote")
async def test_a_gif_animation_becomes_a_silent_mp4_with_a_document_alongside(
    fake: FakeTelegram, bot: Bot
) -> None:
    gif = tiny_gif(size=(48, 32), frames=4, frame_ms=250)

    sent = await bot.send_animation(ALICE.id, BufferedInputFile(gif, "loop.gif"))

    assert sent.animation is not None
    assert (sent.animation.width, sent.animation.height, sent.animation.duration) == (48, 32, 1)
    assert (sent.animation.mime_type, sent.animation.file_name) == ("video/mp4", "loop.gif.mp4")
    assert sent.document is not None and sent.document.file_id == sent.animation.file_id
    assert fake.file_bytes(sent.animation.file_id) == gif
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_video(ALICE.id, sent.animation.file_id)


@pytest.mark.usefixtures("alice_wrote")
async def test_edit_media_turns_a_photo_into_a_video_then_an_animation(fake: FakeTelegram, bot: Bot) -> None:
    photo = await bot.send_photo(ALICE.id, BufferedInputFile(png(), "card.png"), caption="queued")
    clip = InputMediaVideo(
        media=BufferedInputFile(tiny_mp4(), "clip.mp4"), caption="done", width=640, height=480
    )

    edited = await bot.edit_message_media(clip, chat_id=ALICE.id, message_id=photo.message_id)

    assert isinstance(edited, Message) and edited.video is not None and edited.photo is None
    assert (edited.video.width, edited.video.height, edited.caption) == (640, 480, "done")
    stored = fake.message(ALICE.id, photo.message_id)
    assert stored.video == edited.video.model_dump(exclude_none=True) and stored.photo is None
    same = InputMediaVideo(media=edited.video.file_id, caption="done")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_media(same, chat_id=ALICE.id, message_id=photo.message_id)
    loop = InputMediaAnimation(media=BufferedInputFile(tiny_gif(), "loop.gif"), caption="done")
    animated = await bot.edit_message_media(loop, chat_id=ALICE.id, message_id=photo.message_id)
    assert isinstance(animated, Message) and animated.animation is not None and animated.video is None
    assert fake.message(ALICE.id, photo.message_id).animation is not None


@pytest.mark.usefixtures("alice_wrote")
async def test_an_album_cannot_hold_an_animation(fake: FakeTelegram, bot: Bot) -> None:
    photo = await bot.send_photo(ALICE.id, BufferedInputFile(png(), "a.png"))
    animation = await bot.send_animation(ALICE.id, BufferedInputFile(tiny_gif(), "b.gif"))
    assert photo.photo is not None and animation.animation is not None
    media = [
        {"type": "photo", "media": photo.photo[-1].file_id},
        {"type": "animation", "media": animation.animation.file_id},
    ]
    # aiogram has no album type for animations, so the request is made by hand.
    async with aiohttp.ClientSession() as http:
        url = f"{fake.base_url}/bot{TOKEN}/sendMediaGroup"
        async with http.post(url, json={"chat_id": ALICE.id, "media": media}) as response:
            answer = (response.status, await response.json())

    assert answer[0] == 400 and "animations can't be sent in an album" in answer[1]["description"]


# --------------------------------------------------------------------------- keyboards
@pytest.mark.parametrize(
    ("button", "error"),
    [
        (InlineKeyboardButton(text="big", callback_data="x" * 65), "BUTTON_DATA_INVALID"),
        (InlineKeyboardButton(text="utf8", callback_data="é" * 33), "BUTTON_DATA_INVALID"),
        (InlineKeyboardButton(text="bare"), "Text buttons are unallowed in the inline keyboard"),
        (InlineKeyboardButton(text="ftp", url="ftp://example.com/x"), "BUTTON_URL_INVALID"),
        (
            InlineKeyboardButton(text="app", web_app=WebAppInfo(url="https://example.com")),
            "BUTTON_TYPE_INVALID",
        ),
    ],
)
async def test_invalid_inline_buttons_are_rejected_in_a_group(
    fake: FakeTelegram, bot: Bot, button: InlineKeyboardButton, error: str
) -> None:
    fake.user_sends(GROUP, ALICE, "hello")

    with pytest.raises(TelegramBadRequest, match=error):
        await bot.send_message(GROUP.id, "pick", reply_markup=keyboard(button))


@pytest.mark.usefixtures("alice_wrote")
async def test_64_byte_callback_data_and_private_web_apps_are_fine(fake: FakeTelegram, bot: Bot) -> None:
    markup = keyboard(
        InlineKeyboardButton(text="max", callback_data="x" * 64),
        InlineKeyboardButton(text="app", web_app=WebAppInfo(url="https://example.com/app")),
    )

    sent = await bot.send_message(ALICE.id, "pick", reply_markup=markup)

    assert fake.message(ALICE.id, sent.message_id).buttons() == [
        [("max", "x" * 64), ("app", "web_app:https://example.com/app")]
    ]


# --------------------------------------------------------------------------- editing and deleting
@pytest.mark.usefixtures("alice_wrote")
async def test_editing_a_caption_to_the_same_text_is_not_modified(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_photo(ALICE.id, BufferedInputFile(png(), "p.png"), caption="queued")
    await bot.edit_message_caption(chat_id=ALICE.id, message_id=sent.message_id, caption="rendering 40%")

    with pytest.raises(TelegramBadRequest, match="message is not modified") as raised:
        await bot.edit_message_caption(chat_id=ALICE.id, message_id=sent.message_id, caption="rendering 40%")

    assert "exactly the same as a current content" in raised.value.message
    stored = fake.message(ALICE.id, sent.message_id)
    assert (stored.caption, stored.edits, stored.history[0]["caption"]) == ("rendering 40%", 1, "queued")


@pytest.mark.usefixtures("alice_wrote")
async def test_editing_text_without_markup_drops_the_keyboard(fake: FakeTelegram, bot: Bot) -> None:
    markup = keyboard(InlineKeyboardButton(text="Upscale", callback_data="u1"))
    sent = await bot.send_message(ALICE.id, "ready", reply_markup=markup)

    await bot.edit_message_text("ready", chat_id=ALICE.id, message_id=sent.message_id)

    assert fake.message(ALICE.id, sent.message_id).buttons() == []
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=ALICE.id, message_id=sent.message_id)


async def test_edit_and_delete_errors_match_telegram(fake: FakeTelegram, bot: Bot) -> None:
    users_message = fake.user_sends(ALICE_CHAT, ALICE, "hi")
    text = await bot.send_message(ALICE.id, "text")
    photo = await bot.send_photo(ALICE.id, BufferedInputFile(png(), "p.png"))

    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=ALICE.id, message_id=text.message_id, caption="c")
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("t", chat_id=ALICE.id, message_id=photo.message_id)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("t", chat_id=ALICE.id, message_id=users_message.message_id)
    fake.delete_message_by_user(ALICE.id, text.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("t", chat_id=ALICE.id, message_id=text.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE.id, text.message_id)
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ALICE.id, "re", reply_to_message_id=999)

    assert [m.message_id for m in fake.chat_messages(ALICE.id)] == [photo.message_id]


@pytest.mark.usefixtures("alice_wrote")
async def test_edit_media_replaces_a_text_message_with_a_photo(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ALICE.id, "rendering…")
    media = InputMediaPhoto(media=BufferedInputFile(png(), "final.png"), caption="done")

    edited = await bot.edit_message_media(media, chat_id=ALICE.id, message_id=sent.message_id)

    assert isinstance(edited, Message) and edited.photo and edited.caption == "done"
    assert fake.message(ALICE.id, sent.message_id).text is None


# --------------------------------------------------------------------------- updates and callbacks
async def test_long_poll_returns_a_command_and_then_a_button_press(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for(fake.polls_in_flight)
    fake.user_sends(ALICE_CHAT, ALICE, "/imagine a red fox")
    (first,) = await asyncio.wait_for(poll, timeout=5)

    assert first.message is not None and first.message.text == "/imagine a red fox"
    assert [(e.type, e.offset, e.length) for e in first.message.entities or []] == [("bot_command", 0, 8)]

    sent = await bot.send_message(
        ALICE.id, "grid", reply_markup=keyboard(InlineKeyboardButton(text="U1", callback_data="up:1"))
    )
    query_id = fake.press_button(ALICE.id, sent.message_id, ALICE, text="U1")
    (second,) = await bot.get_updates(offset=first.update_id + 1, timeout=30)

    assert second.callback_query is not None
    assert (second.callback_query.id, second.callback_query.data) == (query_id, "up:1")
    assert fake.updates_pending() == 1


async def test_a_callback_query_can_be_answered_once(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends(ALICE_CHAT, ALICE, "hi")
    sent = await bot.send_message(
        ALICE.id, "grid", reply_markup=keyboard(InlineKeyboardButton(text="V2", callback_data="v:2"))
    )
    query_id = fake.press_button(ALICE.id, sent.message_id, ALICE, data="v:2")

    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="Queued")
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_callback_query(query_id)

    assert fake.callback_answers[query_id]["text"] == "Queued"


async def test_pressing_a_button_that_is_not_there_fails_loudly(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends(ALICE_CHAT, ALICE, "hi")
    sent = await bot.send_message(ALICE.id, "plain")

    with pytest.raises(AssertionError, match="no button"):
        fake.press_button(ALICE.id, sent.message_id, ALICE, text="U1")


async def test_forum_topics_keep_their_thread(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends(FORUM, BOB, "/imagine owl", thread_id=7)
    update = (await bot.get_updates())[0]

    sent = await bot.send_message(FORUM.id, "on it", message_thread_id=7)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(FORUM.id, "lost", message_thread_id=99)
    fake.user_sends(GROUP, BOB, "hi")
    ignored = await bot.send_message(GROUP.id, "no topics here", message_thread_id=99)

    assert update.message is not None and update.message.is_topic_message
    assert (sent.message_thread_id, fake.message(FORUM.id, sent.message_id).message_thread_id) == (7, 7)
    assert ignored.message_thread_id is None


async def test_a_real_dispatcher_answers_a_command(fake: FakeTelegram, bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def greet(message: Message) -> None:
        await message.answer("Welcome!")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        fake.user_sends(ALICE_CHAT, ALICE, "/start")
        (reply,) = await fake.wait_for(lambda: fake.chat_messages(ALICE.id))
    finally:
        await dispatcher.stop_polling()
        await polling

    assert reply.text == "Welcome!"


# --------------------------------------------------------------------------- faults and limits
@pytest.mark.usefixtures("alice_wrote")
async def test_injected_429_surfaces_as_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", retry_after=7)

    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(ALICE.id, "first")
    second = await bot.send_message(ALICE.id, "second")

    assert raised.value.retry_after == 7
    failed, succeeded = fake.calls_of("sendMessage")
    assert (failed.ok, failed.error) == (False, "Too Many Requests: retry after 7")
    assert succeeded.ok and second.text == "second"


@pytest.mark.usefixtures("alice_wrote")
async def test_blocked_user_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.block_user(ALICE.id)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE.id, "anyone there?")


class ManualClock:
    """A monotonic clock the test advances by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def flood_limited(
    limits: FloodLimits, clock: Callable[[], float]
) -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with FakeTelegram(TOKEN, flood=limits, clock=clock) as server:
        client = bot_for(server)
        try:
            yield server, client
        finally:
            await client.session.close()


async def test_private_chat_flood_limit_answers_429_until_the_window_passes() -> None:
    clock = ManualClock()
    async with flood_limited(FloodLimits(per_chat_per_second=1, retry_after=3), clock) as (fake, bot):
        fake.user_sends(ALICE_CHAT, ALICE, "hi")
        one = await bot.send_message(
            ALICE.id, "one", reply_markup=keyboard(InlineKeyboardButton(text="V1", callback_data="v:1"))
        )
        with pytest.raises(TelegramRetryAfter) as raised:
            await bot.send_message(ALICE.id, "two")
        not_counted = await bot.answer_callback_query(
            fake.press_button(ALICE.id, one.message_id, ALICE, text="V1")
        )
        clock.now += 1.0
        await bot.send_message(ALICE.id, "three")

    assert raised.value.retry_after == 3
    assert not_counted and fake.flood_hits == 1
    assert [m.text for m in fake.chat_messages(ALICE.id)] == ["one", "three"]


async def test_group_flood_limit_counts_per_minute() -> None:
    clock = ManualClock()
    limits = FloodLimits(per_chat_per_second=100, per_group_per_minute=2)
    async with flood_limited(limits, clock) as (fake, bot):
        fake.user_sends(GROUP, ALICE, "hi")
        for text in ("one", "two"):
            await bot.send_message(GROUP.id, text)
            clock.now += 1.0
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(GROUP.id, "three")
        clock.now += 60.0
        await bot.send_message(GROUP.id, "four")

    assert fake.flood_hits == 1


# --------------------------------------------------------------------------- waiting
async def test_wait_for_times_out_with_a_report_when_nothing_happens(fake: FakeTelegram) -> None:
    with pytest.raises(TimeoutError, match=r"condition not met within 0\.2s"):
        await fake.wait_for(lambda: fake.calls_of("sendMessage"), timeout=0.2)


@pytest.mark.usefixtures("alice_wrote")
async def test_wait_for_returns_once_the_condition_holds(fake: FakeTelegram, bot: Bot) -> None:
    waiting = asyncio.create_task(fake.wait_for(lambda: fake.calls_of("sendMessage"), timeout=5))
    await bot.send_message(ALICE.id, "hello")

    (call,) = await waiting

    assert call.params["text"] == "hello"


# --------------------------------------------------------------------------- webhook
async def test_webhook_mode_posts_updates_with_the_secret_header(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def receive(request: web.Request) -> web.Response:
        update = await request.json()
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), update))
        reply = {"method": "sendMessage", "chat_id": ALICE.id, "text": "pong"}  # answering inside the webhook
        return web.json_response(reply)

    async with loopback_server([web.post("/telegram", receive)]) as base:
        await bot.set_webhook(f"{base}/telegram", secret_token=SECRET)
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        fake.user_sends(ALICE_CHAT, ALICE, "/ping")
        await fake.wait_for(lambda: fake.calls_of("sendMessage"))

    ((secret, update),) = received
    assert secret == SECRET
    assert update["message"]["text"] == "/ping"
    assert [m.text for m in fake.chat_messages(ALICE.id)] == ["pong"]
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_webhook_refuses_hosts_other_than_loopback(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="bad webhook"):
        await bot.set_webhook("https://bot.example.com/telegram")


async def test_a_failing_webhook_is_retried_until_it_accepts(fake: FakeTelegram, bot: Bot) -> None:
    statuses = [500, 200]
    delivered: list[int] = []

    async def flaky(request: web.Request) -> web.Response:
        delivered.append((await request.json())["update_id"])
        return web.Response(status=statuses[len(delivered) - 1])

    async with loopback_server([web.post("/hook", flaky)]) as base:
        await bot.set_webhook(f"{base}/hook")
        fake.user_sends(ALICE_CHAT, ALICE, "hello")
        await fake.wait_for(lambda: len(delivered) == 2 and fake.updates_pending() == 0)
        info = await bot.get_webhook_info()

    assert delivered[0] == delivered[1]
    assert info.last_error_message == "Wrong response from the webhook: 500"
    await bot.delete_webhook()
    assert await bot.get_updates() == []


async def test_a_newer_long_poll_terminates_the_older_one(fake: FakeTelegram, bot: Bot) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for(fake.polls_in_flight)

    newer = await bot.get_updates(timeout=0)

    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await older
    assert newer == []


# --------------------------------------------------------------------------- user media, commands, members
async def test_a_users_photo_can_be_downloaded_by_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    image = png(1024, 768)
    fake.user_sends(ALICE_CHAT, ALICE, photo=image, caption="/describe this")

    (update,) = await bot.get_updates()

    message = update.message
    assert message is not None and message.photo is not None and message.caption == "/describe this"
    assert [e.type for e in message.caption_entities or []] == ["bot_command"]
    downloaded = await bot.download(message.photo[-1].file_id)
    assert downloaded is not None and downloaded.read() == image


async def test_commands_round_trip_per_scope_and_invalid_ones_are_refused(
    fake: FakeTelegram, bot: Bot
) -> None:
    await bot.set_my_commands([BotCommand(command="imagine", description="Draw a prompt")])

    assert [c.command for c in await bot.get_my_commands()] == ["imagine"]
    assert fake.my_commands() == [{"command": "imagine", "description": "Draw a prompt"}]
    assert await bot.get_my_commands(language_code="ru") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Imagine!", description="x")])


async def test_chat_member_status_follows_the_admins_table(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends(GROUP, ALICE, "hi")
    fake.user_sends(GROUP, BOB, "hi")
    fake.admins[GROUP.id] = {ALICE.id}

    alice = await bot.get_chat_member(GROUP.id, ALICE.id)
    bob = await bot.get_chat_member(GROUP.id, BOB.id)

    assert (alice.status, bob.status) == ("administrator", "member")
