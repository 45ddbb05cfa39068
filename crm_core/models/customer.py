"""The customer: a 360° record, plus its search keys and shares."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, json_column, utc_column


class Stage(StrEnum):
    LEAD = "lead"
    PROSPECT = "prospect"
    CUSTOMER = "customer"
    CHURNED = "churned"


class Customer(SQLModel, table=True):
    __table_args__ = (Index("ix_customer_owner_activity", "owner_id", "last_activity_at"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_pinyin: str = Field(default="", max_length=400)
    company: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=100)
    phones: list[str] = Field(default_factory=list, sa_column=json_column())
    emails: list[str] = Field(default_factory=list, sa_column=json_column())
    wechat_id: str | None = Field(default=None, max_length=100)
    preferred_channel: str | None = Field(default=None, max_length=30)
    preferred_contact_time: str | None = Field(default=None, max_length=50)
    language: str | None = Field(default=None, max_length=10)
    source: str | None = Field(default=None, max_length=50)
    birthday: date | None = None
    anniversary: date | None = None
    hobbies: list[str] = Field(default_factory=list, sa_column=json_column())
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    city: str | None = Field(default=None, max_length=100, index=True)
    region: str | None = Field(default=None, max_length=100)
    owner_id: int | None = Field(default=None, foreign_key="staff.id")
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    stage: Stage = Field(default=Stage.LEAD, sa_column=enum_column(Stage))
    do_not_contact: bool = False
    tier: str | None = Field(default=None, max_length=30)
    tier_reason: str | None = None
    risk: str | None = Field(default=None, max_length=30)
    notes: str | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    last_activity_at: datetime | None = Field(default=None, sa_column=utc_column())
    # Last logged interaction: the stay-in-touch cadence counts from here.
    last_contact_at: datetime | None = Field(default=None, sa_column=utc_column())
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column())


class CustomerShare(SQLModel, table=True):
    """A customer shared with a rep who does not own it."""

    __tablename__ = "customer_share"
    __table_args__ = (UniqueConstraint("customer_id", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)


class SearchKind(StrEnum):
    NAME = "name"
    GIVEN_NAME = "given"
    PINYIN = "pinyin"
    INITIALS = "initials"
    COMPANY = "company"
    TAG = "tag"
    EMAIL = "email"
    PHONE = "phone"
    PHONE_LAST4 = "last4"
    WECHAT = "wechat"


class CustomerSearchKey(SQLModel, table=True):
    """One normalised key a customer can be found by; prefix lookups use the key index."""

    __tablename__ = "customer_search_key"
    __table_args__ = (Index("ix_search_key_key", "key", "customer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: SearchKind = Field(sa_column=enum_column(SearchKind))
    key: str = Field(max_length=200)
