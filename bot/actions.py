"""The action registry: every capability once, as a typed async function.

The command grammar calls these, and the LLM layer turns the same argument models into tool
schemas. An action takes the Context (who asks, hidden from any schema) and a pydantic model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, get_type_hints

from pydantic import BaseModel, Field

from bot.context import Context
from crm_core import audit, customers, feedback, interactions, orders, reminders, search
from crm_core.access import get_customer
from crm_core.card import CustomerCard, customer_card
from crm_core.customers import CustomerCreate
from crm_core.models import InteractionKind, Role, Staff

ArgsT = TypeVar("ArgsT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)
ALL_ROLES = frozenset(Role)
ActionFunc = Callable[[Context, ArgsT], Awaitable[ResultT]]


@dataclass(frozen=True)
class Action:
    name: str
    args_model: type[BaseModel]
    run: Callable[[Context, Any], Awaitable[BaseModel]]
    description: str
    writes: bool
    roles: frozenset[Role]


REGISTRY: dict[str, Action] = {}


def action(
    name: str, *, writes: bool, roles: frozenset[Role] = ALL_ROLES
) -> Callable[[ActionFunc[ArgsT, ResultT]], ActionFunc[ArgsT, ResultT]]:
    """Register `func` under `name`; its docstring becomes the tool description."""

    def register(func: ActionFunc[ArgsT, ResultT]) -> ActionFunc[ArgsT, ResultT]:
        args_model = get_type_hints(func)["args"]
        REGISTRY[name] = Action(
            name=name,
            args_model=args_model,
            run=func,
            description=(func.__doc__ or "").strip(),
            writes=writes,
            roles=roles,
        )
        return func

    return register


def actions_for(role: Role) -> list[Action]:
    return [a for a in REGISTRY.values() if role in a.roles]


# --- customers -----------------------------------------------------------------------------


class FindArgs(BaseModel):
    query: str = Field(min_length=1)
    limit: int = Field(default=10, ge=1, le=50)


class FindResult(BaseModel):
    query: str
    hits: list[search.SearchHit]


@action("find_customers", writes=False)
async def find_customers(ctx: Context, args: FindArgs) -> FindResult:
    """Find customers by name, pinyin, initials, phone, e-mail, company or tag."""
    async with ctx.reading() as session:
        hits = await search.search_customers(
            session=session, actor=ctx.actor, query=args.query, limit=args.limit
        )
    return FindResult(query=args.query, hits=hits)


class CustomerRef(BaseModel):
    customer_id: int


@action("show_card", writes=False)
async def show_card(ctx: Context, args: CustomerRef) -> CustomerCard:
    """The 360° card of one customer: contacts, purchases, open tasks, feedback, tier, risk."""
    async with ctx.reading() as session:
        return await customer_card(session=session, actor=ctx.actor, customer_id=args.customer_id)


class CustomerCreated(BaseModel):
    id: int
    name: str
    company: str | None
    phones: list[str]
    emails: list[str]


@action("create_customer", writes=True)
async def create_customer(ctx: Context, args: CustomerCreate) -> CustomerCreated:
    """Create a customer owned by the person asking."""
    async with ctx.transaction() as session:
        customer = await customers.create_customer(session=session, actor=ctx.actor, data=args)
    return CustomerCreated.model_validate(customer, from_attributes=True)


# --- interactions and reminders --------------------------------------------------------------


class ReminderView(BaseModel):
    id: int
    due_at: datetime
    text: str
    status: str
    customer_id: int | None = None
    customer_name: str | None = None


class LogArgs(BaseModel):
    customer_id: int
    summary: str = Field(min_length=1, max_length=4000)
    kind: InteractionKind = InteractionKind.NOTE
    follow_up_at: datetime | None = Field(default=None, description="when to follow up, if said")
    follow_up_text: str | None = None


class LogResult(BaseModel):
    interaction_id: int
    customer_id: int
    customer_name: str
    kind: str
    occurred_at: datetime
    follow_up: ReminderView | None = None


@action("log_interaction", writes=True)
async def log_interaction(ctx: Context, args: LogArgs) -> LogResult:
    """Log a call, visit, meeting, e-mail, message or note; optionally create the follow-up."""
    async with ctx.transaction() as session:
        record = await interactions.log_interaction(
            session=session,
            actor=ctx.actor,
            customer_id=args.customer_id,
            data=interactions.InteractionCreate(
                summary=args.summary,
                kind=args.kind,
                raw_text=ctx.incoming.text,
                channel=ctx.actor.channel,
            ),
        )
        customer = await get_customer(session, ctx.actor, args.customer_id)
        follow_up = None
        if args.follow_up_at is not None:
            reminder = await reminders.create_reminder(
                session=session,
                actor=ctx.actor,
                data=reminders.ReminderCreate(
                    due_at=args.follow_up_at,
                    text=args.follow_up_text or args.summary,
                    customer_id=args.customer_id,
                ),
            )
            follow_up = _reminder_view(reminder, customer.name)
    assert record.id is not None
    return LogResult(
        interaction_id=record.id,
        customer_id=args.customer_id,
        customer_name=customer.name,
        kind=record.kind.value,
        occurred_at=record.occurred_at,
        follow_up=follow_up,
    )


def _reminder_view(reminder: Any, customer_name: str | None) -> ReminderView:
    return ReminderView(
        id=reminder.id,
        due_at=reminder.due_at,
        text=reminder.text,
        status=reminder.status.value,
        customer_id=reminder.customer_id,
        customer_name=customer_name,
    )


class RemindArgs(BaseModel):
    due_at: datetime
    text: str = Field(default="", max_length=1000)
    customer_id: int | None = None


@action("create_reminder", writes=True)
async def create_reminder(ctx: Context, args: RemindArgs) -> ReminderView:
    """Create a reminder for the person asking, optionally about a customer."""
    async with ctx.transaction() as session:
        reminder = await reminders.create_reminder(
            session=session,
            actor=ctx.actor,
            data=reminders.ReminderCreate(**args.model_dump()),
        )
        name = None
        if args.customer_id is not None:
            name = (await get_customer(session, ctx.actor, args.customer_id)).name
    return _reminder_view(reminder, name)


class NoArgs(BaseModel):
    pass


class TodayResult(BaseModel):
    overdue: list[ReminderView]
    today: list[ReminderView]


@action("list_today", writes=False)
async def list_today(ctx: Context, args: NoArgs) -> TodayResult:
    """My overdue reminders and those due today."""
    end_of_day = ctx.now.replace(hour=23, minute=59, second=59, microsecond=0)
    start_of_day = ctx.now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with ctx.transaction() as session:
        rows = await reminders.due_reminders(session, ctx.actor, until=end_of_day)
    views = [_reminder_view(r, c.name if c else None) for r, c in rows]
    return TodayResult(
        overdue=[v for v in views if v.due_at < start_of_day],
        today=[v for v in views if v.due_at >= start_of_day],
    )


class ReminderRef(BaseModel):
    reminder_id: int
    outcome: str | None = None


@action("complete_reminder", writes=True)
async def complete_reminder(ctx: Context, args: ReminderRef) -> ReminderView:
    """Mark a reminder done, with an optional one-line outcome."""
    async with ctx.transaction() as session:
        reminder = await reminders.complete_reminder(
            session=session, actor=ctx.actor, reminder_id=args.reminder_id, outcome=args.outcome
        )
    return _reminder_view(reminder, None)


class SnoozeArgs(BaseModel):
    reminder_id: int
    until: datetime


@action("snooze_reminder", writes=True)
async def snooze_reminder(ctx: Context, args: SnoozeArgs) -> ReminderView:
    """Move a reminder to a later time."""
    async with ctx.transaction() as session:
        reminder = await reminders.snooze_reminder(
            session=session, actor=ctx.actor, reminder_id=args.reminder_id, until=args.until
        )
    return _reminder_view(reminder, None)


# --- feedback and orders --------------------------------------------------------------------


class FeedbackArgs(BaseModel):
    customer_id: int
    text: str = Field(default="", max_length=4000)
    score: int | None = Field(default=None, ge=0, le=10)


class FeedbackResult(BaseModel):
    id: int
    customer_id: int
    customer_name: str
    kind: str
    score: int | None
    status: str


@action("record_feedback", writes=True)
async def record_feedback(ctx: Context, args: FeedbackArgs) -> FeedbackResult:
    """Record what a customer said: a score 0-10 and/or text."""
    async with ctx.transaction() as session:
        record = await feedback.record_feedback(
            session=session,
            actor=ctx.actor,
            customer_id=args.customer_id,
            data=feedback.FeedbackCreate(text=args.text, score=args.score),
        )
        name = (await get_customer(session, ctx.actor, args.customer_id)).name
    assert record.id is not None
    return FeedbackResult(
        id=record.id,
        customer_id=args.customer_id,
        customer_name=name,
        kind=record.kind.value,
        score=record.score,
        status=record.status.value,
    )


class OrderArgs(BaseModel):
    customer_id: int
    amount: Decimal = Field(gt=0)
    currency: str | None = None
    items: list[str] = Field(default_factory=list)


class OrderResult(BaseModel):
    id: int
    customer_id: int
    customer_name: str
    amount: Decimal
    currency: str
    items: list[str]


@action("record_order", writes=True)
async def record_order(ctx: Context, args: OrderArgs) -> OrderResult:
    """Record a purchase by a customer."""
    async with ctx.transaction() as session:
        order = await orders.record_order(
            session=session,
            actor=ctx.actor,
            customer_id=args.customer_id,
            data=orders.OrderCreate(
                amount=args.amount,
                currency=args.currency,
                items=[orders.OrderItemIn(description=i) for i in args.items],
            ),
        )
        name = (await get_customer(session, ctx.actor, args.customer_id)).name
    assert order.id is not None
    return OrderResult(
        id=order.id,
        customer_id=args.customer_id,
        customer_name=name,
        amount=order.amount,
        currency=order.currency,
        items=args.items,
    )


# --- undo and preferences --------------------------------------------------------------------


class UndoResult(BaseModel):
    undone: list[tuple[str, str, int]]


@action("undo", writes=True)
async def undo(ctx: Context, args: NoArgs) -> UndoResult:
    """Undo my last change (everything one message changed)."""
    async with ctx.transaction() as session:
        change = await audit.undo_last(session, ctx.actor)
    return UndoResult(undone=change.what if change else [])


class LanguageArgs(BaseModel):
    language: str = Field(pattern="^(zh|en)$")


class LanguageResult(BaseModel):
    language: str


@action("set_language", writes=True)
async def set_language(ctx: Context, args: LanguageArgs) -> LanguageResult:
    """Reply in Chinese (zh) or English (en) from now on."""
    async with ctx.transaction() as session:
        staff = await session.get(Staff, ctx.actor.staff_id)
        assert staff is not None
        staff.language = args.language
        session.add(staff)
    return LanguageResult(language=args.language)
