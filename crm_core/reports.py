"""Reports: ReportQuery, a typed semantic layer, compiled to SQL by SQLAlchemy -> ReportResult.

No SQL text is ever built from a question: a question becomes a ReportQuery (by the
deterministic parser or an LLM tool call), the query is validated here, scoped by the Actor
(crm_core.access), and each metric's SQL comes from crm_core.analytics.kpis.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor, customer_scope
from crm_core.analytics import basket, kpis, lead_score, lifetime, money
from crm_core.analytics.catalogue import (
    BASKET_METRICS,
    MONEY_METRICS,
    RATE_METRICS,
    STOCK_METRICS,
    TIME_DIMENSIONS,
    Dimension,
    Metric,
)
from crm_core.analytics.frame import Frame, build_frame
from crm_core.analytics.periods import Grain, Period, add_units, resolve
from crm_core.analytics.segments import list_segments, segment_condition, valid_order
from crm_core.analytics.sql import execute
from crm_core.errors import InvalidInput
from crm_core.models import Customer, Order, Product, Staff, Team
from crm_core.report_models import (
    Comparison,
    CustomerFilterInfo,
    DimValue,
    PeriodInfo,
    ReportQuery,
    ReportResult,
    ReportRow,
    Signal,
    SortOrder,
)
from crm_core.settings import get_settings

__all__ = [
    "Comparison",
    "CustomerFilterInfo",
    "DimValue",
    "PeriodInfo",
    "ReportQuery",
    "ReportResult",
    "ReportRow",
    "Signal",
    "SortOrder",
    "run_report",
]

_GRAIN = {
    Dimension.DAY: Grain.DAY,
    Dimension.WEEK: Grain.WEEK,
    Dimension.MONTH: Grain.MONTH,
    Dimension.QUARTER: Grain.QUARTER,
    Dimension.MONTH_OF_YEAR: Grain.MONTH,
}
MAX_BUCKETS = 400


async def run_report(
    *, session: AsyncSession, actor: Actor, query: ReportQuery, now: datetime
) -> ReportResult:
    """Answer `query` as `actor` sees the CRM at `now`."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # For this read-only transaction only: JIT compiling one-off aggregates costs more
        # than it saves (often 100+ ms), and the default 4 MB of sort memory sends
        # distinct counts over a year of orders to disk. The report indexes are read from
        # memory, not a spinning disk: priced as such, a list of 20k customers' last
        # orders is 20k index seeks (~100 ms), not a scan of every order (~250 ms).
        await execute(session, text("SET LOCAL jit = off"))
        await execute(session, text("SET LOCAL work_mem = '64MB'"))
        await execute(session, text("SET LOCAL random_page_cost = 1.1"))
    frame = await build_frame(session, actor, query.filters, now)
    for metric in query.metrics:
        if metric not in BASKET_METRICS and metric is not Metric.LEAD_SCORE:
            kpis.check_dimensions(metric, query.dimensions, frame)
    period = resolve(query.period, now, actor.timezone)
    lifetimes = None
    current: Measured | None = None
    if lifetime.applies(query.metrics, query.dimensions):  # one pass instead of four
        lifetimes = await lifetime.measure(
            session,
            frame,
            query.dimensions,
            end=period.end,
            since=_currency_start(query, period),
            currency=query.currency,
        )
        currency = lifetimes.currency or get_settings().default_currency
        others = lifetimes.others
    elif money.applies(query.metrics, query.dimensions, frame):  # two passes in one
        flows = await money.measure(
            session,
            frame,
            kpis.Grouping(query.dimensions, _edges(query, period)),
            start=period.start,
            end=period.end,
            currency=query.currency,
        )
        currency = flows.currency or get_settings().default_currency
        others = flows.others
        current = _from_values(query, flows.values, period)
    else:
        currency, others = await _currency(session, frame, query, period)
    frame = frame.in_currency(currency)
    result = ReportResult(
        query=query,
        period=PeriodInfo.of(period),
        grain=_GRAIN.get(query.time_dimension) if query.time_dimension else None,
        scope="all" if actor.is_admin else "team" if actor.is_manager else "own",
        currency=currency,
        other_currencies=others,
        rows=[],
        totals=[],
        groups=0,
    )
    if query.filters.customer_ids:
        result.customer_filter = await _customer_filter(session, actor, query.filters.customer_ids)
    if Dimension.PRODUCT_PAIR in query.dimensions:
        return await _basket(session, frame, query, period, result)
    if Metric.LEAD_SCORE in query.metrics:
        return await _leads(session, frame, query, result)
    compared = _comparison(period, query.compare)
    groups: int | None = None
    if lifetimes is not None:
        current = _from_values(query, lifetimes.values, period)
    elif current is None:
        current, groups = await _measure_all(session, frame, query, period)
    result.totals = _totals(query, period, current)
    previous: Measured = {}
    if compared is not None:
        result.comparison = PeriodInfo.of(compared)
        keys = _customer_keys(query, current)
        previous, _ = await _measure_all(session, frame, query, compared, keys=keys)
        result.previous_totals = _totals(query, compared, previous)
    values = _values(query, current, period.end)
    before = _values(query, previous, compared.end) if compared is not None else None
    if query.dimensions == [query.time_dimension] and query.time_dimension is not None:
        _fill_buckets(query, values, period)
    result.rows, result.groups = _rows(query, values, before)
    if groups is not None:  # counted in the ranked statement itself
        result.groups = groups
    elif Dimension.CUSTOMER in query.dimensions:
        result.groups = await kpis.count_groups(
            session,
            query.metrics[0],
            frame,
            kpis.Grouping(query.dimensions),
            period.start,
            period.end,
        )
    await _label(session, query, result, period)
    return result


