"""One source row -> a typed draft of what it says, or a RowError saying why it can't be read.

Nothing here touches the store: drafts are matched and written by the importers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from crm_core.io.errors import RowError
from crm_core.io.headers import CUSTOM, IGNORE, Column, Kind
from crm_core.io.tables import Cell, SourceRow
from crm_core.io.values import (
    choices,
    read_amount,
    read_bool,
    read_choice,
    read_date,
    read_datetime,
    read_emails,
    read_int,
    read_phones,
    split_list,
    text_of,
)
from crm_core.models import (
    Customer,
    FeedbackKind,
    FeedbackStatus,
    InteractionKind,
    PaymentStatus,
    Stage,
)
from crm_core.normalize import has_cjk

LIST_FIELDS = ("phones", "emails", "tags", "hobbies")
# Longest text each column takes (PostgreSQL enforces VARCHAR lengths).
MAX_LENGTH = {
    name: column.type.length
    for name, column in Customer.__table__.columns.items()  # type: ignore[attr-defined]
    if getattr(column.type, "length", None)
}

STAGES = choices(
    {
        "lead": "线索 潜在 潜在客户 新线索 subscriber marketingqualifiedlead salesqualifiedlead "
        "mql sql new",
        "prospect": "opportunity qualified 意向 意向客户 商机 跟进中",
        "customer": "won evangelist 客户 成交 已成交 成交客户 老客户",
        "churned": "lost 流失 已流失 流失客户",
    }
)
LANGUAGES = choices({"zh": "chinese 中文 汉语 zh-cn zhcn", "en": "english 英文 英语 en-us en-gb"})
INTERACTION_KINDS = choices(
    {
        "call": "phone phonecall 电话 通话 来电 去电",
        "visit": "拜访 上门 面访",
        "meeting": "会议 开会 见面 面谈",
        "email": "e-mail mail 邮件",
        "message": "sms wechat text 微信 短信 消息",
        "note": "other task 备注 笔记 其他",
    }
)
FEEDBACK_KINDS = choices(
    {
        "complaint": "投诉 抱怨",
        "return": "退货 退换 退换货",
        "survey": "调查 问卷",
        "review": "评价 点评",
        "nps": "净推荐值",
        "support": "售后 支持 工单",
    }
)
FEEDBACK_STATUSES = choices(
    {
        "open": "new 待处理 未处理 新建",
        "in_progress": "inprogress 处理中",
        "resolved": "closed done 已解决 已处理 已关闭 完成",
    }
)
PAYMENT_STATUSES = choices(
    {
        "paid": "已付 已付款 已支付 已收款",
        "unpaid": "未付 未付款 待付款 未收款",
        "overdue": "逾期 已逾期",
        "cancelled": "canceled 已取消 取消",
    }
)


@dataclass(frozen=True)
class ReadOptions:
    day_first: bool
    timezone: str  # for times written without an offset
    region: str  # for phone numbers written without a country code


def custom_value(cell: Cell) -> Any:
    """A custom field keeps numbers as numbers and dates as ISO text (JSON)."""
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    if isinstance(cell, int | float):
        return cell
    return text_of(cell)


def fingerprint(scope: str, kind: Kind, options: str, row: SourceRow, columns: list[Column]) -> str:
    """Same file, same importer scope, same options -> same fingerprint, row by row."""
    cells = [[c.header, text_of(row.cells[c.index])] for c in columns]
    raw = json.dumps([scope, kind.value, options, cells], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _text(field_name: str, cell: Cell) -> str:
    value = " ".join(text_of(cell).split()) if field_name != "notes" else text_of(cell)
    limit = MAX_LENGTH.get(field_name)
    if limit and len(value) > limit:
        raise RowError("too_long", field=field_name, limit=limit)
    return value


@dataclass
class CustomerDraft:
    line: int
    fields: dict[str, Any] = field(default_factory=dict)  # Customer columns this row fills
    custom: dict[str, Any] = field(default_factory=dict)
    owner: str | None = None  # as written; resolved to a staff member by the importer
    owner_header: str | None = None
    fingerprint: str = ""

    @property
    def keys(self) -> list[tuple[str, str]]:
        """What identifies the person: phones and e-mails."""
        return [("p", p) for p in self.fields.get("phones", [])] + [
            ("e", e) for e in self.fields.get("emails", [])
        ]


def customer_draft(row: SourceRow, columns: list[Column], options: ReadOptions) -> CustomerDraft:
    draft = CustomerDraft(row.line)
    values, custom = draft.fields, draft.custom
    first = last = ""
    for column in columns:
        cell = row.cells[column.index]
        if column.target == IGNORE or not text_of(cell):
            continue
        target = column.target
        if target == CUSTOM:
            assert column.custom_key is not None
            custom[column.custom_key] = custom_value(cell)
        elif target == "phones":
            values.setdefault(target, []).extend(read_phones(cell, options.region))
        elif target == "emails":
            values.setdefault(target, []).extend(read_emails(cell))
        elif target in ("tags", "hobbies"):
            values.setdefault(target, []).extend(split_list(cell))
        elif target in ("birthday", "anniversary"):
            values[target] = read_date(cell, day_first=options.day_first, year_optional=True)
        elif target == "created_at":
            values[target] = read_datetime(
                cell, day_first=options.day_first, timezone=options.timezone
            )
        elif target == "do_not_contact":
            values[target] = read_bool(cell)
        elif target == "stage":
            stage = read_choice(cell, STAGES)
            if stage is None:  # e.g. HubSpot's "Evangelist": kept as written
                custom[column.header] = text_of(cell)
            else:
                values[target] = Stage(stage)
        elif target == "language":
            values[target] = read_choice(cell, LANGUAGES) or _text(target, cell)
        elif target == "owner":
            draft.owner, draft.owner_header = text_of(cell), column.header
        elif target == "first_name":
            first = _text("name", cell)
        elif target == "last_name":
            last = _text("name", cell)
        else:
            value = _text(target, cell)
            if values.get(target) not in (None, value):
                custom[column.header] = value  # a second column for one field keeps its value
            else:
                values[target] = value
    for name in LIST_FIELDS:
        if name in values:
            values[name] = list(dict.fromkeys(values[name]))
    if not values.get("name") and (first or last):
        cjk = has_cjk(first + last)
        values["name"] = (last + first) if cjk else " ".join(p for p in (first, last) if p)
    if not values.get("name"):
        if not values.get("company"):
            raise RowError("no_name")
        values["name"] = values["company"]  # a company-only list: the company is the customer
    if len(values["name"]) > MAX_LENGTH["name"]:
        raise RowError("too_long", field="name", limit=MAX_LENGTH["name"])
    return draft


@dataclass
class CustomerRef:
    """Which customer an activity row is about, as the file says it."""

    name: str | None = None
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    company: str | None = None

    def describe(self) -> str:
        return self.name or (self.phones or self.emails or [""])[0]


@dataclass
class ActivityDraft:
    line: int
    kind: Kind
    customer: CustomerRef
    values: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)  # order lines
    staff: str | None = None
    staff_header: str | None = None
    fingerprint: str = ""
    warnings: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def parse_items(text: str) -> list[dict[str, Any]]:
    """Order lines, one per line or separated by ";": "硒鼓 88A ×2 @399.00" or just a name."""
    items = []
    for part in text.replace("；", ";").replace(";", "\n").splitlines():
        part = part.strip()
        if not part:
            continue
        description, quantity, price = part, 1, Decimal("0")
        head, at, tail = part.rpartition("@")
        if at:
            try:
                price = Decimal(tail.strip().replace(",", ""))
                description = head.strip()
            except ArithmeticError:
                pass
        for mark in ("×", " x ", " X ", "*"):
            name, sep, count = description.rpartition(mark)
            if sep and count.strip().isdigit():
                description, quantity = name.strip(), int(count)
                break
        items.append({"description": description[:200], "quantity": quantity, "unit_price": price})
    return items


def _choice(draft: ActivityDraft, cell: Cell, table: dict[str, str], name: str) -> str | None:
    value = read_choice(cell, table)
    if value is None:
        draft.warnings.append(("unknown_value", {"field": name, "value": text_of(cell)}))
    return value


def activity_draft(
    row: SourceRow, columns: list[Column], kind: Kind, options: ReadOptions
) -> ActivityDraft:
    draft = ActivityDraft(row.line, kind, CustomerRef())
    ref, values = draft.customer, draft.values
    extra: list[str] = []  # unknown columns: activities have no custom fields, so into text
    for column in columns:
        cell = row.cells[column.index]
        if column.target == IGNORE or not text_of(cell):
            continue
        target = column.target
        if target == CUSTOM:
            extra.append(f"{column.header}: {text_of(cell)}")
        elif target == "customer_name":
            ref.name = " ".join(text_of(cell).split())
        elif target == "customer_phone":
            ref.phones += read_phones(cell, options.region)
        elif target == "customer_email":
            ref.emails += read_emails(cell)
        elif target == "customer_company":
            ref.company = " ".join(text_of(cell).split())
        elif target == "staff":
            draft.staff, draft.staff_header = text_of(cell), column.header
        elif target in ("ordered_at", "paid_at", "occurred_at", "created_at", "resolved_at"):
            values[target] = read_datetime(
                cell, day_first=options.day_first, timezone=options.timezone
            )
        elif target == "due_date":
            values[target] = read_date(cell, day_first=options.day_first)
        elif target == "amount":
            values["amount"], currency = read_amount(cell)
            if currency and "currency" not in values:
                values["currency"] = currency
        elif target == "currency":
            values[target] = text_of(cell).upper()[:3]
        elif target == "credit_days":
            values[target] = read_int(cell, low=0, high=365, reason="bad_credit_days")
        elif target == "score":
            values[target] = read_int(cell, low=0, high=10, reason="bad_score")
        elif target == "items":
            draft.items = parse_items(text_of(cell))
        elif target == "payment_status":
            if status := _choice(draft, cell, PAYMENT_STATUSES, target):
                values[target] = PaymentStatus(status)
        elif target == "kind" and kind == Kind.INTERACTIONS:
            values[target] = InteractionKind(
                _choice(draft, cell, INTERACTION_KINDS, target) or InteractionKind.NOTE
            )
        elif target == "kind":
            if found := _choice(draft, cell, FEEDBACK_KINDS, target):
                values[target] = FeedbackKind(found)
        elif target == "status":
            if status := _choice(draft, cell, FEEDBACK_STATUSES, target):
                values[target] = FeedbackStatus(status)
        else:
            values[target] = text_of(cell)
    if not (ref.name or ref.phones or ref.emails):
        raise RowError("no_customer")
    _complete(draft, extra)
    return draft


def _complete(draft: ActivityDraft, extra: list[str]) -> None:
    """Required values per kind; unknown columns appended to the note or text."""
    values = draft.values
    if draft.kind == Kind.ORDERS:
        if "amount" not in values:
            raise RowError("no_amount")
        if extra:
            values["note"] = "\n".join([values.get("note", ""), *extra]).strip()
    elif draft.kind == Kind.INTERACTIONS:
        if extra:
            values["summary"] = "\n".join([values.get("summary", ""), *extra]).strip()
        if not values.get("summary"):
            raise RowError("no_summary")
        values["summary"] = values["summary"][:4000]
    else:
        if extra:
            values["text"] = "\n".join([values.get("text", ""), *extra]).strip()
        if not values.get("text") and values.get("score") is None:
            raise RowError("no_feedback")
        values["text"] = values.get("text", "")[:4000]
