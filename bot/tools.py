"""LLM tools generated from the action registry, and the model's arguments turned back into
an action's typed arguments.

One source of truth: each tool's schema is derived from its action's pydantic model. Where a
model is bad at something and our own code is good at it, the tool asks for words instead:
a customer is a reference (name, phone, #id) resolved like a command's; a time is the phrase
the person said ("下周三下午3点"), parsed by bot/when.py; an amount is text ("1.2万").
"""

from __future__ import annotations

import json
import re
import types
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from openai import pydantic_function_tool
from pydantic import BaseModel, ValidationError, create_model
from pydantic import Field as PydanticField
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from bot.actions import REGISTRY, Action
from bot.commands.newcustomer import parse_birthday
from bot.commands.resolve import resolve_customer
from bot.context import Context
from bot.when import parse_when
from crm_core.errors import CrmError, NotFound
from crm_core.models import Role
from crm_core.normalize import fold, parse_amount
from crm_core.search import SearchHit, search_customers

# The system prompt explains these at length once; each field repeats only the gist.
CUSTOMER_HINT = "name as said (company), phone or #id"
WHEN_HINT = "words said, e.g. 下周三下午3点"
AMOUNT_HINT = "as written: 1200, ¥1,200, 1.2万, $99"
DAY_HINT = "YYYY-MM-DD or MM-DD"

# Actions the model may call, with the fields it never sets. Opt-in on purpose: an action
# added later (exports, bulk changes, undo) stays out of the model's reach until someone
# decides otherwise. Role limits still come from Action.roles.
LLM_ACTIONS: dict[str, frozenset[str]] = {
    "find_customers": frozenset({"limit"}),
    "show_card": frozenset(),
    "create_customer": frozenset(
        {
            "owner_id",
            "custom_fields",
            "anniversary",
            "region",
            "stage",
            "do_not_contact",
            "preferred_contact_time",
            "language",
            "source",
            "wechat_id",
            "hobbies",
            "notes",
            "title",
            "preferred_channel",
            "birthday",
            "tags",
        }
    ),
    "log_interaction": frozenset(),
    "create_reminder": frozenset(),
    "list_today": frozenset(),
    "complete_reminder": frozenset(),
    "snooze_reminder": frozenset(),
    "record_feedback": frozenset(),
    "record_order": frozenset({"currency"}),  # read from the amount ("$99", "¥1,200")
    "summarise_feedback": frozenset(),
    "draft_message": frozenset(),
    "ask_report": frozenset(),  # hands a numbers question to its own request (bot/report_llm)
}


class Kind(Enum):
    PLAIN = "plain"
    CUSTOMER = "customer"
    WHEN = "when"
    AMOUNT = "amount"
    DAY = "day"


@dataclass(frozen=True)
class Tool:
    action: Action
    model: type[BaseModel]  # what the model fills in
    kinds: dict[str, tuple[str, Kind]]  # model field -> (action field, how to read it)
    schema: dict[str, Any]

    @property
    def name(self) -> str:
        return self.action.name


class InvalidArguments(Exception):
    """The model's arguments cannot be used; the message goes back to the model."""


@dataclass(frozen=True)
class Unresolved:
    """The customer reference matched several customers, or none: the person must choose."""

    ref: str
    company: str | None
    hits: list[SearchHit]
    field: str  # the action field waiting for the customer id
    partial: dict[str, Any]  # the other arguments, JSON-ready


# --- schema generation -----------------------------------------------------------------------


