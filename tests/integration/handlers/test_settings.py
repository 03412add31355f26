"""/settings and /prefer end to end: the real dispatcher and Bot against the fake Telegram, real storage."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import insert

from bot.backends.simulator import SimulatorBackend
from bot.delivery.sender import Sender
from bot.delivery.settings_panel import PANEL_PREFIX, PanelView, panel_keyboard, parse_panel_data
from bot.domain.owners import Scope
from bot.handlers import errors, settings
from bot.handlers.settings import prefer_reply
from bot.i18n import Locales, Translator
from bot.middlewares import I18nMiddleware
from bot.preferences import (
    MAX_OPTION_PARAMS_LENGTH,
    MAX_OPTION_SETS,
    ListOptions,
    Preferences,
    PreferenceService,
)
from bot.storage.database import Database
from bot.storage.profiles import profiles
from tests.fakes.telegram import (
    CALLBACK_DATA_LIMIT,
    TEXT_LIMIT,
    FakeChat,
    FakeTelegram,
    FakeUser,
    LoopbackSession,
    StoredMessage,
)
from tests.harness import ALICE, ALICE_CHAT, BOB, FAST_LIMITS, GROUP, TOKEN, not_modified_errors

LOCALES = Locales()
EN = LOCALES.translator("en")
LARGEST_USER_ID = 2**52  # Telegram user ids fit in 52 bits


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'mjgram.db'}")
    await database.open()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def preferences(db: Database) -> PreferenceService:
    return PreferenceService(db)


@pytest.fixture
async def bot(tg: FakeTelegram, preferences: PreferenceService) -> AsyncIterator[Bot]:
    """A polling dispatcher with the settings and error routers, as the runtime will wire them."""
    bot = Bot(TOKEN, session=LoopbackSession(tg.base_url))
    dispatcher = Dispatcher(
        preferences=preferences,
        sender=Sender(bot, FAST_LIMITS),
        locales=LOCALES,
        capabilities=SimulatorBackend().capabilities,
    )
    dispatcher.update.outer_middleware(I18nMiddleware(LOCALES))
    dispatcher.include_routers(errors.create_router(), settings.create_router())
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    await tg.wait_for(tg.polls_in_flight)
    try:
        yield bot
    finally:
        with contextlib.suppress(RuntimeError):
            await dispatcher.stop_polling()
        await polling
        await bot.session.close()


# --- driving the panel --------------------------------------------------------------------------------------


async def reply_to(tg: FakeTelegram, chat: FakeChat, user: FakeUser, text: str) -> StoredMessage:
    """Send `text` and wait for the bot's reply to it."""
    sent = tg.user_sends(chat, user, text)

    def reply() -> StoredMessage | None:
        return next((m for m in tg.chat_messages(chat.id) if m.reply_to_message_id == sent.message_id), None)

    return await tg.wait_for(reply)


async def press(tg: FakeTelegram, panel: StoredMessage, user: FakeUser, text: str) -> dict[str, Any]:
    """Press a button of the panel's current keyboard; the callback answer (sent after any edit)."""
    query_id = tg.press_button(panel.chat_id, panel.message_id, user, text=text)
    return await tg.wait_for(lambda: tg.callback_answers.get(query_id))


def shown(tg: FakeTelegram, panel: StoredMessage) -> StoredMessage:
    """The panel as it is now (a copy: the fake keeps changing its own)."""
    return copy.deepcopy(tg.message(panel.chat_id, panel.message_id))


def marked(message: StoredMessage) -> list[str]:
    return [text.removeprefix("✅ ") for text in message.button_texts() if text.startswith("✅ ")]


# --- the panel ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("bot")
async def test_the_panel_opens_with_the_current_choices_marked(
    tg: FakeTelegram, preferences: PreferenceService
) -> None:
    await preferences.update_user(ALICE.id, version="6.1", stylize=250, remix=True)

    panel = await reply_to(tg, ALICE_CHAT, ALICE, "/settings")

    assert panel.text is not None and panel.text.startswith(EN("settings-title-user"))
    assert "Version: V6.1" in panel.text and "Stylize: 250" in panel.text and "Remix: on" in panel.text
    assert marked(panel) == ["V6.1", "🖌 250", EN("settings-btn-remix")]
    assert EN("settings-btn-chat") not in panel.button_texts(), "no chat defaults in a private chat"
    assert tg.calls_of("getChatMember") == []
    data = [d for row in panel.buttons() for _, d in row]
    assert all(d and d.startswith(PANEL_PREFIX) and len(d.encode()) <= CALLBACK_DATA_LIMIT for d in data)