_COUNTS = {
    Metric.REVENUE,
    Metric.ORDERS,
    Metric.NEW_CUSTOMERS,
    Metric.ACTIVE_CUSTOMERS,
    Metric.INTERACTIONS,
}


def _fill_buckets(
    query: ReportQuery, current: dict[kpis.Key, list[Decimal | None]], period: Period
) -> None:
    """A time series shows every bucket: counts are 0 where nothing happened, rates blank."""
    dim = query.time_dimension
    assert dim is not None
    keys = range(1, 13) if dim is Dimension.MONTH_OF_YEAR else range(len(_edges(query, period)) - 1)
    for key in keys:
        current.setdefault((key,), [Decimal(0) if m in _COUNTS else None for m in query.metrics])


# --- measuring -------------------------------------------------------------------------------


def _comparison(period: Period, compare: Comparison) -> Period | None:
    if compare is Comparison.PREVIOUS:
        return period.previous()
    if compare is Comparison.YEAR_AGO:
        return period.year_ago()
    return None


def _edges(query: ReportQuery, period: Period) -> list[datetime]:
    dim = query.time_dimension
    if dim is None:
        return []
    edges = [utc for _, utc in period.boundaries(_GRAIN[dim])]
    if len(edges) - 1 > MAX_BUCKETS:
        raise InvalidInput("report_too_many_buckets", limit=MAX_BUCKETS)
    return edges


def _base_start(dim: Dimension | None, period: Period) -> datetime:
    """Where retention's base bucket starts: one grain (or one period) before."""
    if dim is None:
        return period.previous_full().start
    first = add_units(period.first_day, _GRAIN[dim], -1)
    return Period(first, period.first_day, Grain.DAY, 1, period.timezone).start


Measured = dict[kpis.Key, list[kpis.Pair | None]]  # numerator and denominator per metric


async def _measure_all(
    session: AsyncSession,
    frame: Frame,
    query: ReportQuery,
    period: Period,
    *,
    keys: Sequence[int] | None = None,
) -> tuple[Measured, int | None]:
    """Every metric per group: {keys: [(num, den) per metric]}, and for a ranked customer
    list how many customers it ranked (None: not counted)."""
    if Dimension.SEGMENT in query.dimensions:
        merged: Measured = {}
        rest = [d for d in query.dimensions if d is not Dimension.SEGMENT]
        for segment in await list_segments(session, frame.actor):
            narrowed = frame.narrowed(segment_condition(segment, frame.now))
            part, _ = await _measure_plain(session, narrowed, query, rest, period, keys)
            merged |= {(segment.name, *k): v for k, v in part.items()}
        return merged, None
    return await _measure_plain(session, frame, query, list(query.dimensions), period, keys)


