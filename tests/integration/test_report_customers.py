"""A customer or company named in a report question narrows the report to them, within the
asker's scope; several matches are asked about; out of scope reads exactly like not found."""

from __future__ import annotations

from decimal import Decimal

import pytest
from report_shop import at, say, say_all

from crm_core.customers import CustomerCreate, create_customer
from crm_core.models import Order, PaymentStatus

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
async def people(sessions, staffing) -> dict[str, int]:
    """Lina: 张伟 and 王芳 (华信科技), 刘洋 (东方贸易). Chen: another 张伟 (海天集团).
    Tom: Jane Smith and Jane Doe (Acme Corp), in dollars."""
    s = staffing
    found: dict[str, int] = {}
    async with sessions() as session, session.begin():

        async def customer(key, actor, name, company, *orders, currency="CNY"):
            created = await create_customer(
                session=session, actor=actor, data=CustomerCreate(name=name, company=company)
            )
            found[key] = created.id
            for when, amount, *status in orders:
                session.add(
                    Order(
                        customer_id=created.id,
                        ordered_at=when,
                        amount=Decimal(amount),
                        currency=currency,
                        payment_status=status[0] if status else PaymentStatus.PAID,
                    )
                )

        cancelled = PaymentStatus.CANCELLED
        await customer(
            "zhang",
            s.lina,
            "张伟",
            "华信科技",
            (at(2026, 10, 8), 1000),
            (at(2026, 11, 2), 200, cancelled),
            (at(2025, 12, 1), 500),
        )
        await customer("wang", s.lina, "王芳", "华信科技", (at(2026, 11, 3), 300))
        await customer("liu", s.lina, "刘洋", "东方贸易", (at(2026, 10, 20), 700))
        await customer("zhang2", s.chen, "张伟", "海天集团", (at(2026, 10, 9), 50))
        await customer(
            "jane", s.tom, "Jane Smith", "Acme Corp", (at(2026, 3, 1), 400), currency="USD"
        )
        await customer("doe", s.tom, "Jane Doe", "Acme Corp", (at(2026, 4, 1), 100), currency="USD")
    return found


async def test_a_rep_asks_about_her_customer_in_chinese(assistant, people):
    reply = await say(assistant, "李娜", "/报表 张伟今年买了多少")
    # ¥1,000 this year: the cancelled ¥200 and last year's ¥500 do not count, nor does
    # Chen's 张伟, whom Lina cannot see.
    assert reply.text.startswith("今年销售额：¥1,000.00")
    assert "筛选：客户=张伟（华信科技）" in reply.text
    assert reply.table.rows[0][0] == "¥1,000.00"
    assert reply.private and reply.buttons == []  # one customer's numbers: like their card
    orders = await say(assistant, "李娜", "/报表 客户张伟今年的订单数")
    assert orders.table.rows[0][0] == "1"
    # Without the command, as a question, the same answer.
    [asked] = await say_all(assistant, "李娜", "张伟今年买了多少?")
    assert asked.text.startswith("今年销售额：¥1,000.00")


async def test_a_company_name_narrows_to_its_customers(assistant, people):
    reply = await say(assistant, "李娜", "/报表 华信本季度销售额")
    assert reply.text.startswith("本季度销售额：¥1,300.00")  # 张伟 1000 + 王芳 300
    assert "筛选：公司=华信科技" in reply.text
    pinyin = await say(assistant, "李娜", "/报表 huaxin本季度销售额")
    assert pinyin.text.startswith("本季度销售额：¥1,300.00")


async def test_english_names_and_companies(assistant, people):
    jane = await say(assistant, "Tom", "/report how much did Jane Smith buy this year")
    assert jane.text.startswith("Revenue, this year: $400.00")
    assert "Filters: customer=Jane Smith (Acme Corp)" in jane.text
    possessive = await say(assistant, "Tom", "/report Jane Smith's revenue this year")
    assert possessive.table.rows == jane.table.rows
    acme = await say(assistant, "Tom", "/report revenue from Acme Corp this year")
    assert acme.text.startswith("Revenue, this year: $500.00")
    assert "Filters: company=Acme Corp" in acme.text


