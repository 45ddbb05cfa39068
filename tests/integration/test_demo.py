"""load_demo: realistic, deterministic demo data in a fresh SQLite store."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from crm_core.db import create_all, make_engine
from crm_core.demo import DemoSummary, load_demo
from crm_core.models import (
    Channel,
    Customer,
    CustomerSearchKey,
    Feedback,
    FeedbackKind,
    FeedbackStatus,
    Interaction,
    Order,
    OrderItem,
    Product,
    Reminder,
    ReminderSource,
    ReminderStatus,
    Role,
    SearchKind,
    Staff,
    StaffIdentity,
    Team,
)

NOW = datetime(2025, 6, 18, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai
SHANGHAI = timedelta(hours=8)


async def fresh_engine(path: Path) -> AsyncEngine:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await create_all(engine)
    return engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await fresh_engine(tmp_path / "t.db")
    yield engine
    await engine.dispose()


@pytest.fixture
async def demo(engine: AsyncEngine) -> DemoSummary:
    return await load_demo(engine, now=NOW)


async def rows(engine: AsyncEngine, stmt: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(stmt)).all())


def table(model: type[SQLModel]) -> Any:
    return model.__table__  # type: ignore[attr-defined]


async def test_summary_counts_match_the_tables(engine: AsyncEngine, demo: DemoSummary) -> None:
    expected = {
        Team: demo.teams,
        Staff: demo.staff,
        Customer: demo.customers,
        Order: demo.orders,
        OrderItem: demo.order_items,
        Interaction: demo.interactions,
        Feedback: demo.feedback,
        Reminder: demo.reminders,
        Product: demo.products,
        CustomerSearchKey: demo.search_keys,
    }
    for model, count in expected.items():
        [(stored,)] = await rows(engine, select(func.count()).select_from(table(model)))
        assert stored == count, model.__name__
    assert (demo.teams, demo.staff, demo.customers) == (2, 6, 300)
    assert demo.orders > demo.customers and demo.interactions > demo.customers
    assert demo.feedback > 0 and demo.reminders > 0 and demo.products >= 15


async def test_every_staff_member_can_chat_in_the_console(
    engine: AsyncEngine, demo: DemoSummary
) -> None:
    s, i = table(Staff).c, table(StaffIdentity).c
    found = await rows(
        engine,
        select(s.name, s.role, i.channel, i.external_id).join_from(
            table(Staff), table(StaffIdentity), i.staff_id == s.id
        ),
    )
    assert {(name, role) for name, role, _, _ in found} == {
        ("Admin", Role.ADMIN),
        ("王经理", Role.MANAGER),
        ("Emma Li", Role.MANAGER),
        ("李娜", Role.REP),
        ("陈明", Role.REP),
        ("Tom Wu", Role.REP),
    }
    assert all(channel == Channel.CONSOLE and ext == name for name, _, channel, ext in found)


async def test_same_seed_gives_the_same_customers(tmp_path: Path) -> None:
    names = []
    for run, seed in enumerate((7, 7, 8)):
        engine = await fresh_engine(tmp_path / f"run{run}.db")
        await load_demo(engine, customers=200, seed=seed, now=NOW)
        c = table(Customer).c
        names.append([n for (n,) in await rows(engine, select(c.name).order_by(c.id))])
        await engine.dispose()
    assert names[0] == names[1]
    assert names[0] != names[2]  # another seed, other people
    assert names[2][:2] == ["张伟", "Jane Smith"]  # the fixed customers come with every seed


async def test_zhang_wei_is_there_and_findable(engine: AsyncEngine, demo: DemoSummary) -> None:
    c, k = table(Customer).c, table(CustomerSearchKey).c
    [zhang] = await rows(
        engine, select(table(Customer)).where(c.name == "张伟", c.company == "华信科技")
    )
    assert zhang.phones == ["+8613800138000"]
    assert zhang.emails == ["zhangwei@huaxin.example"]
    assert zhang.tags == ["VIP"] and zhang.city == "上海" and zhang.birthday is not None
    for kind, key in ((SearchKind.PINYIN, "zhangwei"), (SearchKind.PHONE_LAST4, "8000")):
        found = await rows(engine, select(k.customer_id).where(k.key == key, k.kind == kind))
        assert zhang.id in {cid for (cid,) in found}
    [jane] = await rows(engine, select(table(Customer)).where(c.name == "Jane Smith"))
    assert jane.phones == ["+14155550132"] and jane.company == "Acme Corp"


async def test_every_customer_has_search_keys(engine: AsyncEngine, demo: DemoSummary) -> None:
    k = table(CustomerSearchKey).c
    keyed = await rows(engine, select(func.count(func.distinct(k.customer_id))))
    assert keyed == [(demo.customers,)]


async def test_orders_span_two_years_busiest_at_year_end(
    engine: AsyncEngine, demo: DemoSummary
) -> None:
    o = table(Order).c
    times = [t for (t,) in await rows(engine, select(o.ordered_at))]
    assert NOW - timedelta(days=731) <= min(times) <= NOW - timedelta(days=700)
    assert NOW - timedelta(days=7) <= max(times) <= NOW
    per_month = Counter((t + SHANGHAI).month for t in times)
    assert (per_month[11] + per_month[12]) / 2 > 1.5 * per_month[2]


async def test_order_amounts_add_up(engine: AsyncEngine, demo: DemoSummary) -> None:
    o, i = table(Order).c, table(OrderItem).c
    lines = (
        select(i.order_id, func.sum(i.quantity * i.unit_price).label("total"))
        .group_by(i.order_id)
        .subquery()
    )
    pairs = await rows(
        engine,
        select(o.amount, lines.c.total).join_from(table(Order), lines, lines.c.order_id == o.id),
    )
    assert len(pairs) == demo.orders
    assert all(abs(amount - total) < 0.01 for amount, total in pairs)
    currencies = await rows(engine, select(o.currency).distinct())
    assert {cur for (cur,) in currencies} == {"CNY", "USD"}


async def test_reminders_are_overdue_today_and_upcoming(
    engine: AsyncEngine, demo: DemoSummary
) -> None:
    r = table(Reminder).c
    found = await rows(engine, select(r.due_at, r.status, r.kind, r.source))
    assert all(row[1:] == (ReminderStatus.OPEN, "followup", ReminderSource.MANUAL) for row in found)
    dues = [due for due, *_ in found]
    today = (NOW + SHANGHAI).date()
    assert any(due < NOW - timedelta(days=1) for due in dues)
    assert any((due + SHANGHAI).date() == today for due in dues)
    assert any((due + SHANGHAI).date() > today for due in dues)


async def test_customers_are_owned_by_a_rep_of_their_team(
    engine: AsyncEngine, demo: DemoSummary
) -> None:
    c, s = table(Customer).c, table(Staff).c
    owners = await rows(
        engine,
        select(c.team_id, s.team_id, s.role).join_from(
            table(Customer), table(Staff), s.id == c.owner_id, isouter=True
        ),
    )
    assert len(owners) == demo.customers
    assert all(
        role == Role.REP and team is not None and team == staff_team
        for team, staff_team, role in owners
    )


async def test_last_activity_is_the_latest_order_or_interaction(
    engine: AsyncEngine, demo: DemoSummary
) -> None:
    c, o, i = table(Customer).c, table(Order).c, table(Interaction).c
    latest: dict[int, datetime] = {}
    for stmt in (
        select(o.customer_id, func.max(o.ordered_at)).group_by(o.customer_id),
        select(i.customer_id, func.max(i.occurred_at)).group_by(i.customer_id),
    ):
        for cid, when in await rows(engine, stmt):
            latest[cid] = max(latest.get(cid, when), when)
    customers = await rows(engine, select(c.id, c.last_activity_at, c.created_at))
    wrong = [cid for cid, last, created in customers if last != latest[cid] or created > last]
    assert wrong == []


async def test_feedback_has_scores_and_cases_to_act_on(
    engine: AsyncEngine, demo: DemoSummary
) -> None:
    f = table(Feedback).c
    found = await rows(engine, select(f.kind, f.score, f.status, f.resolution))
    scores = [score for kind, score, *_ in found if kind == FeedbackKind.NPS]
    assert scores and all(0 <= s <= 10 for s in scores)
    assert {FeedbackKind.NPS, FeedbackKind.COMPLAINT} <= {kind for kind, *_ in found}
    assert any(status == FeedbackStatus.OPEN for _, _, status, _ in found)
    assert any(status == FeedbackStatus.RESOLVED and fix for _, _, status, fix in found)
