"""One plain-language turn: free text -> tool calls over the action registry -> replies.

Guards: the model sees only the tools the actor's role may use; it gets at most MAX_ROUNDS
round trips; every call is validated into the action's typed arguments and runs through
crm_core's scope checks; writes are shown with Undo; a customer reference that matches
several customers, or none, is asked with buttons instead of guessed; anything unusable
from the model falls back to a clear message and the command path. No database
transaction is open while the model is thinking.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot import chat_state, drafting, llm_calls, tool_runs
from bot.commands.handlers import HANDLERS
from bot.commands.report import answer_question, answer_reply
from bot.context import Context
from bot.events import Button, Reply
from bot.i18n import format_when
from bot.llm import LlmUnavailable, Message, ToolCall, assistant_message, tool_message
from bot.nlu_views import combine, render
from bot.sanitize import clean_model_text
from bot.templates import render as render_template
from bot.tools import InvalidArguments, Tool, Unresolved, prepare, tools_for
from crm_core.search import SearchHit

log = logging.getLogger(__name__)

MAX_ROUNDS = 4
RESULT_LIMIT = 6000  # characters of one tool result sent back to the model
# Actions whose answer goes straight to the person (the model only picked them).
TERMINAL = frozenset({"summarise_feedback", "draft_message"})
ASK_REPORT = "ask_report"  # terminal too: the report's own reply, table and chart
PENDING = "nlu"  # chat-state key of calls waiting for a customer choice


# "总结本月反馈", "summarise feedback from last month": the summary, with or without a model.
_SUMMARY_REQUEST = re.compile(
    r"^\s*(?:总结|汇总|(?i:summari[sz]e))(?P<rest>.*(?:反馈|(?i:feedback)).*)$"
)


async def answer_free_text(ctx: Context) -> list[Reply]:
    """Text that is not a command: a pending draft edit, a feedback-summary request, else
    the model, else a hint."""
    edited = await drafting.take_edit(ctx)
    if edited is not None:
        return edited
    wanted = _SUMMARY_REQUEST.match(ctx.incoming.text or "")
    if wanted is not None:
        return await HANDLERS["summary"](ctx, wanted["rest"], None)
    if ctx.llm is not None:  # the model routes numbers questions itself (ask_report)
        return await run_turn(ctx, ctx.incoming.text or "")
    asked = await report_question(ctx, ctx.incoming.text or "")
    if asked is not None:
        return asked
    return [Reply(text=ctx.t("not_understood"))]


# A report question asked without /report ("上个月复购率多少?"): only text that reads as a
# question is tried, so a log line that merely mentions orders or visits goes on to the model.
_QUESTION_CUE = re.compile(
    r"[?？]|多少|怎么样|如何|哪些|几个|趋势|排名|前\s*\d+|前十|"
    r"\b(top\s*\d+|how (many|much)|what('s| is| was| were)|which|show me|trend)\b",
    re.IGNORECASE,
)


async def report_question(ctx: Context, text: str) -> list[Reply] | None:
    """The report for a numbers question the deterministic parser understands, else None.
    Parser and template only: this path runs without a model, or after it failed."""
    if not _QUESTION_CUE.search(text):
        return None
    return await answer_question(ctx, text, None, use_model=False)


def system_prompt(ctx: Context) -> str:
    now = ctx.now
    return render_template(
        "nlu_system",
        ctx.lang,
        name=ctx.actor.name,
        role=ctx.actor.role.value,
        now=format_when(now, ctx.lang, ctx.actor.timezone) + f" {now:%Y-%m-%d}",
        timezone=ctx.actor.timezone,
    )


def for_model(result: BaseModel, timezone: str) -> str:
    """A tool result as compact JSON, times in the actor's zone (what the person means)."""
    zone = ZoneInfo(timezone)

    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(zone).isoformat(timespec="minutes")
        if isinstance(value, Decimal):
            return str(value)
        return str(value)

    text = json.dumps(
        result.model_dump(mode="python"), ensure_ascii=False, separators=(",", ":"), default=default
    )
    return text if len(text) <= RESULT_LIMIT else text[:RESULT_LIMIT] + "…(truncated)"


def fallback(ctx: Context, reason: str) -> Reply:
    """The model failed: say why in one line, and how to do it with a command."""
    return Reply(
        text=ctx.t(f"nlu_fail_{reason}") + "\n" + ctx.t("nlu_fallback_hint"),
        data={"llm_error": reason},
    )


