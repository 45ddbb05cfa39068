"""Reading cell values: dates in many shapes, phones, e-mails, amounts, lists and flags.

Each reader returns the value or raises RowError with a reason the report words.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from crm_core.io.errors import RowError
from crm_core.io.tables import Cell
from crm_core.normalize import normalize_email, normalize_phone, parse_amount

# Excel's serial day numbers for 1900-01-01 .. 9999-12-31.
_EXCEL_DAYS = (1, 2958465)
_LIST_SEP = re.compile(r"[,，;；、|\n]+")
_PHONE_SEP = re.compile(r"[,，;；/、|\n]+|\s{2,}")
_EMAIL_SEP = re.compile(r"[,，;；\s|/]+")
_TIME = r"(?:[ T]+(\d{1,2})[:：](\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([ap]\.?m\.?)?)?"
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + "$", re.I)
_CJK_DATE = re.compile(
    r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?(?:\s*(\d{1,2})[:：时点](?:(\d{1,2})分?)?)?$"
)
_XYY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})" + _TIME + "$", re.I)
_MD = re.compile(r"^(\d{1,2})[-/.](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DAY_MONTH_NAME = re.compile(
    r"^(\d{1,2})[\s\-.]*([a-z]{3,9})\.?[\s\-.,]+(\d{2}|\d{4})" + _TIME + "$", re.I
)
_MONTH_NAME_DAY = re.compile(
    r"^([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _TIME + "$", re.I
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# A year-less birthday ("5月12日") is kept in a leap year, as /new does.
NO_YEAR = 1904

_TRUE = {"yes", "y", "true", "t", "1", "是", "对", "✓", "√", "x"}
_FALSE = {"no", "n", "false", "f", "0", "否", "不", ""}


def text_of(cell: Cell) -> str:
    """A cell as text: numbers without a trailing .0, dates in ISO form."""
    if cell is None:
        return ""
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    return str(cell).strip().lstrip("'")  # Excel's "treat as text" apostrophe


def split_list(cell: Cell) -> list[str]:
    return [v.strip() for v in _LIST_SEP.split(text_of(cell)) if v.strip()]


def read_phones(cell: Cell, region: str) -> list[str]:
    """Every number in the cell, in E.164; several may be written in one cell."""
    phones = []
    for part in _PHONE_SEP.split(text_of(cell)):
        part = part.strip()
        if not part:
            continue
        phone = normalize_phone(part, region)
        if phone is None:
            # "13800138000 13900139000": two numbers separated by one space.
            pieces = [normalize_phone(p, region) for p in part.split()]
            if len(pieces) < 2 or None in pieces:
                raise RowError("bad_phone", value=part)
            phones.extend(p for p in pieces if p)
            continue
        phones.append(phone)
    return list(dict.fromkeys(phones))


def read_emails(cell: Cell) -> list[str]:
    emails = []
    for part in _EMAIL_SEP.split(text_of(cell)):
        if not part:
            continue
        email = normalize_email(part.strip("<>\"'"))
        if email is None:
            raise RowError("bad_email", value=part)
        emails.append(email)
    return list(dict.fromkeys(emails))


def read_amount(cell: Cell) -> tuple[Decimal, str | None]:
    """ "¥1,200.50" -> (1200.50, "CNY"); numbers from Excel as they are."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        value, currency = Decimal(str(cell)).quantize(Decimal("0.01")), None
    else:
        parsed = parse_amount(text_of(cell))
        if parsed is None:
            raise RowError("bad_amount", value=text_of(cell))
        value, currency = parsed
    if value <= 0:
        raise RowError("bad_amount", value=text_of(cell))
    return value, currency


def read_int(cell: Cell, *, low: int, high: int, reason: str) -> int:
    text = text_of(cell).removesuffix("分").removesuffix("/10").removesuffix("天").strip()
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise RowError(reason, value=text_of(cell)) from exc
    if number != number.to_integral_value() or not low <= number <= high:
        raise RowError(reason, value=text_of(cell))
    return int(number)


def read_bool(cell: Cell) -> bool:
    text = text_of(cell).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError("bad_flag", value=text_of(cell))


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # "5/12/88" is 1988, "1/5/26" is 2026
        year += 2000 if year <= 69 else 1900
    return year


