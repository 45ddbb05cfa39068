"""Tests for bot.when: WHEN phrases in Chinese and English, with hand-computed expectations.

Calendar reference (2026): Nov 24 is a Tuesday, Nov 27 a Friday, Nov 30 a Monday,
Dec 2 a Wednesday, Dec 4 a Friday, Dec 7 a Monday. Nov 1 2026 02:00 EDT -> 01:00 EST.
"""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.when import EXAMPLES_EN, EXAMPLES_ZH, find_when, parse_when

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)  # Tuesday morning
FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=SH)
MONTH_END = datetime(2026, 11, 30, 10, 0, tzinfo=SH)  # Monday, last day of November
JAN_31 = datetime(2027, 1, 31, 10, 0, tzinfo=SH)
LATE = datetime(2026, 11, 24, 22, 30, tzinfo=SH)
DEC_5 = datetime(2026, 12, 5, 10, 0, tzinfo=SH)  # Saturday
NY_NIGHT = datetime(2026, 10, 31, 23, 30, tzinfo=NY)  # Saturday, DST ends in a few hours


def sh(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def assert_same(got: datetime | None, expected: datetime, now: datetime) -> None:
    assert got is not None
    assert got == expected
    assert got.utcoffset() == expected.utcoffset()  # == ignores fold within one zone
    assert got.tzinfo is now.tzinfo


ZH_CASES = [
    ("今天", sh(11, 24)),
    ("明天", sh(11, 25)),
    ("后天", sh(11, 26)),
    ("大后天", sh(11, 27)),
    ("明天下午3点", sh(11, 25, 15)),
    ("明天 下午 3点", sh(11, 25, 15)),
    ("后天上午", sh(11, 26, 9)),
    ("明早", sh(11, 25, 9)),
    ("明早8点", sh(11, 25, 8)),
    ("今晚", sh(11, 24, 19)),
    ("今晚8点", sh(11, 24, 20)),
    ("明天中午", sh(11, 25, 12)),
    ("明天傍晚", sh(11, 25, 19)),
    ("3天后", sh(11, 27)),
    ("三天后", sh(11, 27)),
    ("两周后", sh(12, 8)),
    ("2周后", sh(12, 8)),
    ("1个月后", sh(12, 24)),
    ("一个月后", sh(12, 24)),
    ("半小时后", sh(11, 24, 10, 30)),
    ("2小时后", sh(11, 24, 12)),
    ("两个小时后", sh(11, 24, 12)),
    ("10分钟后", sh(11, 24, 10, 10)),
    ("周五", sh(11, 27)),
    ("星期五", sh(11, 27)),
    ("礼拜五", sh(11, 27)),
    ("周日", sh(11, 29)),
    ("星期天", sh(11, 29)),
    ("这周五", sh(11, 27)),
    ("周二", sh(12, 1)),  # today is Tuesday: strictly after today
    ("周二下午3点", sh(11, 24, 15)),  # ...unless the time is still ahead today
    ("下周三", sh(12, 2)),
    ("下周三下午3点", sh(12, 2, 15)),
    ("下个星期一", sh(11, 30)),
    ("下下周一", sh(12, 7)),
    ("下个月5号", sh(12, 5)),
    ("下月5日", sh(12, 5)),
    ("12月1日", sh(12, 1)),
    ("12月1号下午2点", sh(12, 1, 14)),
    ("十二月一日", sh(12, 1)),
    ("月底", sh(11, 30)),
    ("下个月底", sh(12, 31)),
    ("12月底", sh(12, 31)),
    ("月初", sh(12, 1)),
    ("周末", sh(11, 28)),
    ("下周末", sh(12, 5)),
    ("下周", sh(11, 30)),
    ("下个月", sh(12, 1)),
    ("5号", sh(12, 5)),  # the 5th has passed this month
    ("28号", sh(11, 28)),
    ("2026-12-01", sh(12, 1)),
    ("2026/12/1", sh(12, 1)),
    ("2026年12月1日", sh(12, 1)),
    ("2026-12-01 14:30", sh(12, 1, 14, 30)),
    ("3点", sh(11, 24, 15)),  # bare 1-6 o'clock is afternoon
    ("三点", sh(11, 24, 15)),
    ("3点半", sh(11, 24, 15, 30)),
    ("十一点", sh(11, 24, 11)),
    ("十点", sh(11, 25, 10)),  # 10:00 is not ahead of now (10:00) -> tomorrow
    ("上午十点半", sh(11, 24, 10, 30)),
    ("晚上8点", sh(11, 24, 20)),
    ("下午", sh(11, 24, 14)),
    ("15:30", sh(11, 24, 15, 30)),
    ("03:30", sh(11, 25, 3, 30)),  # leading zero: literal 24h time
    ("明天１５：３０", sh(11, 25, 15, 30)),  # full-width digits and colon
]

EN_CASES = [
    ("today", sh(11, 24)),
    ("tomorrow", sh(11, 25)),
    ("TOMORROW", sh(11, 25)),
    ("tomorrow 9am", sh(11, 25, 9)),
    ("tomorrow at 9:30am", sh(11, 25, 9, 30)),
    ("tomorrow afternoon", sh(11, 25, 14)),
    ("tomorrow at noon", sh(11, 25, 12)),
    ("tonight", sh(11, 24, 19)),
    ("day after tomorrow", sh(11, 26)),
    ("in 3 days", sh(11, 27)),
    ("in 2 weeks", sh(12, 8)),
    ("in a week", sh(12, 1)),
    ("in 1 month", sh(12, 24)),
    ("in 2 hours", sh(11, 24, 12)),
    ("in 30 minutes", sh(11, 24, 10, 30)),
    ("in half an hour", sh(11, 24, 10, 30)),
    ("3 days from now", sh(11, 27)),
    ("next Friday", sh(12, 4)),
    ("next Friday 10am", sh(12, 4, 10)),
    ("friday 3pm", sh(11, 27, 15)),
    ("3pm friday", sh(11, 27, 15)),
    ("at 3pm on Friday", sh(11, 27, 15)),
    ("Friday afternoon", sh(11, 27, 14)),
    ("fri", sh(11, 27)),
    ("this Friday", sh(11, 27)),
    ("on Monday", sh(11, 30)),
    ("tuesday 4pm", sh(11, 24, 16)),
    ("tuesday 9am", sh(12, 1, 9)),
    ("next week", sh(11, 30)),
    ("the week after next", sh(12, 7)),
    ("next weekend", sh(12, 5)),
    ("next month", sh(12, 1)),
    ("end of month", sh(11, 30)),
    ("end of the month", sh(11, 30)),
    ("end of next month", sh(12, 31)),
    ("start of next month", sh(12, 1)),
    ("Dec 1", sh(12, 1)),
    ("December 1st 2pm", sh(12, 1, 14)),
    ("1 Dec", sh(12, 1)),
    ("Dec 1, 2027", sh(12, 1, year=2027)),
    ("2026-12-01 14:30", sh(12, 1, 14, 30)),
    ("12/01", sh(12, 1)),  # month/day
    ("3pm", sh(11, 24, 15)),
    ("3:30pm", sh(11, 24, 15, 30)),
    ("9am", sh(11, 25, 9)),  # already past today -> tomorrow
    ("10:00", sh(11, 25, 10)),
    ("noon", sh(11, 24, 12)),
    ("a fortnight", sh(12, 8)),  # dateparser fallback, day-level -> 09:00
]


@pytest.mark.parametrize(("text", "expected"), ZH_CASES + EN_CASES)
def test_parse_when_tuesday_morning(text: str, expected: datetime) -> None:
    assert_same(parse_when(text, now=NOW), expected, NOW)


OTHER_NOW_CASES = [
    (FRIDAY, "周五", sh(12, 4)),
    (FRIDAY, "Friday", sh(12, 4)),
    (FRIDAY, "周五下午3点", sh(11, 27, 15)),
    (FRIDAY, "friday 3pm", sh(11, 27, 15)),
    (FRIDAY, "friday 9am", sh(12, 4, 9)),
    (FRIDAY, "下周五", sh(12, 4)),
    (FRIDAY, "next friday", sh(12, 4)),
    (FRIDAY, "周末", sh(11, 28)),
    (FRIDAY, "下周", sh(11, 30)),
    (MONTH_END, "月底", sh(11, 30)),  # last day: today, not next month
    (MONTH_END, "end of month", sh(11, 30)),
    (MONTH_END, "月底下午5点", sh(11, 30, 17)),
    (MONTH_END, "月初", sh(12, 1)),
    (MONTH_END, "下个月底", sh(12, 31)),
    (MONTH_END, "1个月后", sh(12, 30)),
    (MONTH_END, "5号", sh(12, 5)),
    (MONTH_END, "30号", sh(11, 30)),
    (MONTH_END, "11月29日", sh(11, 29, year=2027)),
    (MONTH_END, "周一", sh(12, 7)),
    (MONTH_END, "下周一", sh(12, 7)),
    (JAN_31, "1个月后", sh(2, 28, year=2027)),
    (JAN_31, "in 1 month", sh(2, 28, year=2027)),
    (JAN_31, "下个月底", sh(2, 28, year=2027)),
    (LATE, "3pm", sh(11, 25, 15)),
    (LATE, "11pm", sh(11, 24, 23)),
    (LATE, "10pm", sh(11, 25, 22)),
    (LATE, "晚上11点", sh(11, 24, 23)),
    (LATE, "明早", sh(11, 25, 9)),
    (LATE, "2小时后", sh(11, 25, 0, 30)),
    (LATE, "in 30 minutes", sh(11, 24, 23, 0)),
    (DEC_5, "12月1日", sh(12, 1, year=2027)),
    (DEC_5, "Dec 1", sh(12, 1, year=2027)),
    (DEC_5, "12/01", sh(12, 1, year=2027)),
    (DEC_5, "12月底", sh(12, 31)),
    (DEC_5, "周末", sh(12, 12)),
    (NY_NIGHT, "tomorrow 9am", datetime(2026, 11, 1, 9, 0, tzinfo=NY)),
    (NY_NIGHT, "3pm", datetime(2026, 11, 1, 15, 0, tzinfo=NY)),
    (NY_NIGHT, "next week", datetime(2026, 11, 2, 9, 0, tzinfo=NY)),
    (NY_NIGHT, "Friday", datetime(2026, 11, 6, 9, 0, tzinfo=NY)),
    (NY_NIGHT, "a fortnight", datetime(2026, 11, 14, 9, 0, tzinfo=NY)),
]


@pytest.mark.parametrize(("now", "text", "expected"), OTHER_NOW_CASES)
def test_parse_when_other_nows(now: datetime, text: str, expected: datetime) -> None:
    assert_same(parse_when(text, now=now), expected, now)


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        # 23:30 EDT = 03:30 UTC; clocks fall back at 06:00 UTC.
        ("in 2 hours", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # 01:30 EDT
        ("in 3 hours", datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),  # 01:30 EST
    ],
)
def test_relative_hours_are_elapsed_time_across_dst(text: str, expected_utc: datetime) -> None:
    got = parse_when(text, now=NY_NIGHT)
    assert got is not None
    assert got.tzinfo is NY
    assert got.astimezone(UTC) == expected_utc


