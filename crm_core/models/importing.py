"""Imports: a file waiting for a person's go-ahead, and the rows already brought in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, json_column, utc_column


class ImportStatus(StrEnum):
    PENDING = "pending"  # dry-run shown, waiting for Import / Cancel
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class ImportJob(SQLModel, table=True):
    """A file sent in chat: kept until the person presses Import or Cancel."""

    __tablename__ = "import_job"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=100)
    file_name: str = Field(max_length=255)
    # The file itself: the button may be pressed long after the message was handled.
    content: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    options: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    status: ImportStatus = Field(default=ImportStatus.PENDING, sa_column=enum_column(ImportStatus))
    report: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column())


class ImportedRow(SQLModel, table=True):
    """The fingerprint of a source row already imported: re-importing it changes nothing."""

    __tablename__ = "imported_row"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, unique=True)
    entity: str = Field(max_length=20)
    entity_id: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
