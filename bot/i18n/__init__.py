"""Message catalogues (zh, en) and locale-aware formatting of dates and money."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from crm_core.clock import utcnow

LANGUAGES = ("zh", "en")
_LOCALES = {"zh": "zh_CN", "en": "en_US"}


def normalize_language(value: str | None, default: str = "zh") -> str:
    """ "zh-hans", "zh_CN" -> "zh"; "en-GB" -> "en"; anything else -> default."""
    if not value:
        return default
    short = value.replace("_", "-").split("-")[0].lower()
    return short if short in LANGUAGES else default


@cache
def _catalogue(language: str) -> dict[str, str]:
    """`{language}.toml` plus every feature's `<feature>.{language}.toml`, merged."""
    folder = resources.files(__package__)
    names = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name == f"{language}.toml" or entry.name.endswith(f".{language}.toml")
    )
    merged: dict[str, str] = {}
    for name in names:
        merged.update(tomllib.loads(folder.joinpath(name).read_text("utf-8")))
    return merged


def t(language: str, key: str, **params: Any) -> str:
    """The message `key` in `language`, with `params` filled in."""
    catalogue = _catalogue(normalize_language(language))
    template = catalogue.get(key) or _catalogue("en").get(key) or key
    return template.format(**params) if params else template


def feature_help(language: str) -> list[str]:
    """Help paragraphs that feature catalogues add under keys starting with "help_"."""
    catalogue = _catalogue(normalize_language(language))
    return [catalogue[key] for key in sorted(catalogue) if key.startswith("help_")]


def format_when(value: datetime, language: str, timezone: str) -> str:
    local = value.astimezone(ZoneInfo(timezone))
    pattern = "M月d日 EEE HH:mm" if language == "zh" else "EEE d MMM HH:mm"
    if local.year != utcnow().astimezone(local.tzinfo).year:
        pattern = "yyyy年" + pattern if language == "zh" else pattern + " yyyy"
    return format_datetime(local, pattern, locale=_LOCALES[normalize_language(language)])


# Birthdays given without a year ("5月12日") are stored in this leap year.
UNKNOWN_YEAR = 1904


def format_day(value: date, language: str) -> str:
    locale = _LOCALES[normalize_language(language)]
    if value.year == UNKNOWN_YEAR:
        return format_date(value, "M月d日" if language == "zh" else "d MMMM", locale=locale)
    return format_date(value, "medium", locale=locale)


def format_money(amount: Decimal, currency: str, language: str) -> str:
    return format_currency(amount, currency, locale=_LOCALES[normalize_language(language)])