def _clock(groups: tuple[str | None, ...]) -> time:
    hour_s, minute_s, second_s, meridiem = (groups + (None,) * 4)[:4]
    if hour_s is None:
        return time()
    hour = int(hour_s)
    if meridiem:
        pm = meridiem.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    return time(hour, int(minute_s or 0), int(second_s or 0))


def _from_excel(serial: float) -> datetime:
    from openpyxl.utils.datetime import from_excel

    result = from_excel(serial)
    if not isinstance(result, datetime):
        result = datetime.combine(result, time())
    return result


def _parse(cell: Cell, day_first: bool) -> tuple[datetime, bool]:
    """A naive datetime and whether the year was given; RowError when unreadable."""
    if isinstance(cell, datetime):
        return cell, True
    if isinstance(cell, date):
        return datetime.combine(cell, time()), True
    if isinstance(cell, int | float) and _EXCEL_DAYS[0] <= cell <= _EXCEL_DAYS[1]:
        return _from_excel(cell), True
    text = text_of(cell)
    try:
        return _parse_text(text, day_first)
    except (ValueError, OverflowError) as exc:
        raise RowError("bad_date", value=text) from exc


def _parse_text(text: str, day_first: bool) -> tuple[datetime, bool]:
    if not text:
        raise ValueError("empty")
    if match := _COMPACT.match(text):
        return datetime(int(match[1]), int(match[2]), int(match[3])), True
    if re.fullmatch(r"\d{5}(\.\d+)?", text):  # an Excel serial that lost its format
        return _from_excel(float(text)), True
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")), True
    except ValueError:
        pass
    if match := _YMD.match(text):
        day = date(int(match[1]), int(match[2]), int(match[3]))
        return datetime.combine(day, _clock(match.groups()[3:])), True
    if match := _CJK_DATE.match(text):
        year = int(match[1]) if match[1] else NO_YEAR
        clock = time(int(match[4]), int(match[5] or 0)) if match[4] else time()
        return datetime.combine(date(year, int(match[2]), int(match[3])), clock), bool(match[1])
    if match := _XYY.match(text):
        a, b = int(match[1]), int(match[2])
        if a > 12 or (day_first and b <= 12):
            day, month = a, b
        else:
            month, day = a, b
        when = date(_year(match[3]), month, day)
        return datetime.combine(when, _clock(match.groups()[3:])), True
    if match := _DAY_MONTH_NAME.match(text):
        month = _MONTHS.get(match[2][:3].lower())
        if month is None:
            raise ValueError(text)
        when = date(_year(match[3]), month, int(match[1]))
        return datetime.combine(when, _clock(match.groups()[3:])), True
    if match := _MONTH_NAME_DAY.match(text):
        month = _MONTHS.get(match[1][:3].lower())
        if month is None:
            raise ValueError(text)
        when = date(int(match[3]), month, int(match[2]))
        return datetime.combine(when, _clock(match.groups()[3:])), True
    if match := _MD.match(text):
        a, b = int(match[1]), int(match[2])
        month, day = (b, a) if day_first or a > 12 else (a, b)
        return datetime(NO_YEAR, month, day), False
    raise ValueError(text)


def read_date(cell: Cell, *, day_first: bool, year_optional: bool = False) -> date:
    """A calendar date; birthdays may come without a year."""
    moment, has_year = _parse(cell, day_first)
    if not has_year and not year_optional:
        raise RowError("bad_date", value=text_of(cell))
    return moment.date()


def read_datetime(cell: Cell, *, day_first: bool, timezone: str) -> datetime:
    """A moment in UTC; times written without an offset are in `timezone`."""
    moment, has_year = _parse(cell, day_first)
    if not has_year:
        raise RowError("bad_date", value=text_of(cell))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def read_choice(cell: Cell, choices: dict[str, str]) -> str | None:
    """The canonical value a word stands for ("已付款" -> "paid"), or None if unknown."""
    key = re.sub(r"[\s_\-]+", "", text_of(cell).casefold())
    return choices.get(key)


def choices(table: dict[str, str]) -> dict[str, str]:
    """ "value": "word word …" -> {word: value}, words folded like read_choice folds."""
    return {
        re.sub(r"[\s_\-]+", "", w.casefold()): value
        for value, words in table.items()
        for w in [value, *words.split()]
    }
