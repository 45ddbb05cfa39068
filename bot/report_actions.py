"""Report, pin and segment actions: typed, read-mostly capabilities that the command grammar
and the LLM layer both call (ReportQuery is the tool schema of `run_report`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.actions import NoArgs, action
from bot.context import Context
from bot.report_parser import Vocabulary
from crm_core import pins
from crm_core.access import Actor, customer_scope, get_customer
from crm_core.analytics import basket, segments
from crm_core.analytics.seasonality import Seasonality, seasonality
from crm_core.clock import utcnow
from crm_core.models import Cadence, Customer, Product, Role, Segment, Staff, Team
from crm_core.reports import ReportQuery, ReportResult
from crm_core.reports import run_report as run_report_query

MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})


@action("run_report", writes=False)
async def run_report(ctx: Context, args: ReportQuery) -> ReportResult:
    """Answer a question about the numbers (revenue, orders, AOV, new/active customers,
    retention, churn, repurchase, NPS, CSAT, lifetime value, interactions, churn-risk lists,
    lead scores, products bought together, seasonality) within the asker's own scope."""
    async with ctx.transaction() as session:
        return await run_report_query(session=session, actor=ctx.actor, query=args, now=utcnow())


class PinArgs(BaseModel):
    question: str = Field(min_length=1, max_length=500)
    query: ReportQuery
    cadence: Cadence


class PinView(BaseModel):
    id: int
    question: str
    cadence: str
    next_due_at: datetime
    channel: str | None = None


@action("pin_report", writes=True, roles=MANAGERS)
async def pin_report(ctx: Context, args: PinArgs) -> PinView:
    """Post a report to the team channel every day, week or month."""
    async with ctx.transaction() as session:
        pin, team = await pins.create_pin(
            session=session,
            actor=ctx.actor,
            question=args.question,
            query=args.query.model_dump(mode="json"),
            cadence=args.cadence,
            now=utcnow(),
        )
    assert pin.id is not None
    return PinView(
        id=pin.id,
        question=pin.question,
        cadence=pin.cadence.value,
        next_due_at=pin.next_due_at,
        channel=team.digest_channel,
    )


class PinList(BaseModel):
    pins: list[PinView]


@action("list_pins", writes=False)
async def list_pins(ctx: Context, args: NoArgs) -> PinList:
    """The reports pinned to team channels that I can see."""
    async with ctx.transaction() as session:
        found = await pins.list_pins(session, ctx.actor)
    return PinList(
        pins=[
            PinView(
                id=p.id or 0,
                question=p.question,
                cadence=p.cadence.value,
                next_due_at=p.next_due_at,
            )
            for p in found
        ]
    )


class PinRef(BaseModel):
    pin_id: int


@action("unpin_report", writes=True, roles=MANAGERS)
async def unpin_report(ctx: Context, args: PinRef) -> PinView:
    """Stop posting a pinned report."""
    async with ctx.transaction() as session:
        pin = await pins.remove_pin(
            session=session, actor=ctx.actor, pin_id=args.pin_id, now=utcnow()
        )
    return PinView(
        id=args.pin_id,
        question=pin.question,
        cadence=pin.cadence.value,
        next_due_at=pin.next_due_at,
    )


class SegmentArgs(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    definition: segments.SegmentDefinition


class SegmentView(BaseModel):
    id: int
    name: str
    definition: segments.SegmentDefinition
    count: int | None = None


@action("save_segment", writes=True)
async def save_segment(ctx: Context, args: SegmentArgs) -> SegmentView:
    """Save a named customer segment (a filter usable in reports, reminders and drafts)."""
    now = utcnow()
    async with ctx.transaction() as session:
        segment = await segments.save_segment(
            session=session, actor=ctx.actor, name=args.name, definition=args.definition
        )
        count = await segments.count_members(
            session=session, actor=ctx.actor, segment=segment, now=now
        )
    assert segment.id is not None
    return SegmentView(id=segment.id, name=segment.name, definition=args.definition, count=count)


class SegmentList(BaseModel):
    segments: list[SegmentView]


@action("list_segments", writes=False)
async def list_segments(ctx: Context, args: NoArgs) -> SegmentList:
    """The saved customer segments I can use."""
    async with ctx.transaction() as session:
        found = await segments.list_segments(session, ctx.actor)
    return SegmentList(segments=[_segment_view(s) for s in found])


def _segment_view(segment: Segment) -> SegmentView:
    return SegmentView(
        id=segment.id or 0,
        name=segment.name,
        definition=segments.SegmentDefinition.model_validate(segment.definition),
    )


class NextBestArgs(BaseModel):
    customer_id: int
    limit: int = Field(default=3, ge=1, le=10)


class NextBestResult(BaseModel):
    customer_id: int
    products: list[basket.Recommendation]


@action("next_best_products", writes=False)
async def next_best_products(ctx: Context, args: NextBestArgs) -> NextBestResult:
    """Products this customer has not bought yet that go with what they have bought."""
    async with ctx.transaction() as session:
        await get_customer(session, ctx.actor, args.customer_id)
        found = await basket.next_best_products(
            session=session,
            actor=ctx.actor,
            customer_id=args.customer_id,
            now=utcnow(),
            limit=args.limit,
        )
    return NextBestResult(customer_id=args.customer_id, products=found)


class CustomerRef(BaseModel):
    customer_id: int


@action("customer_seasonality", writes=False)
async def customer_seasonality(ctx: Context, args: CustomerRef) -> Seasonality:
    """In which calendar months this customer orders, over the last 24 months."""
    async with ctx.transaction() as session:
        await get_customer(session, ctx.actor, args.customer_id)
        return await seasonality(
            session=session, actor=ctx.actor, now=utcnow(), customer_id=args.customer_id
        )


async def load_vocabulary(session: AsyncSession, actor: Actor) -> Vocabulary:
    """Names a question may mention, within what the actor can see."""

    async def names(stmt: object) -> tuple[str, ...]:
        return tuple(str(x) for x in (await session.exec(stmt)).all() if x)  # type: ignore[call-overload]

    scope = customer_scope(actor)
    return Vocabulary(
        reps=await names(select(Staff.name).where(col(Staff.active).is_(True))),
        teams=await names(select(Team.name)),
        cities=await names(select(Customer.city).distinct().where(scope)),
        sources=await names(select(Customer.source).distinct().where(scope)),
        products=await names(select(Product.name)),
        categories=await names(select(Product.category).distinct()),
        segments=await names(select(Segment.name).where(segments.visible_segments(actor))),
    )