async def _measure_plain(
    session: AsyncSession,
    frame: Frame,
    query: ReportQuery,
    dims: list[Dimension],
    period: Period,
    keys: Sequence[int] | None,
) -> tuple[Measured, int | None]:
    edges = _edges(query, period)
    ranked = Dimension.CUSTOMER in dims and keys is None
    measured: Measured = defaultdict(lambda: [None] * len(query.metrics))
    groups = None
    for i, metric in enumerate(query.metrics):
        g = kpis.Grouping(
            dims,
            edges,
            keys=keys,
            limit=query.top_n if ranked and i == 0 else None,
            descending=query.sort is SortOrder.DESC,
        )
        found, counted = await kpis.measure_ranked(
            session,
            metric,
            frame,
            g,
            period.start,
            period.end,
            base_start=_base_start(query.time_dimension, period),
        )
        if i == 0:
            groups = counted
        if Dimension.MONTH_OF_YEAR in dims:
            found = _fold_months(found, dims, period)
        if ranked and i == 0:
            keys = [k[0] for k in found]
        for key, pair in found.items():
            measured[key][i] = pair
    if ranked:  # the first metric decides who is listed
        return {k: v for k, v in measured.items() if k[0] in (keys or [])}, groups
    return dict(measured), groups


def _from_values(
    query: ReportQuery, values: dict[Metric, dict[kpis.Key, kpis.Pair]], period: Period
) -> Measured:
    """Measured from per-metric values (a one-pass measure: lifetime, money)."""
    measured: Measured = defaultdict(lambda: [None] * len(query.metrics))
    for i, metric in enumerate(query.metrics):
        found = values[metric]
        if Dimension.MONTH_OF_YEAR in query.dimensions:
            found = _fold_months(found, list(query.dimensions), period)
        for key, pair in found.items():
            measured[key][i] = pair
    return dict(measured)


def _values(
    query: ReportQuery, measured: Measured, end: datetime
) -> dict[kpis.Key, list[Decimal | None]]:
    return {
        key: [
            value_of(m, *(pair or (None, None)), end)
            for m, pair in zip(query.metrics, pairs, strict=True)
        ]
        for key, pairs in measured.items()
    }


# Splits where every customer (or every event) falls in exactly one group, so the total is
# the sum of the groups' numerators and denominators: no second pass over the data.
_PARTITIONS = {Dimension.REP, Dimension.TEAM, Dimension.TIER, Dimension.SOURCE, Dimension.CITY}
_SUMMABLE_OVER_TIME = {
    Metric.REVENUE,
    Metric.ORDERS,
    Metric.AOV,
    Metric.INTERACTIONS,
    Metric.NPS,
    Metric.CSAT,
    Metric.NEW_CUSTOMERS,
}


def _summable(metric: Metric, dims: Sequence[Dimension]) -> bool:
    if metric is Metric.DAYS_SINCE_LAST_ORDER:
        return False
    return all(
        d in _PARTITIONS or (d in TIME_DIMENSIONS and metric in _SUMMABLE_OVER_TIME) for d in dims
    )


def _sum_pairs(pairs: list[kpis.Pair | None]) -> kpis.Pair:
    nums = [p[0] for p in pairs if p is not None and p[0] is not None]
    dens = [p[1] for p in pairs if p is not None and p[1] is not None]
    return (sum(nums) if nums else None, sum(dens) if dens else None)


def _totals(query: ReportQuery, period: Period, measured: Measured) -> list[Decimal | None]:
    """Each metric over the whole period, without the split (the narrative's "in total")."""
    if Dimension.CUSTOMER in query.dimensions:  # a ranked list: no total is shown
        return [None] * len(query.metrics)
    totals: list[Decimal | None] = []
    for i, metric in enumerate(query.metrics):
        if not query.dimensions or _summable(metric, query.dimensions):
            num, den = _sum_pairs([pairs[i] for pairs in measured.values()])
            totals.append(value_of(metric, num, den, period.end))
        else:  # no word or cell shows it: not worth another pass over the period
            totals.append(None)
    return totals


