"""Question -> ReportQuery without an LLM: the common questions, in Chinese and English.

The parser only picks from fixed vocabularies (metrics, periods, dimensions) and from names
that exist in the store (reps, cities, products…); anything it cannot place makes it return
None, so the person is shown example questions instead of a guessed answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.report_names import customer_reference
from crm_core.analytics.catalogue import STOCK_METRICS, Dimension, Metric, Tier
from crm_core.analytics.frame import ReportFilters
from crm_core.analytics.periods import PeriodKind, PeriodSpec
from crm_core.reports import Comparison, ReportQuery, SortOrder

# ASCII: \b and \w must treat Chinese characters as non-letters ("6个月NPS" has a boundary).
_FLAGS = re.IGNORECASE | re.ASCII


@dataclass(frozen=True)
class Vocabulary:
    """Names the store knows, so "李娜" or "上海" in a question become filters."""

    reps: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()


# Longer phrases first: "新客户数" must win over "客户数", "流失率" over "流失".
METRIC_WORDS: list[tuple[str, Metric]] = [
    (
        r"预测(的)?(客户)?(终身|生命周期)价值|predicted (customer )?(lifetime value|clv|ltv)",
        Metric.CLV_PREDICTED,
    ),
    (r"(客户)?(终身|生命周期)价值|\bclv\b|\bltv\b|lifetime value", Metric.CLV_HISTORICAL),
    (r"复购率|回购率|重复购买率|repurchase rate|repeat (purchase )?rate", Metric.REPURCHASE_RATE),
    (r"留存率|retention( rate)?", Metric.RETENTION_RATE),
    (r"流失率|churn rate", Metric.CHURN_RATE),
    (r"客单价|平均订单(金额|价值)?|average order value|\baov\b|average order", Metric.AOV),
    (r"新客户数?|新客数?|新增客户数?|new customers?", Metric.NEW_CUSTOMERS),
    (r"活跃客户数?|active customers?", Metric.ACTIVE_CUSTOMERS),
    (
        r"销售额|营业额|营收|收入|业绩|成交额|消费额|购买额|采购额|"
        r"(买|消费|花|采购|购买)了?(多少钱|多少)|revenue|sales|turnover|"
        r"how much (did|does|has|have)\b|\bspent\b|\bspend(ing)?\b",
        Metric.REVENUE,
    ),
    (r"订单数|订单量|下单数|单量|订单|orders?\b|number of orders", Metric.ORDERS),
    (r"\bnps\b|净推荐值|推荐值", Metric.NPS),
    (r"\bcsat\b|满意度|customer satisfaction|satisfaction", Metric.CSAT),
    (
        r"跟进次数|互动次数|拜访次数|联系次数|跟进|互动|interactions?|touches|follow-?ups|activities",
        Metric.INTERACTIONS,
    ),
    (
        r"客户数|客户数量|多少(个|位)?客户|how many customers|number of customers|customer count",
        Metric.CUSTOMERS,
    ),
]
_METRIC_RES = [(re.compile(p, _FLAGS), m) for p, m in METRIC_WORDS]

AT_RISK = re.compile(
    r"(哪些|哪几个|哪位|列出|谁|名单).{0,6}(流失风险|有流失|可能流失|快流失|要流失)|流失风险(客户|名单)|"
    r"(which|list|show)\b.{0,30}\b(at (churn )?risk|likely to churn|churn risk)|"
    r"at[- ]risk customers",
    _FLAGS,
)
LEADS = re.compile(
    r"(最值得|优先|重点)跟进的?(线索|潜在客户|潜客)|线索(评分|打分|排名)|"
    r"(best|top|hot|hottest|warmest)\s+leads|lead scor",
    _FLAGS,
)
BASKET = re.compile(
    r"一起(买|购买|下单)|搭配购买|经常.{0,4}一起|关联(购买|商品|产品)|"
    r"bought together|frequently bought|basket|cross[- ]?sell",
    _FLAGS,
)
SEASON = re.compile(
    r"哪(个|几个)月|什么月份|季节性|旺季|淡季|which months?|seasonal|seasonality|best months?",
    _FLAGS,
)

DIMENSION_WORDS: list[tuple[str, Dimension]] = [
    (r"按天|每天|每日|日趋势|by day|per day|daily", Dimension.DAY),
    (r"按周|每周|周趋势|by week|per week|weekly", Dimension.WEEK),
    (r"按月|每月|月度|逐月|by month|per month|monthly|month by month", Dimension.MONTH),
    (r"按季度|每季度|季度趋势|by quarter|per quarter|quarterly", Dimension.QUARTER),
    (
        r"各(个)?(销售|业务员|销售员|代表)|每(个|位)?(销售|业务员)|按(销售|业务员)|"
        r"by (sales ?)?rep|per (sales ?)?rep|per salesperson|by salesperson|each rep",
        Dimension.REP,
    ),
    (r"各(个)?团队|每个团队|按团队|by team|per team|each team", Dimension.TEAM),
    (r"各(个)?等级|按等级|按层级|各层级|by tier|per tier", Dimension.TIER),
    (r"各(个)?(来源|渠道)|按(来源|渠道)|by source|per source|by channel", Dimension.SOURCE),
    (
        r"各(个)?城市|按城市|每个城市|哪些城市|哪个城市|\d+\s*个城市|"
        r"by city|per city|each city|top\s*\d*\s*cities",
        Dimension.CITY,
    ),
    (
        r"各(个)?(产品|商品)|按(产品|商品)|每个产品|哪些产品|热销产品|产品排名|"
        r"by product|per product|each product|top\s*\d*\s*products|best[- ]selling products",
        Dimension.PRODUCT,
    ),
    (r"各(个)?(品类|类别|类目)|按(品类|类别|类目)|by category|per category", Dimension.CATEGORY),
    (r"各(个)?分群|按分群|by segment|per segment", Dimension.SEGMENT),
]
_DIM_RES = [(re.compile(p, _FLAGS), d) for p, d in DIMENSION_WORDS]
TREND = re.compile(r"趋势|走势|变化|trend|over time", _FLAGS)
CUSTOMER_LIST = re.compile(
    r"(前|top\s*)\s*\S{0,3}\s*(名|个|位)?的?(大)?客户|哪些客户|哪几个客户|最大的客户|大客户|"
    r"top\s*\d*\s*customers|which customers|biggest customers|best customers|customers by",
    _FLAGS,
)

_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
NUMBER = r"(\d+|[一二两三四五六七八九十]{1,3})"
TOP_N = re.compile(
    rf"前\s*{NUMBER}|(top|bottom)\s*{NUMBER}|{NUMBER}\s*(大|强)|"
    rf"(最高|最低|最多|最少|最好|最差|排名)的?\s*{NUMBER}\s*(个|位|名|家)",
    _FLAGS,
)

COMPARE_YEAR = re.compile(
    r"同比|去年同期|与去年|year over year|\byoy\b|vs\.? (the )?same period last year|"
    r"vs\.? last year|compared (to|with) last year",
    _FLAGS,
)
COMPARE_PREV = re.compile(
    r"环比|比上(个)?(月|周|季度|期)|与上(个)?(月|周|季度|期)|上期对比|"
    r"vs\.? (the )?(previous|prior|last) (period|month|week|quarter)|"
    r"compared (to|with) (the )?(previous|prior|last)|\bmom\b|\bwow\b|\bqoq\b",
    _FLAGS,
)

TIER_WORDS: list[tuple[str, Tier]] = [
    (r"高价值|high[- ]value", Tier.HIGH_VALUE),
    (r"潜力|potential", Tier.POTENTIAL),
    (r"沉睡|dormant", Tier.DORMANT),
    (r"流失风险|churn[- ]risk|at[- ]risk", Tier.CHURN_RISK),
    (r"一般客户|regular customers", Tier.REGULAR),
]


def chinese_number(text: str) -> int | None:
    """ "10" -> 10, "十" -> 10, "十二" -> 12, "二十" -> 20, "两" -> 2."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        value = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10
        return value + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(text) if len(text) == 1 else None


