"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Enum, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, whatever the database keeps (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def json_column(*, nullable: bool = False) -> Any:
    return Column(JSON, nullable=nullable)


def enum_column(enum: type[StrEnum], *, index: bool = False) -> Any:
    """Stores the enum's value ("rep", not "REP") as a plain string column: readable SQL,
    no PostgreSQL enum types to migrate when a value is added."""
    return Column(
        Enum(
            enum,
            values_callable=lambda e: [m.value for m in e],
            native_enum=False,
            length=30,
            validate_strings=True,
        ),
        nullable=False,
        index=index,
    )
