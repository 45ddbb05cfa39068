"""Recording customer feedback."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit, care_rules
from crm_core.access import Actor, get_customer
from crm_core.models import Feedback, FeedbackKind, FeedbackStatus


class FeedbackCreate(BaseModel):
    text: str = Field(default="", max_length=4000)
    score: int | None = Field(default=None, ge=0, le=10)
    kind: FeedbackKind | None = None


def infer_kind(data: FeedbackCreate) -> FeedbackKind:
    """A bare score is an NPS answer; a low score with text reads as a complaint."""
    if data.kind is not None:
        return data.kind
    if data.score is not None and not data.text:
        return FeedbackKind.NPS
    if data.score is not None and data.score <= 4:
        return FeedbackKind.COMPLAINT
    return FeedbackKind.REVIEW


async def record_feedback(
    *, session: AsyncSession, actor: Actor, customer_id: int, data: FeedbackCreate
) -> Feedback:
    customer = await get_customer(session, actor, customer_id)
    kind = infer_kind(data)
    needs_follow_up = kind in (FeedbackKind.COMPLAINT, FeedbackKind.RETURN)
    feedback = Feedback(
        customer_id=customer_id,
        staff_id=actor.staff_id,
        kind=kind,
        score=data.score,
        text=data.text,
        status=FeedbackStatus.OPEN if needs_follow_up else FeedbackStatus.RESOLVED,
    )
    session.add(feedback)
    await session.flush()
    assert feedback.id is not None
    await care_rules.after_feedback(session, customer, feedback)
    await audit.record(
        session,
        actor,
        action="create",
        entity="feedback",
        entity_id=feedback.id,
        after=audit.snapshot(feedback),
    )
    return feedback


async def recent_feedback(
    session: AsyncSession, customer_id: int, *, limit: int = 3
) -> list[Feedback]:
    stmt = (
        select(Feedback)
        .where(Feedback.customer_id == customer_id, col(Feedback.deleted_at).is_(None))
        .order_by(col(Feedback.created_at).desc())
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())
