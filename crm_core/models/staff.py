"""Teams, staff members, their chat identities and invite codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, json_column, utc_column


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    REP = "rep"


class Channel(StrEnum):
    CONSOLE = "console"
    TELEGRAM = "telegram"
    SLACK = "slack"


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    timezone: str = "Asia/Shanghai"
    language: str = "zh"
    # Where the daily follow-up list goes, e.g. "telegram:-100123" or "slack:C0123".
    digest_channel: str | None = None
    digest_time: str = "09:00"
    # Care rules and contact-frequency settings (crm_core.care_rules.CarePolicy as JSON);
    # {} means the defaults.
    care_policy: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=100)
    role: Role = Field(default=Role.REP, sa_column=enum_column(Role))
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    language: str = "zh"
    timezone: str = "Asia/Shanghai"
    email: str | None = Field(default=None, index=True)
    active: bool = True
    # Tokens the assistant's LLM may spend for this person per day (None: the settings default).
    llm_daily_tokens: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class StaffIdentity(SQLModel, table=True):
    """A staff member as a chat platform knows them (telegram user id, slack user id…)."""

    __tablename__ = "staff_identity"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    channel: Channel = Field(sa_column=enum_column(Channel))
    external_id: str = Field(max_length=100)


class InviteCode(SQLModel, table=True):
    """Single-use code that binds a chat identity to a staff member."""

    __tablename__ = "invite_code"

    code: str = Field(primary_key=True, max_length=32)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    expires_at: datetime = Field(sa_column=utc_column(nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=utc_column())