def _fold_months(
    found: dict[kpis.Key, kpis.Pair], dims: list[Dimension], period: Period
) -> dict[kpis.Key, kpis.Pair]:
    """Month buckets -> calendar month (1-12), adding numerators and denominators."""
    at = dims.index(Dimension.MONTH_OF_YEAR)
    months = [day.month for day, _ in period.boundaries(Grain.MONTH)[:-1]]
    folded: dict[kpis.Key, list[Any]] = {}
    for key, (num, den) in found.items():
        new = (*key[:at], months[int(key[at])], *key[at + 1 :])
        slot = folded.setdefault(new, [None, None])
        slot[0] = num if slot[0] is None else slot[0] + (num or 0)
        slot[1] = den if slot[1] is None else slot[1] + (den or 0)
    return {k: (v[0], v[1]) for k, v in folded.items()}


def value_of(metric: Metric, num: Any, den: Any, end: datetime) -> Decimal | None:
    """The number shown for `metric` from its numerator and denominator."""
    if num is None:
        return None
    if metric is Metric.DAYS_SINCE_LAST_ORDER:
        return Decimal((end - num).days)
    if den is None:
        return (
            Decimal(str(num)).quantize(Decimal("0.01")) if metric in MONEY_METRICS else Decimal(num)
        )
    if not den:
        return None
    ratio = Decimal(str(num)) / Decimal(str(den))
    if metric is Metric.NPS:
        return (ratio * 100).quantize(Decimal("0.1"))
    if metric in RATE_METRICS:
        return ratio.quantize(Decimal("0.0001"))
    return ratio.quantize(Decimal("0.01"))


async def _currency(
    session: AsyncSession, frame: Frame, query: ReportQuery, period: Period
) -> tuple[str | None, list[str]]:
    """The currency money is shown in, and the others the scope also sold in."""
    if not any(m in MONEY_METRICS for m in query.metrics):
        return None, []
    start = _currency_start(query, period)
    stmt = (
        select(Order.currency, func.count())
        .join(Customer, col(Customer.id) == Order.customer_id)
        .where(valid_order(Order), Order.ordered_at < period.end, frame.customers)  # type: ignore[operator]
        .where(Order.ordered_at >= start)  # type: ignore[operator]
        .group_by(Order.currency)
        .order_by(func.count().desc())
    )
    found = [c for c, _ in (await execute(session, stmt)).all()]
    chosen = query.currency or (found[0] if found else get_settings().default_currency)
    return chosen, [c for c in found if c != chosen]


def _currency_start(query: ReportQuery, period: Period) -> datetime:
    """The orders whose currencies are counted: the period's, or for lifetime value at
    least the last year's."""
    if any(m in MONEY_METRICS and m in STOCK_METRICS for m in query.metrics):
        return min(period.start, period.end - kpis.YEAR)
    return period.start


def _customer_keys(query: ReportQuery, current: Measured) -> list[int] | None:
    if Dimension.CUSTOMER not in query.dimensions:
        return None
    return [int(k[0]) for k in current]


def _rows(
    query: ReportQuery,
    current: dict[kpis.Key, list[Decimal | None]],
    previous: dict[kpis.Key, list[Decimal | None]] | None,
) -> tuple[list[ReportRow], int]:
    keys = list(current)
    if previous is not None and query.time_dimension is not None:
        keys += [k for k in previous if k not in current]  # a bucket only last year had
    time_at = query.dimensions.index(query.time_dimension) if query.time_dimension else None
    desc = query.sort is SortOrder.DESC

    def rank(key: kpis.Key) -> tuple[Any, ...]:
        first = current.get(key, [None])[0]
        by_value = (first is None, -(first or 0) if desc else (first or 0))
        if time_at is None:
            return (*by_value, tuple(str(k) for k in key))
        others = tuple(str(k) for i, k in enumerate(key) if i != time_at)
        return (key[time_at], others)

    keys.sort(key=rank)
    if time_at is not None and len(query.dimensions) == 2 and query.top_n:
        # Keep the top_n series (by their total), every bucket of each.
        other = 1 - time_at
        sums: dict[Any, Decimal] = defaultdict(Decimal)
        for k in keys:
            sums[k[other]] += current.get(k, [None])[0] or 0
        kept = set(sorted(sums, key=lambda s: -sums[s] if desc else sums[s])[: query.top_n])
        groups = len(sums)
        keys = [k for k in keys if k[other] in kept]
    else:
        groups = len(keys)
        if time_at is None and query.top_n:
            keys = keys[: query.top_n]
    blank: list[Decimal | None] = [None] * len(query.metrics)
    return [
        ReportRow(
            keys=[DimValue(id=k, label=str(k)) for k in key],
            values=current.get(key, blank),
            previous=previous.get(key, blank) if previous is not None else None,
        )
        for key in keys
    ], groups


