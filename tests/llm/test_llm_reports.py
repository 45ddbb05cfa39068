"""Numbers questions read by the model (a `run_report` tool call -> ReportQuery), the
narrative worded by it and checked against the data, and the deterministic parser whenever
the model cannot help. The dataset is tests/integration/report_shop.py (worked out there):
last month (October 2026) the 华东 team's Shanghai customers A, C and D bought ¥500, ¥500 and
¥150; in September A and D bought ¥100 and ¥50."""

from __future__ import annotations

import json

import pytest

from bot.events import Reply
from tests.fakes.openai_server import error, text, tool_calls
from tests.integration.report_shop import build_shop
from tests.llm.conftest import say

SHANGHAI_LAST_MONTH = {
    "metrics": ["revenue"],
    "dimensions": [],
    "filters": {"cities": ["上海"], "customers": []},
    "period": {"kind": "last_month", "n": None, "start": None, "end": None},
    "compare": "previous",
    "sort": "desc",
    "top_n": None,
    "currency": None,
}


@pytest.fixture
async def shop(sessions, staffing):
    return await build_shop(sessions, staffing)


def request_chars(request: dict) -> int:
    """What the issue budgets: the system prompt and the tool schemas, in characters."""
    system = next(m["content"] for m in request["messages"] if m["role"] == "system")
    tools = json.dumps(request.get("tools", []), ensure_ascii=False, separators=(",", ":"))
    return len(system) + len(tools)


async def only(replies: list[Reply]) -> Reply:
    assert len(replies) == 1, [r.text for r in replies]
    return replies[0]


async def test_a_question_the_parser_cannot_read_is_answered_from_the_models_query(
    assistant, fake, shop
):
    fake.script(
        tool_calls(("run_report", SHANGHAI_LAST_MONTH)),
        text("上海客户上个月销售额 ¥1,150.00，比9月的 ¥150.00 大幅增长。"),
    )
    question = "/报表 上海那边的客户上个月买了多少钱，跟再前一个月比呢"
    reply = await only(await say(assistant, "王经理", question))
    assert reply.table is not None and reply.table.rows[0][0] == "¥1,150.00"
    assert reply.table.rows[0][1] == "¥150.00"
    assert reply.image is not None and reply.image.startswith(b"\x89PNG")
    narrative, definition = reply.text.split("\n")
    assert narrative == "上海客户上个月销售额 ¥1,150.00，比9月的 ¥150.00 大幅增长。"
    assert "2026-10-01 至 2026-10-31" in definition and "上海" in definition
    read, worded = fake.chat_requests
    # The report request offers run_report alone, names what filters may use, within budget.
    assert [t["function"]["name"] for t in read["tools"]] == ["run_report"]
    assert "上海" in read["messages"][0]["content"] and "李娜" in read["messages"][0]["content"]
    assert request_chars(read) < 6000
    # The narrative request shows the model the table it is to describe, and no tools.
    assert "¥1,150.00" in worded["messages"][0]["content"] and "tools" not in worded


async def test_a_narrative_with_a_figure_not_in_the_data_is_not_believed(assistant, fake, shop):
    fake.script(
        tool_calls(("run_report", SHANGHAI_LAST_MONTH)),
        text("Shanghai customers spent ¥1,250.00 last month, up 670%."),
    )
    question = "/report Shanghai revenue last month vs before"
    reply = await only(await say(assistant, "王经理", question))
    # ¥1,250 is not the answer (¥1,150): the template's narrative is shown instead.
    assert "1,250" not in reply.text and "¥1,150.00" in reply.text.split("\n")[0]


async def test_an_invalid_query_is_sent_back_once_and_the_corrected_one_answers(
    assistant, fake, shop
):
    wrong = {**SHANGHAI_LAST_MONTH, "metrics": ["lift"]}  # lift needs product pairs
    fake.script(
        tool_calls(("run_report", wrong)),
        tool_calls(("run_report", SHANGHAI_LAST_MONTH)),
        error(500),
    )
    reply = await only(await say(assistant, "王经理", "/报表 上海客户上个月销售额环比"))
    assert reply.table is not None and reply.table.rows[0][0] == "¥1,150.00"
    correction = fake.chat_requests[1]["messages"][-1]
    assert correction["role"] == "tool" and "product_pair" in correction["content"]


