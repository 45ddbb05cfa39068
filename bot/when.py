"""Parse WHEN phrases (Chinese and English) relative to the actor's local time.

`parse_when` reads a whole string as a time expression; `find_when` spots a follow-up
phrase inside free text. Both use one table of small regex rules: each rule recognises
a *day* phrase, optionally followed (or, English style, preceded) by a time of day.
dateparser is only a gated fallback for `parse_when`; it never sees whole sentences.

Decisions on ambiguous input:
- A day without a time of day means 09:00 local.
- A bare hour 1-6 without am/pm or part of day (明天3点, 3:30) is PM: nobody books a
  3 a.m. sales call. A leading zero (03:30) keeps it literal.
- 周五 / Friday: next occurrence strictly after today, unless a time is given that is
  still ahead today. 下周五 / next Friday: Friday of next calendar week (weeks start Monday).
- 周末 / weekend: the coming Saturday (weekday rule); 下周末: Saturday of next week.
- 下周 / next week: Monday of next week. 月初, 下个月, next month: 1st of next month.
- 月底 / end of month on the month's last day is today (09:00, i.e. already due): we do
  not silently push a deadline a month out.
- Month-day without a year that lies before today rolls to next year (today stays).
- 12/01 is month/day. 本月5号 is taken literally; bare 5号 rolls to next month if past.
- Inside free text, m/d, bare 5号 and time-only phrases are ignored (ratios, room
  numbers, and the time the visit happened); only times after `now` are returned.
"""

import re
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateparser.date import DateDataParser

EXAMPLES_ZH: list[str] = ["明天下午3点", "下周三", "周五上午", "3天后", "12月1日", "月底"]
EXAMPLES_EN: list[str] = [
    "tomorrow 9am",
    "next Friday",
    "friday 3pm",
    "in 2 weeks",
    "Dec 1",
    "end of month",
]