# --- labels ------------------------------------------------------------------------------------


async def _label(
    session: AsyncSession, query: ReportQuery, result: ReportResult, period: Period
) -> None:
    """Names for ids, and the local start day for time buckets."""
    for at, dim in enumerate(query.dimensions):
        ids = {row.keys[at].id for row in result.rows if row.keys[at].id is not None}
        names: dict[Any, str] = {}
        if dim is Dimension.REP:
            names = await _names(session, Staff.id, Staff.name, ids)
        elif dim is Dimension.TEAM:
            names = await _names(session, Team.id, Team.name, ids)
        elif dim is Dimension.CUSTOMER:
            names = await _names(session, Customer.id, Customer.name, ids)
        elif dim is Dimension.PRODUCT:
            names = await _names(session, Product.id, Product.name, ids)
        elif dim in TIME_DIMENSIONS and dim is not Dimension.MONTH_OF_YEAR:
            days = [d for d, _ in period.boundaries(_GRAIN[dim])[:-1]]
            names = {i: days[i].isoformat() for i in range(len(days))}
        for row in result.rows:
            value = row.keys[at]
            if value.id is None:
                value.label = ""
            elif value.id in names:
                value.label = names[value.id]


NAMED_CUSTOMERS = 3


async def _customer_filter(
    session: AsyncSession, actor: Actor, ids: list[int]
) -> CustomerFilterInfo:
    """Names for the customer filter, within scope (an id outside it names no one)."""
    stmt = (
        select(Customer.name, Customer.company)
        .where(col(Customer.id).in_(ids), customer_scope(actor))
        .order_by(col(Customer.id))
    )
    rows = (await execute(session, stmt)).all()
    companies = {company for _, company in rows}
    company = companies.pop() if len(companies) == 1 else None
    return CustomerFilterInfo(
        names=[name for name, _ in rows[:NAMED_CUSTOMERS]], count=len(rows), company=company
    )


async def _names(
    session: AsyncSession, id_col: Any, name_col: Any, ids: set[Any]
) -> dict[Any, str]:
    if not ids:
        return {}
    rows = (await execute(session, select(id_col, name_col).where(id_col.in_(list(ids))))).all()
    return {row[0]: row[1] for row in rows}


# --- basket and leads ----------------------------------------------------------------------------


async def _basket(
    session: AsyncSession, frame: Frame, query: ReportQuery, period: Period, result: ReportResult
) -> ReportResult:
    rules = await basket.product_pairs(
        session, frame, start=period.start, end=period.end, limit=query.top_n or 10
    )
    picks = {Metric.SUPPORT: "support", Metric.CONFIDENCE: "confidence", Metric.LIFT: "lift"}
    result.rows = [
        ReportRow(
            keys=[DimValue(id=f"{r.first_id}:{r.then_id}", label=f"{r.first} → {r.then}")],
            values=[getattr(r, picks[m]) for m in query.metrics],
        )
        for r in rules
    ]
    result.groups = len(rules)
    result.totals = [None] * len(query.metrics)
    return result


async def _leads(
    session: AsyncSession, frame: Frame, query: ReportQuery, result: ReportResult
) -> ReportResult:
    scores = await lead_score.top_leads(session, frame, now=frame.now, limit=query.top_n or 10)
    result.rows = [
        ReportRow(
            keys=[DimValue(id=s.customer_id, label=s.name)],
            values=[Decimal(s.points)],
            signals=[Signal(code=x.code, points=x.points, params=x.params) for x in s.signals],
        )
        for s in scores
    ]
    result.groups = len(scores)
    result.totals = [None] * len(query.metrics)
    return result
