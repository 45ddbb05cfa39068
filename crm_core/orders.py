"""Recording orders (with items, payment method and credit terms)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit, care_rules
from crm_core.access import Actor, get_customer
from crm_core.analytics.segments import valid_order
from crm_core.clock import utcnow
from crm_core.models import Order, OrderItem, PaymentStatus, Product, Stage
from crm_core.settings import get_settings


class OrderItemIn(BaseModel):
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(default=1, ge=1)
    unit_price: Decimal = Decimal("0")


class OrderCreate(BaseModel):
    amount: Decimal = Field(gt=0)
    currency: str | None = None
    items: list[OrderItemIn] = Field(default_factory=list)
    payment_method: str | None = None
    credit_days: int | None = Field(default=None, ge=0, le=365)
    ordered_at: datetime | None = None
    note: str | None = None


class CurrencyTotal(BaseModel):
    currency: str
    count: int
    total: Decimal


class OrderStats(BaseModel):
    """A customer's purchases as reports count them: valid orders only (not deleted, not
    cancelled). Money is summed per currency, most used first: ¥ and $ never add up."""

    count: int
    totals: list[CurrencyTotal]
    last_ordered_at: datetime | None


async def record_order(
    *, session: AsyncSession, actor: Actor, customer_id: int, data: OrderCreate
) -> Order:
    customer = await get_customer(session, actor, customer_id)
    ordered_at = data.ordered_at or utcnow()
    on_credit = bool(data.credit_days)
    order = Order(
        customer_id=customer_id,
        staff_id=actor.staff_id,
        ordered_at=ordered_at,
        amount=data.amount,
        currency=data.currency or get_settings().default_currency,
        payment_method=data.payment_method,
        credit_days=data.credit_days,
        due_date=(ordered_at + timedelta(days=data.credit_days)).date() if on_credit else None,
        payment_status=PaymentStatus.UNPAID if on_credit else PaymentStatus.PAID,
        paid_at=None if on_credit else ordered_at,
        note=data.note,
    )
    session.add(order)
    await session.flush()
    assert order.id is not None
    for item in data.items:
        product = (
            await session.exec(select(Product).where(Product.name == item.description))
        ).first()
        session.add(
            OrderItem(
                order_id=order.id,
                product_id=product.id if product else None,
                **item.model_dump(),
            )
        )
    if customer.stage in (Stage.LEAD, Stage.PROSPECT, Stage.CHURNED):
        customer.stage = Stage.CUSTOMER
    customer.last_activity_at = max(customer.last_activity_at or ordered_at, ordered_at)
    session.add(customer)
    await session.flush()
    await care_rules.after_order(session, customer)
    await audit.record(
        session,
        actor,
        action="create",
        entity="order",
        entity_id=order.id,
        after=audit.snapshot(order),
    )
    return order


async def order_stats(session: AsyncSession, customer_id: int) -> OrderStats:
    stmt = (
        select(Order.currency, func.count(), func.sum(Order.amount), func.max(Order.ordered_at))
        .where(Order.customer_id == customer_id, valid_order(Order))
        .group_by(Order.currency)
        .order_by(func.count().desc(), func.sum(Order.amount).desc(), Order.currency)
    )
    rows = (await session.exec(stmt)).all()
    return OrderStats(
        count=sum(n for _, n, _, _ in rows),
        totals=[CurrencyTotal(currency=c, count=n, total=Decimal(t)) for c, n, t, _ in rows],
        last_ordered_at=max((last for *_, last in rows), default=None),
    )


async def recent_orders(session: AsyncSession, customer_id: int, *, limit: int = 3) -> list[Order]:
    stmt = (
        select(Order)
        .where(Order.customer_id == customer_id, col(Order.deleted_at).is_(None))
        .order_by(col(Order.ordered_at).desc())
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())
