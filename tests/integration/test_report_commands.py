"""/report, /pin and /segment through the Assistant, as managers and reps use them; pinned
reports delivered once; tiers on the card; `crmbot report`."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest
from care.helpers import RecordingOutbox
from report_shop import SH, say
from typer.testing import CliRunner

from bot.report_pins import due_pin_deliveries
from bot.scheduler import CareScheduler
from crm_core.analytics.tiers import recompute_tiers
from crm_core.clock import utcnow
from crm_core.models import Team
from crm_core.settings import Settings, override_settings

pytestmark = pytest.mark.usefixtures("frozen")


async def test_manager_report_in_chinese_has_table_chart_and_definition(assistant, shop):
    reply = await say(assistant, "王经理", "/报表 上个月复购率")
    narrative, line = reply.text.split("\n")
    assert narrative == "上个月复购率：25.0%，比上一期（0.0%）上升 25.0 个百分点。"
    assert line.startswith("📐 复购率：期内下单 ≥2 次的客户 ÷ 期内下单 ≥1 次的客户")
    assert "期间：2026-10-01 至 2026-10-31" in line and "范围：本团队" in line
    assert reply.table is not None and reply.table.rows == [["25.0%", "0.0%", "上升 25.0 个百分点"]]
    assert reply.image is not None and reply.image.startswith(b"\x89PNG")
    assert [b.label for b in reply.buttons[0]] == ["📌 每天", "📌 每周", "📌 每月"]
    assert not reply.private


async def test_rep_top_customers_in_english_only_their_own(assistant, staffing, shop):
    reply = await say(assistant, "Tom", "/report top 10 customers by revenue last month")
    assert reply.text.startswith(
        "Top 1 customers by Revenue, last month: 客户E leads with $1,000.00."
    )
    assert reply.table.rows == [["客户E", "$1,000.00"]]
    assert reply.private and reply.buttons == []  # a customer list never goes to a group
    lina = await say(assistant, "李娜", "/报表 上个月销售额前10的客户")
    assert [row[0] for row in lina.table.rows] == ["客户A", "客户F"]


async def test_unanswerable_question_gets_examples_not_a_guess(assistant, shop):
    reply = await say(assistant, "王经理", "/报表 今天天气怎么样")
    assert reply.text.startswith("我可以回答这样的问题") and reply.table is None
    english = await say(assistant, "Tom", "/report what is the meaning of life")
    assert english.text.startswith("I can answer questions like")


async def test_impossible_split_is_explained(assistant, shop):
    reply = await say(assistant, "王经理", "/报表 按月客户终身价值")
    assert reply.text.startswith("客户终身价值是某一时点的数值，不能按天、周或月拆分")


async def test_trend_and_at_risk_list(assistant, shop):
    trend = await say(assistant, "王经理", "/报表 近2个月按月留存率")
    assert [row[:2] for row in trend.table.rows] == [
        ["2026年10月", "66.7%"],
        ["2026年11月", "25.0%"],
    ]
    await recompute_tiers(assistant.sessions, utcnow())
    risky = await say(assistant, "王经理", "/报表 哪些客户有流失风险")
    assert risky.private and risky.table is not None


async def test_pin_a_report_and_deliver_it_once(assistant, sessions, staffing, shop, frozen):
    async with sessions() as session, session.begin():
        team = await session.get(Team, staffing.manager.team_id)
        team.digest_channel = "slack:C1"
        session.add(team)
    created = await say(assistant, "王经理", "/置顶 每周 各销售本月销售额")
    assert created.text.startswith("已订阅 #1：“各销售本月销售额”将每周一发到团队频道")
    listed = await say(assistant, "王经理", "/置顶 列表")
    assert "#1 每周一：各销售本月销售额" in listed.text
    rep = await say(assistant, "李娜", "/置顶 每周 本月销售额")
    assert rep.text == "只有带团队的经理或管理员才能把报表订阅到团队频道。"
    private = await say(assistant, "王经理", "/置顶 每天 本月销售额前10的客户")
    assert private.text.startswith("这份报表列出了具体客户")

    assert await due_pin_deliveries(sessions, utcnow()) == []  # not due before Monday 09:00
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=SH)
    frozen.move_to(monday)
    [delivery] = await due_pin_deliveries(sessions, utcnow())
    assert delivery.destination == "slack:C1"
    assert delivery.reply.text.startswith("📌 各销售本月销售额\n")
    assert delivery.reply.image is not None and delivery.reply.table is not None
    assert await due_pin_deliveries(sessions, utcnow()) == []  # claimed: never twice
    frozen.move_to(monday + timedelta(days=7, minutes=5))
    assert len(await due_pin_deliveries(sessions, utcnow())) == 1

    removed = await say(assistant, "王经理", "/置顶 取消 1")
    assert removed.text == "已取消订阅 #1。"
    assert (await say(assistant, "王经理", "/置顶 列表")).text.startswith("还没有订阅的报表")
    # Removing was a slip: /撤销 brings the pin back on its schedule, not an earlier one.
    assert "定时报表 #1" in (await say(assistant, "王经理", "/撤销")).text
    assert "#1 每周一：各销售本月销售额" in (await say(assistant, "王经理", "/置顶 列表")).text
    assert await due_pin_deliveries(sessions, utcnow()) == []
    # And undoing the pin itself stops it.
    await say(assistant, "王经理", "/撤销")
    assert (await say(assistant, "王经理", "/置顶 列表")).text.startswith("还没有订阅的报表")


async def test_pin_button_pins_the_question_that_was_asked(assistant, shop):
    report = await say(assistant, "王经理", "/报表 近6个月NPS趋势")
    monthly = report.buttons[0][2]
    assert monthly.payload.startswith("pin:monthly:")
    pinned = await say(assistant, "王经理", button=monthly.payload)
    assert "“近6个月NPS趋势”将每月1日发到团队频道" in pinned.text
    assert pinned.text.endswith("你的团队还没有设置频道，请联系管理员设置。")


async def test_segment_saved_and_used_in_a_report(assistant, shop):
    saved = await say(assistant, "王经理", "/分群 老客户: 买过≥2次 上海")
    # 上海 customers with 2+ valid orders: A (3) and D (3). G and C bought once.
    assert saved.text.startswith("分群“老客户”已保存：目前有 2 位客户符合。")
    listed = await say(assistant, "王经理", "/分群")
    assert "老客户：买过 ≥ 2 次, 城市 上海" in listed.text
    revenue = await say(assistant, "王经理", "/报表 老客户上个月的销售额")
    assert revenue.text.startswith("上个月销售额：¥650.00")  # A 500 + D 150
    assert "筛选：分群=老客户" in revenue.text


async def test_saving_a_segment_can_be_undone(assistant, shop):
    await say(assistant, "王经理", "/分群 老客户: 买过≥2次 上海")  # A and D
    changed = await say(assistant, "王经理", "/分群 老客户: 买过≥2次 杭州")  # F only
    assert changed.text.startswith("分群“老客户”已保存：目前有 1 位客户符合。")

    undone = await say(assistant, "王经理", "/撤销")
    assert undone.text.startswith("已撤销:分群 #")
    assert "老客户：买过 ≥ 2 次, 城市 上海" in (await say(assistant, "王经理", "/分群")).text
    revenue = await say(assistant, "王经理", "/报表 老客户上个月的销售额")
    assert revenue.text.startswith("上个月销售额：¥650.00")  # A 500 + D 150, as first saved

    await say(assistant, "王经理", "/撤销")  # and the creation
    assert (await say(assistant, "王经理", "/分群")).text.startswith("还没有保存分群")
    assert (await say(assistant, "王经理", "/撤销")).text == "没有可以撤销的修改。"
    # The name is free again, and a rep's undo never touches the manager's segment.
    await say(assistant, "王经理", "/分群 老客户: 买过≥2次")
    assert (await say(assistant, "李娜", "/undo")).text == "没有可以撤销的修改。"
    assert "老客户" in (await say(assistant, "王经理", "/分群")).text


async def test_card_shows_tier_and_reason(assistant, shop):
    await recompute_tiers(assistant.sessions, utcnow())
    card = await say(assistant, "李娜", f"/客户 #{shop['G']}")
    assert "客户等级: 沉睡（已经 541 天没有下单）" in card.text
    assert "风险: 高" in card.text


async def test_card_purchases_agree_with_the_reports(assistant, staffing, shop):
    # 客户D: ¥50 (Sep), ¥150 (Oct 30), ¥999 cancelled (Oct 31), ¥70 (Nov 1).
    card = await say(assistant, "陈明", f"/客户 #{shop['D']}")
    assert "订单:3 笔,合计 ¥270.00 · 最近 " in card.text
    # Tom's 客户E bought in dollars: shown in dollars, never as yuan.
    english = await say(assistant, "Tom", f"/customer #{shop['E']}")
    assert "Orders: 1, total $1,000.00" in english.text


# The CLI opens the store by URL, which can name the test's SQLite file but not the test's
# PostgreSQL schema: this one runs on SQLite only.
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_cli_report_json(engine, sessions, staffing, shop, tmp_path):
    from integrations.cli import app

    override_settings(Settings(_env_file=None, database_url=str(engine.url)))
    chart = tmp_path / "chart.png"
    args = ["report", "上个月销售额", "--json", "--as", "王经理", "--chart", str(chart)]
    # The CLI runs its own event loop, so it gets a thread of its own.
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output.strip().splitlines()[-1])
    assert body["data"]["totals"] == ["1250.00"]
    assert body["text"].startswith("上个月销售额：¥1,250.00")
    assert chart.read_bytes().startswith(b"\x89PNG")


async def test_the_scheduler_posts_a_pinned_report_to_the_team_channel_once(
    assistant, sessions, staffing, shop, frozen
):
    async with sessions() as session, session.begin():
        team = await session.get(Team, staffing.manager.team_id)
        team.digest_channel = "slack:C1"
        session.add(team)
    await say(assistant, "王经理", "/置顶 每周 各销售本月销售额")
    slack = RecordingOutbox("slack")
    scheduler = CareScheduler(sessions, {"slack": slack})
    assert await scheduler.post_pinned_reports() == 0
    frozen.move_to(datetime(2026, 11, 30, 9, 0, tzinfo=SH))
    assert await scheduler.post_pinned_reports() == 1
    assert await scheduler.post_pinned_reports() == 0
    [(chat, reply)] = slack.sent
    assert chat == "C1" and reply.text.startswith("📌 各销售本月销售额")
    assert reply.image is not None


async def test_a_numbers_question_without_a_command_gets_the_report(assistant, shop):
    asked = await say(assistant, "王经理", "上个月复购率多少?")
    assert asked.table is not None and "复购率" in asked.text
    english = await say(assistant, "王经理", "top 10 customers by revenue this quarter")
    assert english.table is not None
    # A log line that mentions orders is not a question: no report, the usual hint.
    logged = await say(assistant, "王经理", "客户说价格太高,订单可能延迟")
    assert logged.table is None and "命令以斜杠开头" in logged.text
