"""Segments put to work through the Assistant: a reminder per member (/remind segment=…,
/提醒 分群=…) and a draft per member (/draft segment=…, /草拟 分群=…), within the asker's
scope. Dataset: report_shop (华东: 李娜 owns A B F G, 陈明 owns C D; Global: Tom owns E;
上海 customers are A C D G)."""

from __future__ import annotations

import pytest
from report_shop import at, say, say_all
from sqlmodel import col, select

from bot import segment_actions
from crm_core.models import (
    Customer,
    Interaction,
    InteractionKind,
    MessageDraft,
    Reminder,
    ReminderStatus,
)

pytestmark = pytest.mark.usefixtures("frozen")


async def reminders_by_customer(sessions) -> dict[int, Reminder]:
    async with sessions() as session:
        rows = (await session.exec(select(Reminder).order_by(col(Reminder.id)))).all()
    return {r.customer_id: r for r in rows}


async def set_do_not_contact(sessions, customer_id: int) -> None:
    async with sessions() as session, session.begin():
        customer = await session.get(Customer, customer_id)
        customer.do_not_contact = True
        session.add(customer)


async def test_a_reps_segment_reminders_cover_only_their_customers_and_undo_together(
    assistant, sessions, staffing, shop
):
    saved = await say(assistant, "王经理", "/分群 上海客户: 上海")
    assert saved.text.startswith("分群“上海客户”已保存：目前有 4 位客户符合。")

    reply = await say(assistant, "李娜", "/提醒 分群=上海客户 下周一上午10点: 电话回访")
    assert reply.text.startswith(
        "已为分群“上海客户”的 2 位客户创建提醒，时间 11月30日 周一 10:00。"
    )
    assert "电话回访" in reply.text and "客户A, 客户G" in reply.text
    assert [b.payload for row in reply.buttons for b in row] == ["undo"]
    created = await reminders_by_customer(sessions)
    # 陈明's 上海 customers C and D are in the segment, but not 李娜's to remind about.
    assert set(created) == {shop["A"], shop["G"]}
    assert {r.owner_id for r in created.values()} == {staffing.lina.staff_id}
    assert {r.due_at for r in created.values()} == {at(2026, 11, 30, 10)}

    undone = await say(assistant, "李娜", "/撤销")
    assert undone.text.startswith("已撤销")
    statuses = {r.status for r in (await reminders_by_customer(sessions)).values()}
    assert statuses == {ReminderStatus.CANCELLED}


async def test_a_managers_segment_reminders_cover_the_team_and_one_undo_cancels_all(
    assistant, sessions, staffing, shop
):
    await say(assistant, "王经理", "/分群 上海客户: 上海")
    reply = await say(assistant, "王经理", "/提醒 分群 ＝ 上海客户 明天上午9点: 回访")
    assert "的 4 位客户创建提醒" in reply.text
    created = await reminders_by_customer(sessions)
    assert set(created) == {shop["A"], shop["C"], shop["D"], shop["G"]}
    # Another change after the segment's reminders is undone first, then all four at once.
    await say(assistant, "王经理", f"/提醒 #{shop['B']} 明天上午9点: 报价")
    await say(assistant, "王经理", "/撤销")
    still_open = await reminders_by_customer(sessions)
    assert still_open[shop["B"]].status is ReminderStatus.CANCELLED
    assert {still_open[shop[x]].status for x in "ACDG"} == {ReminderStatus.OPEN}
    undone = await say(assistant, "王经理", "/撤销")
    assert (
        undone.text == "已撤销:" + ", ".join(f"提醒 #{created[shop[x]].id}" for x in "GDCA") + "。"
    )
    after = await reminders_by_customer(sessions)
    assert {after[shop[x]].status for x in "ACDG"} == {ReminderStatus.CANCELLED}