@pytest.mark.usefixtures("bot")
async def test_a_press_changes_the_preference_and_the_panel_shows_it(
    tg: FakeTelegram, preferences: PreferenceService
) -> None:
    panel = await reply_to(tg, ALICE_CHAT, ALICE, "/settings")

    answer = await press(tg, panel, ALICE, "16:9")
    after_pick = shown(tg, panel)
    await press(tg, panel, ALICE, EN("settings-btn-raw"))
    await press(tg, panel, ALICE, "Niji 6")
    stored = await preferences.user(ALICE.id)
    await press(tg, panel, ALICE, "✅ 16:9")

    assert answer["text"] == EN("settings-saved")
    assert marked(after_pick) == ["16:9"] and "Aspect ratio: 16:9" in (after_pick.text or "")
    assert (stored.aspect, stored.raw, stored.version) == ("16:9", True, "niji 6")
    assert (await preferences.user(ALICE.id)).aspect is None, "a second press returns to the default"
    assert marked(shown(tg, panel)) == ["Niji 6", EN("settings-btn-raw")]
    assert await preferences.effective_prompt(ALICE.id, ALICE.id, "a cat") == "a cat --niji 6 --style raw"
    assert shown(tg, panel).edits == 4
    assert not_modified_errors(tg) == []


@pytest.mark.usefixtures("bot")
async def test_a_press_that_changes_nothing_edits_nothing(tg: FakeTelegram) -> None:
    panel = await reply_to(tg, ALICE_CHAT, ALICE, "/settings")

    answer = await press(tg, panel, ALICE, EN("settings-btn-reset"))

    assert "text" not in answer, "nothing was saved"
    assert tg.calls_of("editMessageText") == []
    assert shown(tg, panel).edits == 0


@pytest.mark.usefixtures("bot")
async def test_a_strangers_press_is_refused_with_an_alert(
    tg: FakeTelegram, preferences: PreferenceService
) -> None:
    panel = await reply_to(tg, GROUP, ALICE, "/settings")

    answer = await press(tg, panel, BOB, "V7")

    assert answer["show_alert"] is True and answer["text"] == EN("settings-not-yours")
    assert await preferences.user(ALICE.id) == Preferences()
    assert await preferences.user(BOB.id) == Preferences()
    assert shown(tg, panel).edits == 0


@pytest.mark.usefixtures("bot")
async def test_group_admins_may_switch_to_chat_defaults_and_members_may_not(tg: FakeTelegram) -> None:
    tg.admins[GROUP.id] = {ALICE.id}

    admin_panel = await reply_to(tg, GROUP, ALICE, "/settings")
    member_panel = await reply_to(tg, GROUP, BOB, "/settings")

    assert admin_panel.button_texts()[:2] == [f"✅ {EN('settings-btn-mine')}", EN("settings-btn-chat")]
    assert EN("settings-group-note") in (admin_panel.text or "")
    assert EN("settings-btn-chat") not in member_panel.button_texts()
    assert EN("settings-btn-pool-off") not in member_panel.button_texts()
    assert EN("settings-group-note") in (member_panel.text or "")


@pytest.mark.usefixtures("bot")
async def test_chat_defaults_set_by_an_admin_apply_to_members(
    tg: FakeTelegram, preferences: PreferenceService
) -> None:
    tg.admins[GROUP.id] = {ALICE.id}
    panel = await reply_to(tg, GROUP, ALICE, "/settings")

    await press(tg, panel, ALICE, EN("settings-btn-chat"))
    chat_panel = shown(tg, panel)
    await press(tg, panel, ALICE, "9:16")
    await press(tg, panel, ALICE, EN("settings-btn-buttons-requester"))
    await press(tg, panel, ALICE, "50")
    defaults = shown(tg, panel)
    await press(tg, panel, ALICE, EN("settings-btn-mine"))

    assert (chat_panel.text or "").startswith(EN("settings-title-chat"))
    assert EN("settings-btn-remix") not in chat_panel.button_texts()
    assert marked(defaults) == [EN("settings-btn-chat"), "9:16", "50"]
    assert EN("settings-btn-buttons-everyone") in defaults.button_texts()
    assert "Daily pool: 50 jobs a day" in (defaults.text or "")
    chat = await preferences.chat(GROUP.id)
    assert (chat.aspect, chat.buttons_open, chat.daily_pool) == ("9:16", True, 50)
    assert await preferences.buttons_open(GROUP.id) is True
    assert await preferences.daily_pool(GROUP.id) == 50
    assert await preferences.user(ALICE.id) == Preferences(), "chat defaults are not the admin's own"
    assert await preferences.effective_prompt(BOB.id, GROUP.id, "a fox") == "a fox --ar 9:16"
    await preferences.update_user(BOB.id, aspect="1:1")
    assert await preferences.effective_prompt(BOB.id, GROUP.id, "a fox") == "a fox --ar 1:1"
    assert (shown(tg, panel).text or "").startswith(EN("settings-title-user"))
    assert not_modified_errors(tg) == []


