"""How the result of an action the model called is shown: the same words and buttons as
the command that calls the action, so plain language and commands look alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from bot import actions, views
from bot.context import Context
from bot.events import Button, Reply
from bot.i18n import format_money

Renderer = Callable[[Context, Any], Reply]
RENDERERS: dict[str, Renderer] = {}


def renders(name: str) -> Callable[[Renderer], Renderer]:
    def register(func: Renderer) -> Renderer:
        RENDERERS[name] = func
        return func

    return register


def render(ctx: Context, name: str, result: BaseModel) -> Reply:
    renderer = RENDERERS.get(name)
    if renderer is None:
        return Reply(text=ctx.t("nlu_done", action=name), data=views.data_of(result))
    return renderer(ctx, result)


def _with_undo(ctx: Context, text: str, result: BaseModel) -> Reply:
    return Reply(text=text, buttons=views.undo_button(ctx), data=views.data_of(result))


@renders("log_interaction")
def _logged(ctx: Context, result: actions.LogResult) -> Reply:
    return views.log_reply(ctx, result)


@renders("create_reminder")
def _reminder(ctx: Context, view: actions.ReminderView) -> Reply:
    return Reply(
        text=ctx.t("reminder_created", when=ctx.when(view.due_at))
        + "\n"
        + views.reminder_line(ctx, view),
        buttons=views.reminder_buttons(ctx, view.id, undo=True),
        data=views.data_of(view),
    )


@renders("complete_reminder")
def _done(ctx: Context, view: actions.ReminderView) -> Reply:
    return _with_undo(ctx, ctx.t("reminder_done", id=view.id), view)


@renders("snooze_reminder")
def _snoozed(ctx: Context, view: actions.ReminderView) -> Reply:
    return _with_undo(ctx, ctx.t("reminder_snoozed", id=view.id, when=ctx.when(view.due_at)), view)


@renders("record_feedback")
def _feedback(ctx: Context, result: actions.FeedbackResult) -> Reply:
    key = "feedback_complaint" if result.status == "open" else "feedback_recorded"
    return _with_undo(ctx, ctx.t(key, name=result.customer_name), result)


@renders("record_order")
def _order(ctx: Context, result: actions.OrderResult) -> Reply:
    amount = format_money(result.amount, result.currency, ctx.lang)
    return _with_undo(
        ctx, ctx.t("order_recorded", name=result.customer_name, amount=amount), result
    )


@renders("create_customer")
def _created(ctx: Context, result: actions.CustomerCreated) -> Reply:
    return _with_undo(ctx, ctx.t("customer_created", name=result.name, id=result.id), result)


@renders("show_card")
def _card(ctx: Context, card: Any) -> Reply:
    return views.card_reply(ctx, card)


@renders("find_customers")
def _found(ctx: Context, result: actions.FindResult) -> Reply:
    return views.find_reply(ctx, result)


@renders("list_today")
def _today(ctx: Context, result: actions.TodayResult) -> Reply:
    return views.today_reply(ctx, result)


def combine(ctx: Context, replies: list[tuple[str, Reply]]) -> Reply:
    """Several changes from one message as one reply: their lines, their buttons, and one
    Undo at the end (undo reverts everything one message changed)."""
    if len(replies) == 1:
        return replies[0][1]
    undo = [Button(label=ctx.t("btn_undo"), payload="undo")]
    rows = [row for _, r in replies for row in r.buttons if row != undo]
    has_undo = any(undo in r.buttons for _, r in replies)
    return Reply(
        text="\n".join(r.text for _, r in replies),
        buttons=rows + ([undo] if has_undo else []),
        data={"actions": [{"action": name, **(r.data or {})} for name, r in replies]},
        private=any(r.private for _, r in replies),
    )
