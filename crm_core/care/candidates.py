"""Which orders the daily scan must look at: SQL narrows, the pure rules decide.

Streaming all ~570k orders of a 100k-customer store through Python costs most of a scan,
yet only a few thousand can make a touch today. Each statement here returns a superset of
the orders one rule can act on (bounds taken over every team's policy, with a day or two
of slack for time zones and the remind time); the rules in rules.py then decide exactly as
they would over all orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from crm_core.care.policy import CarePolicy
from crm_core.models import Order, PaymentStatus

# days_after() lands within a local day of `moment + days`, plus a DST hour: two days cover it.
_SLACK = timedelta(days=2)
_UNPAID = (PaymentStatus.UNPAID, PaymentStatus.OVERDUE)
_ORDER_COLUMNS = (
    Order.customer_id,
    Order.id,
    Order.ordered_at,
    Order.payment_status,
    Order.due_date,
)


@dataclass(frozen=True)
class ScanBounds:
    """The scan's window [start, end] and the extremes of every policy's timings."""

    now: datetime
    start: datetime
    end: datetime
    policies: tuple[CarePolicy, ...]

    @classmethod
    def of(
        cls, policies: Iterable[CarePolicy], now: datetime, start: datetime, end: datetime
    ) -> ScanBounds:
        return cls(now, start, end, tuple(policies))

    def _days(self, name: str) -> tuple[timedelta, timedelta]:
        values = [getattr(p, name) for p in self.policies]
        return timedelta(days=min(values)), timedelta(days=max(values))

    def placed_for(self, name: str) -> tuple[datetime, datetime]:
        """When an order must have been placed for a touch `policy.<name>` days later to
        fall in the window."""
        shortest, longest = self._days(name)
        return self.start - longest - _SLACK, self.end - shortest + _SLACK


def _live() -> ColumnElement[bool]:
    return Order.deleted_at.is_(None)  # type: ignore[union-attr]


def _in_order(stmt: Any) -> Any:
    # Oldest first per customer; the id settles orders placed at the same moment.
    return stmt.order_by(Order.customer_id, Order.ordered_at, Order.id)


def first_orders(bounds: ScanBounds) -> Any:
    """Customers' first live orders placed when a check-in could fall due now."""
    lo, hi = bounds.placed_for("checkin_days")
    earlier = aliased(Order)
    before = exists().where(
        earlier.customer_id == Order.customer_id,
        earlier.deleted_at.is_(None),  # type: ignore[union-attr]
        or_(
            earlier.ordered_at < Order.ordered_at,
            and_(earlier.ordered_at == Order.ordered_at, earlier.id < Order.id),  # type: ignore[operator]
        ),
    )
    return _in_order(
        select(*_ORDER_COLUMNS).where(_live(), Order.ordered_at.between(lo, hi), ~before)  # type: ignore[attr-defined]
    )


def followup_orders(bounds: ScanBounds) -> Any:
    """Orders whose satisfaction question may fall due now, and unpaid ones past due."""
    lo, hi = bounds.placed_for("satisfaction_days")
    # No team's local "today" is later than UTC's tomorrow.
    tomorrow: date = (bounds.now + timedelta(days=1)).date()
    unpaid = and_(
        Order.payment_status.in_(_UNPAID),  # type: ignore[attr-defined]
        Order.due_date.is_not(None),  # type: ignore[union-attr]
        Order.due_date < tomorrow,  # type: ignore[operator]
    )
    return _in_order(
        select(*_ORDER_COLUMNS).where(_live(), or_(Order.ordered_at.between(lo, hi), unpaid))  # type: ignore[attr-defined]
    )


def _day_number(value: Any, dialect: str) -> Any:
    """A timestamp as days since 1970 (a float), in SQL."""
    if dialect == "sqlite":  # naive UTC text; julianday counts from 4714 BC
        return func.julianday(value) - 2440587.5
    return func.extract("epoch", value) / 86400.0


def winback_orders(bounds: ScanBounds, dialect: str) -> Any:
    """Every live order of the customers whose buying may have slowed down just now.

    The median gap between a customer's orders is computed in SQL (LAG, then the middle
    rows); a customer qualifies when last order + factor × median (or the single-order
    wait) falls within the lookback, by any team's policy, give or take a day.
    """
    table = Order.__table__  # type: ignore[attr-defined]
    at = _day_number(table.c.ordered_at, dialect)
    gaps = (
        select(
            table.c.customer_id,
            at.label("at"),
            (at - func.lag(at).over(partition_by=table.c.customer_id, order_by=at)).label("gap"),
        )
        .where(table.c.deleted_at.is_(None))
        .cte("gaps")
    )
    ranked = select(
        gaps.c.customer_id,
        gaps.c.at,
        gaps.c.gap,
        func.row_number()
        .over(partition_by=gaps.c.customer_id, order_by=gaps.c.gap.asc().nulls_last())
        .label("rn"),
        func.count(gaps.c.gap).over(partition_by=gaps.c.customer_id).label("k"),
    ).cte("ranked")
    middle = or_(ranked.c.rn == (ranked.c.k + 1) // 2, ranked.c.rn == (ranked.c.k + 2) // 2)
    per_customer = (
        select(
            ranked.c.customer_id,
            func.max(ranked.c.k).label("gaps"),
            func.max(ranked.c.at).label("last"),
            func.avg(case((middle, ranked.c.gap))).label("median"),
        )
        .group_by(ranked.c.customer_id)
        .cte("per_customer")
    )
    now = bounds.now.timestamp() / 86400
    fmin = min(p.winback_factor for p in bounds.policies)
    fmax = max(p.winback_factor for p in bounds.policies)
    lookback = max(p.winback_lookback_days for p in bounds.policies)
    single = [p.winback_single_order_days for p in bounds.policies]
    last, median = per_customer.c.last, per_customer.c.median
    lapsing = or_(
        and_(
            per_customer.c.gaps == 0,
            last.between(now - lookback - max(single) - 1, now - min(single) + 1),
        ),
        and_(
            per_customer.c.gaps > 0,
            last + fmax * median >= now - lookback - 1,
            last + fmin * median <= now + 1,
        ),
    )
    candidates = select(per_customer.c.customer_id).where(lapsing)
    return _in_order(
        select(*_ORDER_COLUMNS).where(_live(), Order.customer_id.in_(candidates))  # type: ignore[attr-defined]
    )
