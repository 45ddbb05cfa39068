"""Every incoming message, stored before it is processed; and per-chat conversation state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, json_column, utc_column


class InboxStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"


class InboxMessage(SQLModel, table=True):
    __tablename__ = "inbox_message"
    __table_args__ = (UniqueConstraint("channel", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    message_id: str = Field(max_length=100)
    sender_id: str = Field(max_length=100)
    chat_id: str | None = Field(default=None, max_length=100)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    text: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    status: InboxStatus = Field(default=InboxStatus.RECEIVED, sa_column=enum_column(InboxStatus))
    error: str | None = None
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=utc_column())


class ConversationState(SQLModel, table=True):
    """What the bot is waiting for in one chat, e.g. which customer a pending /log means."""

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("staff_id", "channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=100)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
