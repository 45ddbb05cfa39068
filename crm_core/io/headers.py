"""Which field each column holds: the headers of HubSpot, Salesforce, Zoho CRM and
Pipedrive exports, common Chinese headers, our own export, or a mapping file.

Headers are compared folded ("Email - Work", "email_work" and "EMAIL WORK" are one key).
A column no alias knows is kept as a custom field under its own header.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from crm_core.errors import InvalidInput


class Kind(StrEnum):
    CUSTOMERS = "customers"
    ORDERS = "orders"
    INTERACTIONS = "interactions"
    FEEDBACK = "feedback"


CUSTOM = "custom"  # the column becomes a custom field
IGNORE = "ignore"  # only by a mapping file: the person chose to leave the column out
CUSTOM_PREFIXES = ("custom.", "custom:")


def header_key(header: str) -> str:
    """ "Email - Work" -> "emailwork"; "手机号码" stays as it is."""
    folded = unicodedata.normalize("NFKC", header).casefold()
    return re.sub(r"[\W_]+", "", folded)


def _aliases(table: dict[str, str]) -> dict[str, str]:
    """ "field": "alias alias …" -> {folded alias: field}."""
    return {header_key(alias): name for name, words in table.items() for alias in words.split()}


CUSTOMER_FIELDS = _aliases(
    {
        "name": "name full_name contact_name customer_name customer contact 姓名 客户名称 "
        "客户姓名 客户 客户名 联系人 联系人姓名 名称 名字 person_name",
        "first_name": "first_name given_name firstname 名",
        "last_name": "last_name surname family_name lastname 姓",
        "company": "company company_name account account_name organization organisation "
        "organization_name organization-name org 公司 公司名称 单位 单位名称 工作单位 企业 "
        "企业名称 所属公司 客户公司",
        "title": "title job_title position 职位 职务 头衔 岗位",
        "phones": "phone phones phone_number mobile mobile_phone mobile_phone_number cell "
        "cell_phone telephone tel work_phone home_phone other_phone business_phone "
        "phone-work phone-mobile phone-home phone-other 手机 手机号 手机号码 电话 电话号码 "
        "联系电话 联系方式 座机 固话 固定电话 办公电话",
        "emails": "email emails email_address e-mail e-mail_address email1 email2 "
        "secondary_email work_email personal_email email-work email-home email-other "
        "mail 邮箱 电子邮箱 电子邮件 邮件 邮箱地址",
        "wechat_id": "wechat wechat_id weixin 微信 微信号",
        "preferred_channel": "preferred_channel 偏好渠道 联系渠道",
        "preferred_contact_time": "preferred_contact_time best_time 联系时间 方便联系时间",
        "language": "language preferred_language 语言",
        "source": "source lead_source original_source 来源 客户来源 来源渠道 获客渠道",
        "birthday": "birthday birthdate date_of_birth dob 生日 出生日期",
        "anniversary": "anniversary 纪念日",
        "hobbies": "hobbies interests 爱好 兴趣 兴趣爱好",
        "tags": "tags tag labels label 标签 客户标签",
        "city": "city mailing_city 城市 所在城市 市",
        "region": "region state province state/region mailing_state 省份 省 地区 所在地区 区域",
        "owner": "owner contact_owner owner_name account_owner assigned_to sales_rep "
        "负责人 跟进人 销售 所属销售 客户经理 业务员 归属人",
        "stage": "stage lifecycle_stage 阶段 客户阶段 客户状态",
        "do_not_contact": "do_not_contact do_not_call 勿扰 拒绝联系",
        "notes": "notes note description comments remark remarks 备注 说明 描述 备注信息",
        "created_at": "created_at create_date created_date created_time person_created "
        "date_created 创建时间 创建日期 录入时间 添加时间",
    }
)

# Columns that say which customer an order, interaction or feedback belongs to.
_CUSTOMER_REF = {
    "customer_name": "customer customer_name client client_name name contact contact_name "
    "person 客户 客户名称 客户姓名 姓名 联系人",
    "customer_phone": "customer_phone phone mobile 手机 手机号 电话 客户电话 联系电话",
    "customer_email": "customer_email email 邮箱 客户邮箱",
    "customer_company": "customer_company company account_name organization 公司 单位 客户公司",
    "staff": "staff rep sales_rep owner 负责人 销售 业务员 跟进人 记录人 经办人",
}
ORDER_FIELDS = _aliases(
    {
        **_CUSTOMER_REF,
        "ordered_at": "ordered_at order_date date close_date 日期 下单日期 下单时间 订单日期 "
        "订单时间 成交日期",
        "amount": "amount total order_total order_amount value deal_value 金额 订单金额 总金额 "
        "成交金额 合计",
        "currency": "currency 币种 货币",
        "payment_method": "payment_method 付款方式 支付方式",
        "credit_days": "credit_days 账期 账期天数",
        "due_date": "due_date 到期日 应付日期",
        "payment_status": "payment_status 付款状态 支付状态",
        "paid_at": "paid_at payment_date 付款日期 付款时间",
        "note": "note notes remark 备注",
        "items": "items products product 商品 产品 明细 订单明细",
    }
)
INTERACTION_FIELDS = _aliases(
    {
        **_CUSTOMER_REF,
        "occurred_at": "occurred_at date time datetime 时间 日期 跟进时间 沟通时间 拜访时间",
        "kind": "kind type activity_type 方式 类型 跟进方式 沟通方式",
        "channel": "channel 渠道",
        "summary": "summary content subject details 内容 沟通内容 跟进内容 记录 摘要 跟进记录",
        "outcome": "outcome result 结果",
        "raw_text": "raw_text 原文",
    }
)
FEEDBACK_FIELDS = _aliases(
    {
        **_CUSTOMER_REF,
        "created_at": "created_at date time 日期 时间 反馈时间",
        "kind": "kind type 类型",
        "score": "score nps rating 评分 分数",
        "text": "text feedback comment comments 反馈 反馈内容 评价 内容",
        "status": "status 状态",
        "resolution": "resolution 处理结果 解决方案",
        "resolved_at": "resolved_at 解决时间 处理时间",
    }
)
FIELDS: dict[Kind, dict[str, str]] = {
    Kind.CUSTOMERS: CUSTOMER_FIELDS,
    Kind.ORDERS: ORDER_FIELDS,
    Kind.INTERACTIONS: INTERACTION_FIELDS,
    Kind.FEEDBACK: FEEDBACK_FIELDS,
}
# Headers that only an activity file has; a customer list is everything else.
_TELLTALE = {
    Kind.ORDERS: _aliases({"x": "amount order_total order_amount 订单金额 金额 成交金额 总金额"}),
    Kind.INTERACTIONS: _aliases({"x": "summary 沟通内容 跟进内容 跟进记录 occurred_at"}),
    Kind.FEEDBACK: _aliases({"x": "score nps rating 评分 feedback 反馈 反馈内容 评价"}),
}
# Fields no activity file has: their presence makes a table a customer list.
_CUSTOMER_ONLY = {
    "title",
    "wechat_id",
    "birthday",
    "anniversary",
    "hobbies",
    "tags",
    "city",
    "region",
    "stage",
    "source",
    "do_not_contact",
    "preferred_channel",
    "preferred_contact_time",
    "language",
}
_SHEET_NAMES = {
    Kind.CUSTOMERS: ("customers", "contacts", "客户", "联系人"),
    Kind.ORDERS: ("orders", "订单"),
    Kind.INTERACTIONS: ("interactions", "activities", "沟通记录", "跟进记录"),
    Kind.FEEDBACK: ("feedback", "反馈"),
}


def detect_kind(headers: list[str], sheet: str | None = None) -> Kind:
    """What a table holds, from its sheet name or its headers."""
    if sheet:
        for kind, names in _SHEET_NAMES.items():
            if header_key(sheet) in names:
                return kind
    keys = {header_key(h) for h in headers}
    if any(CUSTOMER_FIELDS.get(k) in _CUSTOMER_ONLY for k in keys):
        return Kind.CUSTOMERS  # a customer list may well have a "score" or "amount" column
    for kind, telltales in _TELLTALE.items():
        if keys & set(telltales):
            return kind
    return Kind.CUSTOMERS


@dataclass
class MappingFile:
    """A person's own column mapping and reading options (TOML or JSON)."""

    columns: dict[str, str] = field(default_factory=dict)  # header -> field | custom | ignore
    kind: Kind | None = None
    day_first: bool | None = None

    @classmethod
    def load(cls, path: Path) -> MappingFile:
        text = path.read_text("utf-8")
        try:
            raw: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput("import_bad_mapping", path=str(path), detail=str(exc)) from exc
        return cls.parse(raw)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> MappingFile:
        columns = raw.get("columns")
        if columns is None:  # a flat {"Header": "field"} file
            columns = {k: v for k, v in raw.items() if isinstance(v, str) and k != "kind"}
        kind = raw.get("kind")
        try:
            mapping = cls(
                columns={str(k): str(v) for k, v in columns.items()},
                kind=Kind(kind) if kind else None,
                day_first=raw.get("day_first"),
            )
        except ValueError as exc:
            raise InvalidInput("import_bad_mapping", path="", detail=str(exc)) from exc
        return mapping

    def check(self, kind: Kind) -> None:
        known = set(FIELDS[kind].values()) | {CUSTOM, IGNORE}
        for header, target in self.columns.items():
            if target not in known and not target.startswith(CUSTOM_PREFIXES):
                raise InvalidInput(
                    "import_bad_mapping",
                    path="",
                    detail=f"{header} -> {target}: not one of {', '.join(sorted(known))}",
                )


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    target: str  # a field name, CUSTOM or IGNORE
    custom_key: str | None = None  # the custom field's name when target is CUSTOM