async def run_turn(ctx: Context, text: str) -> list[Reply]:
    tools = tools_for(ctx.actor.role)
    schemas = [t.schema for t in tools.values()]
    redactor = llm_calls.new_redactor(ctx)
    messages: list[Message] = [
        {"role": "system", "content": system_prompt(ctx)},
        {"role": "user", "content": text},
    ]
    done: list[tuple[str, Reply]] = []
    refused: list[str] = []  # shown as is, whatever the model later claims
    saw_customer_data = False
    for _ in range(MAX_ROUNDS):
        try:
            completion = await llm_calls.chat(ctx, messages, tools=schemas, redactor=redactor)
        except LlmUnavailable as exc:
            log.warning("LLM turn for staff %s failed: %s", ctx.actor.staff_id, exc)
            asked = None if done else await report_question(ctx, text)
            if asked is not None:  # a numbers question the parser reads: answered anyway
                return asked
            return finish(ctx, done, [fallback(ctx, exc.reason)], refused)
        if not completion.tool_calls:
            answer = clean_model_text(completion.content)
            if done:
                return finish(ctx, done, [], refused)
            if not answer:
                return finish(ctx, done, [fallback(ctx, "bad_response")], refused)
            return finish(ctx, done, [Reply(text=answer, private=saw_customer_data)], refused)
        messages.append(assistant_message(completion.tool_calls))
        ask_model_again = False
        for index, call in enumerate(completion.tool_calls):
            step = await _one_call(ctx, tools, call)
            if isinstance(step, Unresolved):
                remaining = [
                    {"tool": c.name, "raw": c.arguments} for c in completion.tool_calls[index + 1 :]
                ]
                question = await ask_customer(ctx, call.name, step, remaining)
                return finish(ctx, done, [question], refused)
            if isinstance(step, tool_runs.Refused):
                refused.append(step.message)
                ask_model_again = True
                messages.append(tool_message(call, {"error": step.message}))
                continue
            if isinstance(step, str):  # invalid arguments: the model may correct them
                ask_model_again = True
                messages.append(tool_message(call, {"error": step}))
                continue
            action_name, result = step
            tool = tools[action_name]
            if result is None:  # this message was handled before (a replay)
                done.append((action_name, Reply(text=ctx.t("nlu_already_done"))))
                messages.append(tool_message(call, {"ok": True}))
                continue
            if action_name == ASK_REPORT:
                question = json.loads(call.arguments)["question"]
                report = await answer_reply(ctx, question, result)  # type: ignore[arg-type]
                return finish(ctx, done, [report], refused)
            if action_name in TERMINAL:
                return finish(ctx, done, [render(ctx, action_name, result)], refused)
            if tool.action.writes:
                done.append((action_name, render(ctx, action_name, result)))
                messages.append(tool_message(call, for_model(result, ctx.actor.timezone)))
            else:
                saw_customer_data = True
                ask_model_again = True
                messages.append(tool_message(call, for_model(result, ctx.actor.timezone)))
        if not ask_model_again:
            return finish(ctx, done, [], refused)
    return finish(ctx, done, [fallback(ctx, "rounds")], refused)


async def _one_call(
    ctx: Context, tools: dict[str, Tool], call: ToolCall
) -> tuple[str, BaseModel | None] | Unresolved | tool_runs.Refused | str:
    """Run one call: (action, result), a customer question, a refusal, or an argument error."""
    tool = tools.get(call.name)
    if tool is None:
        # Not offered to this person (or not a tool at all): refused, logged, nothing run.
        log.warning("model called unknown or forbidden tool %r", call.name)
        await tool_runs.log_refusal(
            ctx, call.name[:60], {"raw": call.arguments[:500]}, "denied", "tool"
        )
        return tool_runs.Refused("denied", ctx.t("nlu_unknown_tool", tool=call.name[:60]))
    try:
        prepared = await prepare(ctx, tool, call.arguments)
    except InvalidArguments as exc:
        await tool_runs.log_refusal(
            ctx, tool.name, {"raw": call.arguments[:500]}, "invalid", str(exc)
        )
        return str(exc)
    if isinstance(prepared, Unresolved):
        return prepared
    outcome = await tool_runs.run(ctx, tool.action, prepared)
    if isinstance(outcome, tool_runs.Refused):
        return outcome
    return call.name, outcome.result


def finish(
    ctx: Context,
    done: list[tuple[str, Reply]],
    more: list[Reply],
    refused: list[str] | None = None,
) -> list[Reply]:
    """The changes made (one reply, one Undo), then the answer, then what was not done."""
    replies = ([combine(ctx, done)] if done else []) + more
    if refused:
        lines = "\n".join(f"• {m}" for m in dict.fromkeys(refused))
        replies.append(Reply(text=ctx.t("nlu_not_done") + "\n" + lines))
    return replies


# --- asking which customer, and carrying on after the answer ---------------------------------


def _pick_buttons(ctx: Context, ref: str, hits: list[SearchHit]) -> list[list[Button]]:
    rows = [[Button(label=_hit_label(h)[:60], payload=f"nlupick:{h.id}")] for h in hits]
    rows.append([Button(label=ctx.t("nlu_btn_create", name=ref)[:60], payload="nlunew")])
    rows.append([Button(label=ctx.t("nlu_btn_cancel"), payload="nlucancel")])
    return rows


def _hit_label(hit: SearchHit) -> str:
    extra = " · ".join(x for x in (hit.company, hit.city) if x)
    return f"#{hit.id} {hit.name}" + (f" ({extra})" if extra else "")


async def ask_customer(
    ctx: Context, action: str, step: Unresolved, remaining: list[dict[str, str]]
) -> Reply:
    await chat_state.save(
        ctx,
        PENDING,
        {
            "action": action,
            "field": step.field,
            "partial": step.partial,
            "ref": step.ref,
            "company": step.company,
            "remaining": remaining,
        },
    )
    key = "nlu_pick_customer" if step.hits else "nlu_unknown_customer"
    return Reply(
        text=ctx.t(key, ref=step.ref), buttons=_pick_buttons(ctx, step.ref, step.hits), private=True
    )