async def test_segment_reminders_in_english_and_the_polite_answers(assistant, sessions, shop):
    saved = await say(assistant, "Tom", "/segment NY: New York")
    assert saved.text.startswith("Segment “NY” saved: 1 customers match now.")
    reply = await say(assistant, "Tom", "/remind segment=NY next Monday 10am: call back")
    assert reply.text.startswith("Reminders created for segment “NY”: 1, due Mon 30 Nov 10:00.")
    assert set(await reminders_by_customer(sessions)) == {shop["E"]}

    unknown = await say(assistant, "Tom", "/remind segment=nobody tomorrow 9am: call")
    assert unknown.text == "There is no segment called “nobody”. /segment lists the saved ones."
    zh_unknown = await say(assistant, "李娜", "/提醒 分群=不存在 明天上午9点: 回访")
    assert zh_unknown.text == "没有叫“不存在”的分群。发送 /分群 查看已保存的分群。"

    await say(assistant, "Tom", "/segment Loyal: bought>=5")
    empty = await say(assistant, "Tom", "/remind segment=loyal tomorrow 9am: thank them")
    assert empty.text == (
        "Segment “Loyal” has no customers you look after right now, so there is nothing to do."
    )
    assert len(await reminders_by_customer(sessions)) == 1  # only NY's


async def test_another_reps_segment_is_not_theirs_to_use(assistant, sessions, shop):
    await say(assistant, "李娜", "/分群 我的上海: 上海")
    reply = await say(assistant, "陈明", "/提醒 分群=我的上海 明天上午9点: 回访")
    assert reply.text == "没有叫“我的上海”的分群。发送 /分群 查看已保存的分群。"
    assert await reminders_by_customer(sessions) == {}


async def test_a_segment_too_big_for_reminders_creates_none(assistant, sessions, shop, monkeypatch):
    monkeypatch.setattr(segment_actions, "REMINDER_CAP", 3)
    await say(assistant, "王经理", "/分群 上海客户: 上海")
    reply = await say(assistant, "王经理", "/提醒 分群=上海客户 明天上午9点: 回访")
    assert reply.text.startswith(
        "分群“上海客户”中由你负责的客户有 4 位，一次最多创建 3 条提醒。请缩小分群条件"
    )
    assert await reminders_by_customer(sessions) == {}


async def test_do_not_contact_members_keep_the_reminder_and_are_pointed_out(
    assistant, sessions, shop
):
    await set_do_not_contact(sessions, shop["G"])
    await say(assistant, "李娜", "/分群 上海: 上海")
    reply = await say(assistant, "李娜", "/提醒 分群=上海 明天上午9点: 整理资料")
    assert "的 2 位客户创建提醒" in reply.text
    assert "⛔ 其中 1 位已标记为请勿联系（客户G）" in reply.text


async def test_segment_drafts_report_held_customers_and_each_draft_is_reviewable(
    assistant, sessions, staffing, shop
):
    await say(assistant, "王经理", "/分群 上海客户: 上海")
    await set_do_not_contact(sessions, shop["A"])
    async with sessions() as session, session.begin():  # D reached this week twice: the cap
        for day in (20, 22):
            session.add(
                Interaction(
                    customer_id=shop["D"],
                    summary="call",
                    kind=InteractionKind.CALL,
                    occurred_at=at(2026, 11, day),
                )
            )

    replies = await say_all(assistant, "王经理", "/草拟 分群=上海客户 召回")
    summary, *drafts = replies
    assert summary.text.splitlines() == [
        "分群“上海客户”（4 位客户）：已生成 2 份草稿（见下），2 位暂不联系。",
        "· 客户A 已标记为请勿联系,不生成消息。",
        "· 客户D 最近7天已联系 2 次(上限 2 次),请稍后再联系。",
    ]
    assert summary.private
    assert [d.data["customer_id"] for d in drafts] == [shop["C"], shop["G"]]
    for draft in drafts:
        assert draft.text.startswith(f"给 {draft.data['customer_name']} 的召回消息草稿")
        assert [b.payload for b in draft.buttons[0]] == [
            f"draft_send:{draft.data['draft_id']}",
            f"draft_edit:{draft.data['draft_id']}",
            f"draft_discard:{draft.data['draft_id']}",
        ]
    sent = await say(assistant, "王经理", button=drafts[0].buttons[0][0].payload)
    assert sent.text.startswith("已记为通过")
    # Only the rep's own customers, for a rep: 李娜 has A (do-not-contact) and G in 上海.
    lina = await say_all(assistant, "李娜", "/草拟 分群=上海客户 感谢 谢谢支持")
    assert lina[0].text.startswith(
        "分群“上海客户”（2 位客户）：已生成 1 份草稿（见下），1 位暂不联系。"
    )
    assert [d.data["customer_id"] for d in lina[1:]] == [shop["G"]]


