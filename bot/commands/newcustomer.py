"""Reading `/new NAME [phone] [email] [key=value…]` into a CustomerCreate."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import ValidationError

from bot.i18n import UNKNOWN_YEAR
from crm_core.customers import CustomerCreate
from crm_core.errors import InvalidInput
from crm_core.normalize import has_cjk, looks_like_phone

# key=value names people type, in both languages, to CustomerCreate fields.
FIELD_ALIASES: dict[str, str] = {
    "company": "company",
    "公司": "company",
    "单位": "company",
    "title": "title",
    "职位": "title",
    "phone": "phones",
    "tel": "phones",
    "电话": "phones",
    "手机": "phones",
    "email": "emails",
    "邮箱": "emails",
    "wechat": "wechat_id",
    "微信": "wechat_id",
    "channel": "preferred_channel",
    "渠道": "preferred_channel",
    "time": "preferred_contact_time",
    "联系时间": "preferred_contact_time",
    "source": "source",
    "来源": "source",
    "birthday": "birthday",
    "生日": "birthday",
    "anniversary": "anniversary",
    "纪念日": "anniversary",
    "hobbies": "hobbies",
    "爱好": "hobbies",
    "tags": "tags",
    "tag": "tags",
    "标签": "tags",
    "city": "city",
    "城市": "city",
    "region": "region",
    "省份": "region",
    "地区": "region",
    "stage": "stage",
    "阶段": "stage",
    "notes": "notes",
    "备注": "notes",
    "lang": "language",
    "language": "language",
    "语言": "language",
}
LIST_FIELDS = {"phones", "emails", "hobbies", "tags"}
_PAIR = re.compile(r"^(?P<key>[^=＝]+)[=＝](?P<value>.+)$")
# A phone written with spaces ("+1 415 555 0132") is one value, not four words.
_SPACED_PHONE = re.compile(r"(?<![\w=＝])\+?\d[\d \-()]{5,}\d(?![\w@])")
_DATE = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?$")


def parse_birthday(text: str) -> date:
    """ "1988-05-12", "5月12日", "05-12" (year unknown -> stored as year 1904, a leap year)."""
    match = _DATE.match(text.strip())
    if match is None:
        raise InvalidInput("bad_date", value=text)
    year = int(match[1]) if match[1] else UNKNOWN_YEAR
    try:
        return date(year, int(match[2]), int(match[3]))
    except ValueError as exc:
        raise InvalidInput("bad_date", value=text) from exc


def parse_new_customer(rest: str) -> CustomerCreate | None:
    """None when there is no name; InvalidInput for a value that cannot be read."""
    name_words: list[str] = []
    values: dict[str, Any] = {}
    for phone in _SPACED_PHONE.findall(rest):
        if looks_like_phone(phone):
            values.setdefault("phones", []).append(phone)
            rest = rest.replace(phone, " ", 1)
    for token in rest.split():
        pair = _PAIR.match(token)
        if pair and pair["key"].casefold() in FIELD_ALIASES:
            field = FIELD_ALIASES[pair["key"].casefold()]
            value: Any = pair["value"]
            if field in LIST_FIELDS:
                values.setdefault(field, []).extend(v for v in re.split(r"[,，、]", value) if v)
                continue
            if field in ("birthday", "anniversary"):
                value = parse_birthday(value)
            values[field] = value
        elif "@" in token:
            values.setdefault("emails", []).append(token)
        elif looks_like_phone(token):
            values.setdefault("phones", []).append(token)
        else:
            name_words.append(token)
    if not name_words:
        return None
    joiner = "" if all(has_cjk(w) for w in name_words) else " "
    try:
        return CustomerCreate(name=joiner.join(name_words), **values)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        raise InvalidInput("bad_field", field=field) from exc
