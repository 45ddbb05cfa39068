"""Reminders: create, list what is due, complete, snooze, cancel."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit
from crm_core.access import Actor, customer_scope, get_customer, reminder_scope
from crm_core.analytics.segments import count_members, segment_condition
from crm_core.clock import utcnow
from crm_core.errors import InvalidInput, NotFound
from crm_core.models import (
    Customer,
    DeliveryState,
    Reminder,
    ReminderSource,
    ReminderStatus,
    Segment,
)

ACTIVE = (ReminderStatus.OPEN, ReminderStatus.SNOOZED)


class ReminderCreate(BaseModel):
    due_at: datetime
    text: str = Field(default="", max_length=1000)
    kind: str = "followup"
    customer_id: int | None = None
    source: ReminderSource = ReminderSource.MANUAL


async def create_reminder(
    *, session: AsyncSession, actor: Actor, data: ReminderCreate, owner_id: int | None = None
) -> Reminder:
    if data.due_at.tzinfo is None:
        raise InvalidInput("bad_when", value=str(data.due_at))
    if data.customer_id is not None:
        await get_customer(session, actor, data.customer_id)
    reminder = Reminder(
        **data.model_dump(), owner_id=owner_id or actor.staff_id, created_by=actor.staff_id
    )
    session.add(reminder)
    await _audit_created(session, actor, [reminder])
    return reminder


async def create_segment_reminders(
    *,
    session: AsyncSession,
    actor: Actor,
    segment: Segment,
    due_at: datetime,
    text: str,
    cap: int,
) -> list[tuple[Reminder, Customer]]:
    """One reminder per member of `segment` that `actor` may see, owned by `actor` like a
    reminder about one customer. Every one is audited under the actor's request, so one
    undo cancels them all. More than `cap` members: InvalidInput, nothing created (a
    bigger list is a campaign to narrow down, not a to-do list)."""
    if due_at.tzinfo is None:
        raise InvalidInput("bad_when", value=str(due_at))
    now = utcnow()
    stmt = (
        select(Customer)
        .where(customer_scope(actor), segment_condition(segment, now))
        .order_by(col(Customer.id))
        .limit(cap + 1)
    )
    members = list((await session.exec(stmt)).all())
    if len(members) > cap:
        count = await count_members(session=session, actor=actor, segment=segment, now=now)
        raise InvalidInput("segment_reminders_too_many", name=segment.name, count=count, cap=cap)
    created = [
        Reminder(
            **ReminderCreate(due_at=due_at, text=text, customer_id=member.id).model_dump(),
            owner_id=actor.staff_id,
            created_by=actor.staff_id,
        )
        for member in members
    ]
    session.add_all(created)
    await _audit_created(session, actor, created)
    return list(zip(created, members, strict=True))


async def _audit_created(session: AsyncSession, actor: Actor, created: list[Reminder]) -> None:
    """Flush for ids, then one audit entry each: /undo cancels them with the request."""
    await session.flush()
    for reminder in created:
        assert reminder.id is not None
        await audit.record(
            session,
            actor,
            action="create",
            entity="reminder",
            entity_id=reminder.id,
            after=audit.snapshot(reminder),
        )


async def get_reminder(session: AsyncSession, actor: Actor, reminder_id: int) -> Reminder:
    stmt = select(Reminder).where(Reminder.id == reminder_id, reminder_scope(actor))
    reminder = (await session.exec(stmt)).first()
    if reminder is None:
        raise NotFound("reminder_not_found", ref=str(reminder_id))
    return reminder


async def due_reminders(
    session: AsyncSession, actor: Actor, *, until: datetime, limit: int = 50
) -> list[tuple[Reminder, Customer | None]]:
    """The actor's own open reminders due before `until`, oldest first, with their customer."""
    stmt = (
        select(Reminder, Customer)
        .join(Customer, col(Customer.id) == col(Reminder.customer_id), isouter=True)
        .where(Reminder.owner_id == actor.staff_id)
        .where(col(Reminder.status).in_(ACTIVE), Reminder.due_at <= until)
        .order_by(col(Reminder.due_at))
        .limit(limit)
    )
    return [(r, c) for r, c in (await session.exec(stmt)).all()]


async def _change(
    session: AsyncSession, actor: Actor, reminder: Reminder, **changes: object
) -> Reminder:
    before = audit.snapshot(reminder, set(changes))
    for name, value in changes.items():
        setattr(reminder, name, value)
    session.add(reminder)
    assert reminder.id is not None
    await audit.record(
        session,
        actor,
        action="update",
        entity="reminder",
        entity_id=reminder.id,
        before=before,
        after=audit.snapshot(reminder, set(changes)),
    )
    return reminder


async def complete_reminder(
    *, session: AsyncSession, actor: Actor, reminder_id: int, outcome: str | None = None
) -> Reminder:
    reminder = await get_reminder(session, actor, reminder_id)
    if reminder.status not in ACTIVE:
        raise InvalidInput("reminder_closed", ref=str(reminder_id), status=reminder.status.value)
    return await _change(
        session, actor, reminder, status=ReminderStatus.DONE, done_at=utcnow(), outcome=outcome
    )


async def snooze_reminder(
    *, session: AsyncSession, actor: Actor, reminder_id: int, until: datetime
) -> Reminder:
    reminder = await get_reminder(session, actor, reminder_id)
    if reminder.status not in ACTIVE:
        raise InvalidInput("reminder_closed", ref=str(reminder_id), status=reminder.status.value)
    if until <= utcnow():
        raise InvalidInput("when_in_past")
    return await _change(
        session,
        actor,
        reminder,
        status=ReminderStatus.SNOOZED,
        due_at=until,
        notified_at=None,
        # Announce it again when it falls due anew.
        delivery=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=None,
    )


async def cancel_reminder(*, session: AsyncSession, actor: Actor, reminder_id: int) -> Reminder:
    reminder = await get_reminder(session, actor, reminder_id)
    return await _change(session, actor, reminder, status=ReminderStatus.CANCELLED)


async def open_reminders_for(session: AsyncSession, customer_id: int) -> list[Reminder]:
    stmt = (
        select(Reminder)
        .where(Reminder.customer_id == customer_id, col(Reminder.status).in_(ACTIVE))
        .order_by(col(Reminder.due_at))
        .limit(10)
    )
    return list((await session.exec(stmt)).all())
