"""What the assistant's language model used and did: tokens per staff and day, tool calls."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import json_column, utc_column


class LlmUsage(SQLModel, table=True):
    """Tokens one staff member spent on one day (their local day); the daily budget reads it."""

    __tablename__ = "llm_usage"
    __table_args__ = (UniqueConstraint("staff_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    day: date
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class LlmToolCall(SQLModel, table=True):
    """Every tool call a model asked for, allowed or not. A write is logged in the same
    transaction as the change, so a replayed message never repeats it."""

    __tablename__ = "llm_tool_call"
    __table_args__ = (Index("ix_llm_tool_call_message", "channel", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    channel: str = Field(max_length=20)
    message_id: str = Field(max_length=100)
    tool: str = Field(max_length=60)
    arguments: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # Hash of the tool name and its validated arguments: the replay key.
    fingerprint: str = Field(max_length=64)
    status: str = Field(max_length=20)  # done | denied | invalid | failed
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
