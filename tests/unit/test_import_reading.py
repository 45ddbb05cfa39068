"""Reading import files without a database: encodings, delimiters, headers and values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from crm_core.io.encoding import decode_text
from crm_core.io.errors import RowError
from crm_core.io.headers import Kind, detect_kind, map_columns
from crm_core.io.rows import parse_items
from crm_core.io.tables import read_tables
from crm_core.io.values import read_amount, read_date, read_datetime, read_emails, read_phones

TEXT = "姓名,公司\n张伟,华信科技\n"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_chinese_text_survives_every_encoding(encoding, expected):
    assert decode_text(TEXT.encode(encoding)) == (TEXT, expected)


def test_latin1_is_not_read_as_chinese():
    text, encoding = decode_text("Name\nJosé Müller, Zürich café\n".encode("cp1252"))
    assert "José Müller" in text and encoding != "gb18030"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_any_delimiter(delimiter):
    data = delimiter.join(["姓名", "手机", "备注"]) + "\n" + delimiter.join(["张伟", "138", "a b"])
    [table] = read_tables(data.encode(), "x.csv")
    assert table.delimiter == delimiter and table.headers == ["姓名", "手机", "备注"]


def test_line_numbers_count_quoted_newlines_and_blank_lines():
    data = b'Name,Notes\n"Ann","two\nlines"\n\nBob,x\n'
    [table] = read_tables(data, "x.csv")
    assert [(r.line, r.cells[0]) for r in table.rows] == [(2, "Ann"), (5, "Bob")]


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("2026/1/5", False, date(2026, 1, 5)),
        ("2026年1月5日", False, date(2026, 1, 5)),
        ("1/5/2026", False, date(2026, 1, 5)),
        ("1/5/2026", True, date(2026, 5, 1)),
        ("13/1/2026", False, date(2026, 1, 13)),
        ("2026-01-05", False, date(2026, 1, 5)),
        ("2026.1.5", False, date(2026, 1, 5)),
        ("5-Jan-2026", False, date(2026, 1, 5)),
        ("Jan 5, 2026", False, date(2026, 1, 5)),
        ("20260105", False, date(2026, 1, 5)),
        ("46027", False, date(2026, 1, 5)),
        (46027, False, date(2026, 1, 5)),
    ],
)
def test_dates(text, day_first, expected):
    assert read_date(text, day_first=day_first) == expected


def test_times_without_offset_are_local():
    moment = read_datetime("2026-01-05 14:30", day_first=False, timezone="Asia/Shanghai")
    assert moment == datetime(2026, 1, 5, 6, 30, tzinfo=UTC)
    moment = read_datetime("2026-01-05T14:30:00+00:00", day_first=False, timezone="Asia/Shanghai")
    assert moment == datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def test_birthdays_may_lack_a_year_other_dates_may_not():
    assert read_date("5月12日", day_first=False, year_optional=True) == date(1904, 5, 12)
    with pytest.raises(RowError):
        read_date("5月12日", day_first=False)


def test_phones_emails_amounts():
    assert read_phones("138-0013-8000; +1 415 555 0132", "CN") == ["+8613800138000", "+14155550132"]
    assert read_phones(13800138000, "CN") == ["+8613800138000"]
    assert read_emails("A@X.example, b@y.example") == ["a@x.example", "b@y.example"]
    assert read_amount("¥1,200.50") == (Decimal("1200.50"), "CNY")
    assert read_amount("1.2万") == (Decimal("12000.00"), None)
    assert read_amount("USD 99") == (Decimal("99.00"), "USD")
    for bad in ("-5", "free", "0"):
        with pytest.raises(RowError):
            read_amount(bad)


def test_kind_from_headers_and_sheet_names():
    assert detect_kind(["客户", "金额", "下单日期"]) == Kind.ORDERS
    assert detect_kind(["客户", "跟进内容"]) == Kind.INTERACTIONS
    assert detect_kind(["客户", "评分"]) == Kind.FEEDBACK
    assert detect_kind(["姓名", "城市", "评分"]) == Kind.CUSTOMERS
    assert detect_kind(["Name"], sheet="订单") == Kind.ORDERS


def test_unknown_columns_become_custom_fields_once_each():
    columns = map_columns(["Name", "Region", "Note", "Note", "custom.City"], Kind.CUSTOMERS, None)
    assert [(c.target, c.custom_key) for c in columns] == [
        ("name", None),
        ("region", None),
        ("notes", None),
        ("notes", None),
        ("custom", "City"),
    ]
    columns = map_columns(["Name", "Fax", "Fax"], Kind.CUSTOMERS, None)
    assert [c.custom_key for c in columns] == [None, "Fax", "Fax (2)"]


def test_order_items():
    assert parse_items("硒鼓 88A ×2 @399.00\nA4 复印纸; Chair x 3") == [
        {"description": "硒鼓 88A", "quantity": 2, "unit_price": Decimal("399.00")},
        {"description": "A4 复印纸", "quantity": 1, "unit_price": Decimal("0")},
        {"description": "Chair", "quantity": 3, "unit_price": Decimal("0")},
    ]
