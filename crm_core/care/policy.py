"""A team's care policy: which rules run, their timings, and contact-frequency limits.

Stored as JSON on `Team.care_policy`; `{}` (or any missing field) means the default.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crm_core.models import Team


class CareKind(StrEnum):
    """One per rule; stored in `Reminder.kind`."""

    BIRTHDAY_EVE = "birthday_eve"
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    CHECKIN = "checkin"
    SATISFACTION = "satisfaction"
    WINBACK = "winback"
    COMPLAINT_FOLLOWUP = "complaint_followup"
    ESCALATION = "escalation"
    PAYMENT_OVERDUE = "payment_overdue"
    STAY_IN_TOUCH = "stay_in_touch"


# Touches that reach the customer, and so count against (and are held by) frequency control.
# An escalation goes to the manager and a payment reminder is owed money: neither is held.
CUSTOMER_FACING = frozenset(CareKind) - {CareKind.ESCALATION, CareKind.PAYMENT_OVERDUE}


class Cadence(BaseModel):
    """Stay in touch every `days` with customers carrying `tag` (or of `tier`)."""

    model_config = ConfigDict(extra="forbid")
    tag: str | None = None
    tier: str | None = None
    days: int = Field(ge=1, le=3650)


class CarePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: list[CareKind] = Field(default_factory=lambda: list(CareKind))
    # First match wins (tags, then tiers, in list order); otherwise cadence_default_days.
    cadence: list[Cadence] = Field(
        default_factory=lambda: [
            Cadence(tag="VIP", days=30),
            Cadence(tier="high-value", days=30),
        ]
    )
    cadence_default_days: int = Field(default=90, ge=1)
    checkin_days: int = Field(default=3, ge=0)
    satisfaction_days: int = Field(default=14, ge=0)
    winback_factor: float = Field(default=1.5, gt=0)
    winback_single_order_days: int = Field(default=90, ge=1)
    # A lapse older than this is history (the customer shows as churned), not news.
    winback_lookback_days: int = Field(default=30, ge=1)
    complaint_followup_days: int = Field(default=7, ge=0)
    escalation_days: int = Field(default=2, ge=0)
    touch_cap: int = Field(default=2, ge=1)
    touch_window_days: int = Field(default=7, ge=1)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 30)
    # The local time of day rule reminders fall due.
    remind_at: time = time(9, 0)
    summary_time: time = time(18, 0)
    # A rep with more open overdue reminders than this shows as overloaded in the summary.
    overloaded_at: int = Field(default=15, ge=1)

    def cadence_days(self, tier: str | None, tags: list[str]) -> int:
        for rule in self.cadence:
            if rule.tag is not None and rule.tag in tags:
                return rule.days
        for rule in self.cadence:
            if rule.tier is not None and rule.tier == tier:
                return rule.days
        return self.cadence_default_days


def policy_of(team: Team | None) -> CarePolicy:
    """The team's policy; a stored policy that no longer validates falls back to defaults."""
    if team is None or not team.care_policy:
        return CarePolicy()
    try:
        return CarePolicy.model_validate(team.care_policy)
    except ValidationError:
        return CarePolicy()


def in_quiet_hours(moment: datetime, policy: CarePolicy, tz: str) -> bool:
    local = moment.astimezone(ZoneInfo(tz)).time()
    start, end = policy.quiet_start, policy.quiet_end
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def out_of_quiet_hours(moment: datetime, policy: CarePolicy, tz: str) -> datetime:
    """`moment`, or the end of the quiet hours it falls in (same night, local time)."""
    if not in_quiet_hours(moment, policy, tz):
        return moment
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    day = local.date()
    if local.time() >= policy.quiet_end and policy.quiet_start > policy.quiet_end:
        day += timedelta(days=1)  # evening: the quiet hours end tomorrow morning
    return local_moment(day, policy.quiet_end, tz)


def local_moment(day: date, at: time, tz: str) -> datetime:
    """`day` at `at` on the wall clock of `tz`, in UTC (zoneinfo takes care of DST)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)
