"""Recording customer feedback."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit, care_rules
from crm_core.access import Actor, get_customer
from crm_core.models import Feedback, FeedbackKind, FeedbackStatus

# Customer.risk when negative feedback came in; the card and the team's daily list show it.
CHURN_RISK = "churn_risk"
# NPS detractors (0-6) and complaints or returns are negative (the daily list agrees).
NEGATIVE_SCORE = 6


def is_negative(kind: FeedbackKind, score: int | None) -> bool:
    return kind in (FeedbackKind.COMPLAINT, FeedbackKind.RETURN) or (
        score is not None and score <= NEGATIVE_SCORE
    )


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
    if is_negative(kind, data.score) and customer.risk != CHURN_RISK:
        before = audit.snapshot(customer, {"risk"})
        customer.risk = CHURN_RISK
        session.add(customer)
        await audit.record(
            session,
            actor,
            action="update",
            entity="customer",
            entity_id=customer_id,
            before=before,
            after=audit.snapshot(customer, {"risk"}),
        )
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
