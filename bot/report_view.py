"""A ReportResult worded for people: a table, a chart, a two-line narrative and the line
stating the definitions, period, scope and filters used."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bot.events import Button, Reply, Table
from bot.i18n import format_money, t
from bot.report_chart import ChartSpec, Series, chart_png
from crm_core.analytics.catalogue import (
    MONEY_METRICS,
    RATE_METRICS,
    STOCK_METRICS,
    TIME_DIMENSIONS,
    Dimension,
    Metric,
    Tier,
)
from crm_core.analytics.periods import PeriodKind
from crm_core.reports import ReportResult, ReportRow

PERCENT_METRICS = RATE_METRICS | {Metric.SUPPORT, Metric.CONFIDENCE}
SEASON_PEAK, SEASON_LOW = Decimal("1.2"), Decimal("0.8")
MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


class ReportWords:
    """Formatting for one report in one language."""

    def __init__(self, result: ReportResult, lang: str) -> None:
        self.result, self.lang = result, lang
        self.query = result.query

    def t(self, key: str, **params: Any) -> str:
        return t(self.lang, key, **params)

    # -- values ------------------------------------------------------------------------------
    def value(self, metric: Metric, value: Decimal | None) -> str:
        if value is None:
            return self.t("report_none")
        if metric in MONEY_METRICS:
            return format_money(value, self.result.currency or "CNY", self.lang)
        if metric in PERCENT_METRICS:
            return f"{value * 100:.1f}%"
        if metric is Metric.NPS or metric is Metric.LIFT:
            return f"{value:.1f}" if metric is Metric.NPS else f"{value:.2f}"
        if metric is Metric.DAYS_SINCE_LAST_ORDER:
            return self.t("report_days", n=int(value))
        return f"{int(value):,}"

    def change(self, metric: Metric, now: Decimal | None, before: Decimal | None) -> str:
        """ "up 12.5%"; rates and NPS move in points, not per cent of themselves."""
        if now is None or before is None:
            return self.t("report_none")
        if metric in PERCENT_METRICS or metric is Metric.NPS:
            diff = (now - before) * (100 if metric in PERCENT_METRICS else 1)
            text = (
                self.t("report_pp", n=f"{abs(diff):.1f}")
                if metric in PERCENT_METRICS
                else (f"{abs(diff):.1f}")
            )
        elif before == 0:
            return self.t("report_none")
        else:
            diff = (now - before) / abs(before) * 100
            text = f"{abs(diff):.1f}%"
        if diff == 0:
            return self.t("report_change_flat")
        return self.t("report_change_up" if diff > 0 else "report_change_down", change=text)

    # -- labels ------------------------------------------------------------------------------
    def metric(self, metric: Metric) -> str:
        return self.t(f"report_metric_{metric.value}")

    def key(self, dim: Dimension, row: ReportRow, at: int) -> str:
        value = row.keys[at]
        if value.id is None or value.label == "":
            return self.t("report_unknown_value")
        if dim is Dimension.TIER:
            return self.t(f"tier_{value.id}") if value.id in set(Tier) else value.label
        if dim is Dimension.MONTH_OF_YEAR:
            month = int(value.id)
            return f"{month}月" if self.lang == "zh" else MONTHS_EN[month - 1]
        if dim in TIME_DIMENSIONS:
            return self.bucket(dim, date.fromisoformat(value.label))
        return value.label

    def bucket(self, dim: Dimension, day: date) -> str:
        if dim is Dimension.MONTH:
            return (
                f"{day.year}年{day.month}月"
                if self.lang == "zh"
                else f"{MONTHS_EN[day.month - 1]} {day.year}"
            )
        if dim is Dimension.QUARTER:
            return f"{day.year} Q{(day.month - 1) // 3 + 1}"
        return f"{day.month}/{day.day}" if self.lang == "en" else f"{day.month}月{day.day}日"

    def period(self) -> str:
        spec = self.query.period
        if spec.kind is PeriodKind.BETWEEN:
            return self.t("report_period_between", first=spec.start, last=spec.end)
        return self.t(f"report_period_{spec.kind.value}", n=spec.n)

    def row_label(self, row: ReportRow) -> str:
        return " · ".join(self.key(d, row, i) for i, d in enumerate(self.query.dimensions))


# --- the line with definitions, period, scope and filters ---------------------------------------


def definition_line(w: ReportWords) -> str:
    r, q = w.result, w.query
    definitions = "；".join if w.lang == "zh" else "; ".join
    text = definitions(
        f"{w.metric(m)}：{w.t(f'report_def_{m.value}')}"
        if w.lang == "zh"
        else f"{w.metric(m)}: {w.t(f'report_def_{m.value}')}"
        for m in q.metrics
    )
    comparison = ""
    if r.comparison is not None:
        comparison = w.t(
            "report_line_compare", first=r.comparison.first_day, last=r.comparison.last_day
        )
    money = ""
    if r.currency:
        money = w.t("report_line_money", currency=r.currency)
        if r.other_currencies:
            money += w.t("report_line_other_money", others=", ".join(r.other_currencies))
    params = {
        "definitions": text,
        "first": r.period.first_day,
        "last": r.period.last_day,
        "so_far": w.t("report_so_far") if r.period.to_date else "",
        "comparison": comparison,
        "scope": w.t(f"report_scope_{r.scope}"),
        "filters": _filters(w),
        "money": money,
    }
    as_of = all(m in STOCK_METRICS for m in q.metrics)
    return w.t("report_line_as_of" if as_of else "report_line", **params)


def _filters(w: ReportWords) -> str:
    parts = []
    for name, values in w.query.filters.model_dump(exclude_defaults=True).items():
        if name == "customer_ids":
            parts.append(_customers(w))
            continue
        shown = values if isinstance(values, list) else [values]
        if name == "tiers":
            shown = [w.t(f"tier_{v}") for v in shown]
        elif name == "risks":
            shown = [w.t(f"risk_{v}") for v in shown]
        parts.append(f"{w.t(f'report_filter_{name}')}={'/'.join(str(v) for v in shown)}")
    return w.t("report_line_filters", filters=", ".join(parts)) if parts else ""


def _customers(w: ReportWords) -> str:
    """ "客户=张伟（华信科技）", "公司=华信科技", "customer=Jane Smith/Li Lei +3 more"."""
    info = w.result.customer_filter
    if info is None or not info.names:
        return f"{w.t('report_filter_customer_ids')}={w.t('report_none')}"
    if info.company and info.count > 1:
        return f"{w.t('report_filter_company')}={info.company}"
    names = "/".join(info.names)
    if info.company:
        names = w.t("report_filter_of_company", name=names, company=info.company)
    if info.count > len(info.names):
        names += w.t("report_filter_more", n=info.count - len(info.names))
    return f"{w.t('report_filter_customer_ids')}={names}"


# --- narrative --------------------------------------------------------------------------------


def narrative(w: ReportWords) -> str:
    r, q = w.result, w.query
    first = q.metrics[0]
    rows = [row for row in r.rows if row.values[0] is not None]
    if not rows and (q.dimensions or not any(v is not None for v in r.totals)):
        return w.t("report_no_data", metric=w.metric(first), period=w.period())
    dims = q.dimensions
    if Dimension.PRODUCT_PAIR in dims:
        return (
            _say_basket(w, r.rows[0])
            if r.rows
            else w.t("report_no_data", metric=w.metric(first), period=w.period())
        )
    if first is Metric.LEAD_SCORE:
        return _say_leads(w, rows)
    if Dimension.CUSTOMER in dims:
        return _say_customers(w, rows)
    if Dimension.MONTH_OF_YEAR in dims and len(dims) == 1:
        return _say_season(w, rows)
    if not dims:
        return _say_single(w)
    if dims[0] in TIME_DIMENSIONS and len(dims) == 1:
        return _say_trend(w, rows)
    return _say_split(w, rows)


def _say_single(w: ReportWords) -> str:
    r, metric = w.result, w.query.metrics[0]
    now = r.totals[0]
    params = {"metric": w.metric(metric), "period": w.period(), "value": w.value(metric, now)}
    if r.previous_totals is not None and r.previous_totals[0] is not None:
        comparison = w.t(f"report_compare_{w.query.compare.value}")
        return w.t(
            "report_say_vs",
            **params,
            comparison=comparison,
            previous=w.value(metric, r.previous_totals[0]),
            change=w.change(metric, now, r.previous_totals[0]),
        )
    return w.t("report_say_single", **params)


def _say_trend(w: ReportWords, rows: list[ReportRow]) -> str:
    metric, dim = w.query.metrics[0], w.query.dimensions[0]
    top = max(rows, key=lambda row: row.values[0] or 0)
    first, last = rows[0], rows[-1]
    text = w.t(
        "report_say_trend",
        metric=w.metric(metric),
        period=w.period(),
        last_label=w.key(dim, last, 0),
        last=w.value(metric, last.values[0]),
        max_label=w.key(dim, top, 0),
        max=w.value(metric, top.values[0]),
    )
    if first is not last:
        text += w.t(
            "report_say_trend_change",
            first_label=w.key(dim, first, 0),
            last_label=w.key(dim, last, 0),
            change=w.change(metric, last.values[0], first.values[0]),
        )
    return text


_ADDITIVE = {Metric.REVENUE, Metric.ORDERS, Metric.INTERACTIONS, Metric.CUSTOMERS}


def _say_split(w: ReportWords, rows: list[ReportRow]) -> str:
    metric, r = w.query.metrics[0], w.result
    if len(rows) == 1:
        return w.t(
            "report_say_one",
            metric=w.metric(metric),
            period=w.period(),
            top=w.row_label(rows[0]),
            value=w.value(metric, rows[0].values[0]),
        )
    top = rows[0] if w.query.sort.value == "desc" else max(rows, key=lambda x: x.values[0] or 0)
    total = r.totals[0]
    if metric in _ADDITIVE and total and len(w.query.dimensions) == 1:
        share = w.t("report_say_share", share=f"{(top.values[0] or 0) / total * 100:.0f}%")
        return w.t(
            "report_say_split",
            metric=w.metric(metric),
            period=w.period(),
            total=w.value(metric, total),
            groups=r.groups,
            top=w.row_label(top),
            value=w.value(metric, top.values[0]),
            share=share,
        )
    low = min(rows, key=lambda x: x.values[0] or 0)
    return w.t(
        "report_say_split_plain",
        metric=w.metric(metric),
        period=w.period(),
        dimension="·".join(w.t(f"report_dim_{d.value}") for d in w.query.dimensions),
        top=w.row_label(top),
        value=w.value(metric, top.values[0]),
        bottom=w.row_label(low),
        low=w.value(metric, low.values[0]),
    )


def _say_customers(w: ReportWords, rows: list[ReportRow]) -> str:
    metric = w.query.metrics[0]
    top = rows[0]
    if Tier.CHURN_RISK in w.query.filters.tiers and metric is Metric.DAYS_SINCE_LAST_ORDER:
        return w.t(
            "report_say_at_risk",
            groups=w.result.groups,
            top=top.keys[0].label,
            value=w.value(metric, top.values[0]),
        )
    return w.t(
        "report_say_customers",
        n=len(rows),
        metric=w.metric(metric),
        period=w.period(),
        top=top.keys[0].label,
        value=w.value(metric, top.values[0]),
    )


def signal_words(w: ReportWords, row: ReportRow, limit: int = 3) -> str:
    sep = "，" if w.lang == "zh" else ", "

    def words(code: str, params: dict[str, Any]) -> str:
        if code == "touched_14d" and params.get("days") == 0:
            code = "touched_today"
        return w.t(f"lead_{code}", **params)

    return sep.join(f"{words(s.code, s.params)} {s.points:+d}" for s in row.signals[:limit])


def _say_leads(w: ReportWords, rows: list[ReportRow]) -> str:
    top = rows[0]
    return w.t(
        "report_say_leads",
        top=top.keys[0].label,
        value=int(top.values[0] or 0),
        reasons=signal_words(w, top),
    )


def _say_basket(w: ReportWords, row: ReportRow) -> str:
    q = w.query
    values = dict(zip(q.metrics, row.values, strict=True))
    first, _, then = row.keys[0].label.partition(" → ")
    return w.t(
        "report_say_basket",
        first=first,
        then=then,
        value=w.value(Metric.CONFIDENCE, values.get(Metric.CONFIDENCE)),
        lift=w.value(Metric.LIFT, values.get(Metric.LIFT)),
    )


def _say_season(w: ReportWords, rows: list[ReportRow]) -> str:
    metric = w.query.metrics[0]
    values = {int(row.keys[0].id or 0): row.values[0] or Decimal(0) for row in rows}
    mean = sum(values.values(), Decimal(0)) / 12
    label = {m: w.key(Dimension.MONTH_OF_YEAR, row, 0) for m, row in zip(values, rows, strict=True)}
    peak = [label[m] for m in sorted(values) if mean and values[m] >= mean * SEASON_PEAK]
    low = [label[m] for m in sorted(values) if mean and values[m] <= mean * SEASON_LOW]
    sep = "、" if w.lang == "zh" else ", "
    return w.t(
        "report_say_season",
        metric=w.metric(metric),
        period=w.period(),
        peak=sep.join(peak) or w.t("report_none"),
        low=sep.join(low) or w.t("report_none"),
    )


# --- table and chart ----------------------------------------------------------------------------


def table(w: ReportWords) -> Table:
    q, r = w.query, w.result
    columns = [w.t(f"report_dim_{d.value}") for d in q.dimensions]
    columns += [w.metric(m) for m in q.metrics]
    compared = r.comparison is not None
    when = w.t(f"report_compare_{q.compare.value}") if compared else ""
    if compared:
        columns += [w.t("report_col_previous", metric=w.metric(q.metrics[0]), when=when)]
        columns += [w.t("report_col_change")]
    leads = q.metrics[0] is Metric.LEAD_SCORE
    if leads:
        columns.append(w.t("report_col_reasons"))
    rows = []
    for row in r.rows:
        cells = [w.key(d, row, i) for i, d in enumerate(q.dimensions)]
        cells += [w.value(m, v) for m, v in zip(q.metrics, row.values, strict=True)]
        if compared:
            before = (row.previous or [None])[0]
            cells += [w.value(q.metrics[0], before), w.change(q.metrics[0], row.values[0], before)]
        if leads:
            cells.append(signal_words(w, row))
        rows.append(cells)
    if not q.dimensions:
        cells = [w.value(m, v) for m, v in zip(q.metrics, r.totals, strict=True)]
        if compared and r.previous_totals is not None:
            before = r.previous_totals[0]
            cells += [w.value(q.metrics[0], before), w.change(q.metrics[0], r.totals[0], before)]
        rows = [cells]
    return Table(columns=columns, rows=rows)


def chart(w: ReportWords) -> ChartSpec | None:
    q, r = w.query, w.result
    metric = q.metrics[0]
    title = f"{w.metric(metric)} · {w.period()}"
    money = r.currency if metric in MONEY_METRICS else ""
    percent = metric in PERCENT_METRICS
    number = lambda v: None if v is None else float(v)  # noqa: E731
    compared = r.comparison is not None
    when = w.t(f"report_compare_{q.compare.value}") if compared else ""
    if not q.dimensions:
        if r.totals[0] is None:
            return None
        series = [Series(w.period(), [number(r.totals[0])])]
        if compared and r.previous_totals is not None:
            series.append(Series(when, [number(r.previous_totals[0])], dashed=True))
        return ChartSpec("bar", title, [w.metric(metric)], series, money or "", percent)
    if not r.rows:
        return None
    dims = q.dimensions
    if dims[0] in TIME_DIMENSIONS and len(dims) == 2:
        return _two_dimension_chart(w, title, money or "", percent)
    labels = [w.row_label(row) for row in r.rows]
    series = [Series(w.metric(metric), [number(row.values[0]) for row in r.rows])]
    if compared:
        series.append(
            Series(when, [number((row.previous or [None])[0]) for row in r.rows], dashed=True)
        )
    kind = (
        "line"
        if dims[0] in TIME_DIMENSIONS and dims[0] is not Dimension.MONTH_OF_YEAR
        else ("bar" if dims[0] is Dimension.MONTH_OF_YEAR else "barh")
    )
    return ChartSpec(kind, title, labels, series, money or "", percent)


def _two_dimension_chart(w: ReportWords, title: str, unit: str, percent: bool) -> ChartSpec:
    """Time × category: one line per category."""
    q, r = w.query, w.result
    time_at = 0 if q.dimensions[0] in TIME_DIMENSIONS else 1
    other = 1 - time_at
    buckets: list[Any] = []
    for row in r.rows:
        if row.keys[time_at].id not in buckets:
            buckets.append(row.keys[time_at].id)
    by_series: dict[str, list[float | None]] = {}
    labels: dict[Any, str] = {}
    for row in r.rows:
        name = w.key(q.dimensions[other], row, other)
        slot = by_series.setdefault(name, [None] * len(buckets))
        index = buckets.index(row.keys[time_at].id)
        slot[index] = None if row.values[0] is None else float(row.values[0])
        labels[row.keys[time_at].id] = w.key(q.dimensions[time_at], row, time_at)
    series = [Series(name, values) for name, values in by_series.items()]
    return ChartSpec("line", title, [labels[b] for b in buckets], series, unit, percent)


# --- the reply ----------------------------------------------------------------------------------


PRIVATE_DIMENSIONS = {Dimension.CUSTOMER}


def is_private(result: ReportResult) -> bool:
    """Lists of individual customers, and one customer's (or company's) own numbers, never
    go to a group chat: they are as personal as the customer's card."""
    query = result.query
    return bool(query.filters.customer_ids) or any(
        d in PRIVATE_DIMENSIONS for d in query.dimensions
    )


async def report_reply(
    result: ReportResult, *, lang: str, buttons: list[list[Button]] | None = None
) -> Reply:
    w = ReportWords(result, lang)
    spec = chart(w)
    image = await chart_png(spec) if spec is not None else None
    return Reply(
        text=f"{narrative(w)}\n{definition_line(w)}",
        table=table(w),
        image=image,
        buttons=buttons or [],
        data=result.model_dump(mode="python"),
        private=is_private(result),
    )