async def test_without_a_working_model_the_parser_answers(assistant, fake, shop):
    fake.script(*[error(500)] * 6)  # the client tries three times, per request
    reply = await only(await say(assistant, "王经理", "/报表 上个月复购率"))
    assert reply.text.split("\n")[0] == "上个月复购率：25.0%，比上一期（0.0%）上升 25.0 个百分点。"


async def test_a_plain_question_reaches_the_report_through_ask_report(assistant, fake, shop):
    question = "上海客户上个月一共买了多少?"
    fake.script(
        tool_calls(("ask_report", {"question": question})),
        tool_calls(("run_report", SHANGHAI_LAST_MONTH)),
        text("上个月上海客户销售额 ¥1,150.00。"),
    )
    reply = await only(await say(assistant, "王经理", question))
    assert reply.text.startswith("上个月上海客户销售额 ¥1,150.00。\n📐")
    assert reply.table is not None and reply.image is not None
    turn, read, _ = fake.chat_requests
    names = [t["function"]["name"] for t in turn["tools"]]
    assert "ask_report" in names and "run_report" not in names
    assert request_chars(turn) < 6000 and request_chars(read) < 6000
    assert read["messages"][-1] == {"role": "user", "content": question}


async def test_a_named_customer_narrows_the_report_within_the_askers_scope(
    assistant, fake, shop
):
    this_year = {
        **SHANGHAI_LAST_MONTH,
        "filters": {"customers": [f"#{shop['A']}"]},  # the shop has no search keys: by number
        "period": {"kind": "this_year"},
        "compare": "none",
    }
    fake.script(tool_calls(("run_report", this_year)), error(400))
    reply = await only(await say(assistant, "李娜", "/报表 客户A今年买了多少"))
    assert reply.table is not None and reply.table.rows[0][0] == "¥600.00"  # 100 + 200 + 300
    assert "客户A" in reply.text.split("\n")[1]  # the definition line names the filter
    # 客户C belongs to 陈明: for 李娜 it does not exist, and nothing is reported.
    theirs = {**this_year, "filters": {"customers": [f"#{shop['C']}"]}}
    fake.script(tool_calls(("run_report", theirs)))
    reply = await only(await say(assistant, "李娜", "/报表 客户C今年买了多少"))
    assert reply.table is None
    assert reply.text.startswith(f"没有找到“#{shop['C']}”")


async def test_with_the_model_down_a_plain_numbers_question_is_still_answered(
    assistant, fake, shop
):
    fake.script(*[error(500)] * 6)
    reply = await only(await say(assistant, "王经理", "上个月复购率多少?"))
    assert reply.text.startswith("上个月复购率：25.0%") and reply.table is not None
    # The turn's three tries only: once the model is down, the report is not asked of it again.
    assert len(fake.chat_requests) == 3


async def test_a_name_the_model_passes_on_that_fits_two_customers_is_asked_with_buttons(
    assistant, fake, shop
):
    await say(assistant, "李娜", "/新建 张伟 13800138000 公司=华信科技")
    await say(assistant, "李娜", "/新建 张伟 13900139000 公司=恒达贸易")
    this_year = {
        **SHANGHAI_LAST_MONTH,
        "filters": {"customers": ["张伟"]},
        "period": {"kind": "this_year"},
        "compare": "none",
    }
    fake.script(tool_calls(("run_report", this_year)))
    question = await only(await say(assistant, "李娜", "/报表 张伟今年买了多少"))
    assert question.private and question.table is None
    labels = {b.label: b.payload for row in question.buttons for b in row}
    [huaxin] = [payload for label, payload in labels.items() if "华信科技" in label]
    # The press asks the model again and narrows the report to the customer picked.
    fake.script(tool_calls(("run_report", this_year)), error(400))
    answer = await only(await say(assistant, "李娜", button=huaxin))
    assert answer.table is not None and "张伟（华信科技）" in answer.text.split("\n")[1]