async def test_segment_drafts_stop_at_the_cap_and_continue_on_the_next_run(
    assistant, sessions, shop, monkeypatch
):
    monkeypatch.setattr(segment_actions, "DRAFT_CAP", 2)
    await say(assistant, "王经理", "/分群 上海客户: 上海")
    first = await say_all(assistant, "王经理", "/草拟 分群=上海客户 跟进")
    assert first[0].text.splitlines() == [
        "分群“上海客户”（4 位客户）：已生成 2 份草稿（见下），0 位暂不联系。",
        "另有 2 位客户未生成草稿：每次最多 2 份。处理完这些后再发一次命令即可继续。",
    ]
    assert [d.data["customer_id"] for d in first[1:]] == [shop["A"], shop["C"]]
    second = await say_all(assistant, "王经理", "/草拟 分群=上海客户 跟进")
    assert second[0].text.splitlines()[1] == "2 位客户已有同类草稿等待处理，请先发送或放弃。"
    assert [d.data["customer_id"] for d in second[1:]] == [shop["D"], shop["G"]]
    async with sessions() as session:
        drafted = (await session.exec(select(MessageDraft.customer_id))).all()
    assert sorted(drafted) == sorted(shop[x] for x in "ACDG")  # none twice


async def test_segment_drafts_in_english(assistant, shop):
    await say(assistant, "Tom", "/segment NY: New York")
    summary, draft = await say_all(assistant, "Tom", "/draft segment = NY winback")
    assert summary.text == "Segment “NY”, customers: 1. Drafted (below): 1; held back: 0."
    assert draft.data["customer_id"] == shop["E"] and draft.data["discount_code"]
    unknown = await say(assistant, "Tom", "/draft segment=nobody thanks")
    assert unknown.text == "There is no segment called “nobody”. /segment lists the saved ones."


async def test_help_and_usage_show_the_segment_forms(assistant, shop):
    zh_help = await say(assistant, "李娜", "/帮助")
    assert "/提醒 分群=名称 时间: 事项" in zh_help.text and "/草拟 分群=名称" in zh_help.text
    en_help = await say(assistant, "Tom", "/help")
    assert "/remind segment=NAME WHEN: WHAT" in en_help.text
    assert "/draft segment=NAME" in en_help.text
    usage = await say(assistant, "Tom", "/remind segment=NY")
    assert "/remind segment=win-back next Monday 10am: call back" in usage.text


async def test_undoing_many_reminders_counts_them_instead_of_listing(assistant, sessions, shop):
    await say(assistant, "王经理", "/分群 买过的: 买过≥1次")
    created = await say(assistant, "王经理", "/提醒 分群=买过的 明天上午9点: 回访")
    assert "的 6 位客户创建提醒" in created.text
    assert "客户：客户A, 客户B, 客户C, 客户D, 客户F 等另外 1 位" in created.text
    undone = await say(assistant, "王经理", button="undo")
    assert undone.text == "已撤销:6 × 提醒。"
    statuses = {r.status for r in (await reminders_by_customer(sessions)).values()}
    assert statuses == {ReminderStatus.CANCELLED}
