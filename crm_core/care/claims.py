"""Claiming a teammate's reminder from the team's daily list."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit
from crm_core.access import Actor
from crm_core.errors import InvalidInput, NotFound
from crm_core.models import Reminder, ReminderStatus, Staff

_CLAIMABLE = (ReminderStatus.OPEN, ReminderStatus.SNOOZED, ReminderStatus.HELD)


async def claim_reminder(*, session: AsyncSession, actor: Actor, reminder_id: int) -> Reminder:
    """Make `actor` the owner of a reminder of their own team (an admin's: any)."""
    reminder = await session.get(Reminder, reminder_id)
    owner = await session.get(Staff, reminder.owner_id) if reminder else None
    if reminder is None or owner is None or not (
        actor.is_admin or (actor.team_id is not None and owner.team_id == actor.team_id)
    ):
        raise NotFound("reminder_not_found", ref=str(reminder_id))
    if reminder.status not in _CLAIMABLE:
        raise InvalidInput("reminder_closed", ref=str(reminder_id), status=reminder.status.value)
    before = audit.snapshot(reminder, {"owner_id"})
    reminder.owner_id = actor.staff_id
    session.add(reminder)
    await audit.record(
        session,
        actor,
        action="update",
        entity="reminder",
        entity_id=reminder_id,
        before=before,
        after=audit.snapshot(reminder, {"owner_id"}),
    )
    return reminder
