"""/blend: an album captioned /blend, or /blend then photos one by one; then the shape, then the job."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command as CommandFilter
from aiogram.filters import CommandObject
from aiogram.methods import AnswerCallbackQuery, EditMessageText
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.albums import AlbumCollector
from bot.blends import (
    DRAFT_CANCELLED,
    DRAFT_OPEN,
    DRAFT_READY,
    DRAFT_USED,
    MIN_BLEND_IMAGES,
    BlendService,
)
from bot.delivery.methods import reply_message
from bot.delivery.sender import Sender
from bot.domain import BlendDimensions, Command, JobKind, Requester
from bot.domain.drafts import BlendDraft
from bot.domain.errors import BlendCount, ButtonExpired
from bot.handlers.context import display_name, thread_of
from bot.handlers.pictures import PictureRef, check_size, download_picture, picture_of
from bot.i18n import Translator
from bot.jobs import JobService
from bot.media import ImageDecoder

DRAFT_PREFIX = "d1:"
_SHAPES = {
    "P": (BlendDimensions.PORTRAIT, "btn-blend-portrait"),
    "S": (BlendDimensions.SQUARE, "btn-blend-square"),
    "L": (BlendDimensions.LANDSCAPE, "btn-blend-landscape"),
}


def _is_blend_command(message: Message) -> bool:
    text = message.caption or message.text or ""
    return text.split(maxsplit=1)[0].split("@", 1)[0].lower() == "/blend" if text.startswith("/") else False


def _panel(draft: BlendDraft, t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
    """The draft's message: what it holds and what can be done next."""

    def button(text: str, op: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=f"{DRAFT_PREFIX}{draft.id}:{op}")

    count = len(draft.file_ids)
    cancel = button(t("btn-cancel"), "x")
    if draft.status == DRAFT_READY:
        shapes = [button(t(message_id), op) for op, (_, message_id) in _SHAPES.items()]
        return t("blend-choose-shape", count=count), InlineKeyboardMarkup(inline_keyboard=[shapes, [cancel]])
    if draft.status == DRAFT_OPEN:
        text = t("blend-collecting", count=count) if count else t("blend-start")
        return text, InlineKeyboardMarkup(inline_keyboard=[[button(t("btn-blend-now"), "go"), cancel]])
    if draft.status == DRAFT_CANCELLED:
        return t("blend-cancelled"), None
    return t("blend-choose-shape", count=count), None


async def _show_panel(draft: BlendDraft, sender: Sender, blends: BlendService, t: Translator) -> BlendDraft:
    text, keyboard = _panel(draft, t)
    if draft.message_id is None:
        sent = await sender.call(
            reply_message(
                draft.chat_id,
                draft.thread_id,
                text,
                reply_to=draft.reply_to_message_id,
                reply_markup=keyboard,
            ),
            chat_id=draft.chat_id,
        )
        return await blends.set_message(draft, sent.message_id)
    await sender.call(
        EditMessageText(chat_id=draft.chat_id, message_id=draft.message_id, text=text, reply_markup=keyboard),
        chat_id=draft.chat_id,
    )
    return draft


async def _start_draft(
    message: Message,
    pictures: list[PictureRef],
    blends: BlendService,
    jobs: JobService,
    sender: Sender,
    t: Translator,
) -> None:
    assert message.from_user is not None
    jobs.require(Command.BLEND)
    for picture in pictures:
        check_size(picture.size)
    file_ids = [p.file_id for p in pictures]
    ready = message.media_group_id is not None and len(file_ids) >= MIN_BLEND_IMAGES
    draft = await blends.open(
        message.chat.id, message.from_user.id, thread_of(message), message.message_id, file_ids, ready=ready
    )
    await _show_panel(draft, sender, blends, t)


async def blend_command(
    message: Message,
    command: CommandObject,
    blends: BlendService,
    jobs: JobService,
    sender: Sender,
    t: Translator,
) -> None:
    """/blend as text, or as the caption of a single photo."""
    picture = picture_of(message)
    await _start_draft(message, [picture] if picture else [], blends, jobs, sender, t)


async def album_part(
    message: Message,
    albums: AlbumCollector,
    blends: BlendService,
    jobs: JobService,
    sender: Sender,
    t: Translator,
) -> None:
    """One photo of an album: one part's handler receives the whole album."""
    parts = await albums.collect(message)
    if parts:
        await whole_album(parts, blends, jobs, sender, t)


