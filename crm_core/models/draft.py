"""Messages drafted for a customer, and the discount codes win-back drafts carry."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Numeric
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, utc_column


class DraftStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    DISCARDED = "discarded"


class MessageDraft(SQLModel, table=True):
    __tablename__ = "message_draft"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    kind: str = Field(max_length=20)  # birthday | followup | winback | thanks
    channel: str = Field(max_length=30)
    language: str = Field(max_length=10)
    text: str
    method: str = Field(default="template", max_length=20)  # llm | template
    status: DraftStatus = Field(default=DraftStatus.DRAFT, sa_column=enum_column(DraftStatus))
    discount_code_id: int | None = Field(default=None, foreign_key="discount_code.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column())


class DiscountStatus(StrEnum):
    ACTIVE = "active"
    VOID = "void"
    REDEEMED = "redeemed"


class DiscountCode(SQLModel, table=True):
    __tablename__ = "discount_code"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    percent: Decimal = Field(sa_column=Column(Numeric(5, 2), nullable=False))
    status: DiscountStatus = Field(
        default=DiscountStatus.ACTIVE, sa_column=enum_column(DiscountStatus)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    expires_at: datetime = Field(sa_column=utc_column(nullable=False))