_PERIODS: list[tuple[re.Pattern[str], PeriodKind]] = [
    (re.compile(p, _FLAGS), k)
    for p, k in [
        (r"今天|今日|\btoday\b", PeriodKind.TODAY),
        (r"昨天|昨日|\byesterday\b", PeriodKind.YESTERDAY),
        (r"上(个)?周|上礼拜|上星期|last week|previous week", PeriodKind.LAST_WEEK),
        (r"本周|这周|这个星期|this week|week to date|\bwtd\b", PeriodKind.THIS_WEEK),
        (r"上(个)?月|上月|last month|previous month", PeriodKind.LAST_MONTH),
        (r"本月|这个月|当月|this month|month to date|\bmtd\b", PeriodKind.THIS_MONTH),
        (r"上(个)?季度|上季|last quarter|previous quarter", PeriodKind.LAST_QUARTER),
        (
            r"本季度|这个季度|这季度|本季|this quarter|quarter to date|\bqtd\b",
            PeriodKind.THIS_QUARTER,
        ),
        (r"去年|上一年|last year|previous year", PeriodKind.LAST_YEAR),
        (r"今年|本年|年初至今|this year|year to date|\bytd\b", PeriodKind.THIS_YEAR),
    ]
]
ROLLING = re.compile(
    r"(近|最近|过去|前)\s*(?P<n1>\d+|[一二两三四五六七八九十]{1,3})\s*(个)?\s*(?P<u1>天|日|周|星期|礼拜|月)|"
    r"(last|past|previous)\s+(?P<n2>\d+)\s+(?P<u2>days?|weeks?|months?)",
    _FLAGS,
)
_UNITS = {
    "天": PeriodKind.LAST_DAYS,
    "日": PeriodKind.LAST_DAYS,
    "day": PeriodKind.LAST_DAYS,
    "周": PeriodKind.LAST_WEEKS,
    "星期": PeriodKind.LAST_WEEKS,
    "礼拜": PeriodKind.LAST_WEEKS,
    "week": PeriodKind.LAST_WEEKS,
    "月": PeriodKind.LAST_MONTHS,
    "month": PeriodKind.LAST_MONTHS,
}


