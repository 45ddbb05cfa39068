"""The real python-telegram-bot Application, polling and webhook, against a fake Bot API."""

from __future__ import annotations

import aiohttp
import pytest
from e2e_support import WEBHOOK_SECRET, running, telegram_settings, use_settings
from fakes.telegram_api import (
    buttons_of,
    callback_update,
    message_update,
    sent_message,
    voice_update,
)
from sqlalchemy import func
from sqlmodel import select

from bot.events import Attachment, Incoming, Reply
from crm_core.models import InboxMessage, Interaction, Reminder, ReminderStatus, Team
from crm_core.staff import create_invite, find_staff
from integrations.telegram import TelegramFrontDoor

LINA = 501
MANAGER = 502
GROUP = -100123


async def count(sessions, model) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def invite(sessions, name: str) -> str:
    async with sessions() as session, session.begin():
        return (await create_invite(session, await find_staff(session, name))).code


def telegram(settings):
    return lambda assistant: [TelegramFrontDoor(assistant, settings)]


async def link(api, sessions, user_id: int, name: str) -> None:
    code = await invite(sessions, name)
    api.push(message_update(user_id, f"/start {code}"))
    [welcome] = await api.wait_for(chat_id=user_id)
    assert name in welcome.params["text"]


async def test_a_rep_links_logs_in_chinese_and_presses_done(telegram_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000 公司=华信科技"))
        await telegram_api.wait_for(count=2, chat_id=LINA)
        telegram_api.push(message_update(LINA, "/记录 张伟：拜访了客户,对报价满意,下周三下午跟进"))
        logged = (await telegram_api.wait_for(count=3, chat_id=LINA))[-1]
        assert "已记录与 张伟 的拜访" in logged.params["text"]
        async with sessions() as session:
            reminder = (await session.exec(select(Reminder))).one()
        assert f"done:{reminder.id}" in buttons_of(logged)

        telegram_api.push(callback_update(LINA, f"done:{reminder.id}", sent_message(logged)))
        done = (await telegram_api.wait_for(count=4, chat_id=LINA))[-1]
        assert f"已完成提醒 #{reminder.id}" in done.params["text"]
        assert telegram_api.sent("answerCallbackQuery")
        # The pressed row is taken off the reminder; Undo stays.
        [edit] = await telegram_api.wait_for("editMessageReplyMarkup")
        assert buttons_of(edit) == ["undo"]
    async with sessions() as session:
        reminder = await session.get(Reminder, reminder.id)
        assert reminder.status == ReminderStatus.DONE
    assert await count(sessions, Interaction) == 1


async def test_an_unknown_user_learns_nothing(telegram_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000"))
        await telegram_api.wait_for(count=2, chat_id=LINA)
        telegram_api.push(message_update(999, "/find 张伟", language="en"))
        [refusal] = await telegram_api.wait_for(chat_id=999)
        telegram_api.push(message_update(999, "/start WRONGCODE", language="en"))
        await telegram_api.wait_for(count=2, chat_id=999)
    text = refusal.params["text"]
    assert text.startswith("Sorry, I don't know you yet") and "张伟" not in text
    assert "not valid" in telegram_api.texts(999)[1]
    assert not buttons_of(refusal)


async def test_a_redelivered_update_stores_one_interaction(telegram_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000"))
        await telegram_api.wait_for(count=2, chat_id=LINA)
        update = message_update(LINA, "/记录 张伟: 电话沟通")
        update_id = telegram_api.push(update)
        await telegram_api.wait_for(count=3, chat_id=LINA)
        telegram_api.push(update, update_id=update_id)  # Telegram sends it again
        telegram_api.push(message_update(LINA, "/今天"))
        await telegram_api.wait_for(count=4, chat_id=LINA)
    assert await count(sessions, Interaction) == 1
    assert len(telegram_api.texts(LINA)) == 4


async def test_updates_are_in_the_inbox_before_telegram_is_told(telegram_api, sessions, staffing):
    """PTB confirms (the next getUpdates offset) before handlers run: we store first."""
    confirmed_unstored: list[int] = []

    async def check(update_id: int) -> None:
        async with sessions() as session:
            stored = await session.exec(
                select(InboxMessage.message_id).where(InboxMessage.channel == "telegram")
            )
            if str(update_id) not in set(stored.all()):
                confirmed_unstored.append(update_id)

    telegram_api.on_confirm = check
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        for i in range(5):
            telegram_api.push(message_update(999, f"/help {i}"))
        await telegram_api.wait_for(count=5, chat_id=999)
    assert telegram_api._confirmed >= 1004
    assert confirmed_unstored == []


async def test_a_stored_update_is_answered_once_after_a_crash(telegram_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)) as platforms:
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000"))
        await telegram_api.wait_for(count=2, chat_id=LINA)
        # Stored and confirmed to Telegram, then the process died before answering.
        crashed = Incoming(
            channel="telegram",
            message_id="4242",
            sender_id=str(LINA),
            chat_id=str(LINA),
            text="/记录 张伟: 电话沟通",
        )
        assert await platforms.assistant.accept(crashed) is not None
    async with running(sessions, settings, telegram(settings)):
        replayed = (await telegram_api.wait_for(count=3, chat_id=LINA))[-1]
        assert "已记录与 张伟" in replayed.params["text"]
        telegram_api.push(message_update(LINA, "/记录 张伟: 电话沟通"), update_id=4242)
        telegram_api.push(message_update(LINA, "/今天"))
        await telegram_api.wait_for(count=4, chat_id=LINA)
    assert await count(sessions, Interaction) == 1


async def test_a_429_is_waited_out_and_sent_once(telegram_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api))
    telegram_api.fail("sendMessage", 429, retry_after=1)
    async with running(sessions, settings, telegram(settings)):
        telegram_api.push(message_update(999, "/help"))
        [sent] = await telegram_api.wait_for(chat_id=999)
    [refused] = [c for c in telegram_api.calls if c.status == 429]
    assert sent.at - refused.at >= 1.0
    assert len(telegram_api.sent("sendMessage")) == 1


async def test_the_outbox_reports_a_lasting_429_with_retry_after(telegram_api, sessions, staffing):
    from telegram.ext import AIORateLimiter

    from bot.app import Assistant
    from bot.delivery import DeliveryError

    settings = use_settings(**telegram_settings(telegram_api))
    door = TelegramFrontDoor(
        Assistant(sessions), settings, rate_limiter=AIORateLimiter(max_retries=1)
    )
    telegram_api.fail("sendMessage", 429, retry_after=1, times=2)
    await door.start()
    try:
        with pytest.raises(DeliveryError) as raised:
            await door.send(str(LINA), Reply(text="提醒:回电话"))
        assert raised.value.retry_after == 1
        # A 500 is tried again and then succeeds.
        telegram_api.fail("sendMessage", 500)
        assert await door.send(str(LINA), Reply(text="提醒:回电话")) is not None
    finally:
        await door.stop()


async def test_webhook_checks_the_secret_and_stores_first(telegram_api, sessions, staffing):
    settings = use_settings(
        **telegram_settings(
            telegram_api,
            telegram_webhook_url="https://crm.example/telegram/webhook",
            telegram_secret=WEBHOOK_SECRET,
        )
    )
    async with running(sessions, settings, telegram(settings)) as platforms:
        assert telegram_api.webhook["url"] == "https://crm.example/telegram/webhook"
        assert telegram_api.webhook["secret_token"] == WEBHOOK_SECRET
        url = f"http://127.0.0.1:{platforms.http.port}/telegram/webhook"
        update = {**message_update(999, "/help"), "update_id": 7001}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 403
            assert await count(sessions, InboxMessage) == 0
            good = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            for _ in range(2):  # Telegram retries when it misses our 200
                async with http.post(url, json=update, headers=good) as response:
                    assert response.status == 200
        await telegram_api.wait_for(chat_id=999)
    assert await count(sessions, InboxMessage) == 1
    assert len(telegram_api.texts(999)) == 1
    assert not telegram_api.sent("getUpdates")


async def test_personal_details_asked_in_a_group_go_to_the_private_chat(
    telegram_api, sessions, staffing
):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000"))
        await telegram_api.wait_for(count=2, chat_id=LINA)
        telegram_api.push(message_update(LINA, "/查@crm_test_bot 张伟", chat_id=GROUP))
        telegram_api.push(message_update(LINA, "今天谁请客?", chat_id=GROUP))  # chatter
        telegram_api.push(message_update(LINA, "/find@other_bot 张伟", chat_id=GROUP))
        [note] = await telegram_api.wait_for(chat_id=GROUP)
        details = (await telegram_api.wait_for(count=3, chat_id=LINA))[-1]
    assert "私信" in note.params["text"] and "138" not in note.params["text"]
    assert "13800138000" in details.params["text"] and "<pre>" in details.params["text"]
    assert len(telegram_api.texts(GROUP)) == 1


async def test_a_manager_subscribes_the_group(telegram_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, MANAGER, "王经理")
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/订阅", chat_id=GROUP))
        [refused] = await telegram_api.wait_for(chat_id=GROUP)
        telegram_api.push(message_update(MANAGER, "/订阅", chat_id=GROUP))
        done = (await telegram_api.wait_for(count=2, chat_id=GROUP))[-1]
    assert "只有" in refused.params["text"]
    assert "华东" in done.params["text"]
    async with sessions() as session:
        team = (await session.exec(select(Team).where(Team.name == "华东"))).one()
    assert team.digest_channel == f"telegram:{GROUP}"


async def test_a_voice_note_is_kept_and_can_be_fetched(telegram_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api))
    telegram_api.files["voice-1"] = b"OggS-fake-voice"
    async with running(sessions, settings, telegram(settings)) as platforms:
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(voice_update(LINA, "voice-1"))
        told = (await telegram_api.wait_for(count=2, chat_id=LINA))[-1]
        fetcher = platforms.assistant.fetchers["telegram"]
        data = await fetcher.fetch(Attachment(kind="voice", file_id="voice-1"))
    assert "读不了" in told.params["text"]
    assert data == b"OggS-fake-voice"
    async with sessions() as session:
        stored = (await session.exec(select(InboxMessage).order_by(InboxMessage.id.desc()))).first()
    assert stored.payload["attachments"][0]["file_id"] == "voice-1"


async def test_an_edited_message_is_not_run_again(telegram_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000", edited=True))
        told = (await telegram_api.wait_for(count=2, chat_id=LINA))[-1]
    assert "修改过的消息" in told.params["text"]
    assert await count(sessions, InboxMessage) == 1  # only the /start


async def test_the_group_is_told_when_a_private_answer_cannot_be_sent(
    telegram_api, sessions, staffing
):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000"))
        await telegram_api.wait_for(count=2, chat_id=LINA)
        telegram_api.fail("sendMessage", 403, chat_id=LINA)  # Lina blocked the bot
        telegram_api.push(message_update(LINA, "/查 张伟", chat_id=GROUP))
        note, failed = await telegram_api.wait_for(count=2, chat_id=GROUP)
    assert "私信" in note.params["text"]
    assert "无法私信你" in failed.params["text"] and "138" not in failed.params["text"]
