"""Known answers for the report query shapes tuned for speed (products bought together in
one statement; revenue by month against the year before), worked out on paper below, on
SQLite and PostgreSQL. Now is Tuesday 24 November 2026, 10:00 in Shanghai."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from report_shop import NOW, at

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
