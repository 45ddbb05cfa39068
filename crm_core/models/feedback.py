"""Customer feedback: complaints, returns, surveys, reviews, NPS and support cases."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, utc_column


class FeedbackKind(StrEnum):
    COMPLAINT = "complaint"
    RETURN = "return"
    SURVEY = "survey"
    REVIEW = "review"
    NPS = "nps"
    SUPPORT = "support"


class FeedbackStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class Feedback(SQLModel, table=True):
    __table_args__ = (Index("ix_feedback_customer_when", "customer_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    kind: FeedbackKind = Field(default=FeedbackKind.REVIEW, sa_column=enum_column(FeedbackKind))
    score: int | None = Field(default=None, ge=0, le=10)
    text: str = ""
    status: FeedbackStatus = Field(
        default=FeedbackStatus.OPEN, sa_column=enum_column(FeedbackStatus)
    )
    resolution: str | None = None
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column())
