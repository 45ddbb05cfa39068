"""Known-answer tests: a small dataset built by hand, every KPI worked out on paper below,
and the report engine must return exactly that, on SQLite and PostgreSQL.

Now is Tuesday 24 November 2026, 10:00 in Shanghai. "Last month" is October 2026 (Shanghai
days), the previous period September 2026.

Team 华东 (manager 王经理, reps 李娜 and 陈明); team Global (rep Tom). Valid orders (¥):
  A 李娜 上海: Sep 10 100 · Oct 5 200 · Oct 20 300   (+ Oct 6 5000 deleted)
  B 李娜 杭州: Sep 15 400
  C 陈明 上海: Oct 12 500                             (first order ever: new in October)
  D 陈明 上海: Sep 1 50 · Oct 30 150 · Nov 1 00:30 70 (+ Oct 31 23:30 999 cancelled)
  F 李娜 杭州: 2025-10-10 800 · 2026-10-08 100
  G 李娜 上海: 2025-06-01 300
  E Tom New York: Oct 3 $1000
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from report_shop import NOW, at, build_shop

from crm_core.analytics import kpis, lifetime
from crm_core.analytics.basket import next_best_products
from crm_core.analytics.catalogue import Dimension, Metric
from crm_core.analytics.frame import ReportFilters, build_frame
from crm_core.analytics.periods import PeriodKind, PeriodSpec
from crm_core.analytics.seasonality import seasonality
from crm_core.analytics.tiers import recompute_tiers
from crm_core.clock import utcnow
from crm_core.models import (
    Customer,
    Interaction,
    InteractionKind,
    Order,
    OrderItem,
    Product,
    Stage,
)
from crm_core.reports import Comparison, ReportQuery, run_report

LAST_MONTH = PeriodSpec(kind=PeriodKind.LAST_MONTH)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
async def shop(sessions, staffing):
    return await build_shop(sessions, staffing)


async def report(sessions, actor, **query):
    async with sessions() as session:
        return await run_report(
            session=session, actor=actor, query=ReportQuery(**query), now=utcnow()
        )


def by_label(result) -> dict[str, list[Decimal | None]]:
    return {" · ".join(k.label for k in row.keys): row.values for row in result.rows}


async def test_order_kpis_last_month(sessions, staffing, shop):
    # Team 华东, October: A 200+300, C 500, D 150 (the cancelled 999 and the Nov 1 00:30
    # order are out), F 100 -> 1250 over 5 orders; AOV 250; active A, C, D, F = 4;
    # repurchase: only A ordered twice -> 1/4; new: only C had no earlier order -> 1.
    result = await report(
        sessions,
        staffing.manager,
        metrics=[
            "revenue",
            "orders",
            "aov",
            "active_customers",
            "repurchase_rate",
            "new_customers",
        ],
        period=LAST_MONTH,
    )
    assert result.totals == [
        Decimal("1250.00"),
        Decimal(5),
        Decimal("250.00"),
        Decimal(4),
        Decimal("0.2500"),
        Decimal(1),
    ]
    assert (result.period.first_day.isoformat(), result.period.last_day.isoformat()) == (
        "2026-10-01",
        "2026-10-31",
    )
    assert result.currency == "CNY" and result.other_currencies == []


async def test_retention_and_churn(sessions, staffing, shop):
    # September buyers: A, B, D. Of them A and D bought again in October: 2/3 retained.
    result = await report(
        sessions, staffing.manager, metrics=["retention_rate", "churn_rate"], period=LAST_MONTH
    )
    assert result.totals == [Decimal("0.6667"), Decimal("0.3333")]
    # By month over Oct-Nov: October as above; November's base is October's buyers
    # A, C, D, F, of whom only D (Nov 1 00:30 Shanghai) came back: 1/4.
    monthly = await report(
        sessions,
        staffing.manager,
        metrics=["retention_rate"],
        dimensions=["month"],
        period={"kind": "last_months", "n": 2},
    )
    assert by_label(monthly) == {
        "2026-10-01": [Decimal("0.6667")],
        "2026-11-01": [Decimal("0.2500")],
    }


async def test_nps_csat_and_interactions(sessions, staffing, shop):
    # NPS, October, team 华东: 10, 9, 9, 7, 3 -> 3 promoters, 1 detractor of 5 -> 40.0
    # (September's 0, the deleted 0 and team Global's 0 are out).
    # CSAT: reviews 8, 7, 10, 4 -> two of four score 8 or more -> 50%.
    # Interactions: A twice, C once (Oct 1 00:05 Shanghai); deleted and November ones out.
    result = await report(
        sessions, staffing.manager, metrics=["nps", "csat", "interactions"], period=LAST_MONTH
    )
    assert result.totals == [Decimal("40.0"), Decimal("0.5000"), Decimal(3)]


async def test_lifetime_value(sessions, staffing, shop):
    # Historical CLV at 1 Nov 00:00: A 600, B 400, C 500, D 200, F 900, G 300 -> 2900 / 6.
    # Predicted: last 365 days A 600, B 400, C 500, D 200, F 100 -> 1800 / 5 = 360 a year;
    # the year before, F and G bought; G never came back -> yearly churn 1/2 -> 2 years.
    result = await report(
        sessions,
        staffing.manager,
        metrics=["clv_historical", "clv_predicted"],
        period=LAST_MONTH,
    )
    assert result.totals == [Decimal("483.33"), Decimal("720.00")]


async def test_lifetime_value_by_rep_in_each_currency(sessions, staffing, shop):
    # G also paid $50 on 2025-07-01: two currencies, still one customer in the yearly churn.
    # At 1 Nov 00:00, in ¥: 李娜 A 600, B 400, F 900, G 300 -> 2200 / 4; 陈明 C 500, D 200
    # -> 700 / 2; Tom sold only in $. Last 365 days: 李娜 A 600, B 400, F 100 -> 1100 / 3,
    # 陈明 700 / 2; churn: F and G bought the year before last, G never came back -> 2 years.
    async with sessions() as session, session.begin():
        session.add(
            Order(customer_id=shop["G"], ordered_at=at(2025, 7, 1), amount=50, currency="USD")
        )
    clv = {"metrics": ["clv_historical", "clv_predicted"], "period": LAST_MONTH}
    yuan = await report(sessions, staffing.admin, dimensions=["rep"], **clv)
    assert by_label(yuan) == {
        "李娜": [Decimal("550.00"), Decimal("733.33")],
        "陈明": [Decimal("350.00"), Decimal("700.00")],
    }
    assert yuan.totals == [Decimal("483.33"), Decimal("720.00")]
    assert (yuan.currency, yuan.other_currencies) == ("CNY", ["USD"])
    # In $: G's 50 (nothing in the last year) and E's 1000 (October 2026).
    dollars = await report(sessions, staffing.admin, dimensions=["rep"], currency="USD", **clv)
    assert by_label(dollars) == {
        "李娜": [Decimal("50.00"), None],
        "Tom": [Decimal("1000.00"), Decimal("2000.00")],
    }
    assert dollars.other_currencies == ["CNY"]
    tom = await report(sessions, staffing.tom, **clv)
    assert tom.currency == "USD" and tom.totals == [Decimal("1000.00"), Decimal("5000.00")]


async def test_lifetime_value_in_one_pass_matches_the_metric_definitions(sessions, staffing, shop):
    # The one-pass lifetime query against each metric's own SQL (kpis.BUILDERS).
    async with sessions() as session, session.begin():
        session.add(
            Order(customer_id=shop["G"], ordered_at=at(2025, 7, 1), amount=50, currency="USD")
        )
        session.add(Order(customer_id=shop["E"], ordered_at=at(2025, 2, 1), amount=70))
    end = at(2026, 11, 1, 0, 0)
    for actor in (staffing.admin, staffing.manager, staffing.lina, staffing.tom):
        for dims in ([], [Dimension.REP], [Dimension.CITY, Dimension.TEAM]):
            for currency in ("CNY", "USD"):
                async with sessions() as session:
                    frame = await build_frame(session, actor, ReportFilters(), utcnow())
                    frame = frame.in_currency(currency)
                    one = await lifetime.measure(
                        session, frame, dims, end=end, since=end - kpis.YEAR, currency=currency
                    )
                    for metric in (Metric.CLV_HISTORICAL, Metric.CLV_PREDICTED):
                        alone = await kpis.measure(
                            session, metric, frame, kpis.Grouping(dims), end, end
                        )
                        assert one.values[metric] == alone, (actor, dims, currency, metric)


async def test_splits_and_comparison(sessions, staffing, shop):
    result = await report(
        sessions,
        staffing.manager,
        metrics=["revenue"],
        dimensions=["rep"],
        period=LAST_MONTH,
        compare=Comparison.PREVIOUS,
    )
    # 李娜: A 500 + F 100; 陈明: C 500 + D 150. September: 李娜 A 100 + B 400, 陈明 D 50.
    assert by_label(result) == {"陈明": [Decimal("650.00")], "李娜": [Decimal("600.00")]}
    assert {r.keys[0].label: r.previous for r in result.rows} == {
        "陈明": [Decimal("50.00")],
        "李娜": [Decimal("500.00")],
    }
    assert result.previous_totals == [Decimal("550.00")]
    cities = await report(
        sessions, staffing.manager, metrics=["revenue"], dimensions=["city"], period=LAST_MONTH
    )
    assert by_label(cities) == {"上海": [Decimal("1150.00")], "杭州": [Decimal("100.00")]}


async def test_day_boundaries_follow_the_actor_timezone(sessions, staffing, shop):
    # D's order at 00:30 on 1 November (Shanghai) is 16:30 UTC on 31 October: November.
    result = await report(sessions, staffing.manager, metrics=["revenue"])
    assert result.totals == [Decimal("70.00")]


async def test_scope_rep_manager_other_team_admin(sessions, staffing, shop):
    top = {"metrics": ["revenue"], "dimensions": ["customer"], "period": LAST_MONTH, "top_n": 10}
    lina = await report(sessions, staffing.lina, **top)
    assert by_label(lina) == {"客户A": [Decimal("500.00")], "客户F": [Decimal("100.00")]}
    assert lina.scope == "own"
    lina_total = await report(sessions, staffing.lina, metrics=["revenue"], period=LAST_MONTH)
    assert lina_total.totals == [Decimal("600.00")]
    chen = await report(sessions, staffing.chen, **top)
    assert set(by_label(chen)) == {"客户C", "客户D"}
    tom = await report(sessions, staffing.tom, **top)
    assert by_label(tom) == {"客户E": [Decimal("1000.00")]} and tom.currency == "USD"
    manager = await report(sessions, staffing.manager, **top)
    assert set(by_label(manager)) == {"客户A", "客户C", "客户D", "客户F"}
    admin = await report(sessions, staffing.admin, metrics=["revenue"], period=LAST_MONTH)
    assert admin.totals == [Decimal("1250.00")] and admin.other_currencies == ["USD"]
    dollars = await report(
        sessions, staffing.admin, metrics=["revenue"], period=LAST_MONTH, currency="USD"
    )
    assert dollars.totals == [Decimal("1000.00")]
    # A rep asking about a colleague's customers by filter still sees only their own.
    filtered = await report(
        sessions, staffing.lina, metrics=["revenue"], period=LAST_MONTH, filters={"reps": ["陈明"]}
    )
    assert filtered.totals == [None]


async def test_days_since_last_order_list(sessions, staffing, shop):
    result = await report(
        sessions,
        staffing.manager,
        metrics=["days_since_last_order"],
        dimensions=["customer"],
        period={"kind": "today"},
        top_n=2,
    )
    # The longest silent first: G (2025-06-01, 541 days), then F's... no: B (Sep 15, 70 days).
    assert by_label(result) == {"客户G": [Decimal(541)], "客户B": [Decimal(70)]}
    assert result.groups == 6


async def test_tiers_are_stored_and_explained(sessions, staffing, shop):
    run = await recompute_tiers(sessions, utcnow())
    assert run.customers == 7
    async with sessions() as session:
        g = await session.get(Customer, shop["G"])
        c = await session.get(Customer, shop["C"])
    assert g.tier == "dormant" and '"days_since_last_order":541' in g.tier_reason
    assert c.tier == "new" and c.risk == "low"
    again = await recompute_tiers(sessions, utcnow())
    assert again.changed == 0  # nothing new: nothing written


async def test_basket_lift_known_answer(sessions, staffing):
    # Five orders: {P1,P2} {P1,P2} {P1} {P3} {P2,P3}. P1 in 3, P2 in 3, P3 in 2.
    # P1 & P2 together 2 -> support 2/5, confidence 2/3, lift (2/3)/(3/5) = 1.11.
    # P2 & P3 together once: below the minimum of 2, not a rule.
    async with sessions() as session, session.begin():
        customer = Customer(
            name="买家", owner_id=staffing.lina.staff_id, team_id=staffing.lina.team_id
        )
        products = [Product(name=f"P{i}", category="耗材") for i in (1, 2, 3)]
        session.add_all([customer, *products])
        await session.flush()
        for basket in ((0, 1), (0, 1), (0,), (2,), (1, 2)):
            order = Order(customer_id=customer.id, ordered_at=at(2026, 10, 10), amount=Decimal(10))
            session.add(order)
            await session.flush()
            for i in basket:
                session.add(
                    OrderItem(order_id=order.id, product_id=products[i].id, description="x")
                )
    result = await report(
        sessions,
        staffing.lina,
        metrics=["support", "confidence", "lift"],
        dimensions=["product_pair"],
        period=LAST_MONTH,
    )
    assert [(r.keys[0].label, r.values) for r in result.rows] == [
        ("P1 → P2", [Decimal("0.4000"), Decimal("0.6667"), Decimal("1.11")])
    ]


async def test_next_best_product(sessions, staffing):
    # Rules from the last year: P1 -> P2 (confidence 2/3, lift 1.11). Someone who bought
    # only P1, long ago (outside the rules' year), should be offered P2.
    async with sessions() as session, session.begin():
        buyer = Customer(
            name="买家", owner_id=staffing.lina.staff_id, team_id=staffing.lina.team_id
        )
        newcomer = Customer(
            name="新买家", owner_id=staffing.lina.staff_id, team_id=staffing.lina.team_id
        )
        products = [Product(name=f"P{i}", category="耗材") for i in (1, 2, 3)]
        session.add_all([buyer, newcomer, *products])
        await session.flush()
        baskets = [(buyer, (0, 1)), (buyer, (0, 1)), (buyer, (0,)), (buyer, (2,)), (buyer, (1, 2))]
        for who, basket in [*baskets, (newcomer, (0,))]:
            when = at(2025, 6, 1) if who is newcomer else at(2026, 10, 10)
            order = Order(customer_id=who.id, ordered_at=when, amount=Decimal(10))
            session.add(order)
            await session.flush()
            for i in basket:
                session.add(
                    OrderItem(order_id=order.id, product_id=products[i].id, description="x")
                )
    async with sessions() as session:
        [offer] = await next_best_products(
            session=session, actor=staffing.lina, customer_id=newcomer.id, now=utcnow()
        )
    assert (offer.product, offer.because, offer.confidence, offer.lift) == (
        "P2",
        "P1",
        Decimal("0.6667"),
        Decimal("1.11"),
    )


async def test_seasonality_of_a_customer(sessions, staffing, shop):
    # A bought in September (1) and October (2) 2026: 3 orders, 0.25 a month on average.
    async with sessions() as session:
        found = await seasonality(
            session=session, actor=staffing.lina, now=utcnow(), customer_id=shop["A"]
        )
    assert [(m.month, m.orders) for m in found.months if m.orders] == [(9, 1), (10, 2)]
    assert found.peak_months == [9, 10]
    assert found.months[9].index == Decimal("8.00")


async def test_lead_score_points_and_reasons(sessions, staffing):
    # Warm: touched 3 days ago (+20), 2 touches in 30 days (+10), a meeting (+15) with a
    # positive outcome (+15), referral (+15), prospect (+10), CEO (+10) = 95.
    # Cold: never touched (-20), do not contact (-50) = -70. Customers are not scored.
    lina = staffing.lina
    async with sessions() as session, session.begin():
        warm = Customer(
            name="热线索",
            owner_id=lina.staff_id,
            team_id=lina.team_id,
            stage=Stage.PROSPECT,
            source="referral",
            title="CEO",
        )
        cold = Customer(
            name="冷线索", owner_id=lina.staff_id, team_id=lina.team_id, do_not_contact=True
        )
        buyer = Customer(
            name="老客户", owner_id=lina.staff_id, team_id=lina.team_id, stage=Stage.CUSTOMER
        )
        session.add_all([warm, cold, buyer])
        await session.flush()
        session.add(
            Interaction(
                customer_id=warm.id,
                summary="见面",
                kind=InteractionKind.MEETING,
                outcome="有意向",
                occurred_at=at(2026, 11, 21),
            )
        )
        session.add(Interaction(customer_id=warm.id, summary="电话", occurred_at=at(2026, 11, 2)))
    result = await report(sessions, lina, metrics=["lead_score"], dimensions=["customer"])
    assert by_label(result) == {"热线索": [Decimal(95)], "冷线索": [Decimal(-70)]}
    assert [row.keys[0].label for row in result.rows] == ["热线索", "冷线索"]
    reasons = {s.code: s.points for s in result.rows[0].signals}
    assert reasons == {
        "touched_14d": 20,
        "touches_30d": 10,
        "met_90d": 15,
        "positive_90d": 15,
        "referral": 15,
        "prospect": 10,
        "decision_maker": 10,
    }