def _without_none(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(get_args(annotation))
    return annotation, False


def _model_field(name: str, info: FieldInfo) -> tuple[str, Any, Kind, str | None]:
    base, nullable = _without_none(info.annotation)
    optional = nullable or not info.is_required()
    if name == "customer_id":
        kind, new_name, typ, hint = Kind.CUSTOMER, "customer", str, CUSTOMER_HINT
    elif base is datetime:
        kind, new_name, typ, hint = Kind.WHEN, name, str, WHEN_HINT
    elif base is Decimal:
        kind, new_name, typ, hint = Kind.AMOUNT, name, str, AMOUNT_HINT
    elif base is date:
        kind, new_name, typ, hint = Kind.DAY, name, str, DAY_HINT
    else:
        kind, new_name, typ, hint = Kind.PLAIN, name, base, info.description
    return new_name, (typ | None if optional else typ), kind, hint


def compact_schema(schema: Any, defs: dict[str, Any]) -> Any:
    """Inline $refs, drop titles, write nullable simple types as ["string", "null"]: the same
    strict schema, a third of the characters."""
    if isinstance(schema, list):
        return [compact_schema(s, defs) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = compact_schema(defs[schema["$ref"].split("/")[-1]], defs)
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    out = {k: compact_schema(v, defs) for k, v in schema.items() if k not in ("title", "$defs")}
    variants = out.get("anyOf")
    if variants and len(variants) == 2 and {"type": "null"} in variants:
        other = next(v for v in variants if v != {"type": "null"})
        if isinstance(other.get("type"), str):
            out.pop("anyOf")
            merged = {**other, **out, "type": [other["type"], "null"]}
            if "enum" in merged:
                merged["enum"] = [*merged["enum"], None]
            out = merged
    return out


def build_tool(action: Action, hidden: frozenset[str]) -> Tool:
    fields: dict[str, Any] = {}
    kinds: dict[str, tuple[str, Kind]] = {}
    for name, info in action.args_model.model_fields.items():
        if name in hidden:
            continue
        new_name, annotation, kind, hint = _model_field(name, info)
        # Every field is required in a strict schema; null stands for "not said".
        default = None if _without_none(annotation)[1] else ...
        fields[new_name] = (annotation, PydanticField(default, description=hint))
        kinds[new_name] = (name, kind)
    model = create_model(f"{action.name}_args", **fields)  # type: ignore[call-overload]
    description = " ".join(action.description.split())
    tool = pydantic_function_tool(model, name=action.name, description=description)
    parameters = tool["function"]["parameters"]
    tool["function"]["parameters"] = compact_schema(parameters, parameters.get("$defs", {}))
    return Tool(action=action, model=model, kinds=kinds, schema=dict(tool))


_CACHE: dict[Role, dict[str, Tool]] = {}


def tools_for(role: Role) -> dict[str, Tool]:
    """The tools `role` may use, by name (built once per role)."""
    if role not in _CACHE:
        _CACHE[role] = {
            name: build_tool(REGISTRY[name], hidden)
            for name, hidden in LLM_ACTIONS.items()
            if name in REGISTRY and role in REGISTRY[name].roles
        }
    return _CACHE[role]


# --- reading the model's arguments -----------------------------------------------------------

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_BRACKETED = re.compile(r"^(?P<name>.+?)\s*[（(](?P<company>[^()（）]+)[)）]\s*$")


def read_when(ctx: Context, text: str) -> datetime:
    text = text.strip()
    if _ISO.match(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(ctx.actor.timezone))
    moment = parse_when(text, now=ctx.now)
    if moment is None:
        raise InvalidArguments(f"cannot read the time {text!r}; pass the words the person used")
    return moment


def _read_amount(text: str) -> tuple[Decimal, str | None]:
    parsed = parse_amount(text)
    if parsed is not None:
        return parsed
    try:
        return Decimal(text.strip()), None
    except InvalidOperation as exc:
        raise InvalidArguments(f"cannot read the amount {text!r}") from exc


def split_ref(ref: str) -> tuple[str, str | None]:
    """ "Jane Smith (Acme)" -> ("Jane Smith", "Acme")."""
    match = _BRACKETED.match(ref.strip())
    if match is None:
        return ref.strip(), None
    return match["name"].strip(), match["company"].strip()


async def resolve_ref(ctx: Context, ref: str) -> int | tuple[str, str | None, list[SearchHit]]:
    """A customer id, or (name, company, candidates) when the person has to choose.
    Same resolution as commands; a company in brackets narrows several namesakes to one."""
    name, company = split_ref(ref)
    if not name:
        raise InvalidArguments("empty customer reference")
    if company:
        async with ctx.transaction() as session:
            hits = await search_customers(session=session, actor=ctx.actor, query=name, limit=5)
        at_company = [h for h in hits if h.company and fold(company) in fold(h.company)]
        if len(at_company) == 1:
            return at_company[0].id
        if hits and not at_company:
            return name, company, hits  # same name elsewhere: maybe a new customer
    try:
        resolved = await resolve_customer(ctx, name)
    except NotFound:
        return name, company, []
    if isinstance(resolved, int):
        return resolved
    return name, company, resolved.hits


async def prepare(
    ctx: Context, tool: Tool, raw: str, *, known: dict[str, int] | None = None
) -> BaseModel | Unresolved:
    """The action's arguments from the model's JSON, or the customer question to ask first.
    `known` holds references the person already answered ("张伟" -> #12) in this turn."""
    try:
        given = tool.model.model_validate(json.loads(raw or "{}"))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise InvalidArguments(f"arguments do not match the schema: {short_error(exc)}") from exc
    values: dict[str, Any] = {}
    customer: tuple[str, str] | None = None
    for name, (target, kind) in tool.kinds.items():
        value = getattr(given, name)
        if value is None or value == "":
            continue
        if kind is Kind.CUSTOMER:
            customer = (target, value)
        elif kind is Kind.WHEN:
            values[target] = read_when(ctx, value)
        elif kind is Kind.AMOUNT:
            values[target], currency = _read_amount(value)
            if currency and "currency" in tool.action.args_model.model_fields:
                values.setdefault("currency", currency)
        elif kind is Kind.DAY:
            try:
                values[target] = parse_birthday(value)
            except CrmError as exc:
                raise InvalidArguments(f"cannot read the date {value!r}") from exc
        else:
            values[target] = value
    if customer is not None:
        target, ref = customer
        name = split_ref(ref)[0]
        resolved = known[name] if known and name in known else await resolve_ref(ctx, ref)
        if not isinstance(resolved, int):
            name, company, hits = resolved
            partial = to_jsonable_python(values)
            return Unresolved(ref=name, company=company, hits=hits, field=target, partial=partial)
        values[target] = resolved
    return validate(tool.action, values)


def validate(action: Action, values: dict[str, Any]) -> BaseModel:
    try:
        return action.args_model.model_validate(values)
    except ValidationError as exc:
        raise InvalidArguments(f"invalid arguments: {short_error(exc)}") from exc


def short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
    return str(exc)[:200]
