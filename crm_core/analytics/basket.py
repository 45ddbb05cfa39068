"""Frequently bought together (support, confidence, lift) and a next-best product.

Over the orders of a period with at least one catalogued product ("baskets"), for the rule
"bought A -> also bought B":
  support    = baskets with A and B / all baskets
  confidence = baskets with A and B / baskets with A
  lift       = confidence / (baskets with B / all baskets)
Lift above 1 means B goes with A more often than chance. Pair counts are computed in SQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, and_, distinct, func
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor
from crm_core.analytics.frame import Frame, ReportFilters, build_frame
from crm_core.analytics.segments import valid_order
from crm_core.analytics.sql import execute
from crm_core.models import Customer, Order, OrderItem, Product

MIN_TOGETHER = 2  # a pair seen once says nothing
MAX_PAIRS = 2000


class Rule(BaseModel):
    first_id: int
    first: str
    then_id: int
    then: str
    together: int
    support: Decimal
    confidence: Decimal
    lift: Decimal


class Recommendation(BaseModel):
    product_id: int
    product: str
    because_id: int
    because: str
    confidence: Decimal
    lift: Decimal


async def association_rules(
    session: AsyncSession, frame: Frame, *, start: datetime, end: datetime
) -> list[Rule]:
    """All rules A -> B seen at least MIN_TOGETHER times, strongest lift first."""
    first, then = aliased(OrderItem), aliased(OrderItem)

    def lines(*columns: Any) -> Select[Any]:
        """Order lines with a catalogued product, of valid orders in the period and frame."""
        return (
            select(*columns)
            .select_from(first)
            .join(Order, col(Order.id) == first.order_id)
            .join(Customer, col(Customer.id) == Order.customer_id)
            .where(
                valid_order(Order),
                Order.ordered_at >= start,  # type: ignore[operator]
                Order.ordered_at < end,  # type: ignore[operator]
                frame.customers,
                first.product_id.is_not(None),
            )
        )

    baskets = (await execute(session, lines(func.count(distinct(first.order_id))))).scalar()
    if not baskets:
        return []
    per_product = lines(first.product_id, func.count(distinct(first.order_id))).group_by(
        first.product_id
    )
    singles = {row[0]: row[1] for row in (await execute(session, per_product)).all()}
    together = func.count(distinct(first.order_id))
    pair_stmt = (
        lines(first.product_id, then.product_id, together)
        .join(
            then,
            and_(
                then.order_id == first.order_id,
                then.product_id != first.product_id,
                then.product_id.is_not(None),
            ),
        )
        .group_by(first.product_id, then.product_id)
        .having(together >= MIN_TOGETHER)
        .order_by(together.desc())
        .limit(MAX_PAIRS)
    )
    pairs = (await execute(session, pair_stmt)).all()
    names = dict(
        (
            await execute(
                session, select(Product.id, Product.name).where(col(Product.id).in_(list(singles)))
            )
        ).all()
    )
    total = Decimal(baskets)
    rules = []
    for first, then, n in pairs:
        confidence = Decimal(n) / Decimal(singles[first])
        rules.append(
            Rule(
                first_id=first,
                first=names.get(first, str(first)),
                then_id=then,
                then=names.get(then, str(then)),
                together=n,
                support=(Decimal(n) / total).quantize(Decimal("0.0001")),
                confidence=confidence.quantize(Decimal("0.0001")),
                lift=(confidence / (Decimal(singles[then]) / total)).quantize(Decimal("0.01")),
            )
        )
    rules.sort(key=lambda r: (-r.lift, -r.support, r.first_id, r.then_id))
    return rules


async def product_pairs(
    session: AsyncSession, frame: Frame, *, start: datetime, end: datetime, limit: int
) -> list[Rule]:
    """The strongest pairs, each pair once (A -> B, not also B -> A)."""
    seen: set[frozenset[int]] = set()
    kept = []
    for rule in await association_rules(session, frame, start=start, end=end):
        pair = frozenset((rule.first_id, rule.then_id))
        if pair not in seen:
            seen.add(pair)
            kept.append(rule)
    return kept[:limit]


async def next_best_products(
    *, session: AsyncSession, actor: Actor, customer_id: int, now: datetime, limit: int = 3
) -> list[Recommendation]:
    """Products this customer has not bought that go with what they have, by confidence;
    rules come from the last year of orders the actor can see."""
    frame = await build_frame(session, actor, ReportFilters(), now)
    bought = set(
        (
            await execute(
                session,
                select(OrderItem.product_id)
                .join(Order, col(Order.id) == OrderItem.order_id)
                .where(Order.customer_id == customer_id, valid_order(Order))
                .where(col(OrderItem.product_id).is_not(None))
                .distinct(),
            )
        ).scalars()
    )
    if not bought:
        return []
    rules = await association_rules(session, frame, start=now - timedelta(days=365), end=now)
    best: dict[int, Rule] = {}
    for rule in rules:
        if rule.first_id in bought and rule.then_id not in bought and rule.lift > 1:
            if rule.then_id not in best or rule.confidence > best[rule.then_id].confidence:
                best[rule.then_id] = rule
    ranked = sorted(best.values(), key=lambda r: (-r.confidence, -r.lift, r.then_id))[:limit]
    return [
        Recommendation(
            product_id=r.then_id,
            product=r.then,
            because_id=r.first_id,
            because=r.first,
            confidence=r.confidence,
            lift=r.lift,
        )
        for r in ranked
    ]
