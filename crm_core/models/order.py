"""Products, orders and their items."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Index, Numeric
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import enum_column, utc_column


class PaymentStatus(StrEnum):
    PAID = "paid"
    UNPAID = "unpaid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sku: str | None = Field(default=None, max_length=50, unique=True)
    name: str = Field(max_length=200, index=True)
    category: str | None = Field(default=None, max_length=100)
    price: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(14, 2), nullable=False))
    currency: str = "CNY"


class Order(SQLModel, table=True):
    __tablename__ = "customer_order"  # "order" is an SQL keyword
    __table_args__ = (Index("ix_order_customer_when", "customer_id", "ordered_at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    ordered_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    amount: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    currency: str = "CNY"
    payment_method: str | None = Field(default=None, max_length=30)
    credit_days: int | None = None
    due_date: date | None = None
    payment_status: PaymentStatus = Field(
        default=PaymentStatus.PAID, sa_column=enum_column(PaymentStatus)
    )
    paid_at: datetime | None = Field(default=None, sa_column=utc_column())
    note: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column())


class OrderItem(SQLModel, table=True):
    __tablename__ = "order_item"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="customer_order.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True)
    description: str = Field(max_length=200)
    quantity: int = 1
    unit_price: Decimal = Field(
        default=Decimal("0"), sa_column=Column(Numeric(14, 2), nullable=False)
    )
