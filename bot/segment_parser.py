"""Segment conditions written in chat, Chinese or English -> SegmentDefinition.

"买过≥3次 60天未购 上海" and "bought>=3 no order 60 days Shanghai" mean the same segment.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bot.report_parser import TIER_WORDS, Vocabulary, chinese_number
from crm_core.analytics.segments import SegmentDefinition

_FLAGS = re.IGNORECASE | re.ASCII
N = r"(\d+|[一二两三四五六七八九十]{1,3})"
BOUGHT = r"(买过|购买过?|下单|下过单|bought|ordered|purchased)"
TIMES = r"(次|回|单|times?|orders?)"
MIN_ORDERS = re.compile(
    rf"{BOUGHT}\s*(≥|>=|至少|at least|不少于)\s*{N}\s*{TIMES}?|"
    rf"{BOUGHT}\s*{N}\s*{TIMES}\s*(以上|及以上|or more|\+)?|{N}\s*次(以上|及以上)",
    _FLAGS,
)
MAX_ORDERS = re.compile(rf"{BOUGHT}\s*(≤|<=|最多|at most|不超过)\s*{N}\s*{TIMES}?", _FLAGS)
NO_ORDER = re.compile(
    rf"{N}\s*天\s*(未购买?|没下单|未下单|没有下单|没买|没有购买|不活跃)|"
    rf"(no orders?|not ordered|not bought|nothing)\s*(in|for)?\s*(the (last|past))?\s*"
    rf"{N}\s*days?|not in {N} days",
    _FLAGS,
)
ORDERED_WITHIN = re.compile(
    rf"{N}\s*天内\s*(下过单|购买过|买过|有订单)|"
    rf"(ordered|bought)\s*(in|within)\s*(the last\s*)?{N}\s*days?",
    _FLAGS,
)
MIN_REVENUE = re.compile(
    r"(消费|累计消费|spent|spend|revenue)\s*(≥|>=|至少|at least|超过|over|above)?\s*"
    r"[¥$]?\s*(\d[\d,]*)",
    _FLAGS,
)
TAG = re.compile(r"#(\S+)|(?:标签|tag)\s*[=:：]\s*(\S+)", _FLAGS)


def _number(match: re.Match[str]) -> int | None:
    for group in match.groups():
        if group and (value := chinese_number(group)) is not None:
            return value
    return None


def _word_in(word: str, text: str) -> bool:
    return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text) is not None


def parse_segment(text: str, vocab: Vocabulary) -> SegmentDefinition:
    """Every condition found in `text`; an empty definition when none is."""
    d = SegmentDefinition()
    if match := MAX_ORDERS.search(text):
        d.max_orders = _number(match)
        text = text.replace(match.group(0), " ")
    if match := MIN_ORDERS.search(text):
        d.min_orders = _number(match)
    if match := NO_ORDER.search(text):
        d.no_order_days = _number(match)
    if match := ORDERED_WITHIN.search(text):
        d.ordered_within_days = _number(match)
    if match := MIN_REVENUE.search(text):
        d.min_revenue = Decimal(match.group(3).replace(",", ""))
    d.tags = [a or b for a, b in TAG.findall(text)]
    lowered = text.lower()
    d.cities = [c for c in vocab.cities if c and c.lower() in lowered]
    d.sources = [
        s
        for s in vocab.sources
        if s and re.search(rf"(?<![a-z]){re.escape(s.lower())}(?![a-z])", lowered)
    ]
    d.tiers = [tier for pattern, tier in TIER_WORDS if re.search(pattern, text, _FLAGS)]
    return d
