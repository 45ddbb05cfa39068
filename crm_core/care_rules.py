"""Care rules: the daily scan over every customer, and the same rules run right after the
events that trigger them (an order recorded, an interaction logged, feedback resolved).

Each rule makes a reminder for the customer's owner with a readable reason; its cause_key
(unique) makes a rule fire once per cause however often it is evaluated, by how many
processes. The rules are in crm_core/care/rules.py, the per-team settings in
crm_core/care/policy.py, contact-frequency control in crm_core/care/contact.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.care import candidates
from crm_core.care.candidates import ScanBounds
from crm_core.care.contact import TouchLedger, control
from crm_core.care.policy import CUSTOMER_FACING, CareKind, CarePolicy, policy_of
from crm_core.care.reasons import reason
from crm_core.care.rules import (
    CustomerFacts,
    FeedbackFacts,
    OrderFacts,
    RuleWindow,
    Touch,
    cadence_touch,
    checkin_touches,
    date_touches,
    feedback_touches,
    order_followups,
    order_touches,
    winback_touch,
)
from crm_core.clock import utcnow
from crm_core.db import read_only_sessions
from crm_core.models import (
    Customer,
    Feedback,
    FeedbackKind,
    FeedbackStatus,
    Order,
    Reminder,
    ReminderSource,
    ReminderStatus,
    Role,
    Staff,
    Team,
)
from crm_core.settings import get_settings

GRACE = timedelta(hours=24)
# A rule's reminder is made once it falls due within this horizon, by the daily scan or by
# the event that re-evaluates the rule: reminders months ahead would only clutter the lists.
SCAN_HORIZON = timedelta(days=2)
_CHUNK = 500
_COMPLAINTS = (FeedbackKind.COMPLAINT, FeedbackKind.RETURN)


@dataclass
class ScanResult:
    customers: int = 0
    created: Counter[str] = field(default_factory=Counter)
    held: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


@dataclass(frozen=True)
class _TeamSetup:
    policy: CarePolicy
    timezone: str
    language: str
    manager_id: int | None


def _facts(row: Any) -> CustomerFacts:
    return CustomerFacts(
        id=row.id,
        name=row.name,
        owner_id=row.owner_id,
        team_id=row.team_id,
        tier=row.tier,
        tags=list(row.tags or ()),
        birthday=row.birthday,
        anniversary=row.anniversary,
        created_at=row.created_at,
        last_contact_at=row.last_contact_at,
        do_not_contact=bool(row.do_not_contact),
        stage=row.stage,
        preferred_channel=row.preferred_channel,
    )


_CUSTOMER_COLUMNS = (
    Customer.id,
    Customer.name,
    Customer.owner_id,
    Customer.team_id,
    Customer.tier,
    Customer.tags,
    Customer.birthday,
    Customer.anniversary,
    Customer.created_at,
    Customer.last_contact_at,
    Customer.do_not_contact,
    Customer.stage,
    Customer.preferred_channel,
)


async def _team_setups(
    session: AsyncSession, *, only_team: int | None = None
) -> dict[int | None, _TeamSetup]:
    """Every team's policy, zone, language and manager (the scan); with `only_team`, just
    that team's (an event about one customer), plus the defaults under None."""
    settings = get_settings()
    managers: dict[int | None, int] = {}
    manager_stmt = (
        select(Staff.team_id, Staff.id)  # type: ignore[call-overload]
        .where(Staff.role == Role.MANAGER, col(Staff.active))
        .order_by(col(Staff.id))
    )
    team_stmt = select(Team)
    if only_team is not None:
        manager_stmt = manager_stmt.where(Staff.team_id == only_team)
        team_stmt = team_stmt.where(Team.id == only_team)
    for team_id, staff_id in (await session.exec(manager_stmt)).all():
        managers.setdefault(team_id, staff_id)
    setups: dict[int | None, _TeamSetup] = {
        None: _TeamSetup(CarePolicy(), settings.timezone, settings.language, None)
    }
    for team in (await session.exec(team_stmt)).scalars().all():  # type: ignore[attr-defined]
        setups[team.id] = _TeamSetup(
            policy_of(team), team.timezone, team.language, managers.get(team.id)
        )
    return setups