@pytest.mark.usefixtures("bot")
async def test_an_admin_who_lost_the_role_cannot_change_chat_defaults(
    tg: FakeTelegram, preferences: PreferenceService
) -> None:
    tg.admins[GROUP.id] = {ALICE.id}
    panel = await reply_to(tg, GROUP, ALICE, "/settings")
    await press(tg, panel, ALICE, EN("settings-btn-chat"))
    tg.admins[GROUP.id].clear()

    answer = await press(tg, panel, ALICE, "50")

    assert answer["show_alert"] is True and answer["text"] == EN("settings-admins-only")
    assert await preferences.daily_pool(GROUP.id) is None


# --- /prefer ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("bot")
async def test_prefer_suffix_and_option_sets_round_trip(
    tg: FakeTelegram, preferences: PreferenceService
) -> None:
    suffix = await reply_to(tg, ALICE_CHAT, ALICE, "/prefer suffix in <script> & ink style")
    saved = await reply_to(tg, ALICE_CHAT, ALICE, "/prefer option set cine --ar 21:9 --s 750")
    listed = await reply_to(tg, ALICE_CHAT, ALICE, "/prefer option list")
    completed = await preferences.effective_prompt(ALICE.id, ALICE.id, "a cat --cine")
    deleted = await reply_to(tg, ALICE_CHAT, ALICE, "/prefer option set cine")
    empty = await reply_to(tg, ALICE_CHAT, ALICE, "/prefer option list")
    cleared = await reply_to(tg, ALICE_CHAT, ALICE, "/prefer suffix")

    assert "in <script> & ink style" in (suffix.text or ""), "user text escaped, shown as written"
    assert "--cine" in (saved.text or "") and "--ar 21:9 --s 750" in (saved.text or "")
    assert listed.text == f"{EN('prefer-option-list')}\n--cine → --ar 21:9 --s 750"
    assert completed == "a cat in <script> & ink style --ar 21:9 --s 750"
    assert deleted.text == unescape(EN("prefer-option-deleted", name="cine")).replace("<code>", "").replace(
        "</code>", ""
    )
    assert empty.text == unescape(EN("prefer-option-list-empty"))
    assert cleared.text == EN("prefer-suffix-cleared")
    assert await preferences.user(ALICE.id) == Preferences()


@pytest.mark.usefixtures("bot")
@pytest.mark.parametrize(
    ("command", "message_id", "args"),
    [
        ("/prefer", "prefer-usage", {}),
        ("/prefer option set ar --ar 1:1", "prefer-option-name-invalid", {"name": "ar"}),
        ("/prefer option set ghost", "prefer-option-missing", {"name": "ghost"}),
    ],
)
async def test_prefer_mistakes_are_explained(
    tg: FakeTelegram, command: str, message_id: str, args: dict[str, str]
) -> None:
    reply = await reply_to(tg, ALICE_CHAT, ALICE, command)

    assert reply.text == EN(message_id, **args)


def test_a_full_option_list_fits_one_message() -> None:
    biggest = Preferences(
        option_sets={f"set{i:02d}{'x' * 19}": "&" * MAX_OPTION_PARAMS_LENGTH for i in range(MAX_OPTION_SETS)}
    )
    for t in LOCALES.all_translators().values():
        text = unescape(prefer_reply(ListOptions(), biggest, t))
        assert len(text.replace("<code>", "").replace("</code>", "")) <= TEXT_LIMIT


