"""The default experience: only a bot token, the built-in simulator, one evolving message per job."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.telegram import FakeTelegram
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    BOB,
    GRID_BUTTONS,
    GROUP,
    not_modified_errors,
    photos,
    running_bot,
    wait_for_caption,
    wait_for_text,
)


async def test_imagine_evolves_one_message_into_a_grid(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        command = tg.user_sends(ALICE_CHAT, ALICE, "/imagine a red fox in the snow —ar 3:2")
        done = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert photos(tg, ALICE_CHAT.id) == [done]
        assert done.reply_to_message_id == command.message_id
        assert done.button_texts() == GRID_BUTTONS
        assert "a red fox in the snow --ar 3:2" in done.caption
        assert "simulated" in done.caption and "Alice" in done.caption
        progress_edits = [c for c in tg.calls_of("editMessageMedia", "editMessageCaption") if c.ok]
        assert progress_edits, "the message should have been edited while the job ran"
        assert any("%" in (h.get("caption") or "") for h in done.history)
        assert len(tg.calls_of("sendPhoto")) == 1
        assert not_modified_errors(tg) == []


async def test_upscale_sends_photo_and_file_then_its_buttons_work(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse at dusk")
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        query = tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U2")
        upscale = await wait_for_caption(tg, ALICE_CHAT.id, "Image #2", "Done")
        assert tg.callback_answers[query]["text"].startswith("Started")
        assert upscale.reply_to_message_id == grid.message_id
        document = await tg.wait_for(
            lambda: next((m for m in tg.chat_messages(ALICE_CHAT.id) if m.document), None)
        )
        assert document.reply_to_message_id == upscale.message_id
        assert document.document is not None and document.document["file_name"].endswith(".png")
        assert "🪄 Vary (Strong)" in upscale.button_texts() and "⬅️" in upscale.button_texts()
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text="🪄 Vary (Strong)")
        variation = await wait_for_caption(tg, ALICE_CHAT.id, "Vary (Strong)", "Done")
        assert variation.button_texts() == GRID_BUTTONS
        assert variation.reply_to_message_id == upscale.message_id
        assert not_modified_errors(tg) == []


async def test_every_press_is_answered_and_strangers_are_refused(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(GROUP, ALICE, "/imagine@mjgram_test_bot a castle")
        grid = await wait_for_caption(tg, GROUP.id, "Done")
        query = tg.press_button(GROUP.id, grid.message_id, BOB, text="U1")
        await tg.wait_for(lambda: query in tg.callback_answers)
        assert tg.callback_answers[query]["show_alert"] is True
        assert "Only the person who asked" in tg.callback_answers[query]["text"]
        assert len(photos(tg, GROUP.id)) == 1


async def test_imagine_without_prompt_asks_and_takes_the_reply(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(GROUP, ALICE, "/imagine@mjgram_test_bot")
        question = await wait_for_text(tg, GROUP.id, "What should I draw?")
        assert question.reply_markup is not None and question.reply_markup.get("force_reply") is True
        tg.user_sends(GROUP, BOB, "not my question", reply_to=question.message_id)
        answer = tg.user_sends(GROUP, ALICE, "a quiet harbour at night", reply_to=question.message_id)
        done = await wait_for_caption(tg, GROUP.id, "a quiet harbour at night", "Done")
        assert done.reply_to_message_id == answer.message_id
        assert len(photos(tg, GROUP.id)) == 1


async def test_bad_input_gets_a_clear_message_and_starts_nothing(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine " + "x" * 1600)
        await wait_for_text(tg, ALICE_CHAT.id, "accepts at most 1,500")
        tg.user_sends(ALICE_CHAT, ALICE, "/frobnicate")
        await wait_for_text(tg, ALICE_CHAT.id, "I don't know that command")
        tg.user_sends(ALICE_CHAT, ALICE, "hello there")
        await wait_for_text(tg, ALICE_CHAT.id, "send /imagine followed by a description")
        assert photos(tg, ALICE_CHAT.id) == []


async def test_help_and_start_are_localised(tg: FakeTelegram, tmp_path: Path) -> None:
    from tests.fakes.telegram import FakeChat, FakeUser

    ivan = FakeUser(id=2001, first_name="Иван", language_code="ru")
    async with running_bot(tg, tmp_path):
        tg.user_sends(FakeChat(id=ivan.id, type="private"), ivan, "/start")
        greeting = await wait_for_text(tg, ivan.id, "Привет, Иван")
        assert "симулятор" in (greeting.text or "")
        tg.user_sends(ALICE_CHAT, ALICE, "/help")
        await wait_for_text(tg, ALICE_CHAT.id, "How to use me")
        assert {c.params.get("language_code") for c in tg.calls_of("setMyCommands")} >= {None, "ru", "zh"}


async def test_forum_topic_replies_stay_in_the_topic(tg: FakeTelegram, tmp_path: Path) -> None:
    from tests.fakes.telegram import FakeChat

    forum = FakeChat(id=-1009876543210, type="supergroup", title="Studio", is_forum=True)
    async with running_bot(tg, tmp_path):
        tg.user_sends(forum, ALICE, "/imagine a paper boat", thread_id=77)
        done = await wait_for_caption(tg, forum.id, "Done")
        assert done.message_thread_id == 77
