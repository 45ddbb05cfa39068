"""An explainable lead score: points per signal, and the signals listed as the reasons.

Scored: customers at stage lead or prospect. Signals look at the last 90 days of
interactions and at the record itself; SIGNALS below is the whole definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor
from crm_core.analytics.frame import Frame, ReportFilters, build_frame
from crm_core.analytics.sql import execute
from crm_core.models import Customer, Interaction, InteractionKind, Stage

WINDOW_DAYS = 90
POSITIVE_OUTCOMES = ("有意向", "待报价", "已成交", "interested", "needs quote", "closed")
DECISION_TITLES = ("总", "经理", "主管", "总监", "CEO", "Director", "Manager", "Head", "VP")

# code -> points; the code is also the message key the bot words it with.
SIGNALS = {
    "touched_14d": 20,  # an interaction in the last 14 days
    "touches_30d": 5,  # per interaction in the last 30 days, at most 5 of them
    "met_90d": 15,  # a meeting or a visit in the last 90 days
    "positive_90d": 15,  # an interaction with a positive outcome in the last 90 days
    "referral": 15,  # came by referral
    "prospect": 10,  # already qualified as a prospect
    "decision_maker": 10,  # title reads like a decision maker
    "silent_60d": -20,  # no interaction for 60 days
    "do_not_contact": -50,  # asked not to be contacted
}
MAX_TOUCHES = 5


@dataclass
class ScoredSignal:
    code: str
    points: int
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class LeadScore:
    customer_id: int
    name: str
    points: int
    signals: list[ScoredSignal]


def _columns(now: datetime) -> list[Any]:
    since = now - timedelta(days=WINDOW_DAYS)
    recent = Interaction.occurred_at >= since  # type: ignore[operator]
    return [
        func.max(Interaction.occurred_at).label("last_touch"),
        func.sum(case((Interaction.occurred_at >= now - timedelta(days=30), 1), else_=0)).label(
            "touches_30d"
        ),
        func.sum(
            case(
                (
                    recent
                    & col(Interaction.kind).in_([InteractionKind.MEETING, InteractionKind.VISIT]),
                    1,
                ),
                else_=0,
            )
        ).label("met"),
        func.sum(
            case((recent & col(Interaction.outcome).in_(POSITIVE_OUTCOMES), 1), else_=0)
        ).label("positive"),
    ]


def _signals(row: Any, now: datetime) -> list[ScoredSignal]:
    found: list[ScoredSignal] = []
    last = row.last_touch
    days = (now - last).days if last is not None else None
    if days is not None and days <= 14:
        found.append(ScoredSignal("touched_14d", SIGNALS["touched_14d"], {"days": days}))
    touches = min(int(row.touches_30d or 0), MAX_TOUCHES)
    if touches:
        found.append(ScoredSignal("touches_30d", SIGNALS["touches_30d"] * touches, {"n": touches}))
    if row.met:
        found.append(ScoredSignal("met_90d", SIGNALS["met_90d"], {"n": int(row.met)}))
    if row.positive:
        found.append(ScoredSignal("positive_90d", SIGNALS["positive_90d"]))
    if (row.source or "").lower() == "referral":
        found.append(ScoredSignal("referral", SIGNALS["referral"]))
    if row.stage == Stage.PROSPECT:
        found.append(ScoredSignal("prospect", SIGNALS["prospect"]))
    if row.title and any(t.lower() in row.title.lower() for t in DECISION_TITLES):
        found.append(
            ScoredSignal("decision_maker", SIGNALS["decision_maker"], {"title": row.title})
        )
    if days is None or days > 60:
        found.append(ScoredSignal("silent_60d", SIGNALS["silent_60d"], {"days": days}))
    if row.do_not_contact:
        found.append(ScoredSignal("do_not_contact", SIGNALS["do_not_contact"]))
    return sorted(found, key=lambda s: -abs(s.points))


async def top_leads(
    session: AsyncSession, frame: Frame, *, now: datetime, limit: int = 10
) -> list[LeadScore]:
    """The best-scoring leads and prospects in the frame, with their reasons.

    Interactions are aggregated in SQL; the points are added up in Python for the leads
    only, which is bounded by the number of open leads in scope."""
    leads = and_(frame.customers, col(Customer.stage).in_([Stage.LEAD, Stage.PROSPECT]))
    touches = (
        select(col(Interaction.customer_id).label("cid"), *_columns(now))
        .join(Customer, col(Customer.id) == Interaction.customer_id)
        .where(leads, col(Interaction.deleted_at).is_(None))
        .where(Interaction.occurred_at >= now - timedelta(days=WINDOW_DAYS))  # type: ignore[operator]
        .group_by(Interaction.customer_id)
        .subquery("touches")
    )
    stmt = (
        select(
            Customer.id,
            Customer.name,
            Customer.title,
            Customer.source,
            Customer.stage,
            Customer.do_not_contact,
            touches.c.last_touch,
            touches.c.touches_30d,
            touches.c.met,
            touches.c.positive,
        )
        .outerjoin(touches, touches.c.cid == Customer.id)
        .where(leads)
    )
    points = _points_sql(touches, now)
    stmt = stmt.order_by(points.desc(), Customer.id).limit(limit)
    scored = []
    for row in (await execute(session, stmt)).all():
        signals = _signals(row, now)
        scored.append(LeadScore(row.id, row.name, sum(s.points for s in signals), signals))
    return scored


def _points_sql(touches: Any, now: datetime) -> Any:
    """The same points as _signals, in SQL, so only the top leads leave the database."""
    last = touches.c.last_touch
    n = func.coalesce(touches.c.touches_30d, 0)
    title = func.lower(func.coalesce(Customer.title, ""))

    def when(condition: Any, code: str) -> Any:
        return case((condition, SIGNALS[code]), else_=0)

    return (
        when(last >= now - timedelta(days=14), "touched_14d")
        + case((n > MAX_TOUCHES, MAX_TOUCHES), else_=n) * SIGNALS["touches_30d"]
        + when(func.coalesce(touches.c.met, 0) > 0, "met_90d")
        + when(func.coalesce(touches.c.positive, 0) > 0, "positive_90d")
        + when(func.lower(func.coalesce(Customer.source, "")) == "referral", "referral")
        + when(Customer.stage == Stage.PROSPECT, "prospect")
        + when(or_(*[title.contains(t.lower()) for t in DECISION_TITLES]), "decision_maker")
        + when(or_(last.is_(None), last < now - timedelta(days=60)), "silent_60d")
        + when(col(Customer.do_not_contact).is_(True), "do_not_contact")
    )


async def lead_score(
    *, session: AsyncSession, actor: Actor, customer_id: int, now: datetime
) -> LeadScore | None:
    """One customer's score, if they are a lead or prospect the actor can see."""
    frame = await build_frame(session, actor, ReportFilters(), now)
    frame = frame.narrowed(Customer.id == customer_id)
    found = await top_leads(session, frame, now=now, limit=1)
    return found[0] if found else None
