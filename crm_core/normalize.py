"""Normalising what people type: phone numbers, e-mails, names and their pinyin forms."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

import phonenumbers
from pypinyin import Style, lazy_pinyin

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NON_KEY = re.compile(r"[\s\-_.·,()（）]+")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def normalize_phone(raw: str, region: str) -> str | None:
    """E.164 form of `raw` ("+86 138-0013-8000", "13800138000"), or None if not a number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 7 and all(ch.isdigit() or ch in " +-()." for ch in text.strip())


def normalize_email(raw: str) -> str | None:
    email = raw.strip().lower()
    return email if _EMAIL.match(email) else None


def fold(text: str) -> str:
    """Case- and width-folded form without separators: the shape of every search key."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NON_KEY.sub("", text)


def pinyin_syllables(text: str) -> list[str]:
    """Toneless pinyin per character; non-Chinese runs pass through as one item."""
    return list(_syllables(text))


# Names and companies repeat a lot in bulk work (imports), and pypinyin is slow.
@lru_cache(maxsize=65_536)
def _syllables(text: str) -> tuple[str, ...]:
    return tuple(s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors="default"))


@lru_cache(maxsize=65_536)
def pinyin_full(text: str) -> str:
    """ "张伟" -> "zhangwei"."""
    return fold("".join(pinyin_syllables(text)))


@lru_cache(maxsize=65_536)
def pinyin_initials(text: str) -> str:
    """ "张伟" -> "zw"."""
    return "".join(s[0] for s in pinyin_syllables(text) if s)


def split_words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,，;；/|]+", text) if w]


_AMOUNT = re.compile(
    r"^(?P<cur>[¥￥$€£]|rmb|cny|usd|eur)?(?P<num>\d[\d,]*(\.\d+)?)"
    r"(?P<unit>万|千|k|w)?(?P<cur2>元|块|rmb|cny|usd|eur)?$"
)
_SYMBOLS = {"¥": "CNY", "￥": "CNY", "$": "USD", "€": "EUR", "£": "GBP", "元": "CNY", "块": "CNY"}
_UNITS = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}


def parse_amount(raw: str) -> tuple[Decimal, str | None] | None:
    """ "¥1,200" -> (1200, "CNY"); "1.2万" -> (12000, None); None when it is not an amount."""
    match = _AMOUNT.match(raw.strip().lower().replace(" ", ""))
    if match is None:
        return None
    value = Decimal(match["num"].replace(",", ""))
    if match["unit"]:
        value *= _UNITS[match["unit"]]
    currency = match["cur"] or match["cur2"]
    if currency:
        currency = _SYMBOLS.get(currency, currency.upper().replace("RMB", "CNY"))
    return value.quantize(Decimal("0.01")), currency