async def test_out_of_scope_reads_exactly_like_not_found(assistant, people):
    hidden = await say(assistant, "李娜", "/报表 海天本季度销售额")  # Chen's customer's company
    missing = await say(assistant, "李娜", "/报表 蓝鲸本季度销售额")  # nobody's
    assert hidden.text == missing.text.replace("蓝鲸", "海天")
    assert hidden.text.startswith("没有找到“海天”") and hidden.table is None
    english = await say(assistant, "李娜", "/报表 how much did Jane Smith buy this year")
    assert english.text.startswith("没有找到“Jane Smith”") and "$" not in english.text


async def test_several_matches_are_asked_about_privately(assistant, staffing, people):
    question = await say(assistant, "王经理", "/报表 张伟今年买了多少", message_id="q1")
    assert question.text == "有多位客户匹配“张伟”，你要看哪一位的数字？"
    assert question.private and question.table is None
    payloads = {row[0].payload for row in question.buttons}
    assert payloads == {f"reportfor:{people[k]}:q1" for k in ("zhang", "zhang2")}
    assert {row[0].label.split(" (")[1] for row in question.buttons} == {"华信科技)", "海天集团)"}
    chen_s = f"reportfor:{people['zhang2']}:q1"
    picked = await say(assistant, "王经理", button=chen_s)
    assert (
        picked.text.startswith("今年销售额：¥50.00")
        and "筛选：客户=张伟（海天集团）" in picked.text
    )
    # A forged button: Lina's own question, Chen's customer: refused as not found.
    await say(assistant, "李娜", "/报表 张伟今年买了多少", message_id="q2")
    forged = await say(assistant, "李娜", button=f"reportfor:{people['zhang2']}:q2")
    assert forged.table is None and "没有找到" in forged.text


async def test_asked_in_a_group_the_answer_goes_privately(assistant, people):
    note, answer = await say_all(
        assistant, "李娜", "/报表 华信本季度销售额", chat_id="group-1", is_group=True
    )
    assert "私信" in note.text and "¥" not in note.text
    assert answer.private and answer.text.startswith("本季度销售额：¥1,300.00")


async def test_a_report_about_a_customer_cannot_be_pinned(assistant, people):
    refused = await say(assistant, "王经理", "/置顶 每周 华信本季度销售额")
    assert refused.text.startswith("这份报表是关于具体客户的")
    ambiguous = await say(assistant, "王经理", "/置顶 每周 张伟今年销售额")
    assert ambiguous.text == refused.text


async def test_leftover_words_that_match_no_one_are_reported(assistant, people):
    # Filler is never taken for a name; an unknown word is named back, not guessed at.
    plain = await say(assistant, "李娜", "/报表 请告诉我本季度的销售额是多少?")
    assert plain.text.startswith("本季度销售额：¥2,000.00")  # 1000 + 300 + 700
    assert "筛选" not in plain.text
    unknown = await say(assistant, "李娜", "/报表 本季度销售额和利润")
    assert unknown.text.startswith("没有找到“利润”")


async def test_customers_given_by_id_are_named_in_the_definition(sessions, staffing, people):
    """The LLM path passes customer ids: the line names them, out-of-scope ids name no one."""
    from bot.report_view import report_reply
    from crm_core.clock import utcnow
    from crm_core.reports import ReportQuery, run_report

    ids = [people["zhang"], people["liu"], people["zhang2"]]
    query = ReportQuery.model_validate(
        {"metrics": ["revenue"], "filters": {"customer_ids": ids}, "period": {"kind": "this_year"}}
    )
    async with sessions() as session:
        result = await run_report(session=session, actor=staffing.lina, query=query, now=utcnow())
    reply = await report_reply(result, lang="zh")
    assert "筛选：客户=张伟/刘洋" in reply.text  # Chen's 张伟 is not Lina's to see
    assert result.totals == [Decimal("1700.00")] and reply.private
