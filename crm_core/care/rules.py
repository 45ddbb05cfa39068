"""The rules themselves, as pure functions of a customer's facts: what touch is due, when, why.

The daily scan feeds them from a few bulk reads; the event hooks feed them one customer.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm_core.care.policy import CareKind, CarePolicy, local_moment
from crm_core.models import PaymentStatus, Stage


@dataclass(frozen=True)
class CustomerFacts:
    id: int
    name: str
    owner_id: int | None
    team_id: int | None
    tier: str | None
    tags: list[str]
    birthday: date | None
    anniversary: date | None
    created_at: datetime
    last_contact_at: datetime | None
    do_not_contact: bool
    stage: Stage
    preferred_channel: str | None


@dataclass(frozen=True)
class OrderFacts:
    id: int
    ordered_at: datetime
    payment_status: PaymentStatus
    due_date: date | None


@dataclass(frozen=True)
class FeedbackFacts:
    id: int
    created_at: datetime
    resolved_at: datetime | None
    resolved: bool


@dataclass
class Touch:
    """A reminder a rule wants to exist (inserted unless its cause_key already does)."""

    kind: CareKind
    customer: CustomerFacts
    due_at: datetime
    cause_key: str
    params: dict[str, Any] = field(default_factory=dict)
    # Escalations go to the team's manager rather than the customer's owner.
    to_manager: bool = False


@dataclass(frozen=True)
class RuleWindow:
    """What one evaluation covers: causes falling due in [start, end], seen at `now`."""

    now: datetime
    start: datetime  # now minus the grace: older causes were missed for good
    end: datetime  # the scan's horizon; events look further ahead
    policy: CarePolicy
    timezone: str

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    def at_remind_time(self, day: date) -> datetime:
        return local_moment(day, self.policy.remind_at, self.timezone)

    def days_after(self, moment: datetime, days: int) -> datetime:
        """The remind time on the local day `days` after `moment`: reps work in days."""
        day = moment.astimezone(ZoneInfo(self.timezone)).date() + timedelta(days=days)
        return self.at_remind_time(day)

    def condition_due(self, since: datetime) -> datetime:
        """A standing condition (lapsed, overdue): due at today's remind time, or at once."""
        return max(since, min(self.now, self.at_remind_time(self.today)))

    def covers(self, due: datetime) -> bool:
        return self.start <= due <= self.end

    def on(self, kind: CareKind) -> bool:
        return kind in self.policy.enabled


def _same_day_in(year: int, day: date) -> date:
    """The date's month and day in `year`; 29 February falls on the 28th in other years."""
    try:
        return day.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def date_touches(c: CustomerFacts, w: RuleWindow) -> Iterator[Touch]:
    """Birthday (the eve and the day) and anniversary, for every local day the window covers."""
    first, last = (
        w.start.astimezone(ZoneInfo(w.timezone)).date(),
        w.end.astimezone(ZoneInfo(w.timezone)).date(),
    )
    for year in {first.year, last.year}:
        if c.birthday is not None:
            day = _same_day_in(year, c.birthday)
            shown = f"{day.month}/{day.day}"
            for kind, when, suffix in (
                (CareKind.BIRTHDAY_EVE, day - timedelta(days=1), "eve"),
                (CareKind.BIRTHDAY, day, "day"),
            ):
                due = w.at_remind_time(when)
                if w.on(kind) and w.covers(due):
                    key = f"birthday:{c.id}:{year}:{suffix}"
                    yield Touch(kind, c, due, key, {"day": shown})
        if c.anniversary is not None and c.anniversary.year < year:
            due = w.at_remind_time(_same_day_in(year, c.anniversary))
            if w.on(CareKind.ANNIVERSARY) and w.covers(due):
                years = year - c.anniversary.year
                key = f"anniversary:{c.id}:{year}"
                yield Touch(CareKind.ANNIVERSARY, c, due, key, {"years": years})


def order_touches(c: CustomerFacts, orders: list[OrderFacts], w: RuleWindow) -> Iterator[Touch]:
    """Check-in after the first purchase, satisfaction after each, win-back, overdue payment.

    `orders` are the customer's live orders, oldest first.
    """
    if not orders:
        return
    yield from checkin_touches(c, orders[0], w)
    for order in orders:
        yield from order_followups(c, order, w)
    if w.on(CareKind.WINBACK):
        touch = winback_touch(c, orders, w)
        if touch is not None:
            yield touch


