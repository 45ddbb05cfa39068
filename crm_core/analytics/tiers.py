"""RFM tiers and churn risk, stored on the customer and recomputed daily.

R = days since the last valid order, F = valid orders in the last 365 days, M = their
revenue. The first rule that matches decides (docs/metrics.md lists them):

1. no valid order ever                          -> no tier
2. last order more than 365 days ago            -> dormant (沉睡)
3. first order within the last 90 days          -> new (新客)
4. churn risk high (R >= 2 x their usual gap)   -> churn_risk (流失风险)
5. M in the top 20% of its currency, F >= 2     -> high_value (高价值)
6. M in the top 50% of its currency, F >= 2     -> potential (潜力)
7. otherwise                                    -> regular (一般)

Percentiles rank customers with at least one order in the last 365 days, per currency.
The reason is stored as JSON (TierReason) so each language can word it.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.analytics.catalogue import RiskLevel, Tier
from crm_core.analytics.churn import rhythm, risk_level, store_gap
from crm_core.analytics.segments import valid_order
from crm_core.analytics.sql import execute, stream
from crm_core.feedback import CHURN_RISK, NEGATIVE_SCORE
from crm_core.models import Customer, Feedback, FeedbackKind, Order

DORMANT_DAYS = 365
NEW_DAYS = 90
HIGH_VALUE_TOP = 0.20
POTENTIAL_TOP = 0.50
WRITE_BATCH = 1000
READ_BATCH = 5000


class TierReason(BaseModel):
    """Why a customer has their tier: the figures the rule looked at."""

    tier: Tier
    days_since_last_order: int
    orders_12m: int
    revenue_12m: Decimal
    currency: str
    top_pct: int | None = None  # revenue rank: in the top N% of customers (same currency)
    usual_gap_days: int | None = None
    own_rhythm: bool = True
    first_order_days: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> TierReason | None:
        if not text:
            return None
        try:
            return cls.model_validate_json(text)
        except ValueError:
            return None


@dataclass
class CustomerHistory:
    """One customer's valid orders, oldest first."""

    times: list[datetime] = field(default_factory=list)
    amounts: list[Decimal] = field(default_factory=list)
    currency: str = ""


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    """What the rules need of one customer's orders: a few figures instead of the whole
    history, so the daily run over every customer holds 100k of these, not 1M orders."""

    currency: str
    first_at: datetime
    last_at: datetime
    orders_12m: int
    revenue_12m: Decimal
    own_gap_days: float | None  # None: fewer than two orders on different days

    @classmethod
    def of(cls, h: CustomerHistory, now: datetime) -> CustomerSummary:
        since = now - timedelta(days=365)
        recent = [a for t, a in zip(h.times, h.amounts, strict=True) if t >= since]
        beat = rhythm(h.times, 0.0)
        return cls(
            currency=h.currency,
            first_at=h.times[0],
            last_at=h.times[-1],
            orders_12m=len(recent),
            revenue_12m=sum(recent, Decimal(0)),
            own_gap_days=beat.usual_gap_days if beat.own else None,
        )


@dataclass(frozen=True)
class Assessment:
    tier: Tier | None
    risk: RiskLevel | None
    reason: TierReason | None


@dataclass(frozen=True)
class TierRun:
    customers: int
    changed: int
    seconds: float
    tiers: dict[str, int]


def _top_pct(ranked: list[Decimal], revenue: Decimal) -> float:
    """Share of customers with at least this revenue (0.2 = in the top 20%)."""
    above = len(ranked) - bisect_left(ranked, revenue)
    return above / len(ranked)


def assess(
    c: CustomerSummary, now: datetime, ranked: dict[str, list[Decimal]], gap: float
) -> Assessment:
    """Tier, risk and reason for one customer with at least one valid order."""
    days = (now - c.last_at).total_seconds() / 86400
    f12, m12 = c.orders_12m, c.revenue_12m
    usual_gap = c.own_gap_days if c.own_gap_days is not None else gap
    risk = risk_level(days, usual_gap)
    reason = TierReason(
        tier=Tier.REGULAR,
        days_since_last_order=int(days),
        orders_12m=f12,
        revenue_12m=m12,
        currency=c.currency,
        usual_gap_days=round(usual_gap),
        own_rhythm=c.own_gap_days is not None,
        first_order_days=int((now - c.first_at).total_seconds() / 86400),
    )
    pct = _top_pct(ranked[c.currency], m12) if f12 and ranked.get(c.currency) else None
    if pct is not None:
        reason.top_pct = max(1, round(pct * 100))
    if days > DORMANT_DAYS:
        tier = Tier.DORMANT
    elif (now - c.first_at).days < NEW_DAYS:
        tier = Tier.NEW
    elif risk is RiskLevel.HIGH:
        tier = Tier.CHURN_RISK
    elif pct is not None and f12 >= 2 and pct <= HIGH_VALUE_TOP:
        tier = Tier.HIGH_VALUE
    elif pct is not None and f12 >= 2 and pct <= POTENTIAL_TOP:
        tier = Tier.POTENTIAL
    else:
        tier = Tier.REGULAR
    reason.tier = tier
    return Assessment(tier, risk, reason)


