"""Segments put to work: a reminder per member, or a draft per member, within the asker's scope.

Both resolve the segment by name among those the asker may use, and take only the members
the asker may see (a rep: own and shared customers; a manager: the team's).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bot import drafting
from bot.actions import ReminderView, action
from bot.context import Context
from crm_core import drafts as draft_store
from crm_core import reminders
from crm_core.analytics import segments
from crm_core.clock import utcnow
from crm_core.errors import InvalidInput

# Reminders one request may create: beyond this a segment is a campaign to narrow down.
REMINDER_CAP = 200
# Drafts one request may write: with a model each one is a model call, and each is reviewed.
DRAFT_CAP = 20
# Members looked at for drafts: held ones are cheap to skip, but the scan stays bounded.
DRAFT_SCAN = 500
# What the drafting module raises for a customer who may not be contacted now.
HELD_CODES = frozenset({"draft_dnc", "draft_cap"})


class RemindSegmentArgs(BaseModel):
    segment: str = Field(min_length=1, max_length=100, description="a saved segment's name")
    due_at: datetime
    text: str = Field(default="", max_length=1000)


class SegmentReminders(BaseModel):
    segment: str
    due_at: datetime
    text: str
    reminders: list[ReminderView]
    do_not_contact: list[str] = Field(default_factory=list, description="members marked so")


@action("remind_segment", writes=True)
async def remind_segment(ctx: Context, args: RemindSegmentArgs) -> SegmentReminders:
    """Create a reminder about every customer of a saved segment that I may see (one undo
    cancels them all)."""
    async with ctx.transaction() as session:
        segment = await segments.find_segment(session, ctx.actor, args.segment)
        created = await reminders.create_segment_reminders(
            session=session,
            actor=ctx.actor,
            segment=segment,
            due_at=args.due_at,
            text=args.text,
            cap=REMINDER_CAP,
        )
    return SegmentReminders(
        segment=segment.name,
        due_at=args.due_at,
        text=args.text,
        reminders=[
            ReminderView(
                id=r.id or 0,
                due_at=r.due_at,
                text=r.text,
                status=r.status.value,
                customer_id=c.id,
                customer_name=c.name,
            )
            for r, c in created
        ],
        do_not_contact=[c.name for _, c in created if c.do_not_contact],
    )


class DraftSegmentArgs(BaseModel):
    segment: str = Field(min_length=1, max_length=100, description="a saved segment's name")
    kind: drafting.DraftKind
    notes: str | None = Field(default=None, max_length=500, description="what to mention")


class HeldMember(BaseModel):
    """A member not drafted for: the contact check's message code and its parameters."""

    customer_id: int
    code: str
    params: dict[str, str | int]


class SegmentDrafts(BaseModel):
    segment: str
    members: int  # in the asker's scope
    drafts: list[drafting.DraftResult]
    held: list[HeldMember]
    already_drafted: int  # members with a draft of this kind still waiting for review
    beyond_cap: int  # members not reached because the cap was met
    cap: int


@action("draft_segment", writes=True)
async def draft_segment(ctx: Context, args: DraftSegmentArgs) -> SegmentDrafts:
    """Draft a message to every customer of a saved segment that I may see, up to a cap;
    customers who may not be contacted now (do-not-contact, weekly cap) are reported."""
    now = utcnow()
    async with ctx.reading() as session:
        segment = await segments.find_segment(session, ctx.actor, args.segment)
        members = await segments.count_members(
            session=session, actor=ctx.actor, segment=segment, now=now
        )
        ids = await segments.segment_customer_ids(
            session=session, actor=ctx.actor, segment=segment, now=now, limit=DRAFT_SCAN
        )
        waiting = await draft_store.with_open_draft(session, ids, args.kind)
    drafts: list[drafting.DraftResult] = []
    held: list[HeldMember] = []
    reached = 0
    for customer_id in ids:
        if len(drafts) >= DRAFT_CAP:
            break
        reached += 1
        if customer_id in waiting:
            continue
        # One member at a time through the single-customer action: the same contact check,
        # facts, model check and template fallback; its own short transactions.
        try:
            drafts.append(
                await drafting.draft_message(
                    ctx,
                    drafting.DraftArgs(customer_id=customer_id, kind=args.kind, notes=args.notes),
                )
            )
        except InvalidInput as error:
            if error.code not in HELD_CODES:
                raise
            held.append(HeldMember(customer_id=customer_id, code=error.code, params=error.params))
    return SegmentDrafts(
        segment=segment.name,
        members=members,
        drafts=drafts,
        held=held,
        already_drafted=sum(1 for i in ids[:reached] if i in waiting),
        beyond_cap=members - reached,
        cap=DRAFT_CAP,
    )
