"""Known answers for the report query shapes tuned for speed (products bought together in
one statement; revenue by month against the year before), worked out on paper below, on
SQLite and PostgreSQL. Now is Tuesday 24 November 2026, 10:00 in Shanghai."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from report_shop import NOW, at, build_shop

from crm_core.analytics.basket import association_rules
from crm_core.analytics.frame import ReportFilters, build_frame
from crm_core.analytics.periods import PeriodKind, PeriodSpec
from crm_core.clock import utcnow
from crm_core.models import Customer, Order, OrderItem, PaymentStatus, Product
from crm_core.reports import ReportQuery, run_report

LAST_MONTH = PeriodSpec(kind=PeriodKind.LAST_MONTH)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


async def report(sessions, actor, **query):
    async with sessions() as session:
        return await run_report(
            session=session, actor=actor, query=ReportQuery(**query), now=utcnow()
        )


async def test_bought_together_counts_each_basket_and_pair_once(sessions, staffing):
    # 李娜's October orders (x = a line without a catalogued product):
    #   1 {P1,P2,P3}  2 {P1,P2}  3 {P1,P2,P2 again}  4 {P1,x}  5 {P3}  6 {P2,P3}  7 {x}
    # Not counted: {P1,P3} deleted, {P1,P3} cancelled, {P1,P3} in September, {P1,P3} of
    # Tom's customer (another team). Baskets (a catalogued product): 1-6 = 6.
    # P1 in 4, P2 in 4, P3 in 3. Together: P1&P2 3 (1,2,3), P2&P3 2 (1,6), P1&P3 1 (no rule).
    #   P1 -> P2: support 3/6 = 0.5, confidence 3/4, lift 0.75 / (4/6) = 1.125 -> 1.12
    #   P2 -> P1: support 0.5, confidence 3/4, lift 1.12
    #   P2 -> P3: support 2/6, confidence 2/4, lift 0.5 / (3/6) = 1.00
    #   P3 -> P2: support 2/6, confidence 2/3, lift (2/3) / (4/6) = 1.00
    lina, tom = staffing.lina, staffing.tom
    async with sessions() as session, session.begin():
        mine = Customer(name="买家", owner_id=lina.staff_id, team_id=lina.team_id)
        theirs = Customer(name="Buyer", owner_id=tom.staff_id, team_id=tom.team_id)
        products = [Product(name=f"P{i}", category="耗材") for i in (1, 2, 3)]
        session.add_all([mine, theirs, *products])
        await session.flush()
        baskets: list[tuple[Customer, tuple[int | None, ...], dict]] = [
            (mine, (0, 1, 2), {}),
            (mine, (0, 1), {}),
            (mine, (0, 1, 1), {}),
            (mine, (0, None), {}),
            (mine, (2,), {}),
            (mine, (1, 2), {}),
            (mine, (None,), {}),
            (mine, (0, 2), {"deleted_at": at(2026, 10, 11)}),
            (mine, (0, 2), {"payment_status": PaymentStatus.CANCELLED}),
            (mine, (0, 2), {"ordered_at": at(2026, 9, 30)}),
            (theirs, (0, 2), {}),
        ]
        for who, lines, extra in baskets:
            order = Order(
                customer_id=who.id,
                amount=Decimal(10),
                **{"ordered_at": at(2026, 10, 10), **extra},
            )
            session.add(order)
            await session.flush()
            for i in lines:
                session.add(
                    OrderItem(
                        order_id=order.id,
                        product_id=None if i is None else products[i].id,
                        description="x",
                    )
                )
    async with sessions() as session:
        frame = await build_frame(session, lina, ReportFilters(), utcnow())
        rules = await association_rules(
            session, frame, start=at(2026, 10, 1, 0, 0), end=at(2026, 11, 1, 0, 0)
        )
    assert [(r.first, r.then, r.together, r.support, r.confidence, r.lift) for r in rules] == [
        ("P1", "P2", 3, Decimal("0.5000"), Decimal("0.7500"), Decimal("1.12")),
        ("P2", "P1", 3, Decimal("0.5000"), Decimal("0.7500"), Decimal("1.12")),
        ("P2", "P3", 2, Decimal("0.3333"), Decimal("0.5000"), Decimal("1.00")),
        ("P3", "P2", 2, Decimal("0.3333"), Decimal("0.6667"), Decimal("1.00")),
    ]
    result = await report(
        sessions, lina, metrics=["support", "lift"], dimensions=["product_pair"], period=LAST_MONTH
    )
    assert [(r.keys[0].label, r.values) for r in result.rows] == [
        ("P1 → P2", [Decimal("0.5000"), Decimal("1.12")]),
        ("P2 → P3", [Decimal("0.3333"), Decimal("1.00")]),
    ]


def by_month(result) -> dict[str, tuple[list, list | None]]:
    return {row.keys[0].label: (row.values, row.previous) for row in result.rows}


async def test_revenue_by_month_against_the_year_before(sessions, staffing):
    # 李娜's customer; Shanghai times. CNY unless marked:
    #   2024-12-31 23:30 400 · 2025-01-01 00:30 300 · 2025-11-24 09:00 60 · 11:00 70
    #   2025-12-31 23:30 200 · 2026-01-01 00:30 100 · 2026-03-10 1000 · 2026-11-24 09:00 50
    #   2026-01-15 500 deleted · 2026-01-16 600 cancelled
    #   USD: 2024-12-20 10 · 2025-01-20 7000 · 2025-02-20 8000 · 2025-03-01 9000 · 2026-01-20 5000
    # This year (to now, 24 Nov 10:00) has 3 CNY orders and 1 USD: shown in CNY, though last
    # year sold more in USD. Against 2025-01-01 .. 2025-11-24 10:00: Jan 300, Nov 60 (the
    # 11:00 order is after the same moment last year). 2025-12-31 23:30 is in neither.
    lina = staffing.lina
    async with sessions() as session, session.begin():
        buyer = Customer(name="买家", owner_id=lina.staff_id, team_id=lina.team_id)
        session.add(buyer)
        await session.flush()
        for when, amount, currency, extra in [
            (at(2024, 12, 31, 23, 30), 400, "CNY", {}),
            (at(2025, 1, 1, 0, 30), 300, "CNY", {}),
            (at(2025, 11, 24, 9, 0), 60, "CNY", {}),
            (at(2025, 11, 24, 11, 0), 70, "CNY", {}),
            (at(2025, 12, 31, 23, 30), 200, "CNY", {}),
            (at(2026, 1, 1, 0, 30), 100, "CNY", {}),
            (at(2026, 3, 10), 1000, "CNY", {}),
            (at(2026, 11, 24, 9, 0), 50, "CNY", {}),
            (at(2026, 1, 15), 500, "CNY", {"deleted_at": at(2026, 1, 16)}),
            (at(2026, 1, 16), 600, "CNY", {"payment_status": PaymentStatus.CANCELLED}),
            (at(2024, 12, 20), 10, "USD", {}),
            (at(2025, 1, 20), 7000, "USD", {}),
            (at(2025, 2, 20), 8000, "USD", {}),
            (at(2025, 3, 1), 9000, "USD", {}),
            (at(2026, 1, 20), 5000, "USD", {}),
        ]:
            session.add(
                Order(
                    customer_id=buyer.id,
                    ordered_at=when,
                    amount=Decimal(amount),
                    currency=currency,
                    **extra,
                )
            )
    this_year = await report(
        sessions,
        lina,
        metrics=["revenue"],
        dimensions=["month"],
        period=PeriodSpec(kind=PeriodKind.THIS_YEAR),
        compare="year_ago",
    )
    assert (this_year.currency, this_year.other_currencies) == ("CNY", ["USD"])
    months = by_month(this_year)
    assert list(months) == [f"2026-{m:02}-01" for m in range(1, 12)]
    assert {k: v for k, v in months.items() if v != ([Decimal(0)], [None])} == {
        "2026-01-01": ([Decimal("100.00")], [Decimal("300.00")]),
        "2026-03-01": ([Decimal("1000.00")], [None]),
        "2026-11-01": ([Decimal("50.00")], [Decimal("60.00")]),
    }
    assert (this_year.totals, this_year.previous_totals) == (
        [Decimal("1150.00")],
        [Decimal("360.00")],
    )
    # Across the year boundary: Dec 2025 - Jan 2026 against Dec 2024 - Jan 2025, with the
    # average order value; 2 CNY orders against 1 USD.
    winter = PeriodSpec(kind=PeriodKind.BETWEEN, start=date(2025, 12, 1), end=date(2026, 1, 31))
    cny = await report(
        sessions,
        lina,
        metrics=["revenue", "aov"],
        dimensions=["month"],
        period=winter,
        compare="year_ago",
    )
    assert (cny.currency, cny.other_currencies) == ("CNY", ["USD"])
    assert by_month(cny) == {
        "2025-12-01": (
            [Decimal("200.00"), Decimal("200.00")],
            [Decimal("400.00"), Decimal("400.00")],
        ),
        "2026-01-01": (
            [Decimal("100.00"), Decimal("100.00")],
            [Decimal("300.00"), Decimal("300.00")],
        ),
    }
    assert (cny.totals, cny.previous_totals) == (
        [Decimal("300.00"), Decimal("150.00")],
        [Decimal("700.00"), Decimal("350.00")],
    )
    usd = await report(
        sessions,
        lina,
        metrics=["revenue", "aov"],
        dimensions=["month"],
        period=winter,
        compare="year_ago",
        currency="USD",
    )
    assert (usd.currency, usd.other_currencies) == ("USD", ["CNY"])
    assert by_month(usd) == {
        "2025-12-01": ([Decimal(0), None], [Decimal("10.00"), Decimal("10.00")]),
        "2026-01-01": (
            [Decimal("5000.00"), Decimal("5000.00")],
            [Decimal("7000.00"), Decimal("7000.00")],
        ),
    }
    # No split: one pass still answers the total and the currency.
    total = await report(
        sessions, lina, metrics=["revenue"], period=PeriodSpec(kind=PeriodKind.THIS_YEAR)
    )
    assert (total.currency, [r.values for r in total.rows]) == ("CNY", [[Decimal("1150.00")]])


async def test_ranked_list_counts_every_customer_it_ranked(sessions, staffing):
    # report_shop, as the manager: October CNY revenue A 500, C 500, D 150, F 100 (E sells
    # in USD in another team). Top 2: A and C (a tie, by id); 4 ranked in all.
    await build_shop(sessions, staffing)
    top = await report(
        sessions,
        staffing.manager,
        metrics=["revenue", "orders"],
        dimensions=["customer"],
        period=LAST_MONTH,
        top_n=2,
    )
    assert [(r.keys[0].label, r.values) for r in top.rows] == [
        ("客户A", [Decimal("500.00"), Decimal(2)]),
        ("客户C", [Decimal("500.00"), Decimal(1)]),
    ]
    assert top.groups == 4
    everyone = await report(
        sessions,
        staffing.manager,
        metrics=["revenue"],
        dimensions=["customer"],
        period=LAST_MONTH,
        top_n=10,
    )
    assert (len(everyone.rows), everyone.groups) == (4, 4)
    nobody = await report(
        sessions,
        staffing.manager,
        metrics=["revenue"],
        dimensions=["customer"],
        period=PeriodSpec(kind=PeriodKind.BETWEEN, start=date(2020, 1, 1), end=date(2020, 12, 31)),
        top_n=10,
    )
    assert (nobody.rows, nobody.groups) == ([], 0)