def checkin_touches(c: CustomerFacts, first: OrderFacts, w: RuleWindow) -> Iterator[Touch]:
    """A few days after the customer's first purchase: how is it going?"""
    p = w.policy
    due = w.days_after(first.ordered_at, p.checkin_days)
    if w.on(CareKind.CHECKIN) and w.covers(due):
        key = f"checkin:{first.id}"
        yield Touch(CareKind.CHECKIN, c, due, key, {"days": p.checkin_days})


def order_followups(c: CustomerFacts, order: OrderFacts, w: RuleWindow) -> Iterator[Touch]:
    """Per order: ask about satisfaction; chase a payment past its due date."""
    p = w.policy
    due = w.days_after(order.ordered_at, p.satisfaction_days)
    if w.on(CareKind.SATISFACTION) and w.covers(due):
        params = {"order": order.id, "days": p.satisfaction_days}
        yield Touch(CareKind.SATISFACTION, c, due, f"satisfaction:{order.id}", params)
    if (
        w.on(CareKind.PAYMENT_OVERDUE)
        and order.payment_status in (PaymentStatus.UNPAID, PaymentStatus.OVERDUE)
        and order.due_date is not None
        and order.due_date < w.today
    ):
        lapsed = w.at_remind_time(order.due_date + timedelta(days=1))
        params = {"order": order.id, "due": order.due_date.isoformat()}
        key = f"payment:{order.id}"
        yield Touch(CareKind.PAYMENT_OVERDUE, c, w.condition_due(lapsed), key, params)


def winback_touch(c: CustomerFacts, orders: list[OrderFacts], w: RuleWindow) -> Touch | None:
    """ "Buying slowed down": the wait since the last order passed 1.5× the customer's own
    median gap (90 days after a single order). Lapses older than the lookback are history."""
    p = w.policy
    last = orders[-1].ordered_at
    if len(orders) >= 2:
        gaps = [
            (b.ordered_at - a.ordered_at).total_seconds()
            for a, b in zip(orders, orders[1:], strict=False)
        ]
        usual = timedelta(seconds=statistics.median(gaps))
        threshold = usual * p.winback_factor
    else:
        usual = threshold = timedelta(days=p.winback_single_order_days)
    crossed = last + threshold
    if crossed > w.now or crossed < w.now - timedelta(days=p.winback_lookback_days):
        return None
    params = {"since": (w.now - last).days, "usual": max(1, round(usual.total_seconds() / 86400))}
    key = f"winback:{c.id}:{last.date().isoformat()}"
    return Touch(CareKind.WINBACK, c, w.condition_due(crossed), key, params)


def cadence_touch(c: CustomerFacts, w: RuleWindow) -> Touch | None:
    """Stay in touch: due `cadence` days after the last logged contact (or since created)."""
    if not w.on(CareKind.STAY_IN_TOUCH) or c.stage is Stage.CHURNED:
        return None
    every = w.policy.cadence_days(c.tier, c.tags)
    since = c.last_contact_at or c.created_at
    natural = w.days_after(since, every)
    if natural > w.end:
        return None
    # Overdue for long already: remind once now rather than not at all.
    due = natural if natural >= w.start else w.condition_due(natural)
    params = {"since": max(0, (max(due, w.now) - since).days), "every": every}
    key = f"cadence:{c.id}:{since.isoformat(timespec='seconds')}"
    return Touch(CareKind.STAY_IN_TOUCH, c, due, key, params)


def feedback_touches(c: CustomerFacts, fb: FeedbackFacts, w: RuleWindow) -> Iterator[Touch]:
    """Follow up a resolved complaint or return; escalate one left open too long."""
    p = w.policy
    if fb.resolved and fb.resolved_at is not None:
        due = w.days_after(fb.resolved_at, p.complaint_followup_days)
        if w.on(CareKind.COMPLAINT_FOLLOWUP) and w.covers(due):
            params = {"feedback": fb.id, "days": p.complaint_followup_days}
            key = f"complaint:{fb.id}:followup"
            yield Touch(CareKind.COMPLAINT_FOLLOWUP, c, due, key, params)
    elif w.on(CareKind.ESCALATION):
        late = fb.created_at + timedelta(days=p.escalation_days)
        if late <= w.now:
            params = {"feedback": fb.id, "days": (w.now - fb.created_at).days}
            key = f"complaint:{fb.id}:escalation"
            yield Touch(CareKind.ESCALATION, c, w.now, key, params, to_manager=True)
