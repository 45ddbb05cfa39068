"""Negative feedback moves the customer to churn risk: the card and the team's list show it."""

from __future__ import annotations

import itertools
from datetime import timedelta

import time_machine
from sqlmodel import select

from bot.app import Assistant
from bot.digest import build_digest, render_digest
from bot.events import Incoming
from bot.scheduler import CareScheduler
from crm_core.analytics.tiers import recompute_tiers
from crm_core.clock import utcnow
from crm_core.feedback import CHURN_RISK
from crm_core.models import Customer, Team

_ids = itertools.count(1)


async def say(assistant: Assistant, who: str, text: str):
    return await assistant.handle(
        Incoming(
            channel="console",
            message_id=f"risk-{next(_ids)}",
            sender_id=who,
            chat_id=f"chat-{who}",
            text=text,
        )
    )


async def test_a_complaint_marks_churn_risk_on_the_card_and_in_the_list(sessions, staffing):
    assistant = Assistant(sessions)
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    await say(assistant, "李娜", "/新建 王芳 13700137000")
    await say(assistant, "李娜", "/反馈 王芳 9: 很满意")
    await say(assistant, "李娜", "/反馈 张伟 3: 送货太慢")
    async with sessions() as session:
        risks = dict((await session.exec(select(Customer.name, Customer.risk))).all())
        team = (await session.exec(select(Team).where(Team.name == "华东"))).one()
        digest = await build_digest(session, team, utcnow())
    assert risks == {"张伟": CHURN_RISK, "王芳": None}
    [card] = await say(assistant, "李娜", "/客户 张伟")
    assert "流失风险" in card.text
    [at_risk] = digest.churn_risk
    assert at_risk.text == "张伟: (3/10) 送货太慢"
    text = "\n".join(r.text for r in render_digest(digest))
    assert "有流失风险的客户" in text and "张伟: (3/10) 送货太慢" in text


async def test_a_detractor_score_alone_counts_and_the_english_card_says_so(sessions, staffing):
    assistant = Assistant(sessions)
    await say(assistant, "Tom", "/new Jane Smith +1 415 555 0132")
    await say(assistant, "Tom", "/feedback Jane Smith 5")
    [card] = await say(assistant, "Tom", "/card Jane Smith")
    assert "churn risk (negative feedback)" in card.text


async def test_the_daily_tier_run_keeps_the_feedback_flag_for_30_days(sessions, staffing):



    assistant = Assistant(sessions)
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    await say(assistant, "李娜", "/订单 张伟 1200")
    await say(assistant, "李娜", "/反馈 张伟 2: 质量很差")

    async def risk() -> str | None:
        async with sessions() as session:
            return (await session.exec(select(Customer.risk))).one()

    await recompute_tiers(sessions, utcnow())
    assert await risk() == CHURN_RISK
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        await recompute_tiers(sessions, utcnow())
    assert await risk() != CHURN_RISK


async def test_the_scheduler_recomputes_tiers_once_a_day(sessions, staffing):
    assistant = Assistant(sessions)
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    await say(assistant, "李娜", "/反馈 张伟 2: 质量很差")
    async with sessions() as session, session.begin():
        (await session.exec(select(Customer))).one().risk = None  # as if flagged elsewhere
    scheduler = CareScheduler(sessions, {})
    assert await scheduler.analytics_once_a_day() is True
    assert await scheduler.analytics_once_a_day() is False  # claimed for today
    async with sessions() as session:
        assert (await session.exec(select(Customer.risk))).one() == CHURN_RISK
