"""Revenue and average order value, and the currency they are shown in, from one pass over
the period's orders.

Asked the usual way this is a pass to find the currency (the one the frame sold most orders
in over the period), then one per metric over the same orders in that currency. Here the
orders are summed and counted per group and currency at once, and the currency is read off
the counts. Same definitions as kpis.revenue and kpis.aov (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.analytics.catalogue import ITEM_DIMENSIONS, Dimension, Metric
from crm_core.analytics.frame import Frame
from crm_core.analytics.kpis import Grouping, Key, Pair, order_rows
from crm_core.analytics.sql import execute

MONEY_FLOW_METRICS = frozenset({Metric.REVENUE, Metric.AOV})


def applies(metrics: Sequence[Metric], dims: Sequence[Dimension], frame: Frame) -> bool:
    """Only revenue and AOV, over whole orders (a product filter or split counts order
    lines, while the currency is chosen by orders), not a ranked list or by segment."""
    return (
        bool(metrics)
        and set(metrics) <= MONEY_FLOW_METRICS
        and frame.items is None
        and not any(d in ITEM_DIMENSIONS for d in dims)
        and Dimension.CUSTOMER not in dims
        and Dimension.SEGMENT not in dims
    )


@dataclass(frozen=True)
class Money:
    currency: str | None  # None: the frame had no orders in the period
    others: list[str]  # the other currencies sold in the period, most orders first
    values: dict[Metric, dict[Key, Pair]]


async def measure(
    session: AsyncSession,
    frame: Frame,
    g: Grouping,
    *,
    start: datetime,
    end: datetime,
    currency: str | None,
) -> Money:
    """Revenue and AOV per group over [start, end), in `currency` or else the currency
    with the most orders in the period."""
    rows = order_rows(frame, g, start, end, currency_key=True)
    keys = [rows.c[n] for n in g.names()]
    stmt = select(*keys, rows.c.currency, func.sum(rows.c.amount), func.count()).group_by(
        *keys, rows.c.currency
    )
    return _read((await execute(session, stmt)).all(), len(keys), currency)


def _read(found: Sequence[Any], width: int, currency: str | None) -> Money:
    orders: dict[str, int] = {}
    for row in found:
        orders[row[width]] = orders.get(row[width], 0) + int(row[width + 2])
    ranked = sorted(orders, key=lambda c: (-orders[c], c))
    chosen = currency or (ranked[0] if ranked else None)
    revenue: dict[Key, Pair] = {}
    aov: dict[Key, Pair] = {}
    for row in found:
        if row[width] == chosen:
            key, amount, count = tuple(row[:width]), row[width + 1], row[width + 2]
            revenue[key], aov[key] = (amount, None), (amount, count)
    if not width:  # no split: one (empty) answer, as an aggregate over no rows gives
        revenue.setdefault((), (None, None))
        aov.setdefault((), (None, 0))
    return Money(
        currency=chosen,
        others=[c for c in ranked if c != chosen],
        values={Metric.REVENUE: revenue, Metric.AOV: aov},
    )