def test_fixed_offset_timezone_is_kept() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    assert parse_when("明天下午3点", now=now) == datetime(2026, 11, 25, 15, 0, tzinfo=now.tzinfo)
    assert parse_when("a fortnight", now=now) == datetime(2026, 12, 8, 9, 0, tzinfo=now.tzinfo)


@pytest.mark.parametrize(
    "text",
    [
        "asdf",
        "",
        "   ",
        "明天的明天的",
        "blue",
        "hello world",
        "20",
        "20% off",
        "买了20箱",
        "2月30日",
        "13/12",
        "25点",
        "13pm",
    ],
)
def test_parse_when_rejects_garbage(text: str) -> None:
    assert parse_when(text, now=NOW) is None


FIND_CASES = [
    ("拜访了张伟,对报价满意,下周三跟进", sh(12, 2), "下周三"),
    ("对新报价满意,下周三下午再跟进", sh(12, 2, 14), "下周三下午"),
    ("call went well, follow up next Friday", sh(12, 4), "next Friday"),
    ("wants 20% off, follow up Fri", sh(11, 27), "Fri"),
    ("sent the quote, follow up in 2 weeks", sh(12, 8), "in 2 weeks"),
    ("明天下午3点回电话", sh(11, 25, 15), "明天下午3点"),
    ("今天拜访，明天跟进", sh(11, 25), "明天"),  # today 09:00 has passed: not a follow-up
    ("客户说月底前给答复", sh(11, 30), "月底"),
    ("他说下下周一再谈", sh(12, 7), "下下周一"),
    ("ping again in 30 minutes", sh(11, 24, 10, 30), "in 30 minutes"),
    ("２小时后回电", sh(11, 24, 12), "２小时后"),  # substring is from the original text
    ("demo on Dec 1, then pricing", sh(12, 1), "Dec 1"),
    ("met at 9am, call back at 3pm tomorrow", sh(11, 25, 15), "at 3pm tomorrow"),
]


@pytest.mark.parametrize(("text", "expected", "matched"), FIND_CASES)
def test_find_when(text: str, expected: datetime, matched: str) -> None:
    found = find_when(text, now=NOW)
    assert found is not None
    assert_same(found[0], expected, NOW)
    assert found[1] == matched


@pytest.mark.parametrize(
    "text",
    [
        "happy with the quote",
        "买了20箱",
        "20% off",
        "",
        "上周五拜访了张伟",
        "上个月底签约",
        "sat down with the CFO",
        "下午拜访了客户",
        "5号楼见面",
        "3/4 of units shipped",
        "一周一次",
    ],
)
def test_find_when_none(text: str) -> None:
    assert find_when(text, now=NOW) is None


def test_examples_are_short_and_parseable() -> None:
    for examples in (EXAMPLES_ZH, EXAMPLES_EN):
        assert 5 <= len(examples) <= 6
        for phrase in examples:
            assert parse_when(phrase, now=NOW) is not None, phrase
