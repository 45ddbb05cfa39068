"""Audit log writes and undo of an actor's last change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor
from crm_core.clock import utcnow
from crm_core.models import (
    AuditEntry,
    Customer,
    Feedback,
    Interaction,
    Order,
    Reminder,
    ReminderStatus,
    ReportPin,
    Segment,
)
from crm_core.search_keys import refresh_search_keys

# Entities a chat command may change, by the name stored in the audit log.
UNDOABLE: dict[str, type[SQLModel]] = {
    "customer": Customer,
    "interaction": Interaction,
    "order": Order,
    "feedback": Feedback,
    "reminder": Reminder,
    "segment": Segment,
    "report_pin": ReportPin,
}


def snapshot(obj: SQLModel, fields: set[str] | None = None) -> dict[str, Any]:
    data = obj.model_dump(mode="json")
    return {k: v for k, v in data.items() if fields is None or k in fields}


async def record(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    entity: str,
    entity_id: int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            staff_id=actor.staff_id,
            channel=actor.channel,
            change_id=actor.request_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


@dataclass(frozen=True)
class UndoneChange:
    entries: list[AuditEntry]

    @property
    def what(self) -> list[tuple[str, str, int]]:
        return [(e.action, e.entity, e.entity_id) for e in self.entries]


async def undo_last(session: AsyncSession, actor: Actor) -> UndoneChange | None:
    """Revert the actor's most recent change that is not undone yet (all of its entries)."""
    last = (
        await session.exec(
            select(AuditEntry)
            .where(AuditEntry.staff_id == actor.staff_id, col(AuditEntry.undone_at).is_(None))
            .where(col(AuditEntry.entity).in_(UNDOABLE))
            .order_by(col(AuditEntry.id).desc())
            .limit(1)
        )
    ).first()
    if last is None:
        return None
    entries = list(
        (
            await session.exec(
                select(AuditEntry)
                .where(AuditEntry.change_id == last.change_id, col(AuditEntry.undone_at).is_(None))
                .order_by(col(AuditEntry.id).desc())
            )
        ).all()
    )
    now = utcnow()
    for entry in entries:
        await _revert(session, entry)
        entry.undone_at = now
        session.add(entry)
    return UndoneChange(entries)


async def _revert(session: AsyncSession, entry: AuditEntry) -> None:
    model = UNDOABLE[entry.entity]
    obj = await session.get(model, entry.entity_id)
    if obj is None:
        return
    if entry.action == "create":
        # Nothing is hard-deleted: a created row is cancelled or marked deleted.
        if isinstance(obj, Reminder):
            obj.status = ReminderStatus.CANCELLED
        else:
            obj.deleted_at = utcnow()  # type: ignore[attr-defined]
    elif entry.before:
        restored = model.model_validate({**obj.model_dump(), **entry.before})
        for name in entry.before:
            setattr(obj, name, getattr(restored, name))
        if isinstance(obj, Customer):
            await refresh_search_keys(session, obj)
    session.add(obj)
