"""A numbers question read by the model: one `run_report` tool call -> a validated ReportQuery.

A request of its own, not part of the plain-language turn: ReportQuery's schema alone is
~3,700 characters, too big to ride along with every message under the 6,000-character
budget per request. The turn offers a one-field `ask_report` tool; this module does the rest.
The model only fills in the typed query; the SQL comes from crm_core.reports, scoped by the
actor, as for the deterministic parser — which answers whenever the model cannot.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

from openai import pydantic_function_tool
from pydantic import ValidationError

from bot import llm_calls, report_actions
from bot.context import Context
from bot.llm import LlmUnavailable, Message, assistant_message, tool_message
from bot.report_customers import customers_named, picked_customer
from bot.report_parser import Vocabulary
from bot.templates import render as render_template
from bot.tools import CUSTOMER_HINT, compact_schema, short_error
from crm_core.reports import ReportQuery

log = logging.getLogger(__name__)

TOOL_NAME = "run_report"
MAX_ROUNDS = 2  # one correction after an invalid query, then the parser takes over
VOCABULARY_CHARS = 1200  # names offered to the model, all lists together
_LISTS = ("reps", "teams", "cities", "sources", "products", "categories", "segments")


def _drop_enum_descriptions(schema: Any) -> Any:
    """Enum classes' docstrings describe our code, not the question: the values say enough."""
    if isinstance(schema, list):
        return [_drop_enum_descriptions(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _drop_enum_descriptions(v) for k, v in schema.items()}
    if "enum" in out:
        out.pop("description", None)
    return out


@cache
def report_tool() -> dict[str, Any]:
    """ReportQuery as a strict tool, customers named in words instead of by id."""
    tool = pydantic_function_tool(
        ReportQuery, name=TOOL_NAME, description="Answer the question with the CRM's numbers."
    )
    parameters = tool["function"]["parameters"]
    parameters = _drop_enum_descriptions(compact_schema(parameters, parameters.get("$defs", {})))
    filters = parameters["properties"]["filters"]
    filters["properties"].pop("customer_ids")
    filters["properties"]["customers"] = {
        "type": "array",
        "items": {"type": "string"},
        "description": CUSTOMER_HINT,
    }
    filters["required"] = list(filters["properties"])
    tool["function"]["parameters"] = parameters
    return dict(tool)


def vocabulary_text(vocab: Vocabulary, limit: int = VOCABULARY_CHARS) -> str:
    """`reps: 李娜, 陈明` lines, each list cut so that all of them fit in `limit` characters."""
    share = limit // len(_LISTS)
    lines = []
    for name in _LISTS:
        values = list(dict.fromkeys(getattr(vocab, name)))
        line, shown = f"  {name}: ", 0
        for value in values:
            if len(line) + len(value) + 2 > share:
                break
            line += ("" if shown == 0 else ", ") + value
            shown += 1
        if shown < len(values):
            line += " …"
        lines.append(line if values else f"  {name}: -")
    return "\n".join(lines)


async def system_prompt(ctx: Context) -> str:
    async with ctx.transaction() as session:
        vocab = await report_actions.load_vocabulary(session, ctx.actor)
    return render_template(
        "report_system",
        ctx.lang,
        name=ctx.actor.name,
        role=ctx.actor.role.value,
        today=f"{ctx.now:%Y-%m-%d %A}",
        timezone=ctx.actor.timezone,
        vocabulary=vocabulary_text(vocab),
    )


async def read_question(
    ctx: Context, question: str, *, picked: int | None = None
) -> ReportQuery | None:
    """The model's ReportQuery for `question`; None when the model is unavailable, declines,
    or cannot produce a valid query. Customers it names are resolved like the parser's
    (NotFound, AmbiguousCustomer unless `picked` says which)."""
    if ctx.llm is None:
        return None
    messages: list[Message] = [
        {"role": "system", "content": await system_prompt(ctx)},
        {"role": "user", "content": question},
    ]
    redactor = llm_calls.new_redactor(ctx)
    for _ in range(MAX_ROUNDS):
        try:
            completion = await llm_calls.chat(
                ctx, messages, tools=[report_tool()], redactor=redactor
            )
        except LlmUnavailable as exc:
            log.warning("report question for staff %s: model failed: %s", ctx.actor.staff_id, exc)
            return None
        call = next((c for c in completion.tool_calls if c.name == TOOL_NAME), None)
        if call is None:
            return None  # declined: not a question the tool answers
        try:
            return await _to_query(ctx, call.arguments, picked)
        except (ValueError, ValidationError) as exc:
            error = short_error(exc)
            log.info("report query from the model rejected: %s", error)
            messages.append(assistant_message([call]))
            messages.append(tool_message(call, {"error": error}))
    return None


async def _to_query(ctx: Context, raw: str, picked: int | None) -> ReportQuery:
    data = json.loads(raw or "{}")  # JSONDecodeError is a ValueError
    if not isinstance(data, dict):
        raise ValueError("arguments must be a JSON object")
    filters = data.get("filters")
    if not isinstance(filters, dict):
        filters = data["filters"] = {}
    names = [str(n) for n in filters.pop("customers", None) or [] if str(n).strip()]
    ids: list[int] = []
    if names and picked is not None:  # "which 张伟?" answered with a button
        ids = await picked_customer(ctx, picked)
    else:
        for name in names:
            ids += await customers_named(ctx, name)
    filters["customer_ids"] = list(dict.fromkeys(ids))
    return ReportQuery.model_validate(data)
