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
from sqlalchemy import Select, and_, case, distinct, exists, func, or_
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

    # One pass for products and pairs: joining each line to the lines of its order with
    # an equal or greater product id yields (a, a), whose count is a's orders, and (a, b)
    # with a < b, whose count is the pair's; b -> a is the same pair read the other way.
    # Counted on (a, a) where a is the order's smallest product id: every basket once.
    together = func.count(distinct(first.order_id))
    same = first.product_id == then.product_id
    smaller = aliased(OrderItem)
    lowest = ~exists().where(
        smaller.order_id == first.order_id, smaller.product_id < first.product_id
    )
    opened = func.count(distinct(case((and_(same, lowest), first.order_id))))
    counts_stmt = (
        lines(first.product_id, then.product_id, together, opened)
        .join(
            then,
            and_(
                then.order_id == first.order_id,
                then.product_id >= first.product_id,
            ),
        )
        .group_by(first.product_id, then.product_id)
        .having(or_(same, together >= MIN_TOGETHER))
        .order_by(case((same, 0), else_=1), together.desc())
        .limit(MAX_PAIRS)
    )
    singles: dict[int, int] = {}
    pairs: list[tuple[int, int, int]] = []
    baskets = 0
    for a, b, n, first_in in (await execute(session, counts_stmt)).all():
        if a == b:
            singles[a], baskets = n, baskets + first_in
        else:
            pairs += [(a, b, n), (b, a, n)]
    if not baskets:
        return []
    names = dict(
        (
            await execute(
                session, select(Product.id, Product.name).where(col(Product.id).in_(list(singles)))
            )
        ).all()
    )
    total = Decimal(baskets)
    rules = []
    for a, b, n in pairs:
        confidence = Decimal(n) / Decimal(singles[a])
        rules.append(
            Rule(
                first_id=a,
                first=names.get(a, str(a)),
                then_id=b,
                then=names.get(b, str(b)),
                together=n,
                support=(Decimal(n) / total).quantize(Decimal("0.0001")),
                confidence=confidence.quantize(Decimal("0.0001")),
                lift=(confidence / (Decimal(singles[b]) / total)).quantize(Decimal("0.01")),
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