def _window(setup: _TeamSetup, now: datetime, horizon: timedelta) -> RuleWindow:
    return RuleWindow(
        now=now, start=now - GRACE, end=now + horizon, policy=setup.policy, timezone=setup.timezone
    )


def _row(touch: Touch, setup: _TeamSetup, held: str | None, now: datetime) -> dict[str, Any] | None:
    c = touch.customer
    owner = setup.manager_id if touch.to_manager else (c.owner_id or setup.manager_id)
    if owner is None:
        return None  # nobody to tell; the digest's unowned list is where such customers show
    channel = c.preferred_channel if touch.kind in CUSTOMER_FACING else None
    return {
        "owner_id": owner,
        "customer_id": c.id,
        "due_at": touch.due_at,
        "kind": touch.kind.value,
        "text": reason(touch.kind, setup.language, channel=channel, name=c.name, **touch.params),
        "status": ReminderStatus.HELD if held else ReminderStatus.OPEN,
        "source": ReminderSource.RULE,
        "cause_key": touch.cause_key,
        "created_at": now,
        "held_reason": held,
    }


def _insert_ignoring_duplicates(dialect: str) -> Any:
    """INSERT … ON CONFLICT (cause_key) DO NOTHING: two scans racing make each reminder once.

    Executed with a list of rows (executemany): compiled once and sent in batches, where a
    multi-row `.values(rows)` would be compiled afresh for every chunk (9 s per 20k rows).
    """
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Reminder.__table__  # type: ignore[attr-defined]
    return (
        make(table)
        .on_conflict_do_nothing(index_elements=["cause_key"])
        .returning(table.c.id, table.c.kind, table.c.status)
    )


async def _existing_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        stmt = select(Reminder.cause_key).where(col(Reminder.cause_key).in_(keys[i : i + _CHUNK]))
        found.update((await session.exec(stmt)).scalars().all())  # type: ignore[attr-defined]
    return found


async def _planned_touches(
    session: AsyncSession,
    ledger: TouchLedger,
    *,
    since: datetime,
    until: datetime,
    customer_id: int | None = None,
) -> None:
    """Customer touches rules already planned near the window, for the cap."""
    stmt = select(Reminder.customer_id, Reminder.due_at).where(
        Reminder.source == ReminderSource.RULE,
        col(Reminder.kind).in_([k.value for k in CUSTOMER_FACING]),
        col(Reminder.status).in_(
            [ReminderStatus.OPEN, ReminderStatus.SNOOZED, ReminderStatus.DONE]
        ),
        Reminder.due_at >= since,
        Reminder.due_at <= until,
    )
    if customer_id is not None:
        stmt = stmt.where(Reminder.customer_id == customer_id)
    for cid, due in (await session.exec(stmt)).all():
        if cid is not None:
            ledger.add_planned(cid, due)


async def _apply(
    session: AsyncSession,
    touches: Iterable[tuple[Touch, _TeamSetup]],
    ledger: TouchLedger,
    result: ScanResult,
    now: datetime,
) -> list[int]:
    """Frequency control, then insert the new touches (those whose cause is new)."""
    pending = list(touches)
    existing = await _existing_keys(session, [t.cause_key for t, _ in pending])
    # Earliest first, so the cap keeps the touch that comes first.
    pending.sort(key=lambda pair: (pair[0].due_at, pair[0].kind.value))
    rows = []
    for touch, setup in pending:
        if touch.cause_key in existing:
            continue
        existing.add(touch.cause_key)
        held = control(touch, setup.policy, setup.timezone, ledger)
        row = _row(touch, setup, held, now)
        if row is not None:
            rows.append(row)
    if not rows:
        return []
    conn = await session.connection()
    inserted = await conn.execute(_insert_ignoring_duplicates(conn.dialect.name), rows)
    ids = []
    for rid, kind, status in inserted.all():
        ids.append(rid)
        (result.held if status == ReminderStatus.HELD else result.created)[kind] += 1
    return ids


# --- the daily scan -----------------------------------------------------------------------


