"""Interactions: calls, visits, meetings, e-mails, messages and notes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, utc_column


class InteractionKind(StrEnum):
    CALL = "call"
    VISIT = "visit"
    MEETING = "meeting"
    EMAIL = "email"
    MESSAGE = "message"
    NOTE = "note"


class Interaction(SQLModel, table=True):
    __table_args__ = (Index("ix_interaction_customer_when", "customer_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    kind: InteractionKind = Field(
        default=InteractionKind.NOTE, sa_column=enum_column(InteractionKind)
    )
    channel: str | None = Field(default=None, max_length=30)
    occurred_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    summary: str
    raw_text: str | None = None
    outcome: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column())
