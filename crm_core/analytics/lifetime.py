"""Historical and predicted lifetime value, and the currency they are shown in, from one
pass over the frame's orders.

Asked the usual way these are four passes: the currency check over the last year, every
order for historical CLV, the last year again for the annual value, and the yearly churn
behind the expected lifetime. Here each customer's valid orders are summed once per
currency (all time, the last year, the orders in the currency window) with two flags
(bought in the year before last, bought in the last year); the groups, the currency choice
and the churn are read off those rows. Same definitions as kpis.clv_historical,
kpis.annual_value and kpis.lifetime_years (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.analytics.catalogue import Dimension, Metric
from crm_core.analytics.frame import Frame
from crm_core.analytics.kpis import ATTRIBUTES, YEAR, Grouping, Key, Pair, expected_years
from crm_core.analytics.segments import valid_order
from crm_core.analytics.sql import execute
from crm_core.models import Customer, Order

LIFETIME_METRICS = frozenset({Metric.CLV_HISTORICAL, Metric.CLV_PREDICTED})
# Splits where every customer falls in exactly one group; ranked customer lists and
# segments keep the general path.
_SPLITS = frozenset(
    {Dimension.REP, Dimension.TEAM, Dimension.TIER, Dimension.SOURCE, Dimension.CITY}
)


def applies(metrics: Sequence[Metric], dims: Sequence[Dimension]) -> bool:
    """Only lifetime value, split (if at all) by customer attributes."""
    return bool(metrics) and set(metrics) <= LIFETIME_METRICS and set(dims) <= _SPLITS


@dataclass(frozen=True)
class Lifetime:
    currency: str | None  # None: the frame had no orders in the currency window
    others: list[str]  # the other currencies sold in that window, most orders first
    values: dict[Metric, dict[Key, Pair]]


async def measure(
    session: AsyncSession,
    frame: Frame,
    dims: Sequence[Dimension],
    *,
    end: datetime,
    since: datetime,
    currency: str | None,
) -> Lifetime:
    """Both lifetime values per group at `end`, in `currency` or else the currency with the
    most orders in [since, end)."""
    g = Grouping(dims)
    names = g.names()
    recent = Order.ordered_at >= end - YEAR  # type: ignore[operator]
    before = and_(Order.ordered_at >= end - 2 * YEAR, Order.ordered_at < end - YEAR)  # type: ignore[operator]
    attributes = [ATTRIBUTES[d].label(n) for d, n in zip(dims, names, strict=True)]
    rows = (
        select(
            *attributes,
            col(Order.customer_id).label("customer_id"),
            col(Order.currency).label("currency"),
            col(Order.amount).label("amount"),
            case((recent, Order.amount)).label("year_amount"),
            case((Order.ordered_at >= since, 1), else_=0).label("counted"),  # type: ignore[operator]
            case((before, 1), else_=0).label("before"),
            case((recent, 1), else_=0).label("recent"),
        )
        .select_from(Order)
        .join(Customer, col(Customer.id) == Order.customer_id)
        .where(valid_order(Order), Order.ordered_at < end, frame.customers)  # type: ignore[operator]
        .subquery("o")
    )
    keys = [rows.c[n] for n in names]
    per_currency = (
        select(
            *keys,
            rows.c.customer_id,
            rows.c.currency,
            func.sum(rows.c.amount).label("lifetime"),
            func.sum(rows.c.year_amount).label("year_amount"),  # NULL: nothing in the year
            func.sum(rows.c.counted).label("counted"),
            func.max(rows.c.before).label("before"),
            func.max(rows.c.recent).label("recent"),
        )
        .group_by(*keys, rows.c.customer_id, rows.c.currency)
        .subquery("per_currency")
    )
    # Churn counts customers, not customer-currency rows: flags over all of a customer's
    # currencies, counted on one of their rows.
    p = per_currency.c
    customer = {"partition_by": p.customer_id}
    flagged = select(
        *[p[n] for n in names],
        p.currency,
        p.lifetime,
        p.year_amount,
        p.counted,
        func.max(p.before).over(**customer).label("before"),
        func.max(p.recent).over(**customer).label("recent"),
        func.row_number().over(**customer, order_by=p.currency).label("nth"),
    ).subquery("flagged")
    f = flagged.c
    first = f.nth == 1
    stmt = select(
        *[f[n] for n in names],
        f.currency,
        func.sum(f.lifetime),
        func.count(),
        func.sum(f.year_amount),
        func.count(f.year_amount),
        func.sum(f.counted),
        func.sum(case((first & (f.before == 1), 1), else_=0)),
        func.sum(case((first & (f.before == 1) & (f.recent == 0), 1), else_=0)),
    ).group_by(*[f[n] for n in names], f.currency)
    found = (await execute(session, stmt)).all()
    return _read(found, len(names), currency)


def _read(found: Sequence[Any], width: int, currency: str | None) -> Lifetime:
    counted: dict[str, int] = {}
    base = churned = 0
    for row in found:
        cur, n, b, c = row[width], row[width + 5], row[width + 6], row[width + 7]
        counted[cur] = counted.get(cur, 0) + int(n or 0)
        base, churned = base + int(b or 0), churned + int(c or 0)
    ranked = sorted((c for c in counted if counted[c]), key=lambda c: (-counted[c], c))
    chosen = currency or (ranked[0] if ranked else None)
    years = expected_years(base, churned)
    historical: dict[Key, Pair] = {}
    predicted: dict[Key, Pair] = {}
    for row in found:
        if row[width] != chosen:
            continue
        key = tuple(row[:width])
        lifetime, customers, year_amount, buyers = row[width + 1 : width + 5]
        historical[key] = (lifetime, customers)
        if buyers:
            predicted[key] = (year_amount * years, buyers)
    if not width:  # no split: one (empty) answer, as an aggregate over no rows gives
        historical.setdefault((), (None, 0))
        predicted.setdefault((), (None, 0))
    return Lifetime(
        currency=chosen,
        others=[c for c in ranked if c != chosen],
        values={Metric.CLV_HISTORICAL: historical, Metric.CLV_PREDICTED: predicted},
    )
