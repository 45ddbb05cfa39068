"""Who is asking, and what they may see: the scoping rules every service applies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, true
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.errors import Forbidden, NotFound
from crm_core.models import Customer, CustomerShare, Reminder, Role, Staff


@dataclass(frozen=True)
class Actor:
    """The staff member behind a request, as verified by the front door."""

    staff_id: int
    name: str
    role: Role
    team_id: int | None
    language: str = "zh"
    timezone: str = "Asia/Shanghai"
    channel: str = "console"
    # Groups the audit entries of one request so that undo reverts them together.
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def from_staff(cls, staff: Staff, *, channel: str = "console") -> Actor:
        assert staff.id is not None
        return cls(
            staff_id=staff.id,
            name=staff.name,
            role=staff.role,
            team_id=staff.team_id,
            language=staff.language,
            timezone=staff.timezone,
            channel=channel,
        )

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER


def customer_scope(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: the customers `actor` may see and change (never deleted ones)."""
    alive = Customer.deleted_at.is_(None)  # type: ignore[union-attr]
    if actor.is_admin:
        return alive & true()
    if actor.is_manager:
        return alive & (Customer.team_id == actor.team_id)
    shared = select(CustomerShare.customer_id).where(CustomerShare.staff_id == actor.staff_id)
    return alive & or_(Customer.owner_id == actor.staff_id, Customer.id.in_(shared))  # type: ignore[union-attr]


def reminder_scope(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: reminders `actor` may see (own; a manager's team's; an admin all)."""
    if actor.is_admin:
        return true()
    if actor.is_manager:
        team = select(Staff.id).where(Staff.team_id == actor.team_id)
        return Reminder.owner_id.in_(team)  # type: ignore[attr-defined]
    return Reminder.owner_id == actor.staff_id


async def get_customer(session: AsyncSession, actor: Actor, customer_id: int) -> Customer:
    """The customer if `actor` may see it; NotFound otherwise (no hint that it exists)."""
    stmt = select(Customer).where(Customer.id == customer_id, customer_scope(actor))
    customer = (await session.exec(stmt)).first()
    if customer is None:
        raise NotFound("customer_not_found", ref=str(customer_id))
    return customer


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise Forbidden("role_required", roles=", ".join(r.value for r in roles))
