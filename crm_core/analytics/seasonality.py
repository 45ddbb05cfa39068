"""Seasonality: in which calendar months a customer or a product sells.

Orders per calendar month over the last 24 months (the report engine's month_of_year
split); a month's index is its orders over the monthly average, so 1.5 means half again as
busy as an average month.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor
from crm_core.analytics.catalogue import Dimension, Metric
from crm_core.analytics.frame import ReportFilters
from crm_core.analytics.periods import PeriodKind, PeriodSpec
from crm_core.reports import ReportQuery, run_report

PEAK, QUIET = Decimal("1.2"), Decimal("0.8")


class MonthShare(BaseModel):
    month: int  # 1-12
    orders: int
    index: Decimal | None  # orders / average month


class Seasonality(BaseModel):
    months: list[MonthShare]
    peak_months: list[int]
    quiet_months: list[int]


async def seasonality(
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    customer_id: int | None = None,
    product: str | None = None,
    months: int = 24,
) -> Seasonality:
    filters = ReportFilters(
        customer_ids=[customer_id] if customer_id is not None else [],
        products=[product] if product else [],
    )
    query = ReportQuery(
        metrics=[Metric.ORDERS],
        dimensions=[Dimension.MONTH_OF_YEAR],
        filters=filters,
        period=PeriodSpec(kind=PeriodKind.LAST_MONTHS, n=months),
    )
    result = await run_report(session=session, actor=actor, query=query, now=now)
    counts = {int(row.keys[0].id or 0): int(row.values[0] or 0) for row in result.rows}
    mean = Decimal(sum(counts.values())) / 12
    shares = [
        MonthShare(
            month=m,
            orders=counts.get(m, 0),
            index=(Decimal(counts.get(m, 0)) / mean).quantize(Decimal("0.01")) if mean else None,
        )
        for m in range(1, 13)
    ]
    return Seasonality(
        months=shares,
        peak_months=[s.month for s in shares if s.index is not None and s.index >= PEAK],
        quiet_months=[s.month for s in shares if s.index is not None and s.index <= QUIET],
    )