async def whole_album(
    parts: list[Message], blends: BlendService, jobs: JobService, sender: Sender, t: Translator
) -> None:
    """An album's photos, in order: a draft when one is captioned /blend, else more for the open one."""
    pictures = [p for p in (picture_of(m) for m in parts) if p is not None]
    commanded = next((m for m in parts if _is_blend_command(m)), None)
    if commanded is not None:
        await _start_draft(commanded, pictures, blends, jobs, sender, t)
        return
    await _add_to_open_draft(parts[0], pictures, blends, sender, t)


async def _add_to_open_draft(
    message: Message, pictures: list[PictureRef], blends: BlendService, sender: Sender, t: Translator
) -> None:
    assert message.from_user is not None
    draft = await blends.find_open(message.chat.id, message.from_user.id)
    if draft is None:
        return
    for picture in pictures:
        check_size(picture.size)
    draft = await blends.add(draft, [p.file_id for p in pictures])
    await _show_panel(draft, sender, blends, t)


async def _feeds_a_draft(message: Message, blends: BlendService) -> dict[str, Any] | bool:
    """A lone photo for the user's open draft: any photo in private, a reply to the draft in groups."""
    if message.from_user is None or picture_of(message) is None:
        return False
    draft = await blends.find_open(message.chat.id, message.from_user.id)
    if draft is None:
        return False
    if message.chat.type != ChatType.PRIVATE:
        reply = message.reply_to_message
        if reply is None or reply.message_id != draft.message_id:
            return False
    return {"draft": draft}


async def lone_photo(
    message: Message, draft: BlendDraft, blends: BlendService, sender: Sender, t: Translator
) -> None:
    picture = picture_of(message)
    assert picture is not None
    check_size(picture.size)
    draft = await blends.add(draft, [picture.file_id])
    await _show_panel(draft, sender, blends, t)


async def draft_button(
    query: CallbackQuery,
    bot: Bot,
    blends: BlendService,
    jobs: JobService,
    decoder: ImageDecoder,
    sender: Sender,
    t: Translator,
    language: str,
) -> None:
    draft_id, _, op = (query.data or "")[len(DRAFT_PREFIX) :].partition(":")
    # The press names the panel itself: its id may not be stored yet when the press comes very fast.
    panel_id = query.message.message_id if query.message is not None else None
    if op == "x":
        draft = _on_panel(await blends.owned(draft_id, query.from_user.id, DRAFT_OPEN, DRAFT_READY), panel_id)
        await _show_panel(await blends.move(draft, DRAFT_CANCELLED), sender, blends, t)
        await _answer(sender, query, t("blend-cancelled"))
    elif op == "go":
        draft = _on_panel(await blends.owned(draft_id, query.from_user.id, DRAFT_OPEN), panel_id)
        if len(draft.file_ids) < MIN_BLEND_IMAGES:
            raise BlendCount(count=len(draft.file_ids))
        await _show_panel(await blends.move(draft, DRAFT_READY), sender, blends, t)
        await _answer(sender, query, t("blend-choose-shape", count=len(draft.file_ids)))
    elif op in _SHAPES:
        draft = _on_panel(await blends.owned(draft_id, query.from_user.id, DRAFT_READY), panel_id)
        dimensions, label = _SHAPES[op]
        requester = Requester(
            chat_id=draft.chat_id,
            user_id=query.from_user.id,
            user_name=display_name(query.from_user),
            language=language,
            thread_id=draft.thread_id,
            reply_to_message_id=draft.message_id,
        )
        # Up to five pictures to download and decode: only for a job the limits would let start.
        await jobs.check_limits(requester, JobKind.BLEND)
        draft = await blends.move(draft, DRAFT_USED)
        await _answer(sender, query, t("press-started", action=t(label)))
        await _show_panel(draft, sender, blends, t)
        images = [await download_picture(bot, PictureRef(f, None), decoder) for f in draft.file_ids]
        await jobs.blend(requester, images, dimensions)
    else:
        raise ButtonExpired()


def _on_panel(draft: BlendDraft, panel_id: int | None) -> BlendDraft:
    return replace(draft, message_id=panel_id) if panel_id is not None else draft


async def _answer(sender: Sender, query: CallbackQuery, text: str) -> None:
    await sender.call(AnswerCallbackQuery(callback_query_id=query.id, text=text), chat_id=None)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="blend")
    router.message.register(album_part, F.media_group_id, F.photo | F.document)
    router.message.register(blend_command, CommandFilter("blend"))
    router.message.register(lone_photo, F.photo | F.document, _feeds_a_draft)
    router.callback_query.register(draft_button, F.data.startswith(DRAFT_PREFIX))
    return router
