"""Reporting periods people name: 本月, 上个月, this week, last 30 days, 2026-10 …"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

DEFAULT_DAYS = 30
_LAST_DAYS = re.compile(r"^(?:近|最近|过去)\s*(\d{1,3})\s*天$|^(?:last|past)\s+(\d{1,3})\s+days?$")
_MONTH = re.compile(r"^(\d{4})(?:-|年)(\d{1,2})月?$")
_NAMED = {
    "today": ("今天", "today"),
    "this_week": ("本周", "这周", "这星期", "this week"),
    "last_week": ("上周", "上星期", "last week"),
    "this_month": ("本月", "这个月", "当月", "this month"),
    "last_month": ("上月", "上个月", "last month"),
    "this_quarter": ("本季度", "这个季度", "this quarter"),
    "this_year": ("今年", "本年", "this year"),
    "last_year": ("去年", "last year"),
}
_BY_WORD = {word: name for name, words in _NAMED.items() for word in words}


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, in the actor's timezone
    end: datetime  # exclusive

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).date()


def _midnight(day: date, now: datetime) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)


def _month_start(year: int, month: int, now: datetime) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=now.tzinfo)


def parse_period(text: str, now: datetime) -> Period | None:
    """The period `text` names, relative to `now` (aware, the actor's zone); None if none."""
    word = text.strip().casefold()
    today = _midnight(now.date(), now)
    tomorrow = today + timedelta(days=1)
    name = _BY_WORD.get(word)
    if name == "today":
        return Period(today, tomorrow)
    if name in ("this_week", "last_week"):
        monday = today - timedelta(days=today.weekday())
        return (
            Period(monday, tomorrow)
            if name == "this_week"
            else Period(monday - timedelta(days=7), monday)
        )
    if name == "this_month":
        return Period(_month_start(now.year, now.month, now), tomorrow)
    if name == "last_month":
        start = _month_start(now.year, now.month - 1, now)
        return Period(start, _month_start(now.year, now.month, now))
    if name == "this_quarter":
        return Period(_month_start(now.year, (now.month - 1) // 3 * 3 + 1, now), tomorrow)
    if name == "this_year":
        return Period(_month_start(now.year, 1, now), tomorrow)
    if name == "last_year":
        return Period(_month_start(now.year - 1, 1, now), _month_start(now.year, 1, now))
    if match := _LAST_DAYS.match(word):
        days = int(match[1] or match[2])
        return Period(tomorrow - timedelta(days=days), tomorrow)
    if match := _MONTH.match(word):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            return Period(_month_start(year, month, now), _month_start(year, month + 1, now))
    return None


def default_period(now: datetime) -> Period:
    tomorrow = _midnight(now.date(), now) + timedelta(days=1)
    return Period(tomorrow - timedelta(days=DEFAULT_DAYS), tomorrow)


def find_period(words: list[str], now: datetime) -> tuple[Period | None, str, list[str]]:
    """The longest run of words naming a period, its text, and the words left over."""
    for size in range(min(len(words), 3), 0, -1):
        for i in range(len(words) - size + 1):
            text = " ".join(words[i : i + size])
            period = parse_period(text, now)
            if period is not None:
                return period, text, words[:i] + words[i + size :]
    return None, "", words