DEFAULT_TIME = time(9, 0)
_PERIOD_HOURS = {"morning": 9, "noon": 12, "afternoon": 14, "evening": 19}
_ZH_PERIODS = {
    "上午": "morning",
    "早上": "morning",
    "早晨": "morning",
    "中午": "noon",
    "下午": "afternoon",
    "傍晚": "evening",
    "晚上": "evening",
}
_ZH_DIGITS = {
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
_EN_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_EN_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_EN_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# (offset in days, implied part of day) for single-word relative days.
_RELATIVE_DAYS: dict[str, tuple[int, str | None]] = {
    "今天": (0, None),
    "今日": (0, None),
    "今早": (0, "morning"),
    "今晚": (0, "evening"),
    "明天": (1, None),
    "明日": (1, None),
    "明早": (1, "morning"),
    "明晨": (1, "morning"),
    "明晚": (1, "evening"),
    "后天": (2, None),
    "大后天": (3, None),
    "today": (0, None),
    "tonight": (0, "evening"),
    "tomorrow": (1, None),
    "tmr": (1, None),
    "tmrw": (1, None),
    "day after tomorrow": (2, None),
}
_UNIT_PREFIXES = (
    ("分", "minutes"),
    ("mi", "minutes"),
    ("小", "hours"),
    ("钟", "hours"),
    ("h", "hours"),
    ("天", "days"),
    ("日", "days"),
    ("d", "days"),
    ("周", "weeks"),
    ("星", "weeks"),
    ("礼", "weeks"),
    ("w", "weeks"),
    ("月", "months"),
    ("mo", "months"),
    ("年", "years"),
    ("y", "years"),
)
# Full-width ASCII (１２：３０，) -> half-width, length-preserving so find_when offsets hold.
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

# --- regex building blocks -------------------------------------------------------------
_ZH_N = r"[零一二两三四五六七八九十]{1,3}"
_NUM = rf"\d{{1,2}}|{_ZH_N}"
_AP = r"(?:[ap]m|[ap]\.m\.)(?![a-z])"
_ZH_PERIOD = "|".join(_ZH_PERIODS)
_EN_PERIOD = r"(?:in\s+the\s+)?(?:morning|afternoon|evening|night)\b|noon\b"
_TIME = (
    rf"(?P<t>(?:(?P<tp>{_ZH_PERIOD})\s*)?"
    rf"(?:(?<!\d)(?P<hz>{_NUM})\s*[点點时](?:\s*(?P<half>半)|\s*(?P<mz>{_NUM})\s*分?)?"
    rf"|(?<!\d)(?P<hc>\d{{1,2}}):(?P<mc>\d{{2}})(?!\d)(?:\s*(?P<apc>{_AP}))?"
    rf"|(?<!\d)(?P<he>\d{{1,2}})\s*(?P<ape>{_AP}))"
    rf"|(?P<tp2>{_ZH_PERIOD}|{_EN_PERIOD}))"
)
_SEP = r"\s*(?:at\s+|@\s*|,\s*)?"
_ZH_WD = r"[一二三四五六日天1-7]"
_EN_WD = (
    r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?"
)
_EN_MON = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_EN_UNIT = r"minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|years?|yrs?"
_EN_COUNT = r"\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|half\s+an?"


@dataclass(frozen=True)
class _Day:
    """A resolved calendar day, before the time of day is applied."""

    day: date
    period: str | None = None  # implied part of day, e.g. 今晚 -> evening
    today_ok: bool = False  # rolled past today: use today instead if the given time is ahead


Handler = Callable[[re.Match[str], datetime], _Day | datetime | None]


@dataclass(frozen=True)
class _Rule:
    patterns: tuple[re.Pattern[str], ...]
    handler: Handler
    in_text: bool  # whether find_when may look for it inside free text


def _rule(day_re: str, handler: Handler, *, timed: bool = True, in_text: bool = True) -> _Rule:
    """Compile a day pattern with an optional time after it (or before it, English style)."""
    forms = [day_re]
    if timed:
        forms = [rf"(?:{day_re})(?:{_SEP}{_TIME})?", rf"(?:at\s+)?{_TIME}\s+(?:on\s+)?(?:{day_re})"]
    return _Rule(tuple(re.compile(f, re.IGNORECASE) for f in forms), handler, in_text)


# --- small converters -----------------------------------------------------------------
def _g(m: re.Match[str], name: str) -> str | None:
    """Group by name, or None when this pattern has no such group."""
    return m.groupdict().get(name)


def _num(raw: str) -> int | None:
    """Arabic or Chinese numeral up to 99 (三, 十, 十一, 二十五, 两)."""
    if raw.isdigit():
        return int(raw)
    if "十" in raw:
        tens, _, ones = raw.partition("十")
        t = _ZH_DIGITS.get(tens) if tens else 1
        o = _ZH_DIGITS.get(ones) if ones else 0
        return None if t is None or o is None else t * 10 + o
    return _ZH_DIGITS.get(raw) if len(raw) == 1 else None


def _count(raw: str) -> float | None:
    raw = " ".join(raw.lower().split())
    if raw in ("半", "half a", "half an"):
        return 0.5
    return _EN_NUMBERS.get(raw) or _num(raw)


def _unit(raw: str) -> str:
    raw = raw.lower()
    return next(unit for prefix, unit in _UNIT_PREFIXES if raw.startswith(prefix))


def _weekday_index(raw: str) -> int:
    if raw.isdigit():
        return int(raw) - 1
    if raw in ("日", "天"):
        return 6
    zh = "一二三四五六".find(raw)
    return zh if zh >= 0 else _EN_WEEKDAYS.index(raw[:3].lower())


def _weeks_ahead(prefix: str | None) -> int:
    p = (prefix or "").lower()
    if p.startswith("下下") or "after" in p:
        return 2
    return 1 if p.startswith(("下", "next")) else 0


def _month_number(raw: str) -> int | None:
    if raw.isascii() and raw.isalpha():
        return _EN_MONTHS.index(raw[:3].lower()) + 1
    return _num(raw)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _add_months(d: date, months: int) -> date:
    """Shift by whole months, clamping the day (Jan 31 + 1 month = Feb 28)."""
    year, month0 = divmod(d.month - 1 + months, 12)
    last = monthrange(d.year + year, month0 + 1)[1]
    return date(d.year + year, month0 + 1, min(d.day, last))


def _month_end(d: date) -> date:
    return d.replace(day=monthrange(d.year, d.month)[1])


# --- time of day ----------------------------------------------------------------------
def _period(word: str | None) -> str | None:
    if not word:
        return None
    word = word.lower()
    if word in _ZH_PERIODS:
        return _ZH_PERIODS[word]
    if "night" in word:
        return "evening"
    # "afternoon" contains "noon", so it must be tried first.
    return next(p for p in ("afternoon", "morning", "evening", "noon") if p in word)


def _to_24h(hour: int, ampm: str | None, period: str | None, raw: str) -> int:
    if ampm:
        return hour % 12 + (12 if ampm.lower().startswith("p") else 0) if hour <= 12 else -1
    pm = period in ("afternoon", "evening") or (period == "noon" and hour < 6)
    # Bare 1-6 o'clock is a business-hours afternoon time, unless written 03:00.
    pm = pm or (period is None and 1 <= hour <= 6 and not raw.startswith("0"))
    return hour + 12 if pm and hour < 12 else hour


def _clock(m: re.Match[str], implied: str | None) -> time | None:
    """Time of day from the match's time groups; part-of-day default, else 09:00."""
    period = _period(_g(m, "tp") or _g(m, "tp2")) or implied
    raw_hour = _g(m, "hz") or _g(m, "hc") or _g(m, "he")
    if raw_hour is None:
        return time(_PERIOD_HOURS[period]) if period else DEFAULT_TIME
    hour = _num(raw_hour)
    minute = 30 if _g(m, "half") else _num(_g(m, "mz") or _g(m, "mc") or "0")
    if hour is None or minute is None:
        return None
    hour = _to_24h(hour, _g(m, "apc") or _g(m, "ape"), period, raw_hour)
    return time(hour, minute) if 0 <= hour <= 23 and 0 <= minute <= 59 else None


# --- day handlers ---------------------------------------------------------------------
def _on_relative_day(m: re.Match[str], now: datetime) -> _Day:
    key = " ".join(m["rel"].lower().split()).removeprefix("the ")
    offset, period = _RELATIVE_DAYS[key]
    return _Day(now.date() + timedelta(days=offset), period)


def _on_offset(m: re.Match[str], now: datetime) -> _Day | datetime | None:
    """N minutes/hours later is exact; N days/weeks/months later is a day (09:00 default)."""
    n, unit = _count(m["n"]), _unit(m["u"])
    if n is None:
        return None
    if unit in ("minutes", "hours"):
        delta = timedelta(minutes=n) if unit == "minutes" else timedelta(hours=n)
        # Add in UTC so a DST change in between does not skew the elapsed time.
        return (now.astimezone(UTC) + delta).astimezone(now.tzinfo)
    if n != int(n):
        return None
    today, n = now.date(), int(n)
    if unit in ("days", "weeks"):
        return _Day(today + timedelta(days=n * (7 if unit == "weeks" else 1)))
    return _Day(_add_months(today, n * (12 if unit == "years" else 1)))


def _weekday_day(today: date, weekday: int, weeks: int) -> _Day:
    if weeks:  # 下周X / next X: that day in a later calendar week
        monday = today - timedelta(days=today.weekday())
        return _Day(monday + timedelta(weeks=weeks, days=weekday))
    delta = (weekday - today.weekday()) % 7 or 7
    return _Day(today + timedelta(days=delta), today_ok=delta == 7)


def _on_weekday(m: re.Match[str], now: datetime) -> _Day:
    """周五 / next Friday; 周末 / weekend patterns have no weekday group and mean Saturday."""
    weekday = _weekday_index(_g(m, "wd") or "六")
    return _weekday_day(now.date(), weekday, _weeks_ahead(_g(m, "wp")))


def _on_next_week(m: re.Match[str], now: datetime) -> _Day:
    today = now.date()
    return _Day(today - timedelta(days=today.weekday()) + timedelta(weeks=_weeks_ahead(m["wp"])))


def _on_month_day(m: re.Match[str], now: datetime) -> _Day | None:
    month, day, year = _month_number(m["mo"]), _num(m["d"]), _g(m, "y")
    if month is None or day is None:
        return None
    found = _safe_date(int(year) if year else now.year, month, day)
    if found and not year and found < now.date():
        found = _safe_date(now.year + 1, month, day)
    return _Day(found) if found else None


def _on_day_of_month(m: re.Match[str], now: datetime) -> _Day | None:
    """下个月5号 / 本月5号 / bare 5号 (this month, or next month once it has passed)."""
    day, prefix, first = _num(m["d"]), _g(m, "mp"), now.date().replace(day=1)
    if day is None:
        return None
    nxt = prefix is not None and prefix.startswith("下")
    bare_past = prefix is None and day < now.day
    base = _add_months(first, 1) if nxt or bare_past else first
    found = _safe_date(base.year, base.month, day)
    return _Day(found) if found else None


def _on_month_edge(m: re.Match[str], now: datetime) -> _Day | None:
    """月底/月初, 下个月底, 12月底, end/start of (next) month; 下个月 alone is like 月初."""
    end = (_g(m, "pos") or "").lower() in ("底", "末", "end")
    first = now.date().replace(day=1)
    if month_raw := _g(m, "mn"):  # 12月底 / 12月初: that month, next year once past
        month = _num(month_raw)
        if month is None or not 1 <= month <= 12:
            return None
        found = first.replace(month=month)
        found = _month_end(found) if end else found
        return _Day(found if found >= now.date() else found.replace(year=found.year + 1))
    if not end:  # the start of this month has passed, so 月初 means next month's
        return _Day(_add_months(first, 1))
    nxt = (_g(m, "mx") or "").lower().startswith(("下", "next"))
    return _Day(_month_end(_add_months(first, 1 if nxt else 0)))


def _on_time_only(m: re.Match[str], now: datetime) -> _Day:
    """3pm / 下午3点 alone: today if still ahead, otherwise tomorrow."""
    return _Day(now.date() + timedelta(days=1), today_ok=True)


_REL_ALTS = "|".join(sorted((k for k in _RELATIVE_DAYS if not k.isascii()), key=len, reverse=True))
_RULES: list[_Rule] = [
    _rule(
        rf"(?P<rel>{_REL_ALTS}|\b(?:(?:the\s+)?day\s+after\s+tomorrow|today|tonight|tomorrow"
        r"|tmrw?)\b)",
        _on_relative_day,
    ),
    _rule(
        rf"(?<!\d)(?P<n>\d{{1,3}}|{_ZH_N}|半)\s*个?\s*(?P<u>分钟|小时|钟头|天|日|周|星期|礼拜|月|年)"
        r"\s*(?:之后|以后|后)",
        _on_offset,
    ),
    _rule(rf"\bin\s+(?P<n>{_EN_COUNT})\s+(?P<u>{_EN_UNIT})\b", _on_offset),
    _rule(rf"\b(?P<n>{_EN_COUNT})\s+(?P<u>{_EN_UNIT})\s+(?:from\s+now|later)\b", _on_offset),
    _rule(
        rf"(?:(?P<wp>下下|下个?|本|这个?)|(?<![上个\d一二两三四五六七八九十]))(?:周|星期|礼拜)"
        rf"(?P<wd>{_ZH_WD})",
        _on_weekday,
    ),
    _rule(rf"\b(?:on\s+)?(?:(?P<wp>next|this|coming)\s+)?(?P<wd>{_EN_WD})\b", _on_weekday),
    _rule(rf"(?P<wp>下下|下)个?(?:周|星期|礼拜)(?!{_ZH_WD}|末)", _on_next_week),
    _rule(r"\b(?P<wp>next\s+week|the\s+week\s+after\s+next)\b", _on_next_week),
    _rule(r"(?:(?P<wp>下下|下个?|本|这个?)|(?<![上个]))周末", _on_weekday),
    _rule(r"\b(?:(?:on\s+)?(?:the\s+)?|(?P<wp>next|this)\s+)weekend\b", _on_weekday),
    _rule(
        r"(?<!上)下个?月(?![\d零一二两三四五六七八九十底末初号])|\bnext\s+month\b", _on_month_edge
    ),
    _rule(
        rf"(?:(?P<y>\d{{4}})\s*年\s*)?(?<!\d)(?P<mo>{_NUM})\s*月\s*(?P<d>{_NUM})\s*[日号號]",
        _on_month_day,
    ),
    _rule(r"(?<!\d)(?P<y>\d{4})[-/.](?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)", _on_month_day),
    _rule(r"(?<![\d/])(?P<mo>\d{1,2})/(?P<d>\d{1,2})(?![\d/])", _on_month_day, in_text=False),
    _rule(
        rf"\b(?P<mo>{_EN_MON})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)"
        r"(?:,?\s+(?P<y>\d{4}))?\b",
        _on_month_day,
    ),
    _rule(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mo>{_EN_MON})\b\.?"
        r"(?:,?\s+(?P<y>\d{4}))?",
        _on_month_day,
    ),
    _rule(rf"(?P<mp>下个?|本|这个?)月(?P<d>{_NUM})\s*[日号號]", _on_day_of_month),
    _rule(rf"(?<![\d月])(?P<d>{_NUM})\s*[日号號]", _on_day_of_month, in_text=False),
    _rule(
        rf"(?:(?P<mx>下个?|本|这个?)|(?<!\d)(?P<mn>{_NUM})|(?<![上个\d]))月(?P<pos>底|末|初)",
        _on_month_edge,
    ),
    _rule(
        r"\b(?:the\s+)?(?P<pos>end|start|beginning)\s+of\s+(?:the\s+)?(?:(?P<mx>this|next)\s+)?"
        r"month\b",
        _on_month_edge,
    ),
    _rule(rf"(?:at\s+)?{_TIME}", _on_time_only, timed=False, in_text=False),
]