def map_columns(headers: list[str], kind: Kind, mapping: MappingFile | None) -> list[Column]:
    """One Column per header; unknown headers become custom fields (never dropped)."""
    aliases = FIELDS[kind]
    own = {header_key(k): v for k, v in (mapping.columns if mapping else {}).items()}
    columns, used_keys = [], set()
    for index, header in enumerate(headers):
        key = header_key(header)
        target = own.get(key) or aliases.get(key) or CUSTOM
        custom_key = None
        if header.lower().startswith(CUSTOM_PREFIXES):
            target, custom_key = CUSTOM, header[len("custom.") :].strip()
        elif target.startswith(CUSTOM_PREFIXES):
            target, custom_key = CUSTOM, target[len("custom.") :].strip()
        elif target == CUSTOM:
            custom_key = header
        if custom_key is not None:
            base, n = custom_key, 2
            while custom_key in used_keys:  # two columns with one header keep both values
                custom_key, n = f"{base} ({n})", n + 1
            used_keys.add(custom_key)
        columns.append(Column(index, header, target, custom_key))
    return columns


def custom_header(key: str) -> str:
    """The header an export gives a custom field, so that importing it finds it again
    (a custom field called "City" or "评分" must not come back as the city or a score)."""
    known = header_key(key) in {alias for aliases in FIELDS.values() for alias in aliases}
    return f"custom.{key}" if known or key.lower().startswith(CUSTOM_PREFIXES) else key
