"""Phone numbers, pinyin, search keys and amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_core.models import Customer, SearchKind
from crm_core.normalize import (
    fold,
    normalize_email,
    normalize_phone,
    parse_amount,
    pinyin_full,
    pinyin_initials,
)
from crm_core.search_keys import search_keys


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+86 138-0013-8000", "CN", "+8613800138000"),
        ("13800138000", "CN", "+8613800138000"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("(415) 555-0132", "US", "+14155550132"),
        ("+1 415 555 0132", "CN", "+14155550132"),
        ("021-6234 5678", "CN", "+862162345678"),
        ("12", "CN", None),
        ("not a phone", "CN", None),
    ],
)
def test_normalize_phone(raw: str, region: str, expected: str | None) -> None:
    assert normalize_phone(raw, region) == expected


def test_pinyin_forms() -> None:
    assert pinyin_full("张伟") == "zhangwei"
    assert pinyin_initials("张伟") == "zw"
    assert pinyin_full("华信科技") == "huaxinkeji"
    assert fold("Jane  Smith") == "janesmith"
    assert fold("ＶＩＰ") == "vip"


def test_email_validation() -> None:
    assert normalize_email(" Jane.Smith@Acme.example ") == "jane.smith@acme.example"
    assert normalize_email("jane@") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("¥1,200", (Decimal("1200.00"), "CNY")),
        ("1.2万", (Decimal("12000.00"), None)),
        ("3000元", (Decimal("3000.00"), "CNY")),
        ("$99.5", (Decimal("99.50"), "USD")),
        ("5k", (Decimal("5000.00"), None)),
        ("20箱", None),
        ("abc", None),
    ],
)
def test_parse_amount(raw: str, expected: tuple[Decimal, str | None] | None) -> None:
    assert parse_amount(raw) == expected


def test_search_keys_of_a_chinese_and_an_english_customer() -> None:
    zhang = Customer(
        name="张伟",
        company="华信科技",
        tags=["VIP"],
        phones=["+8613800138000"],
        emails=["zw@huaxin.example"],
    )
    keys = search_keys(zhang)
    assert {
        (SearchKind.NAME, "张伟"),
        (SearchKind.GIVEN_NAME, "伟"),
        (SearchKind.PINYIN, "zhangwei"),
        (SearchKind.INITIALS, "zw"),
        (SearchKind.COMPANY, "华信科技"),
        (SearchKind.COMPANY, "huaxinkeji"),
        (SearchKind.TAG, "vip"),
        (SearchKind.PHONE, "+8613800138000"),
        (SearchKind.PHONE_LAST4, "8000"),
        (SearchKind.EMAIL, "zw@huaxinexample"),
    } <= keys
    jane = search_keys(Customer(name="Jane Smith"))
    assert {
        (SearchKind.NAME, "janesmith"),
        (SearchKind.GIVEN_NAME, "smith"),
        (SearchKind.INITIALS, "js"),
    } <= jane
