"""Segments: saved customer filters, usable in reports, reminders and drafts.

A definition compiles to one SQL condition on Customer (order history through correlated
subqueries on the (customer_id, ordered_at) index), so a segment is never loaded into Python.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit
from crm_core.access import Actor, customer_scope
from crm_core.analytics.catalogue import RiskLevel, Tier
from crm_core.errors import Conflict, InvalidInput, NotFound
from crm_core.models import (
    Customer,
    CustomerSearchKey,
    Order,
    PaymentStatus,
    Role,
    SearchKind,
    Segment,
    Stage,
)
from crm_core.normalize import fold


class SegmentDefinition(BaseModel):
    """Which customers belong: every condition given must hold (AND); list values are
    alternatives (OR). Order counts and revenue cover all valid (not cancelled) orders."""

    min_orders: int | None = Field(default=None, ge=1, description="bought at least N times")
    max_orders: int | None = Field(default=None, ge=0, description="bought at most N times")
    no_order_days: int | None = Field(default=None, ge=1, description="no order in the last N days")
    ordered_within_days: int | None = Field(
        default=None, ge=1, description="at least one order in the last N days"
    )
    min_revenue: Decimal | None = Field(default=None, ge=0, description="lifetime spend >= X")
    cities: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list)
    risks: list[RiskLevel] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(self.model_dump(exclude_defaults=True).values())


def valid_order(order: type[Order] | object = Order) -> ColumnElement[bool]:
    """An order that counts: not deleted, not cancelled."""
    table = order
    return and_(
        table.deleted_at.is_(None),  # type: ignore[attr-defined]
        table.payment_status != PaymentStatus.CANCELLED,  # type: ignore[attr-defined]
    )


def definition_condition(definition: SegmentDefinition, now: datetime) -> ColumnElement[bool]:
    """SQL condition on Customer for `definition` at `now`."""
    d = definition
    conditions: list[ColumnElement[bool]] = []
    o = aliased(Order)
    mine = and_(o.customer_id == Customer.id, valid_order(o))
    if d.min_orders is not None or d.max_orders is not None:
        count = select(func.count(o.id)).where(mine).scalar_subquery()
        if d.min_orders is not None:
            conditions.append(count >= d.min_orders)
        if d.max_orders is not None:
            conditions.append(count <= d.max_orders)
    if d.min_revenue is not None:
        spent = select(func.coalesce(func.sum(o.amount), 0)).where(mine).scalar_subquery()
        conditions.append(spent >= d.min_revenue)
    if d.no_order_days is not None:
        since = now - timedelta(days=d.no_order_days)
        conditions.append(~exists().where(mine, o.ordered_at >= since))
    if d.ordered_within_days is not None:
        since = now - timedelta(days=d.ordered_within_days)
        conditions.append(exists().where(mine, o.ordered_at >= since))
    for values, column in (
        (d.cities, Customer.city),
        (d.regions, Customer.region),
        (d.sources, Customer.source),
        (d.tiers, Customer.tier),
        (d.risks, Customer.risk),
        (d.stages, Customer.stage),
    ):
        if values:
            conditions.append(col(column).in_([str(v) for v in values]))
    if d.tags:
        keys = [fold(t) for t in d.tags]
        conditions.append(
            exists().where(
                CustomerSearchKey.customer_id == Customer.id,
                CustomerSearchKey.kind == SearchKind.TAG,
                col(CustomerSearchKey.key).in_(keys),
            )
        )
    return and_(true(), *conditions)


def visible_segments(actor: Actor) -> ColumnElement[bool]:
    """Segments `actor` may use: an admin's are everyone's; a team's are its members'."""
    alive = col(Segment.deleted_at).is_(None)
    if actor.is_admin:
        return alive
    return and_(
        alive,
        or_(
            Segment.staff_id == actor.staff_id,
            and_(col(Segment.team_id).is_not(None), Segment.team_id == actor.team_id),
            col(Segment.team_id).is_(None) & (Segment.staff_id.in_(_admins())),  # type: ignore[attr-defined]
        ),
    )


def _admins() -> Select[tuple[int]]:
    from crm_core.models import Staff

    return select(Staff.id).where(Staff.role == Role.ADMIN)  # type: ignore[return-value]


async def find_segment(session: AsyncSession, actor: Actor, name: str) -> Segment:
    stmt = select(Segment).where(visible_segments(actor), func.lower(Segment.name) == name.lower())
    segment = (await session.exec(stmt)).first()
    if segment is None:
        raise NotFound("segment_not_found", name=name)
    return segment


async def list_segments(session: AsyncSession, actor: Actor) -> list[Segment]:
    stmt = select(Segment).where(visible_segments(actor)).order_by(col(Segment.name))
    return list((await session.exec(stmt)).all())


async def save_segment(
    *, session: AsyncSession, actor: Actor, name: str, definition: SegmentDefinition
) -> Segment:
    """Create or replace `actor`'s segment `name` (a manager's is shared with the team)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("segment_bad_name")
    if definition.is_empty():
        raise InvalidInput("segment_empty")
    stmt = select(Segment).where(visible_segments(actor), func.lower(Segment.name) == name.lower())
    segment = (await session.exec(stmt)).first()
    if segment is not None and segment.staff_id != actor.staff_id:
        raise Conflict("segment_taken", name=segment.name)
    before = audit.snapshot(segment) if segment else None
    segment = segment or Segment(name=name, staff_id=actor.staff_id)
    segment.team_id = actor.team_id if actor.role == Role.MANAGER else None
    segment.definition = definition.model_dump(mode="json", exclude_defaults=True)
    session.add(segment)
    await session.flush()
    assert segment.id is not None
    await audit.record(
        session,
        actor,
        action="update" if before else "create",
        entity="segment",
        entity_id=segment.id,
        before=before,
        after=audit.snapshot(segment),
    )
    return segment


def segment_condition(segment: Segment, now: datetime) -> ColumnElement[bool]:
    return definition_condition(SegmentDefinition.model_validate(segment.definition), now)


async def count_members(
    *, session: AsyncSession, actor: Actor, segment: Segment, now: datetime
) -> int:
    stmt = (
        select(func.count())
        .select_from(Customer)
        .where(customer_scope(actor), segment_condition(segment, now))
    )
    return int((await session.exec(stmt)).one())


async def segment_customer_ids(
    *, session: AsyncSession, actor: Actor, segment: Segment, now: datetime, limit: int = 500
) -> list[int]:
    """The members of `segment` that `actor` may see (for reminders and drafts)."""
    stmt = (
        select(Customer.id)
        .where(customer_scope(actor), segment_condition(segment, now))
        .order_by(col(Customer.id))
        .limit(limit)
    )
    return [int(i) for i in (await session.exec(stmt)).all() if i is not None]