def _build(m: re.Match[str], handler: Handler, now: datetime) -> datetime | None:
    """Run a rule's handler and apply the time of day to the day it found."""
    found = handler(m, now)
    if found is None or isinstance(found, datetime):
        return found
    clock = _clock(m, found.period)
    if clock is None:
        return None
    if found.today_ok and _g(m, "t"):
        today = datetime.combine(now.date(), clock, tzinfo=now.tzinfo)
        if today > now:
            return today
    return datetime.combine(found.day, clock, tzinfo=now.tzinfo)


# Words that make an unrecognised phrase worth handing to dateparser at all.
_FALLBACK_GATE = re.compile(
    rf"\d|\b(?:{_EN_WD}|{_EN_MON}|today|tonight|tomorrow|yesterday|next|last|ago|later|now"
    r"|weeks?|fortnight|months?|years?|days?|hours?|minutes?|noon|midnight|morning|afternoon"
    r"|evening|weekend)\b",
    re.IGNORECASE,
)


def _fallback(text: str, now: datetime) -> datetime | None:
    """dateparser for phrases the rules do not cover; bare numbers and random words are not."""
    if re.fullmatch(r"[\d\s.,%]+", text) or not _FALLBACK_GATE.search(text):
        return None
    tz_name = getattr(now.tzinfo, "key", None) or now.strftime("%z")
    settings = {
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "TIMEZONE": tz_name,
        "RETURN_TIME_AS_PERIOD": True,
    }
    # Only the two languages we speak: detecting among ~200 locales costs seconds at first use.
    data = DateDataParser(languages=["en", "zh"], settings=settings).get_date_data(text)
    if data.date_obj is None:
        return None
    found = data.date_obj.astimezone(now.tzinfo)
    if data.period != "time":  # a day-level answer: apply our 09:00 default
        found = found.replace(hour=9, minute=0, second=0, microsecond=0)
    return found


