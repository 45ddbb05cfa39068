"""The one source of "now". Tests move it with time-machine; nothing else calls datetime.now."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_now(tz: str | tzinfo) -> datetime:
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return utcnow().astimezone(zone)


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime read back from the store (SQLite drops the offset) to aware UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
