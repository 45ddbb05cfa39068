"""The person answered "which customer?" for calls the model made: run them now, without
asking the model again."""

from __future__ import annotations

from typing import Any

from bot import actions, chat_state, tool_runs
from bot.commands.handlers import button
from bot.context import Context
from bot.events import Reply
from bot.nlu import PENDING, ask_customer, finish
from bot.nlu_views import render
from bot.tools import InvalidArguments, Unresolved, prepare, tools_for, validate
from crm_core.customers import CustomerCreate


@button("nlupick")
async def press_pick(ctx: Context, arg: str) -> list[Reply]:
    """A customer chosen among namesakes."""
    pending = await chat_state.pop(ctx, PENDING)
    if pending is None or not arg.isdigit():
        return [Reply(text=ctx.t("pick_expired"))]
    return await resume(ctx, pending, int(arg))


@button("nlunew")
async def press_new(ctx: Context, arg: str) -> list[Reply]:
    """None of them: a new customer under the name the person used."""
    pending = await chat_state.pop(ctx, PENDING)
    if pending is None:
        return [Reply(text=ctx.t("pick_expired"))]
    created = await actions.create_customer(
        ctx, CustomerCreate(name=pending["ref"], company=pending.get("company"))
    )
    replies = await resume(ctx, pending, created.id)
    intro = ctx.t("customer_created", name=created.name, id=created.id)
    if replies:
        replies[0] = replies[0].model_copy(update={"text": intro + "\n" + replies[0].text})
        return replies
    return [Reply(text=intro)]


@button("nlucancel")
async def press_cancel(ctx: Context, arg: str) -> list[Reply]:
    await chat_state.pop(ctx, PENDING)
    return [Reply(text=ctx.t("nlu_cancelled"))]


async def resume(ctx: Context, pending: dict[str, Any], customer_id: int) -> list[Reply]:
    tools = tools_for(ctx.actor.role)
    known = {pending["ref"]: customer_id}
    done: list[tuple[str, Reply]] = []
    problems: list[Reply] = []
    first = tools.get(pending["action"])
    queue: list[tuple[str, Any]] = []
    if first is not None:
        try:
            args = validate(first.action, {**pending["partial"], pending["field"]: customer_id})
            queue.append((first.name, args))
        except InvalidArguments:
            problems.append(Reply(text=ctx.t("nlu_invalid_arguments")))
    remaining: list[dict[str, str]] = list(pending.get("remaining", []))
    while queue or remaining:
        if not queue:
            call = remaining.pop(0)
            tool = tools.get(call["tool"])
            if tool is None:
                continue
            try:
                prepared = await prepare(ctx, tool, call["raw"], known=known)
            except InvalidArguments:
                problems.append(Reply(text=ctx.t("nlu_invalid_arguments")))
                continue
            if isinstance(prepared, Unresolved):
                question = await ask_customer(ctx, tool.name, prepared, remaining)
                return finish(ctx, done, [*problems, question])
            queue.append((tool.name, prepared))
        name, args = queue.pop(0)
        outcome = await tool_runs.run(ctx, tools[name].action, args)
        if isinstance(outcome, tool_runs.Refused):
            problems.append(Reply(text=outcome.message))
        elif outcome.result is not None:
            done.append((name, render(ctx, name, outcome.result)))
    return finish(ctx, done, problems)