async def _stream(conn: AsyncConnection, stmt: Any, size: int = 5000) -> Any:
    result = await conn.stream(stmt)
    async for partition in result.partitions(size):
        for row in partition:
            yield row


async def _order_rows(conn: AsyncConnection, stmt: Any) -> Any:
    """(customer id, that customer's OrderFacts oldest first) for each customer in `stmt`."""
    current: int | None = None
    bought: list[OrderFacts] = []
    async for row in _stream(conn, stmt):
        if row.customer_id != current:
            if bought:
                yield current, bought
            current, bought = row.customer_id, []
        bought.append(OrderFacts(row.id, row.ordered_at, row.payment_status, row.due_date))
    if bought:
        yield current, bought


async def scan(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime | None = None
) -> ScanResult:
    """Evaluate every rule for every customer; create what falls due before tomorrow ends.

    Streaming reads (customers; the few orders each order rule can act on, chosen in SQL;
    complaints) feed the pure rules in one read-only transaction, which on SQLite holds no
    write lock; the new reminders are then written in one short transaction.
    """
    started = time.perf_counter()
    now = now or utcnow()
    result = ScanResult()
    touches: list[tuple[Touch, _TeamSetup]] = []
    ledger = TouchLedger()
    async with read_only_sessions(sessions)() as session, session.begin():
        setups = await _team_setups(session)
        windows = {tid: _window(s, now, SCAN_HORIZON) for tid, s in setups.items()}
        conn = await session.connection()
        customers: dict[int, CustomerFacts] = {}
        alive = col(Customer.deleted_at).is_(None)
        async for row in _stream(conn, select(*_CUSTOMER_COLUMNS).where(alive)):
            c = _facts(row)
            customers[c.id] = c
            ledger.add_contact(c.id, c.last_contact_at)
            setup, window = (
                setups.get(c.team_id, setups[None]),
                windows.get(c.team_id, windows[None]),
            )
            touches.extend((t, setup) for t in date_touches(c, window))
            touch = cadence_touch(c, window)
            if touch is not None:
                touches.append((touch, setup))
        result.customers = len(customers)

        def of(customer_id: int) -> tuple[CustomerFacts, _TeamSetup, RuleWindow] | None:
            c = customers.get(customer_id)
            if c is None:
                return None
            return c, setups.get(c.team_id, setups[None]), windows.get(c.team_id, windows[None])

        any_window = windows[None]
        bounds = ScanBounds.of(
            (s.policy for s in setups.values()), now, any_window.start, any_window.end
        )
        async for customer_id, bought in _order_rows(conn, candidates.first_orders(bounds)):
            if (known := of(customer_id)) is not None:
                c, setup, window = known
                touches.extend((t, setup) for t in checkin_touches(c, bought[0], window))
        async for customer_id, bought in _order_rows(conn, candidates.followup_orders(bounds)):
            if (known := of(customer_id)) is not None:
                c, setup, window = known
                for order in bought:
                    touches.extend((t, setup) for t in order_followups(c, order, window))
        winback = candidates.winback_orders(bounds, conn.dialect.name)
        async for customer_id, bought in _order_rows(conn, winback):
            if (known := of(customer_id)) is not None:
                c, setup, window = known
                touch = winback_touch(c, bought, window) if window.on(CareKind.WINBACK) else None
                if touch is not None:
                    touches.append((touch, setup))

        oldest_resolution = now - GRACE - timedelta(days=400)
        complaints = select(
            Feedback.id,
            Feedback.customer_id,
            Feedback.created_at,
            Feedback.resolved_at,
            Feedback.status,
        ).where(
            col(Feedback.kind).in_(_COMPLAINTS),
            col(Feedback.deleted_at).is_(None),
            or_(
                Feedback.status != FeedbackStatus.RESOLVED,
                and_(
                    col(Feedback.resolved_at).is_not(None),
                    Feedback.resolved_at >= oldest_resolution,
                ),
            ),
        )
        async for row in _stream(conn, complaints):
            if (known := of(row.customer_id)) is None:
                continue
            c, setup, window = known
            fb = FeedbackFacts(
                row.id, row.created_at, row.resolved_at, row.status == FeedbackStatus.RESOLVED
            )
            touches.extend((t, setup) for t in feedback_touches(c, fb, window))

    # The cap's ledger and the duplicate check see what is committed by now.
    async with sessions() as session, session.begin():
        reach = timedelta(days=max(s.policy.touch_window_days for s in setups.values()))
        await _planned_touches(
            session, ledger, since=now - GRACE - reach, until=now + SCAN_HORIZON + reach
        )
        await _apply(session, touches, ledger, result, now)
    result.seconds = time.perf_counter() - started
    return result


