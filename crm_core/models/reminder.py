"""Reminders: follow-ups and care tasks owned by a staff member."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, utc_column


class ReminderStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SNOOZED = "snoozed"
    CANCELLED = "cancelled"
    # A care rule's customer touch suppressed by contact-frequency control (see held_reason).
    HELD = "held"


class ReminderSource(StrEnum):
    MANUAL = "manual"
    RULE = "rule"
    LLM = "llm"


class DeliveryState(StrEnum):
    """Where the reminder's message to its owner stands (the scheduler's claim protocol)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Reminder(SQLModel, table=True):
    __table_args__ = (
        Index("ix_reminder_owner_status_due", "owner_id", "status", "due_at"),
        Index("ix_reminder_delivery_due", "delivery", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="staff.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    due_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    kind: str = Field(default="followup", max_length=30)
    text: str = ""
    status: ReminderStatus = Field(
        default=ReminderStatus.OPEN, sa_column=enum_column(ReminderStatus)
    )
    source: ReminderSource = Field(
        default=ReminderSource.MANUAL, sa_column=enum_column(ReminderSource)
    )
    # Identifies the cause of a rule-made reminder so a rule never fires twice for it.
    cause_key: str | None = Field(default=None, max_length=200, unique=True)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=utc_column())
    outcome: str | None = None
    # Delivery to the owner's chat (the scheduler claims, then marks sent).
    notified_at: datetime | None = Field(default=None, sa_column=utc_column())
    delivery: DeliveryState = Field(
        default=DeliveryState.PENDING, sa_column=enum_column(DeliveryState)
    )
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column())
    attempts: int = 0
    # Earliest next send (retry backoff, or the morning after a night); None means due_at.
    next_attempt_at: datetime | None = Field(default=None, sa_column=utc_column())
    last_error: str | None = Field(default=None, max_length=500)
    # Why a care touch was held back (do_not_contact, touch_cap); shown in the digest.
    held_reason: str | None = Field(default=None, max_length=100)