# --- languages ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("bot")
@pytest.mark.parametrize(("language_code", "language"), [("en", "en"), ("ru", "ru"), ("zh-hans", "zh-Hans")])
async def test_each_language_renders(tg: FakeTelegram, language_code: str, language: str) -> None:
    user = FakeUser(id=2001, first_name="Lin", language_code=language_code)
    t = LOCALES.translator(language)

    panel = await reply_to(tg, FakeChat(id=user.id, type="private"), user, "/settings")
    listed = await reply_to(tg, FakeChat(id=user.id, type="private"), user, "/prefer option list")

    assert panel.text == (
        f"{t('settings-title-user')}\n\n"
        f"{t('settings-line-version', value=t('settings-value-default'))}\n"
        f"{t('settings-line-aspect', value=t('settings-value-default'))}\n"
        f"{t('settings-line-stylize', value=t('settings-value-default'))}\n"
        f"{t('settings-line-raw', value=t('settings-value-off'))}\n"
        f"{t('settings-line-speed', value=t('settings-value-default'))}\n"
        f"{t('settings-line-remix', value=t('settings-value-off'))}\n"
        f"{t('settings-line-language', value=t('settings-value-telegram'))}\n\n"
        f"{t('settings-hint')}"
    )
    assert {t("settings-btn-raw"), t("settings-speed-relax"), t("settings-btn-reset")} <= set(
        panel.button_texts()
    )
    assert listed.text == unescape(t("prefer-option-list-empty"))


@pytest.mark.usefixtures("bot")
async def test_choosing_a_language_redraws_the_panel_in_it(
    tg: FakeTelegram, preferences: PreferenceService
) -> None:
    ru = LOCALES.translator("ru")
    panel = await reply_to(tg, ALICE_CHAT, ALICE, "/settings")

    answer = await press(tg, panel, ALICE, ru("settings-language-ru"))
    russian = shown(tg, panel)
    override = await preferences.language_override(ALICE.id)
    await press(tg, panel, ALICE, f"✅ {ru('settings-language-ru')}")

    assert answer["text"] == ru("settings-saved")
    assert (russian.text or "").startswith(ru("settings-title-user"))
    assert ru("settings-btn-reset") in russian.button_texts()
    assert override == "ru"
    assert await preferences.language_override(ALICE.id) is None
    assert (shown(tg, panel).text or "").startswith(EN("settings-title-user"))


# --- callback data and storage ------------------------------------------------------------------------------


@pytest.mark.parametrize("t", LOCALES.all_translators().values(), ids=LOCALES.languages)
@pytest.mark.parametrize("scope", list(Scope))
def test_every_button_fits_and_decodes_back(t: Translator, scope: Scope) -> None:
    view = PanelView(LARGEST_USER_ID, scope, in_group=True, admin=True)
    keyboard = panel_keyboard(Preferences(), view, t)

    data = [b.callback_data or "" for row in keyboard.inline_keyboard for b in row]
    presses = [parse_panel_data(d) for d in data]

    assert all(len(d.encode()) <= CALLBACK_DATA_LIMIT for d in data)
    assert all(p is not None and p.owner_id == LARGEST_USER_ID for p in presses)
    assert all(p.scope is scope for p in presses if p and p.setting), "the switch row names the other scope"
    assert len(set(data)) == len(data)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "a1:token",
        "s1:abc:u:v=7",
        "s1:1:z:sw",
        "s1:1:u:v=8",
        "s1:1:u:v",
        "s1:1:u:r=1",
        "s1:1:u:q=50",
        "s1:1:c:l=ru",
        "s1:1:c:m",
        "s1:1:u:zz",
    ],
)
def test_foreign_or_malformed_callback_data_is_not_a_press(data: str | None) -> None:
    assert parse_panel_data(data) is None


async def test_preferences_survive_a_restart_and_a_damaged_record_reads_as_defaults(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'mjgram.db'}"
    first = Database(url)
    await first.open()
    await PreferenceService(first).update_user(ALICE.id, version="7", option_sets={"cine": "--ar 21:9"})
    async with first.write() as conn:
        await conn.execute(
            insert(profiles).values(scope=Scope.CHAT.value, owner_id=GROUP.id, data="{oops", updated_at=0.0)
        )
    await first.close()

    second = Database(url)
    await second.open()
    try:
        reopened = PreferenceService(second)
        assert await reopened.user(ALICE.id) == Preferences(version="7", option_sets={"cine": "--ar 21:9"})
        assert await reopened.chat(GROUP.id) == Preferences()
        assert (await reopened.update_chat(GROUP.id, daily_pool=20)).daily_pool == 20
        assert await reopened.daily_pool(GROUP.id) == 20
    finally:
        await second.close()