# --- right after the events ----------------------------------------------------------------


async def _one_customer(
    session: AsyncSession, customer: Customer, now: datetime
) -> tuple[CustomerFacts, _TeamSetup, RuleWindow, TouchLedger]:
    setups = await _team_setups(session, only_team=customer.team_id)
    setup = setups.get(customer.team_id, setups[None])
    facts = _facts(customer)
    ledger = TouchLedger()
    ledger.add_contact(facts.id, facts.last_contact_at)
    reach = timedelta(days=setup.policy.touch_window_days)
    await _planned_touches(
        session,
        ledger,
        since=now - GRACE - reach,
        until=now + SCAN_HORIZON + reach,
        customer_id=facts.id,
    )
    return facts, setup, _window(setup, now, SCAN_HORIZON), ledger


async def after_order(session: AsyncSession, customer: Customer) -> list[int]:
    """An order was recorded: plan the check-in and satisfaction touches; a win-back
    reminder still open for this customer is moot now."""
    now = utcnow()
    assert customer.id is not None
    await _close_open(session, customer.id, CareKind.WINBACK, now)
    facts, setup, window, ledger = await _one_customer(session, customer, now)
    stmt = (
        select(Order.id, Order.ordered_at, Order.payment_status, Order.due_date)
        .where(Order.customer_id == customer.id, col(Order.deleted_at).is_(None))
        .order_by(col(Order.ordered_at), col(Order.id))
    )
    bought = [OrderFacts(*row) for row in (await session.exec(stmt)).all()]  # type: ignore[call-overload]
    touches = [
        (t, setup) for t in order_touches(facts, bought, window) if t.kind != CareKind.WINBACK
    ]
    return await _apply(session, touches, ledger, ScanResult(), now)


async def after_interaction(session: AsyncSession, customer: Customer) -> list[int]:
    """An interaction was logged: the stay-in-touch clock restarts from it."""
    now = utcnow()
    assert customer.id is not None
    await _close_open(session, customer.id, CareKind.STAY_IN_TOUCH, now)
    facts, setup, window, ledger = await _one_customer(session, customer, now)
    touch = cadence_touch(facts, window)
    return await _apply(session, [(touch, setup)] if touch else [], ledger, ScanResult(), now)


async def after_feedback(
    session: AsyncSession, customer: Customer, feedback: Feedback
) -> list[int]:
    """A complaint or return was recorded or resolved: plan its follow-up."""
    if feedback.kind not in _COMPLAINTS or feedback.id is None:
        return []
    now = utcnow()
    facts, setup, window, ledger = await _one_customer(session, customer, now)
    fb = FeedbackFacts(
        feedback.id,
        feedback.created_at,
        feedback.resolved_at,
        feedback.status == FeedbackStatus.RESOLVED,
    )
    touches = [(t, setup) for t in feedback_touches(facts, fb, window)]
    return await _apply(session, touches, ledger, ScanResult(), now)


async def _close_open(
    session: AsyncSession, customer_id: int, kind: CareKind, now: datetime
) -> None:
    """What the rule reminded of has happened (they bought, someone got in touch)."""
    await session.exec(
        update(Reminder)  # type: ignore[call-overload]
        .where(
            col(Reminder.customer_id) == customer_id,
            col(Reminder.kind) == kind.value,
            col(Reminder.status).in_(
                [ReminderStatus.OPEN, ReminderStatus.SNOOZED, ReminderStatus.HELD]
            ),
        )
        .values(status=ReminderStatus.DONE, done_at=now)
    )
