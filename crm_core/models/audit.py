"""The audit log: who changed what, when, through which channel. Undo reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import json_column, utc_column


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_staff_when", "staff_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    channel: str = Field(default="system", max_length=20)
    # Entries written by one command share a change id; undo reverts them together.
    change_id: str = Field(max_length=36, index=True)
    action: str = Field(max_length=20)  # create | update | delete
    entity: str = Field(max_length=40)
    entity_id: int
    before: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    undone_at: datetime | None = Field(default=None, sa_column=utc_column())
