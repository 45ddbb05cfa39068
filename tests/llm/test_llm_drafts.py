"""Personalised drafts: templates without a model, checked model text with one, the contact
rules before offering and sending, win-back codes, and Send / Edit / Discard."""

from __future__ import annotations

from sqlmodel import select

from bot.app import Assistant
from crm_core.models import (
    Customer,
    DiscountCode,
    DiscountStatus,
    DraftStatus,
    Interaction,
    MessageDraft,
    Team,
)
from tests.fakes.openai_server import text, tool_calls
from tests.llm.conftest import payloads, say


async def _customers(bot: Assistant) -> None:
    await say(bot, "李娜", "/新建 张伟 13800138000 渠道=wechat 爱好=茶,钓鱼 生日=05-12")
    await say(bot, "李娜", "/订单 张伟 ¥1,200 打印机")
    await say(bot, "Tom", "/new Jane Smith jane@acme.example channel=sms company=Acme")


async def test_template_drafts_without_a_model_and_send(sessions, staffing):
    bot = Assistant(sessions)
    await _customers(bot)
    [draft] = await say(bot, "李娜", "/草拟 张伟 生日")
    assert draft.data["method"] == "template" and draft.data["channel"] == "wechat"
    assert "张伟您好" in draft.text and "生日快乐" in draft.text and "茶" in draft.text
    draft_id = draft.data["draft_id"]
    assert payloads(draft) == [
        f"draft_send:{draft_id}",
        f"draft_edit:{draft_id}",
        f"draft_discard:{draft_id}",
    ]
    [sent] = await say(bot, "李娜", button=f"draft_send:{draft_id}")
    assert "已记为通过wechat发送给 张伟" in sent.text
    async with sessions() as session:
        stored = await session.get(MessageDraft, draft_id)
        touch = (await session.exec(select(Interaction).where(Interaction.kind == "message"))).one()
    assert stored.status == DraftStatus.SENT and touch.summary == stored.text
    [twice] = await say(bot, "李娜", button=f"draft_send:{draft_id}")
    assert "已经是 sent" in twice.text


async def test_a_winback_draft_carries_a_stored_code_and_discard_voids_it(sessions, staffing):
    bot = Assistant(sessions)
    await _customers(bot)
    [draft] = await say(bot, "Tom", "/draft Jane Smith winback")
    code = draft.data["discount_code"]
    assert code.startswith("WB-") and code in draft.text and len(draft.data["text"]) <= 160
    assert draft.text.count("Jane") >= 1 and "10% off" in draft.text
    async with sessions() as session:
        stored = (await session.exec(select(DiscountCode))).one()
    assert stored.code == code and int(stored.percent) == 10
    [gone] = await say(bot, "Tom", button=f"draft_discard:{draft.data['draft_id']}")
    assert "discount code is void" in gone.text
    async with sessions() as session:
        assert (await session.exec(select(DiscountCode))).one().status == DiscountStatus.VOID


async def test_do_not_contact_and_the_weekly_cap_stop_a_draft(sessions, staffing):
    bot = Assistant(sessions)
    await _customers(bot)
    await say(bot, "李娜", "/记录 张伟: 电话沟通")
    await say(bot, "李娜", "/记录 张伟: 微信聊了新品")
    [capped] = await say(bot, "李娜", "/草拟 张伟 跟进")
    assert "最近7天已联系 2 次" in capped.text and not capped.buttons
    async with sessions() as session, session.begin():
        jane = (await session.exec(select(Customer).where(Customer.name == "Jane Smith"))).one()
        jane.do_not_contact = True
        session.add(jane)
    [dnc] = await say(bot, "Tom", "/draft Jane Smith thanks")
    assert "do-not-contact" in dnc.text
    async with sessions() as session:
        assert (await session.exec(select(MessageDraft))).all() == []


async def test_the_cap_is_the_teams_care_policy(sessions, staffing):
    """Drafts and care rules share one check: the team's touch_cap per touch_window_days."""
    bot = Assistant(sessions)
    await _customers(bot)
    async with sessions() as session, session.begin():
        east = (await session.exec(select(Team).where(Team.name == "华东"))).one()
        east.care_policy = {"touch_cap": 1, "touch_window_days": 14}
        session.add(east)
    await say(bot, "李娜", "/记录 张伟: 电话沟通")
    [capped] = await say(bot, "李娜", "/草拟 张伟 跟进")
    assert "最近14天已联系 1 次(上限 1 次)" in capped.text and not capped.buttons
    # Another team keeps the default (2 per 7 days): one contact leaves room for a draft.
    await say(bot, "Tom", "/log Jane Smith: call about the order")
    [offered] = await say(bot, "Tom", "/draft Jane Smith thanks")
    assert payloads(offered)[0].startswith("draft_send:")


async def test_edit_replaces_the_text_and_offers_it_again(sessions, staffing):
    bot = Assistant(sessions)
    await _customers(bot)
    [draft] = await say(bot, "Tom", "/draft Jane Smith thanks")
    [ask] = await say(bot, "Tom", button=f"draft_edit:{draft.data['draft_id']}")
    assert "new text" in ask.text
    [edited] = await say(bot, "Tom", "Thanks Jane, great to work with Acme!")
    assert "Thanks Jane, great to work with Acme!" in edited.text
    assert payloads(edited)[0] == f"draft_send:{draft.data['draft_id']}"


async def test_model_drafts_are_checked_for_invented_facts(assistant, fake, sessions, staffing):
    await _customers(assistant)
    fake.script(text("张伟您好!生日快乐,本周下单立减300元,还送您一套茶具🎁"))
    [invented] = await say(assistant, "李娜", "/草拟 张伟 生日")
    assert invented.data["method"] == "template"
    assert invented.data["template_reason"] == "invented_numbers" and "300" not in invented.text
    prompt = fake.chat_requests[0]["messages"][0]["content"]
    assert "<data>" in prompt and "打印机" in prompt and "钓鱼" in prompt
    fake.script(text("张伟您好!祝您生日快乐,闲暇时多去钓鱼、品茶,万事顺意🎂"))
    [good] = await say(assistant, "李娜", "/草拟 张伟 生日")
    assert good.data["method"] == "llm" and "钓鱼" in good.text


async def test_the_model_can_ask_for_a_draft_in_plain_language(assistant, fake, sessions, staffing):
    await _customers(assistant)
    fake.script(
        tool_calls(("draft_message", {"customer": "Jane Smith", "kind": "winback", "notes": None})),
        text("Hi Jane, it has been a while! Here is a code for you."),
    )
    [draft] = await say(assistant, "Tom", "write Jane a win-back message")
    code = draft.data["discount_code"]
    # The model forgot the code: it is added, exactly as stored.
    assert code in draft.text and draft.data["method"] == "llm"
    assert payloads(draft)[0].startswith("draft_send:")
