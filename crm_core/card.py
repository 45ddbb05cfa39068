"""The 360° customer card: everything a rep needs before calling, in one read."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor, get_customer
from crm_core.feedback import recent_feedback
from crm_core.interactions import recent_interactions
from crm_core.models import Staff
from crm_core.orders import CurrencyTotal, order_stats, recent_orders
from crm_core.reminders import open_reminders_for


class CardInteraction(BaseModel):
    occurred_at: datetime
    kind: str
    summary: str


class CardOrder(BaseModel):
    id: int
    ordered_at: datetime
    amount: Decimal
    currency: str
    payment_status: str


class CardReminder(BaseModel):
    id: int
    due_at: datetime
    text: str
    status: str


class CardFeedback(BaseModel):
    created_at: datetime
    kind: str
    score: int | None
    text: str
    status: str


class CustomerCard(BaseModel):
    id: int
    name: str
    company: str | None
    title: str | None
    phones: list[str]
    emails: list[str]
    wechat_id: str | None
    preferred_channel: str | None
    preferred_contact_time: str | None
    source: str | None
    birthday: date | None
    anniversary: date | None
    hobbies: list[str]
    tags: list[str]
    city: str | None
    region: str | None
    owner: str | None
    stage: str
    do_not_contact: bool
    tier: str | None
    tier_reason: str | None
    risk: str | None
    notes: str | None
    # Valid orders only (as reports count them); totals per currency, most used first.
    order_count: int
    order_totals: list[CurrencyTotal]
    last_ordered_at: datetime | None
    last_activity_at: datetime | None
    recent_orders: list[CardOrder]
    recent_interactions: list[CardInteraction]
    open_reminders: list[CardReminder]
    recent_feedback: list[CardFeedback]


async def customer_card(*, session: AsyncSession, actor: Actor, customer_id: int) -> CustomerCard:
    customer = await get_customer(session, actor, customer_id)
    owner = await session.get(Staff, customer.owner_id) if customer.owner_id else None
    stats = await order_stats(session, customer_id)
    return CustomerCard(
        **customer.model_dump(
            include={
                "id",
                "name",
                "company",
                "title",
                "phones",
                "emails",
                "wechat_id",
                "preferred_channel",
                "preferred_contact_time",
                "source",
                "birthday",
                "anniversary",
                "hobbies",
                "tags",
                "city",
                "region",
                "do_not_contact",
                "tier",
                "tier_reason",
                "risk",
                "notes",
                "last_activity_at",
            }
        ),
        owner=owner.name if owner else None,
        stage=customer.stage.value,
        order_count=stats.count,
        order_totals=stats.totals,
        last_ordered_at=stats.last_ordered_at,
        recent_orders=[
            CardOrder.model_validate(o, from_attributes=True)
            for o in await recent_orders(session, customer_id)
        ],
        recent_interactions=[
            CardInteraction.model_validate(i, from_attributes=True)
            for i in await recent_interactions(session, customer_id)
        ],
        open_reminders=[
            CardReminder.model_validate(r, from_attributes=True)
            for r in await open_reminders_for(session, customer_id)
        ],
        recent_feedback=[
            CardFeedback.model_validate(f, from_attributes=True)
            for f in await recent_feedback(session, customer_id)
        ],
    )
