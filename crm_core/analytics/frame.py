"""A report's frame: the actor's scope plus the filters, compiled to SQL conditions once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor, customer_scope
from crm_core.analytics.catalogue import RiskLevel, Tier
from crm_core.analytics.segments import find_segment, segment_condition
from crm_core.errors import NotFound
from crm_core.models import Customer, OrderItem, Product, Staff, Stage, Team


class ReportFilters(BaseModel):
    """Narrow a report; each list holds alternatives (OR), different fields combine (AND)."""

    reps: list[str] = Field(default_factory=list, description="staff names (customer owners)")
    teams: list[str] = Field(default_factory=list, description="team names")
    tiers: list[Tier] = Field(default_factory=list)
    risks: list[RiskLevel] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="lead sources, e.g. referral")
    cities: list[str] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)
    products: list[str] = Field(
        default_factory=list, description="product names, or part of one (order metrics only)"
    )
    categories: list[str] = Field(
        default_factory=list, description="product categories (order metrics only)"
    )
    segment: str | None = Field(default=None, description="a saved segment's name")
    customer_ids: list[int] = Field(default_factory=list, description="particular customers")

    def is_empty(self) -> bool:
        return not any(self.model_dump(exclude_defaults=True).values())

    @property
    def on_items(self) -> bool:
        return bool(self.products or self.categories)


@dataclass(frozen=True)
class Frame:
    """Scope and filters as SQL: `customers` on Customer, `items` on OrderItem (or None)."""

    actor: Actor
    customers: ColumnElement[bool]
    items: ColumnElement[bool] | None
    currency: str | None
    now: datetime

    def narrowed(self, condition: ColumnElement[bool]) -> Frame:
        return Frame(
            self.actor, and_(self.customers, condition), self.items, self.currency, self.now
        )

    def in_currency(self, currency: str | None) -> Frame:
        return Frame(self.actor, self.customers, self.items, currency, self.now)


async def build_frame(
    session: AsyncSession, actor: Actor, filters: ReportFilters, now: datetime
) -> Frame:
    """Resolve names (reps, teams, segment) and compile the conditions; unknown names raise
    NotFound so the person hears which word did not match."""
    conditions = [customer_scope(actor)]
    if filters.reps:
        conditions.append(col(Customer.owner_id).in_(await _ids(session, Staff, filters.reps)))
    if filters.teams:
        conditions.append(col(Customer.team_id).in_(await _ids(session, Team, filters.teams)))
    for values, column in (
        (filters.tiers, Customer.tier),
        (filters.risks, Customer.risk),
        (filters.sources, Customer.source),
        (filters.cities, Customer.city),
        (filters.stages, Customer.stage),
    ):
        if values:
            conditions.append(col(column).in_([str(v) for v in values]))
    if filters.customer_ids:
        conditions.append(col(Customer.id).in_(filters.customer_ids))
    if filters.segment:
        segment = await find_segment(session, actor, filters.segment)
        conditions.append(segment_condition(segment, now))
    items = None
    if filters.on_items:
        items = col(OrderItem.product_id).in_(await _product_ids(session, filters))
    return Frame(actor, and_(*conditions), items, None, now)


async def _product_ids(session: AsyncSession, filters: ReportFilters) -> list[int]:
    """The catalogue products the filter names; resolved first so the database can start
    from the few order lines of those products."""
    found: list[int] = []
    for word in filters.products:
        stmt = select(Product.id).where(col(Product.name).icontains(word, autoescape=True))
        ids = [i for i in (await session.exec(stmt)).all() if i is not None]
        if not ids:
            raise NotFound("report_unknown_product", name=word)
        found += ids
    for category in filters.categories:
        stmt = select(Product.id).where(func.lower(Product.category) == category.lower())
        ids = [i for i in (await session.exec(stmt)).all() if i is not None]
        if not ids:
            raise NotFound("report_unknown_category", name=category)
        found += ids
    return found


async def _ids(
    session: AsyncSession, model: type[Staff] | type[Team], names: list[str]
) -> list[int]:
    found: list[int] = []
    for name in names:
        stmt = select(model.id).where(func.lower(model.name) == name.lower())
        ids = [i for i in (await session.exec(stmt)).all() if i is not None]
        if not ids:
            key = "report_unknown_rep" if model is Staff else "report_unknown_team"
            raise NotFound(key, name=name)
        found += ids
    return found
