"""Pinned reports: a manager's question re-run on a cadence and posted to the team channel."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, json_column, utc_column


class Cadence(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ReportPin(SQLModel, table=True):
    __tablename__ = "report_pin"

    id: int | None = Field(default=None, primary_key=True)
    # Whose scope the report runs in when it is delivered.
    staff_id: int = Field(foreign_key="staff.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    question: str = Field(max_length=500)
    # crm_core.reports.ReportQuery, as JSON; its period is relative, resolved at each run.
    query: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    cadence: Cadence = Field(sa_column=enum_column(Cadence))
    # Claimed atomically by moving it forward: two schedulers never post one pin twice.
    next_due_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    last_sent_at: datetime | None = Field(default=None, sa_column=utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column())
