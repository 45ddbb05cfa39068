"""Report periods: relative specs ("last month", "last 6 months") resolved against now, in the
actor's timezone, plus the comparison periods and time buckets (day/week/month/quarter)."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, model_validator


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class PeriodKind(StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    THIS_WEEK = "this_week"
    LAST_WEEK = "last_week"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    THIS_QUARTER = "this_quarter"
    LAST_QUARTER = "last_quarter"
    THIS_YEAR = "this_year"
    LAST_YEAR = "last_year"
    LAST_DAYS = "last_days"
    LAST_WEEKS = "last_weeks"
    LAST_MONTHS = "last_months"
    BETWEEN = "between"


class PeriodSpec(BaseModel):
    """A period relative to when the report runs, so a pinned report moves with time.

    `last_days`, `last_weeks` and `last_months` take `n` and include the current day, week or
    month; `between` takes `start` and `end` (both inclusive, local dates)."""

    kind: PeriodKind = PeriodKind.THIS_MONTH
    n: int | None = Field(default=None, ge=1, le=120)
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _complete(self) -> PeriodSpec:
        if self.kind in _ROLLING and self.n is None:
            raise ValueError(f"{self.kind} needs n")
        if self.kind is PeriodKind.BETWEEN:
            if self.start is None or self.end is None or self.end < self.start:
                raise ValueError("between needs start <= end")
        return self


_ROLLING = {PeriodKind.LAST_DAYS, PeriodKind.LAST_WEEKS, PeriodKind.LAST_MONTHS}
_MONTHS = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}


def add_units(day: date, grain: Grain, count: int) -> date:
    """`day` moved by `count` calendar units (months clamp to the month's last day)."""
    if grain is Grain.DAY:
        return day + timedelta(days=count)
    if grain is Grain.WEEK:
        return day + timedelta(weeks=count)
    year, month0 = divmod(day.year * 12 + day.month - 1 + count * _MONTHS[grain], 12)
    return date(year, month0 + 1, min(day.day, monthrange(year, month0 + 1)[1]))


def start_of(day: date, grain: Grain) -> date:
    if grain is Grain.DAY:
        return day
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    if grain is Grain.MONTH:
        return day.replace(day=1)
    if grain is Grain.QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, 1, 1)


@dataclass(frozen=True)
class Period:
    """Local days [first_day, end_day) in `timezone`; `until` cuts a period still running
    at now ("this month so far")."""

    first_day: date
    end_day: date
    unit: Grain
    count: int
    timezone: str
    until: datetime | None = None

    def _utc(self, day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self._utc(self.first_day)

    @property
    def end(self) -> datetime:
        full = self._utc(self.end_day)
        return min(full, self.until) if self.until is not None else full

    @property
    def last_day(self) -> date:
        """The last local day the period covers (inclusive)."""
        if self.until is not None and self.until < self._utc(self.end_day):
            return self.until.astimezone(ZoneInfo(self.timezone)).date()
        return self.end_day - timedelta(days=1)

    def shifted(self, units: int, grain: Grain | None = None) -> Period:
        """The same span moved by `units` of `grain` (its own unit by default); a period cut
        at now keeps the same elapsed time, so "this month so far" compares like for like."""
        grain = grain or self.unit
        first = add_units(self.first_day, grain, units)
        end = add_units(self.end_day, grain, units)
        until = None
        if self.until is not None:
            until = self._utc(first) + (self.until - self.start)
        return replace(self, first_day=first, end_day=end, until=until)

    def previous(self) -> Period:
        return self.shifted(-self.count)

    def year_ago(self) -> Period:
        return self.shifted(-1, Grain.YEAR)

    def previous_full(self) -> Period:
        """The whole period of the same length just before this one (retention's base)."""
        return replace(self.shifted(-self.count), until=None)

    def boundaries(self, grain: Grain) -> list[tuple[date, datetime]]:
        """Bucket starts (local day, UTC instant) from the period start, aligned to `grain`,
        followed by the period end: n buckets give n + 1 entries."""
        starts = [self.first_day]
        day = add_units(start_of(self.first_day, grain), grain, 1)
        while day < self.end_day and self._utc(day) < self.end:
            starts.append(day)
            day = add_units(day, grain, 1)
        return [(d, self._utc(d)) for d in starts] + [(self.last_day, self.end)]


def resolve(spec: PeriodSpec, now: datetime, timezone: str) -> Period:
    """The concrete period `spec` means at `now` (aware) for someone in `timezone`."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    kind = spec.kind
    if kind is PeriodKind.BETWEEN:
        assert spec.start is not None and spec.end is not None
        days = (spec.end - spec.start).days + 1
        return _cut(
            Period(spec.start, spec.end + timedelta(days=1), Grain.DAY, days, timezone), now
        )
    grain, back, count = _RELATIVE[kind]
    if kind in _ROLLING:
        assert spec.n is not None
        back, count = -(spec.n - 1), spec.n
    first = add_units(start_of(today, grain), grain, back)
    return _cut(Period(first, add_units(first, grain, count), grain, count, timezone), now)


def _cut(period: Period, now: datetime) -> Period:
    return replace(period, until=now.astimezone(UTC)) if now < period.end else period


# kind -> (unit, units back from the current one, length in units)
_RELATIVE: dict[PeriodKind, tuple[Grain, int, int]] = {
    PeriodKind.TODAY: (Grain.DAY, 0, 1),
    PeriodKind.YESTERDAY: (Grain.DAY, -1, 1),
    PeriodKind.THIS_WEEK: (Grain.WEEK, 0, 1),
    PeriodKind.LAST_WEEK: (Grain.WEEK, -1, 1),
    PeriodKind.THIS_MONTH: (Grain.MONTH, 0, 1),
    PeriodKind.LAST_MONTH: (Grain.MONTH, -1, 1),
    PeriodKind.THIS_QUARTER: (Grain.QUARTER, 0, 1),
    PeriodKind.LAST_QUARTER: (Grain.QUARTER, -1, 1),
    PeriodKind.THIS_YEAR: (Grain.YEAR, 0, 1),
    PeriodKind.LAST_YEAR: (Grain.YEAR, -1, 1),
    PeriodKind.LAST_DAYS: (Grain.DAY, 0, 1),
    PeriodKind.LAST_WEEKS: (Grain.WEEK, 0, 1),
    PeriodKind.LAST_MONTHS: (Grain.MONTH, 0, 1),
}