@dataclass
class _Reading:
    text: str
    metrics: list[Metric] = field(default_factory=list)
    dims: list[Dimension] = field(default_factory=list)


def _blank(text: str, match: re.Match[str]) -> str:
    """`text` with the match replaced by spaces, so its words are not read twice."""
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]


def _period(text: str) -> tuple[PeriodSpec | None, str]:
    rolling = ROLLING.search(text)
    if rolling:
        n = chinese_number(rolling["n1"] or rolling["n2"])
        unit = (rolling["u1"] or rolling["u2"]).lower().rstrip("s")
        if n and unit in _UNITS and n <= 120:
            return PeriodSpec(kind=_UNITS[unit], n=n), _blank(text, rolling)
    for pattern, kind in _PERIODS:
        if match := pattern.search(text):
            return PeriodSpec(kind=kind), _blank(text, match)
    return None, text


def _dimensions(text: str) -> tuple[list[Dimension], str]:
    dims = []
    for pattern, dim in _DIM_RES:
        if match := pattern.search(text):
            dims.append(dim)
            text = _blank(text, match)
    return dims, text


def _top_n(text: str) -> int | None:
    match = TOP_N.search(text)
    if match is None:
        return None
    numbers = [chinese_number(g) for g in match.groups() if g]
    n = next((x for x in numbers if x is not None), None)
    return n if n and n <= 100 else None


def _metrics(text: str) -> tuple[list[Metric], str]:
    found: list[tuple[int, Metric]] = []
    for pattern, metric in _METRIC_RES:
        if match := pattern.search(text):
            found.append((match.start(), metric))
            text = _blank(text, match)  # "新客户数" must not also count as "客户数"
    return [m for _, m in sorted(found)], text


