"""Churn risk per customer: days since the last order against the customer's own rhythm.

A customer's rhythm is the median gap between their consecutive orders (their last
RHYTHM_ORDERS orders). Someone with one order has no rhythm of their own yet and is measured
against the usual gap of all repeat buyers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from crm_core.analytics.catalogue import RiskLevel

RHYTHM_ORDERS = 10
HIGH_RATIO = 2.0  # twice the usual gap without an order
MEDIUM_RATIO = 1.5
DEFAULT_GAP_DAYS = 90.0  # when nobody in the store has bought twice yet


@dataclass(frozen=True)
class Rhythm:
    usual_gap_days: float
    own: bool  # from the customer's own orders, or the store's usual gap


def gaps_in_days(times: Sequence[datetime]) -> list[float]:
    """Gaps between consecutive orders (sorted times), in days."""
    recent = list(times[-RHYTHM_ORDERS:])
    return [(b - a).total_seconds() / 86400 for a, b in zip(recent, recent[1:], strict=False)]


def rhythm(times: Sequence[datetime], store_gap_days: float) -> Rhythm:
    gaps = [g for g in gaps_in_days(times) if g > 0]
    if gaps:
        return Rhythm(max(1.0, median(gaps)), own=True)
    return Rhythm(store_gap_days, own=False)


def risk_level(days_since_last: float, usual_gap_days: float) -> RiskLevel:
    ratio = days_since_last / usual_gap_days
    if ratio >= HIGH_RATIO:
        return RiskLevel.HIGH
    if ratio >= MEDIUM_RATIO:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def store_gap(per_customer_gaps: Sequence[float]) -> float:
    """The usual gap across repeat buyers: the median of their own rhythms."""
    return median(per_customer_gaps) if per_customer_gaps else DEFAULT_GAP_DAYS
