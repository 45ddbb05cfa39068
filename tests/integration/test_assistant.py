"""The Assistant end to end on a real database: commands in both languages, buttons,
the inbox, unknown senders, and errors that leave nothing half-done."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func
from sqlmodel import select

from bot.app import Assistant
from bot.events import Incoming, Reply
from crm_core.models import (
    Customer,
    Feedback,
    InboxMessage,
    InboxStatus,
    Interaction,
    Order,
    Reminder,
    ReminderStatus,
)
from crm_core.staff import create_invite, find_staff

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Tuesday 24 November 2026, 10:00 in Shanghai.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def assistant(sessions) -> Assistant:
    return Assistant(sessions)


async def say(
    assistant: Assistant,
    who: str,
    text: str | None = None,
    *,
    button: str | None = None,
    message_id: str | None = None,
    channel: str = "console",
) -> list[Reply]:
    return await assistant.handle(
        Incoming(
            channel=channel,
            message_id=message_id or str(next(_ids)),
            sender_id=who,
            chat_id=f"chat-{who}",
            text=text,
            button=button,
        )
    )


async def count(sessions, model) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def test_create_find_and_card_in_chinese(assistant, sessions, staffing):
    [created] = await say(assistant, "李娜", "/新建 张伟 138-0013-8000 公司=华信科技 标签=VIP")
    assert "张伟" in created.text and created.data["phones"] == ["+8613800138000"]
    for query in (
        "张伟",
        "zhangwei",
        "zhang wei",
        "zw",
        "13800138000",
        "+86 138 0013 8000",
        "8000",
        "华信",
        "vip",
        "zhangwie",
    ):
        [found] = await say(assistant, "李娜", f"/查 {query}")
        assert [h["name"] for h in found.data["hits"]] == ["张伟"], query
    [card] = await say(assistant, "李娜", "/客户 张伟")
    assert "华信科技" in card.text and "+8613800138000" in card.text and "负责人: 李娜" in card.text


async def test_english_speaker_gets_english_replies(assistant, staffing):
    [created] = await say(
        assistant, "Tom", "/new Jane Smith +1 415 555 0132 jane@acme.example company=Acme"
    )
    assert created.text.startswith("Customer Jane Smith created")
    [found] = await say(assistant, "Tom", "/find jane")
    assert "1 customer(s) match" in found.text


async def test_log_with_a_date_phrase_creates_the_follow_up(assistant, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    [logged] = await say(assistant, "李娜", "/记录 张伟：拜访了客户,对报价满意,下周三下午跟进")
    assert "拜访" in logged.text and "12月2日" in logged.text
    follow_up = logged.data["follow_up"]
    # Next week's Wednesday 2 Dec, in the afternoon, stored in UTC.
    assert follow_up["due_at"].astimezone(SHANGHAI) == datetime(2026, 12, 2, 14, 0, tzinfo=SHANGHAI)
    payloads = [b.payload for row in logged.buttons for b in row]
    assert f"done:{follow_up['id']}" in payloads and "undo" in payloads
    async with sessions() as session:
        interaction = (await session.exec(select(Interaction))).one()
        assert interaction.kind == "visit"
        assert interaction.raw_text == "/记录 张伟：拜访了客户,对报价满意,下周三下午跟进"


async def test_english_log_and_remind(assistant, staffing):
    await say(assistant, "Tom", "/new Jane Smith +1 415 555 0132")
    [logged] = await say(assistant, "Tom", "/log Jane Smith: call went well, follow up next Friday")
    assert logged.data["kind"] == "call"
    assert logged.data["follow_up"]["due_at"].astimezone(SHANGHAI) == datetime(
        2026, 12, 4, 9, 0, tzinfo=SHANGHAI
    )
    [reminder] = await say(assistant, "Tom", "/remind Jane Smith next Friday 10am: send the quote")
    assert reminder.data["due_at"].astimezone(SHANGHAI) == datetime(
        2026, 12, 4, 10, 0, tzinfo=SHANGHAI
    )
    assert reminder.data["customer_name"] == "Jane Smith"


async def test_unparseable_when_explains_and_creates_nothing(assistant, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    [reply] = await say(assistant, "李娜", "/提醒 张伟 改天吧: 发报价")
    assert "无法识别时间" in reply.text and "明天下午3点" in reply.text
    assert await count(sessions, Reminder) == 0


async def test_two_matches_ask_with_buttons_then_the_pick_completes(assistant, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000 公司=华信科技")
    await say(assistant, "李娜", "/新建 张伟 13900139000 公司=恒达贸易")
    [question] = await say(assistant, "李娜", "/记录 张伟: 电话沟通")
    assert "哪一位" in question.text
    assert await count(sessions, Interaction) == 0
    picks = [b.payload for row in question.buttons for b in row]
    assert len(picks) == 2
    [done] = await say(assistant, "李娜", button=picks[1])
    assert done.data["customer_id"] == int(picks[1].split(":")[1])
    assert await count(sessions, Interaction) == 1


async def test_today_done_snooze_and_undo_by_buttons(assistant, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    [created] = await say(assistant, "李娜", "/提醒 张伟 今天下午3点: 回电话")
    rid = created.data["id"]
    [today] = await say(assistant, "李娜", "/今天")
    assert f"#{rid}" in today.text and "今天到期(1)" in today.text
    [snoozed] = await say(assistant, "李娜", button=f"snooze:{rid}:1w")
    assert "12月1日" in snoozed.text
    [today] = await say(assistant, "李娜", "/today")
    assert "没有到期" in today.text
    [undone] = await say(assistant, "李娜", button="undo")
    assert "撤销" in undone.text
    [done] = await say(assistant, "李娜", f"/完成 {rid} 已回电")
    assert f"#{rid}" in done.text
    async with sessions() as session:
        reminder = await session.get(Reminder, rid)
        assert reminder.status == ReminderStatus.DONE and reminder.outcome == "已回电"


async def test_feedback_and_order(assistant, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    [fb] = await say(assistant, "李娜", "/反馈 张伟 3: 送货太慢")
    assert "投诉" in fb.text and fb.data["kind"] == "complaint"
    [order] = await say(assistant, "李娜", "/订单 张伟 ¥1,200 打印机, 硒鼓")
    assert "1,200.00" in order.text and order.data["items"] == ["打印机", "硒鼓"]
    assert await count(sessions, Feedback) == 1 and await count(sessions, Order) == 1


async def test_redelivered_message_is_answered_once(assistant, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    first = await say(assistant, "李娜", "/记录 张伟: 电话", message_id="tg-77")
    again = await say(assistant, "李娜", "/记录 张伟: 电话", message_id="tg-77")
    assert first and again == []
    assert await count(sessions, Interaction) == 1


async def test_unknown_sender_is_refused_and_learns_nothing(assistant, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    [reply] = await say(assistant, "stranger", "/查 张伟", channel="telegram")
    assert "不认识你" in reply.text and "张伟" not in reply.text and reply.data is None
    async with sessions() as session:
        stored = (
            await session.exec(select(InboxMessage).where(InboxMessage.sender_id == "stranger"))
        ).one()
        assert stored.status == InboxStatus.PROCESSED and stored.text == "/查 张伟"


async def test_invite_code_links_a_chat_identity_once(assistant, sessions, staffing):
    async with sessions() as session, session.begin():
        invite = await create_invite(session, await find_staff(session, "陈明"))
    [welcome] = await say(assistant, "tg-1001", f"/start {invite.code}", channel="telegram")
    assert "陈明" in welcome.text
    [reply] = await say(assistant, "tg-1001", "/今天", channel="telegram")
    assert "没有到期" in reply.text
    [reused] = await say(assistant, "tg-2002", f"/start {invite.code}", channel="telegram")
    assert "邀请码无效" in reused.text


async def test_a_rep_cannot_reach_another_reps_customer_by_id(assistant, sessions, staffing):
    [created] = await say(assistant, "陈明", "/新建 王芳 13912345678")
    cid = created.data["id"]
    for text in (f"/客户 #{cid}", f"/记录 #{cid}: 看看", f"/订单 #{cid} 100"):
        [reply] = await say(assistant, "李娜", text)
        assert "没有找到" in reply.text and "王芳" not in reply.text
    assert await count(sessions, Interaction) == 0 and await count(sessions, Order) == 0


async def test_bad_input_gets_usage_in_the_users_language(assistant, staffing):
    [zh] = await say(assistant, "李娜", "/记录 没有冒号")
    assert "请这样写" in zh.text and "/记录 张伟:" in zh.text
    [en] = await say(assistant, "Tom", "/log no colon")
    assert "Write it like this" in en.text
    [unknown] = await say(assistant, "Tom", "/frobnicate")
    assert "frobnicate" in unknown.text
    [bad_phone] = await say(assistant, "Tom", "/new Bob phone=12")
    assert "does not look like a phone number" in bad_phone.text


async def test_language_switch(assistant, staffing):
    [reply] = await say(assistant, "李娜", "/lang en")
    assert reply.text == "OK, I will reply in English."
    [help_] = await say(assistant, "李娜", "/help")
    assert help_.text.startswith("Here is what I can do")


async def test_a_crash_after_storing_is_replayed_once(assistant, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    incoming = Incoming(
        channel="console", message_id="u-9", sender_id="李娜", chat_id="c", text="/记录 张伟: 电话"
    )
    # The front door stored the message and the process died before handling it.
    assert await assistant.accept(incoming) is not None
    restarted = Assistant(sessions)
    replayed = await restarted.replay_unprocessed()
    assert len(replayed) == 1
    assert await restarted.handle(incoming) == []
    assert await restarted.replay_unprocessed() == []
    assert await count(sessions, Customer) == 1 and await count(sessions, Interaction) == 1


async def test_a_voice_note_is_kept_and_the_rep_is_told(assistant, sessions, staffing):
    incoming = Incoming(
        channel="console",
        message_id="v-1",
        sender_id="李娜",
        chat_id="c",
        attachments=[{"kind": "voice", "file_id": "file-123"}],
    )
    [reply] = await assistant.handle(incoming)
    assert "读不了" in reply.text
    async with sessions() as session:
        stored = (await session.exec(select(InboxMessage))).one()
    assert stored.payload["attachments"][0]["file_id"] == "file-123"


async def test_a_birthday_without_a_year_shows_month_and_day(assistant, staffing):
    await say(assistant, "李娜", "/新建 王芳 13912345678 生日=5月12日")
    [card] = await say(assistant, "李娜", "/客户 王芳")
    assert "生日: 5月12日" in card.text and "1904" not in card.text


async def test_help_lists_every_features_commands(assistant, staffing):
    [zh] = await say(assistant, "李娜", "/帮助")
    for command in ("/查", "/报表", "/订阅", "/草拟", "/总结"):
        assert command in zh.text, command
