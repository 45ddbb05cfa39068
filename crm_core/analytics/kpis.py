"""The KPIs, each defined once as SQL (docs/metrics.md words the same definitions).

Every metric returns, per group of dimension values, a numerator and a denominator; the
value is num / den (or num alone when den is None), computed in Python with Decimal so
SQLite and PostgreSQL give the same answer. Time buckets come from `bucket_index`, a
balanced CASE over UTC bucket edges, which keeps day/month boundaries in the actor's
timezone on both databases. Grouping always happens one level above the row subquery,
so PostgreSQL never has to match a parameterised GROUP BY expression.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    distinct,
    exists,
    func,
    literal_column,
    null,
    or_,
    true,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.analytics.catalogue import ITEM_DIMENSIONS, TIME_DIMENSIONS, Dimension, Metric
from crm_core.analytics.frame import Frame
from crm_core.analytics.segments import valid_order
from crm_core.analytics.sql import execute
from crm_core.errors import InvalidInput
from crm_core.models import Customer, Feedback, FeedbackKind, Interaction, Order, OrderItem, Product

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
MAX_LIFETIME_YEARS = Decimal(5)
PROMOTER, DETRACTOR, SATISFIED = 9, 6, 8  # NPS 9-10 promote, 0-6 detract; CSAT 8-10

Key = tuple[Any, ...]
Pair = tuple[Any, Any]  # (numerator, denominator or None)


@dataclass(frozen=True)
class Grouping:
    """How to split a metric: dimensions, time bucket edges, and for ranked customer lists
    the keys to keep or the SQL limit and direction."""

    dims: Sequence[Dimension] = ()
    edges: Sequence[datetime] = ()
    keys: Sequence[int] | None = None
    limit: int | None = None
    descending: bool = True

    @property
    def by_items(self) -> bool:
        return any(d in ITEM_DIMENSIONS for d in self.dims)

    def names(self) -> list[str]:
        return [f"k{i}" for i in range(len(self.dims))]


def bucket_index(column: Any, edges: Sequence[datetime]) -> ColumnElement[int]:
    """i where edges[i] <= column < edges[i + 1], in log2(n) comparisons per row."""

    def build(lo: int, hi: int) -> Any:
        if hi - lo == 1:
            return literal_column(str(lo), Integer)
        mid = (lo + hi) // 2
        return case((column < edges[mid], build(lo, mid)), else_=build(mid, hi))

    return build(0, len(edges) - 1)  # type: ignore[no-any-return]


ATTRIBUTES: dict[Dimension, Any] = {
    Dimension.REP: Customer.owner_id,
    Dimension.TEAM: Customer.team_id,
    Dimension.TIER: Customer.tier,
    Dimension.SOURCE: Customer.source,
    Dimension.CITY: Customer.city,
    Dimension.CUSTOMER: Customer.id,
    Dimension.PRODUCT: OrderItem.product_id,
    Dimension.CATEGORY: Product.category,
}
_ATTRIBUTE = ATTRIBUTES


def _keys(g: Grouping, when: Any) -> list[ColumnElement[Any]]:
    return [
        (bucket_index(when, g.edges) if d in TIME_DIMENSIONS else _ATTRIBUTE[d]).label(n)
        for d, n in zip(g.dims, g.names(), strict=True)
    ]


def _restrict(frame: Frame, g: Grouping) -> list[ColumnElement[bool]]:
    where = [frame.customers]
    if g.keys is not None:
        where.append(col(Customer.id).in_(list(g.keys)))
    return where


def _group(
    rows: Subquery,
    g: Grouping,
    num: ColumnElement[Any],
    den: ColumnElement[Any] | None,
    *,
    rank: ColumnElement[Any] | None = None,
) -> Select[Any]:
    keys = [rows.c[n] for n in g.names()]
    den_col = (den if den is not None else null()).label("den")
    stmt = select(*keys, num.label("num"), den_col).select_from(rows).group_by(*keys)
    if g.limit is not None:
        order = rank if rank is not None else num
        # How many groups there are before the limit ("20 of 3,412"): counted over the
        # grouped rows in the same pass instead of grouping everything again.
        stmt = stmt.add_columns(func.count().over().label("groups"))
        stmt = stmt.order_by(order.desc() if g.descending else order.asc(), *keys).limit(g.limit)
    return stmt


def _ratio(num: ColumnElement[Any], den: ColumnElement[Any]) -> ColumnElement[Any]:
    return num * 1.0 / func.nullif(den, 0)


# --- orders ---------------------------------------------------------------------------------


def _order_rows(
    frame: Frame,
    g: Grouping,
    start: datetime,
    end: datetime,
    *,
    money: bool,
    currency_key: bool = False,
) -> tuple[Subquery, bool]:
    """One row per order (or per order line when products matter), with the group keys
    (and with `currency_key` each row's currency)."""
    by_items = g.by_items or frame.items is not None
    amount = OrderItem.quantity * OrderItem.unit_price if by_items else Order.amount
    stmt = select(
        *_keys(g, Order.ordered_at),
        *([col(Order.id).label("order_id")] if by_items else []),
        *([col(Order.currency).label("currency")] if currency_key else []),
        col(Order.customer_id).label("customer_id"),
        amount.label("amount"),  # type: ignore[union-attr]
        col(Order.ordered_at).label("at"),
    ).select_from(Order)
    stmt = stmt.join(Customer, col(Customer.id) == Order.customer_id)
    where = [valid_order(Order), Order.ordered_at < end]  # type: ignore[operator]
    if start > EPOCH:  # "all history" leaves the planner free to start from the customers
        where.append(Order.ordered_at >= start)  # type: ignore[operator]
    if by_items:
        stmt = stmt.join(OrderItem, col(OrderItem.order_id) == Order.id).outerjoin(
            Product, col(Product.id) == OrderItem.product_id
        )
        if frame.items is not None:
            where.append(frame.items)
            # Start from the few orders holding those products, not from every order.
            where.append(col(Order.id).in_(select(OrderItem.order_id).where(frame.items)))
    if money and frame.currency:
        where.append(Order.currency == frame.currency)
    return stmt.where(*where, *_restrict(frame, g)).subquery("o"), by_items


def order_rows(
    frame: Frame, g: Grouping, start: datetime, end: datetime, *, currency_key: bool
) -> Subquery:
    """The valid orders of the frame in [start, end) with the group keys, in every
    currency: for measures that split by currency themselves (analytics.money)."""
    return _order_rows(frame, g, start, end, money=False, currency_key=currency_key)[0]


def revenue(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows, _ = _order_rows(frame, g, start, end, money=True)
    return _group(rows, g, func.sum(rows.c.amount), None)


def _order_count(rows: Subquery, by_items: bool) -> ColumnElement[Any]:
    """Orders among the rows: one row per order unless they are order lines. count(*)
    lets PostgreSQL answer from the covering index without visiting the table."""
    return func.count(distinct(rows.c.order_id)) if by_items else func.count()


def orders(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows, by_items = _order_rows(frame, g, start, end, money=False)
    return _group(rows, g, _order_count(rows, by_items), None)


def aov(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows, by_items = _order_rows(frame, g, start, end, money=True)
    num, den = func.sum(rows.c.amount), _order_count(rows, by_items)
    return _group(rows, g, num, den, rank=_ratio(num, den))


def _per_customer(rows: Subquery, g: Grouping) -> Subquery:
    """One row per group and customer, with their spend: counting customers as rows of
    this (a hash aggregate) rather than count(DISTINCT …) (a sort) on big periods."""
    keys = [rows.c[n] for n in g.names()]
    return (
        select(*keys, rows.c.customer_id, func.sum(rows.c.amount).label("amount"))
        .group_by(*keys, rows.c.customer_id)
        .subquery("per_customer")
    )


def active_customers(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows, _ = _order_rows(frame, g, start, end, money=False)
    return _group(_per_customer(rows, g), g, func.count(), None)


def repurchase_rate(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows, by_items = _order_rows(frame, g, start, end, money=False)
    keys = [rows.c[n] for n in g.names()]
    per_customer = (
        select(*keys, rows.c.customer_id, _order_count(rows, by_items).label("n"))
        .group_by(*keys, rows.c.customer_id)
        .subquery("per_customer")
    )
    num = func.sum(case((per_customer.c.n >= 2, 1), else_=0))
    den = func.count()
    return _group(per_customer, g, num, den, rank=_ratio(num, den))


def new_customers(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    """Customers whose first valid order ever falls in the period, bucketed by that order."""
    earlier = aliased(Order)
    attributes = [d for d in g.dims if d not in TIME_DIMENSIONS]
    first = (
        select(
            col(Order.customer_id).label("customer_id"),
            *[_ATTRIBUTE[d].label(f"a_{d.value}") for d in attributes],
            func.min(Order.ordered_at).label("at"),
        )
        .select_from(Order)
        .join(Customer, col(Customer.id) == Order.customer_id)
        .where(
            valid_order(Order),
            Order.ordered_at >= start,  # type: ignore[operator]
            Order.ordered_at < end,  # type: ignore[operator]
            *_restrict(frame, g),
            ~exists().where(
                earlier.customer_id == Order.customer_id,
                valid_order(earlier),
                earlier.ordered_at < start,
            ),
        )
        .group_by(Order.customer_id, *[_ATTRIBUTE[d] for d in attributes])
        .subquery("first_order")
    )
    keyed = select(
        *[
            (
                bucket_index(first.c.at, g.edges)
                if d in TIME_DIMENSIONS
                else first.c[f"a_{d.value}"]
            ).label(n)
            for d, n in zip(g.dims, g.names(), strict=True)
        ],
        first.c.customer_id,
    ).subquery("new")
    return _group(keyed, g, func.count(), None)


def _retention(frame: Frame, g: Grouping, edges: Sequence[datetime], churn: bool) -> Select[Any]:
    """Of the customers who bought in bucket i - 1, how many bought again in bucket i.

    `edges` has one bucket more than the report shows: the base of the first one."""
    attributes = [d for d in g.dims if d not in TIME_DIMENSIONS]
    active = (
        select(
            col(Order.customer_id).label("customer_id"),
            bucket_index(Order.ordered_at, edges).label("idx"),
            *[_ATTRIBUTE[d].label(f"a_{d.value}") for d in attributes],
        )
        .distinct()
        .select_from(Order)
        .join(Customer, col(Customer.id) == Order.customer_id)
        .where(
            valid_order(Order),
            Order.ordered_at >= edges[0],  # type: ignore[operator]
            Order.ordered_at < edges[-1],  # type: ignore[operator]
            *_restrict(frame, g),
        )
        .subquery("active")
    )
    # Each customer's buckets in order: bought in bucket i and in i - 1 means kept in i.
    flagged = select(
        *active.c,
        func.lag(active.c.idx)
        .over(partition_by=active.c.customer_id, order_by=active.c.idx)
        .label("prev"),
    ).subquery("flagged")
    # Every (customer, bucket) row counts twice, in one pass: side 0 as the base of the next
    # bucket, side 1 as kept in its own bucket when the bucket before had an order too.
    side = union_all(
        select(literal_column("0", Integer).label("side")),
        select(literal_column("1", Integer).label("side")),
    ).subquery("side")
    as_base = side.c.side == 0
    bucket = case((as_base, flagged.c.idx + 1), else_=flagged.c.idx) - 1  # report's index
    shifted = (
        select(
            *[
                (bucket if d in TIME_DIMENSIONS else flagged.c[f"a_{d.value}"]).label(n)
                for d, n in zip(g.dims, g.names(), strict=True)
            ],
            case((as_base, 1), else_=0).label("base"),
            case((~as_base & (flagged.c.prev == flagged.c.idx - 1), 1), else_=0).label("kept"),
        )
        .select_from(flagged.join(side, true()))
        .where(or_(as_base & (flagged.c.idx < len(edges) - 2), ~as_base & (flagged.c.idx >= 1)))
        .subquery("retained")
    )
    kept, total = func.sum(shifted.c.kept), func.sum(shifted.c.base)
    num = total - kept if churn else kept
    return _group(shifted, g, num, total, rank=_ratio(num, total))


# --- feedback, interactions, customers -------------------------------------------------------


def _feedback_rows(
    frame: Frame, g: Grouping, start: datetime, end: datetime, *, nps: bool
) -> Subquery:
    kind = Feedback.kind == FeedbackKind.NPS if nps else Feedback.kind != FeedbackKind.NPS
    return (
        select(*_keys(g, Feedback.created_at), col(Feedback.score).label("score"))
        .select_from(Feedback)
        .join(Customer, col(Customer.id) == Feedback.customer_id)
        .where(
            col(Feedback.deleted_at).is_(None),
            col(Feedback.score).is_not(None),
            kind,
            Feedback.created_at >= start,  # type: ignore[operator]
            Feedback.created_at < end,  # type: ignore[operator]
            *_restrict(frame, g),
        )
        .subquery("f")
    )


def nps(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows = _feedback_rows(frame, g, start, end, nps=True)
    promoters = func.sum(case((rows.c.score >= PROMOTER, 1), else_=0))
    detractors = func.sum(case((rows.c.score <= DETRACTOR, 1), else_=0))
    num, den = promoters - detractors, func.count()
    return _group(rows, g, num, den, rank=_ratio(num, den))


def csat(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows = _feedback_rows(frame, g, start, end, nps=False)
    num, den = func.sum(case((rows.c.score >= SATISFIED, 1), else_=0)), func.count()
    return _group(rows, g, num, den, rank=_ratio(num, den))


def interactions(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows = (
        select(*_keys(g, Interaction.occurred_at), col(Interaction.id).label("id"))
        .select_from(Interaction)
        .join(Customer, col(Customer.id) == Interaction.customer_id)
        .where(
            col(Interaction.deleted_at).is_(None),
            Interaction.occurred_at >= start,  # type: ignore[operator]
            Interaction.occurred_at < end,  # type: ignore[operator]
            *_restrict(frame, g),
        )
        .subquery("i")
    )
    return _group(rows, g, func.count(), None)


def customers(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows = (
        select(*_keys(g, Customer.created_at), col(Customer.id).label("id"))
        .where(Customer.created_at < end, *_restrict(frame, g))  # type: ignore[operator]
        .subquery("c")
    )
    return _group(rows, g, func.count(), None)


def _spend_per_customer(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    customers = _per_customer(_order_rows(frame, g, start, end, money=True)[0], g)
    num, den = func.sum(customers.c.amount), func.count()
    return _group(customers, g, num, den, rank=_ratio(num, den))


def clv_historical(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    return _spend_per_customer(frame, g, EPOCH, end)


def annual_value(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    """Revenue per active customer over the 365 days before `end` (predicted CLV's base)."""
    return _spend_per_customer(frame, g, end - YEAR, end)


def last_order(frame: Frame, g: Grouping, start: datetime, end: datetime) -> Select[Any]:
    rows, _ = _order_rows(frame, g, EPOCH, end, money=False)
    # The longest silence first when "descending": the oldest last order.
    flipped = Grouping(g.dims, g.edges, g.keys, g.limit, not g.descending)
    return _group(rows, flipped, func.max(rows.c.at), None)


Builder = Callable[[Frame, Grouping, datetime, datetime], Select[Any]]
BUILDERS: dict[Metric, Builder] = {
    Metric.REVENUE: revenue,
    Metric.ORDERS: orders,
    Metric.AOV: aov,
    Metric.ACTIVE_CUSTOMERS: active_customers,
    Metric.REPURCHASE_RATE: repurchase_rate,
    Metric.NEW_CUSTOMERS: new_customers,
    Metric.NPS: nps,
    Metric.CSAT: csat,
    Metric.INTERACTIONS: interactions,
    Metric.CUSTOMERS: customers,
    Metric.CLV_HISTORICAL: clv_historical,
    Metric.CLV_PREDICTED: annual_value,
    Metric.DAYS_SINCE_LAST_ORDER: last_order,
}


async def fetch(session: AsyncSession, stmt: Select[Any], width: int) -> dict[Key, Pair]:
    return (await _fetch(session, stmt, width))[0]


async def _fetch(
    session: AsyncSession, stmt: Select[Any], width: int
) -> tuple[dict[Key, Pair], int | None]:
    """Values per group, and for a limited statement how many groups it had in all."""
    rows = (await execute(session, stmt)).all()
    found = {tuple(row[:width]): (row[width], row[width + 1]) for row in rows}
    if not rows:
        return found, 0
    return found, int(rows[0][width + 2]) if len(rows[0]) > width + 2 else None


async def measure(
    session: AsyncSession,
    metric: Metric,
    frame: Frame,
    g: Grouping,
    start: datetime,
    end: datetime,
    *,
    base_start: datetime | None = None,
) -> dict[Key, Pair]:
    """num and den of `metric` per group over [start, end)."""
    found, _ = await measure_ranked(session, metric, frame, g, start, end, base_start=base_start)
    return found


async def measure_ranked(
    session: AsyncSession,
    metric: Metric,
    frame: Frame,
    g: Grouping,
    start: datetime,
    end: datetime,
    *,
    base_start: datetime | None = None,
) -> tuple[dict[Key, Pair], int | None]:
    """num and den of `metric` per group over [start, end), and with `g.limit` how many
    groups there are before the limit (what count_groups answers; None otherwise)."""
    check_dimensions(metric, g.dims, frame)
    if metric in (Metric.RETENTION_RATE, Metric.CHURN_RATE):
        assert base_start is not None
        edges = [base_start, *(g.edges or (start, end))]
        stmt = _retention(frame, g, edges, metric is Metric.CHURN_RATE)
        found, _ = await _fetch(session, stmt, len(g.dims))
        return found, None  # count_groups does not count these
    found, groups = await _fetch(session, BUILDERS[metric](frame, g, start, end), len(g.dims))
    if g.limit is None:
        groups = None
    if metric is Metric.CLV_PREDICTED:
        years = await lifetime_years(session, frame, end)
        found = {
            k: (num * years if num is not None else None, den) for k, (num, den) in found.items()
        }
    return found, groups


async def count_groups(
    session: AsyncSession,
    metric: Metric,
    frame: Frame,
    g: Grouping,
    start: datetime,
    end: datetime,
) -> int:
    """How many groups `metric` has (a ranked customer list shows only the first few)."""
    if metric not in BUILDERS:
        return 0
    grouped = BUILDERS[metric](frame, Grouping(g.dims, g.edges), start, end).subquery("groups")
    return int((await execute(session, select(func.count()).select_from(grouped))).scalar_one())


async def lifetime_years(session: AsyncSession, frame: Frame, end: datetime) -> Decimal:
    """Expected customer lifetime: 1 / yearly churn of the whole frame, at most 5 years.

    Yearly churn: of the customers who bought in the year before last, the share with no
    order in the last year. Two index seeks per customer, not a pass over two years."""
    bought = aliased(Order)

    def ordered(since: datetime, until: datetime) -> ColumnElement[bool]:
        return exists().where(
            bought.customer_id == Customer.id,
            valid_order(bought),
            bought.ordered_at >= since,
            bought.ordered_at < until,
        )

    before, last = ordered(end - 2 * YEAR, end - YEAR), ordered(end - YEAR, end)
    stmt = select(
        func.sum(case((before, 1), else_=0)),
        func.sum(case((and_(before, ~last), 1), else_=0)),
    ).where(frame.customers)
    base, churned = (await execute(session, stmt)).one()
    return expected_years(base or 0, churned or 0)


def expected_years(base: int, churned: int) -> Decimal:
    """1 / yearly churn (churned of base), at most MAX_LIFETIME_YEARS."""
    if not base or not churned:
        return MAX_LIFETIME_YEARS
    return min(MAX_LIFETIME_YEARS, Decimal(base) / Decimal(churned))


_NOT_BY_TIME = {
    Metric.CUSTOMERS,
    Metric.CLV_HISTORICAL,
    Metric.CLV_PREDICTED,
    Metric.DAYS_SINCE_LAST_ORDER,
}
_ITEM_METRICS = {
    Metric.REVENUE,
    Metric.ORDERS,
    Metric.AOV,
    Metric.ACTIVE_CUSTOMERS,
    Metric.REPURCHASE_RATE,
}
_FOLDABLE = {
    Metric.REVENUE,
    Metric.ORDERS,
    Metric.AOV,
    Metric.NPS,
    Metric.CSAT,
    Metric.INTERACTIONS,
}


def check_dimensions(metric: Metric, dims: Sequence[Dimension], frame: Frame | None) -> None:
    """Refuse splits a metric has no meaning for, with the reason as a message code."""
    for dim in dims:
        if dim in TIME_DIMENSIONS and metric in _NOT_BY_TIME:
            raise InvalidInput("report_no_time_split", metric=metric.value)
        if dim is Dimension.MONTH_OF_YEAR and metric not in _FOLDABLE:
            raise InvalidInput("report_no_season_split", metric=metric.value)
        if dim in ITEM_DIMENSIONS and metric not in _ITEM_METRICS:
            raise InvalidInput("report_no_product_split", metric=metric.value)
    if frame is not None and frame.items is not None and metric not in _ITEM_METRICS:
        raise InvalidInput("report_no_product_split", metric=metric.value)
