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


class ReminderSource(StrEnum):
    MANUAL = "manual"
    RULE = "rule"
    LLM = "llm"


class Reminder(SQLModel, table=True):
    __table_args__ = (Index("ix_reminder_owner_status_due", "owner_id", "status", "due_at"),)

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