async def _summaries(session: AsyncSession, now: datetime) -> dict[int, CustomerSummary]:
    """Every live customer's summary, streamed in customer order: one history at a time
    is held, the rest already folded into summaries (no ORM objects)."""
    stmt = (
        select(Order.customer_id, Order.ordered_at, Order.amount, Order.currency)
        .join(Customer, col(Customer.id) == Order.customer_id)
        .where(valid_order(Order), col(Customer.deleted_at).is_(None))
        .order_by(Order.customer_id, Order.ordered_at)
        .execution_options(yield_per=READ_BATCH)
    )
    summaries: dict[int, CustomerSummary] = {}
    current, history = None, CustomerHistory()
    result = await stream(session, stmt)
    async for customer_id, ordered_at, amount, currency in result:
        if customer_id != current:
            if current is not None:
                summaries[current] = CustomerSummary.of(history, now)
            current, history = customer_id, CustomerHistory(currency=currency)
        history.times.append(ordered_at)
        history.amounts.append(amount)
    if current is not None:
        summaries[current] = CustomerSummary.of(history, now)
    return summaries


def store_figures(
    summaries: dict[int, CustomerSummary],
) -> tuple[dict[str, list[Decimal]], float]:
    """What each customer is measured against: 12-month revenues per currency (sorted, for
    percentiles) and the usual gap between orders across repeat buyers."""
    ranked: dict[str, list[Decimal]] = defaultdict(list)
    own_gaps: list[float] = []
    for c in summaries.values():
        if c.orders_12m:
            ranked[c.currency].append(c.revenue_12m)
        if c.own_gap_days is not None:
            own_gaps.append(c.own_gap_days)
    for values in ranked.values():
        values.sort()
    return ranked, store_gap(own_gaps)


def assess_all(histories: dict[int, CustomerHistory], now: datetime) -> dict[int, Assessment]:
    """Assess every customer against the store (the daily run does the same, one at a time)."""
    summaries = {cid: CustomerSummary.of(h, now) for cid, h in histories.items()}
    ranked, gap = store_figures(summaries)
    return {cid: assess(c, now, ranked, gap) for cid, c in summaries.items()}


# Negative feedback this recent keeps a customer at churn risk whatever their buying rhythm
# says (crm_core.feedback flags it when the feedback arrives; the daily run must not undo it).
NEGATIVE_FEEDBACK_WINDOW = timedelta(days=30)


async def _flagged_by_feedback(session: AsyncSession, now: datetime) -> set[int]:
    negative = col(Feedback.kind).in_([FeedbackKind.COMPLAINT, FeedbackKind.RETURN]) | (
        col(Feedback.score) <= NEGATIVE_SCORE
    )
    stmt = (
        select(Feedback.customer_id)
        .where(col(Feedback.deleted_at).is_(None), negative)
        .where(Feedback.created_at >= now - NEGATIVE_FEEDBACK_WINDOW)
        .distinct()
    )
    return set((await session.exec(stmt)).all())


async def recompute_tiers(sessions: async_sessionmaker[AsyncSession], now: datetime) -> TierRun:
    """Recompute every customer's tier, reason and churn risk as of `now` (the daily job).

    Reads in one pass, then writes only the rows that changed, in short transactions so
    that chat commands are never kept waiting for the write lock."""
    started = time.perf_counter()
    counts: dict[str, int] = defaultdict(int)
    changes = []
    unassessed = Assessment(None, None, None)
    async with sessions() as session:
        summaries = await _summaries(session, now)
        ranked, gap = store_figures(summaries)
        flagged = await _flagged_by_feedback(session, now)
        stored = select(Customer.id, Customer.tier, Customer.tier_reason, Customer.risk).where(
            col(Customer.deleted_at).is_(None)
        )
        # Each customer is assessed as their stored row streams past: only the changes are
        # kept, not 100k assessments.
        async for cid, tier, reason, risk in await stream(
            session, stored.execution_options(yield_per=READ_BATCH)
        ):
            summary = summaries.get(cid)
            a = assess(summary, now, ranked, gap) if summary else unassessed
            counts[a.tier.value if a.tier else "none"] += 1
            new = (
                a.tier.value if a.tier else None,
                a.reason.model_dump_json() if a.reason else None,
                CHURN_RISK if cid in flagged else (a.risk.value if a.risk else None),
            )
            if new != (tier, reason, risk):
                changes.append({"cid": cid, "tier": new[0], "tier_reason": new[1], "risk": new[2]})
    table = Customer.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("cid"))
        .values(
            tier=bindparam("tier"), tier_reason=bindparam("tier_reason"), risk=bindparam("risk")
        )
    )
    for i in range(0, len(changes), WRITE_BATCH):
        async with sessions() as session, session.begin():
            await execute(session, stmt, changes[i : i + WRITE_BATCH])
    customers = sum(counts.values())
    return TierRun(customers, len(changes), time.perf_counter() - started, dict(counts))