def parse_when(text: str, *, now: datetime) -> datetime | None:
    """Read the whole of `text` as a time expression, relative to aware `now`.

    Returns an aware datetime in now's tzinfo, or None if `text` is not a time expression.
    """
    phrase = " ".join(text.translate(_HALF_WIDTH).split())
    if not phrase:
        return None
    for rule in _RULES:
        for pattern in rule.patterns:
            if m := pattern.fullmatch(phrase):
                return _build(m, rule.handler, now)
    return _fallback(phrase, now)


def find_when(text: str, *, now: datetime) -> tuple[datetime, str] | None:
    """Find a follow-up time inside free text: (datetime, matched substring) or None.

    Only future times count; the longest phrase wins, then the earliest one.
    """
    scanned = text.translate(_HALF_WIDTH)
    best: tuple[tuple[int, int], datetime, str] | None = None
    for rule in (r for r in _RULES if r.in_text):
        for pattern in rule.patterns:
            for m in pattern.finditer(scanned):
                if m[0].lower() in ("sat", "sun"):  # "sat down", "Sun Microsystems"
                    continue
                found = _build(m, rule.handler, now)
                key = (m.end() - m.start(), -m.start())
                if found and found > now and (best is None or key > best[0]):
                    best = (key, found, text[m.start() : m.end()])
    return (best[1], best[2]) if best else None
