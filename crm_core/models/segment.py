"""Segments: saved customer filters ("bought ≥ 3 times, not in 60 days, Shanghai")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import json_column, utc_column


class Segment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, index=True)
    # A manager's segment belongs to their team; a rep's is their own; an admin's is global.
    team_id: int | None = Field(default=None, foreign_key="team.id")
    staff_id: int = Field(foreign_key="staff.id")
    # crm_core.analytics.segments.SegmentDefinition, as JSON
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column())