def _names(text: str, names: tuple[str, ...] | list[str]) -> list[str]:
    """Names that occur in `text`; Latin names only as whole words ("Tom" not in "custom")."""
    found = []
    for name in sorted(names, key=len, reverse=True):
        if name and re.search(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", text, _FLAGS):
            found.append(name)
    return found


def _product_words(text: str, products: tuple[str, ...]) -> list[str]:
    """Words of the question found inside product names: "打印机的销售额" -> ["打印机"].

    Longest first, at least two Chinese characters or three letters, without overlap."""
    found: list[str] = []
    names = [p.lower() for p in products]
    words = {w for name in names for w in re.findall(r"[a-z][a-z0-9-]{2,}", name)}
    found += [w for w in re.findall(r"[A-Za-z][A-Za-z0-9-]{2,}", text) if w.lower() in words]
    for run in re.findall(r"[\u4e00-\u9fff]{2,}", text):
        run_lower, start = run.lower(), 0
        while start < len(run_lower) - 1:
            for end in range(len(run_lower), start + 1, -1):
                piece = run_lower[start:end]
                if any(piece in name for name in names):
                    found.append(run[start:end])
                    start = end - 1
                    break
            start += 1
    return found


def _filters(text: str, vocab: Vocabulary, *, skip_tiers: bool = False) -> ReportFilters:
    categories = _names(text, vocab.categories)
    rest = text
    for name in categories + list(vocab.cities) + list(vocab.reps) + list(vocab.teams):
        rest = rest.replace(name, " ")
    filters = ReportFilters(
        reps=_names(text, vocab.reps),
        teams=_names(text, vocab.teams),
        cities=_names(text, vocab.cities),
        sources=_names(text, vocab.sources),
        products=_product_words(rest, vocab.products),
        categories=categories,
    )
    segments = _names(text, vocab.segments)
    if segments:
        filters.segment = segments[0]
    if not skip_tiers:
        filters.tiers = [t for p, t in TIER_WORDS if re.search(p, text, _FLAGS)]
    return filters


@dataclass(frozen=True)
class ParsedQuestion:
    query: ReportQuery
    # Words the parser could not place that read like a customer's or company's name
    # ("张伟今年买了多少" -> "张伟"); the caller looks them up within the asker's scope.
    customer_ref: str | None = None


def parse_question(text: str, vocab: Vocabulary) -> ReportQuery | None:
    """The ReportQuery `text` asks for, or None when it is not a question we can answer."""
    parsed = read_question(text, vocab)
    return parsed.query if parsed is not None else None


def read_question(text: str, vocab: Vocabulary) -> ParsedQuestion | None:
    """The question's ReportQuery and the name it may mention, or None (not a question)."""
    text = " ".join(text.split())
    if not text:
        return None
    compare, rest = _comparison(text)
    period, rest = _period(rest)
    if AT_RISK.search(text):
        # Rankings of many customers (and product pairs): no one customer's name is read.
        return ParsedQuestion(
            ReportQuery(
                metrics=[Metric.DAYS_SINCE_LAST_ORDER, Metric.CLV_HISTORICAL],
                dimensions=[Dimension.CUSTOMER],
                filters=_filters(text, vocab, skip_tiers=True).model_copy(
                    update={"tiers": [Tier.CHURN_RISK]}
                ),
                period=PeriodSpec(kind=PeriodKind.TODAY),
                top_n=_top_n(text) or 20,
            )
        )
    if LEADS.search(text):
        return ParsedQuestion(
            ReportQuery(
                metrics=[Metric.LEAD_SCORE],
                dimensions=[Dimension.CUSTOMER],
                filters=_filters(text, vocab, skip_tiers=True),
                period=PeriodSpec(kind=PeriodKind.TODAY),
                top_n=_top_n(text) or 10,
            )
        )
    if BASKET.search(text):
        return ParsedQuestion(
            ReportQuery(
                metrics=[Metric.LIFT, Metric.CONFIDENCE, Metric.SUPPORT],
                dimensions=[Dimension.PRODUCT_PAIR],
                filters=_filters(text, vocab),
                period=period or PeriodSpec(kind=PeriodKind.LAST_MONTHS, n=12),
                top_n=_top_n(text) or 10,
            )
        )
    dims, rest = _dimensions(rest)
    metrics, rest = _metrics(rest)
    if SEASON.search(text):
        rest = SEASON.sub(" ", rest)
        filters = _filters(rest, vocab)
        query = ReportQuery(
            metrics=[m for m in metrics if m in (Metric.REVENUE, Metric.ORDERS)] or [Metric.ORDERS],
            dimensions=[Dimension.MONTH_OF_YEAR],
            filters=filters,
            period=period or PeriodSpec(kind=PeriodKind.LAST_MONTHS, n=24),
        )
        return ParsedQuestion(query, customer_reference(_unplaced(rest, filters)))
    if not metrics:
        return None
    query = _plain_query(text, rest, metrics, dims, period, compare, vocab)
    if query is None:
        return None
    return ParsedQuestion(query, customer_reference(_unplaced(rest, query.filters)))


SORT_WORDS = re.compile(r"最低|最少|最差|最高|最多|lowest|least|worst|bottom|highest|most", _FLAGS)
_TIER_RES = [re.compile(p, _FLAGS) for p, _ in TIER_WORDS]


def _unplaced(rest: str, filters: ReportFilters) -> str:
    """`rest` with every word the parser placed blanked too: what may name a customer."""
    for pattern in (TOP_N, CUSTOMER_LIST, TREND, SORT_WORDS, *_TIER_RES):
        rest = pattern.sub(" ", rest)
    names = [*filters.reps, *filters.teams, *filters.cities, *filters.sources]
    names += [*filters.products, *filters.categories, filters.segment or ""]
    for name in sorted((n for n in names if n), key=len, reverse=True):
        rest = re.sub(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", " ", rest, flags=_FLAGS)
    return rest


def _comparison(text: str) -> tuple[Comparison, str]:
    for pattern, compare in (
        (COMPARE_YEAR, Comparison.YEAR_AGO),
        (COMPARE_PREV, Comparison.PREVIOUS),
    ):
        if match := pattern.search(text):
            return compare, _blank(text, match)
    return Comparison.NONE, text


def _plain_query(
    text: str,
    rest: str,
    metrics: list[Metric],
    dims: list[Dimension],
    period: PeriodSpec | None,
    compare: Comparison,
    vocab: Vocabulary,
) -> ReportQuery | None:
    top_n = _top_n(text)
    if CUSTOMER_LIST.search(text) and not dims:
        dims = [Dimension.CUSTOMER]
    time_dims = [
        d for d in dims if d in (Dimension.DAY, Dimension.WEEK, Dimension.MONTH, Dimension.QUARTER)
    ]
    if not time_dims and TREND.search(text) and Dimension.CUSTOMER not in dims:
        dims.insert(0, _trend_grain(period))
    dims = dims[:2]
    if Dimension.CUSTOMER in dims:
        dims = [Dimension.CUSTOMER]
    if compare is Comparison.NONE and not dims and not all(m in STOCK_METRICS for m in metrics):
        compare = Comparison.PREVIOUS  # one number means more next to the last period's
    ascending = re.search(r"最低|最少|最差|lowest|least|worst|bottom", text, _FLAGS)
    filters = _filters(rest, vocab)
    try:
        return ReportQuery(
            metrics=metrics[:6],
            dimensions=dims,
            filters=filters,
            period=period or PeriodSpec(),
            compare=compare,
            sort=SortOrder.ASC if ascending else SortOrder.DESC,
            top_n=top_n,
        )
    except ValueError:
        return None


def _trend_grain(period: PeriodSpec | None) -> Dimension:
    kind = period.kind if period else PeriodKind.THIS_MONTH
    if kind in (
        PeriodKind.THIS_WEEK,
        PeriodKind.LAST_WEEK,
        PeriodKind.THIS_MONTH,
        PeriodKind.LAST_MONTH,
    ):
        return Dimension.DAY
    if kind is PeriodKind.LAST_DAYS:
        return Dimension.DAY if (period and (period.n or 0) <= 62) else Dimension.WEEK
    if kind in (PeriodKind.THIS_QUARTER, PeriodKind.LAST_QUARTER, PeriodKind.LAST_WEEKS):
        return Dimension.WEEK
    return Dimension.MONTH
