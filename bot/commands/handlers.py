"""One function per command: parse the arguments, call an action, word the result."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot import actions, segment_actions, segment_views, views
from bot.commands.errors import BadWhen, Usage
from bot.commands.grammar import ALIASES, segment_ref, split_colon
from bot.commands.infer import interaction_kind
from bot.commands.newcustomer import parse_new_customer
from bot.commands.resolve import resolve_customer
from bot.context import Context
from bot.conversation import pop_pending, save_pending
from bot.events import Reply
from bot.i18n import feature_help, format_money, t
from bot.when import find_when, parse_when
from crm_core.normalize import parse_amount

Handler = Callable[[Context, str, int | None], Awaitable[list[Reply]]]
ButtonHandler = Callable[[Context, str], Awaitable[list[Reply]]]
HANDLERS: dict[str, Handler] = {}
# Buttons carry short payloads "verb:arg" (Telegram allows 64 bytes); one handler per verb.
BUTTONS: dict[str, ButtonHandler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    assert name in ALIASES, name

    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func

    return register


def button(verb: str) -> Callable[[ButtonHandler], ButtonHandler]:
    def register(func: ButtonHandler) -> ButtonHandler:
        BUTTONS[verb] = func
        return func

    return register


def when_or_fail(ctx: Context, text: str) -> datetime:
    moment = parse_when(text, now=ctx.now)
    if moment is None:
        raise BadWhen(text)
    return moment


async def customer_or_choice(
    ctx: Context, *, command: str, ref: str, rest: str, picked: int | None
) -> int | list[Reply]:
    """The customer the person means, or a question with one button per candidate."""
    if picked is not None:
        return picked
    resolved = await resolve_customer(ctx, ref)
    if isinstance(resolved, int):
        return resolved
    await save_pending(ctx, command=command, rest=rest)
    return [
        Reply(
            text=ctx.t("pick_customer", ref=resolved.ref), buttons=views.pick_buttons(resolved.hits)
        )
    ]


@command("find")
async def find(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    if not rest:
        raise Usage("find")
    result = await actions.find_customers(ctx, actions.FindArgs(query=rest))
    return [views.find_reply(ctx, result)]


@command("card")
async def card(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    if not rest and picked is None:
        raise Usage("card")
    cid = await customer_or_choice(ctx, command="card", ref=rest, rest=rest, picked=picked)
    if isinstance(cid, list):
        return cid
    result = await actions.show_card(ctx, actions.CustomerRef(customer_id=cid))
    return [views.card_reply(ctx, result)]


@command("new")
async def new(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    data = parse_new_customer(rest)
    if data is None:
        raise Usage("new")
    created = await actions.create_customer(ctx, data)
    contact = " · ".join([*created.phones, *created.emails])
    return [
        Reply(
            text=ctx.t("customer_created", name=created.name, id=created.id)
            + (f"\n{contact}" if contact else ""),
            buttons=views.undo_button(ctx),
            data=views.data_of(created),
        )
    ]


@command("log")
async def log(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    parts = split_colon(rest)
    if parts is None:
        raise Usage("log")
    ref, text = parts
    cid = await customer_or_choice(ctx, command="log", ref=ref, rest=rest, picked=picked)
    if isinstance(cid, list):
        return cid
    follow_up = find_when(text, now=ctx.now)
    result = await actions.log_interaction(
        ctx,
        actions.LogArgs(
            customer_id=cid,
            summary=text,
            kind=interaction_kind(text),
            follow_up_at=follow_up[0] if follow_up else None,
        ),
    )
    return [views.log_reply(ctx, result)]


def split_ref_and_when(ctx: Context, head: str) -> tuple[str, datetime]:
    """ "Jane Smith next Friday 10am" -> ("Jane Smith", <Fri 10:00>): the longest WHEN wins."""
    words = head.split()
    for i in range(len(words)):
        moment = parse_when(" ".join(words[i:]), now=ctx.now)
        if moment is not None:
            return " ".join(words[:i]), moment
    raise BadWhen(head)


@command("remind")
async def remind(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    parts = split_colon(rest)
    if parts is None:
        raise Usage("remind")
    head, what = parts
    ref, due_at = split_ref_and_when(ctx, head)
    if picked is None and (segment := segment_ref(ref)) is not None:
        created = await segment_actions.remind_segment(
            ctx, segment_actions.RemindSegmentArgs(segment=segment, due_at=due_at, text=what)
        )
        return [segment_views.reminders_reply(ctx, created)]
    customer_id: int | None = None
    if ref or picked is not None:
        cid = await customer_or_choice(ctx, command="remind", ref=ref, rest=rest, picked=picked)
        if isinstance(cid, list):
            return cid
        customer_id = cid
    view = await actions.create_reminder(
        ctx, actions.RemindArgs(due_at=due_at, text=what, customer_id=customer_id)
    )
    return [
        Reply(
            text=ctx.t("reminder_created", when=ctx.when(view.due_at))
            + "\n"
            + views.reminder_line(ctx, view),
            buttons=views.reminder_buttons(ctx, view.id, undo=True),
            data=views.data_of(view),
        )
    ]


@command("today")
async def today(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    result = await actions.list_today(ctx, actions.NoArgs())
    return [views.today_reply(ctx, result)]


def reminder_id(text: str, command_name: str) -> int:
    match = re.fullmatch(r"#?(\d+)", text.strip())
    if match is None:
        raise Usage(command_name)
    return int(match[1])


@command("done")
async def done(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    first, _, outcome = rest.partition(" ")
    view = await actions.complete_reminder(
        ctx,
        actions.ReminderRef(
            reminder_id=reminder_id(first, "done"), outcome=outcome.strip() or None
        ),
    )
    return [
        Reply(
            text=ctx.t("reminder_done", id=view.id),
            buttons=views.undo_button(ctx),
            data=views.data_of(view),
        )
    ]


SNOOZE_SHORTCUTS = {"1d": timedelta(days=1), "1w": timedelta(weeks=1)}


@command("snooze")
async def snooze(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    first, _, when_text = rest.partition(" ")
    rid = reminder_id(first, "snooze")
    when_text = when_text.strip() or "1d"
    shortcut = SNOOZE_SHORTCUTS.get(when_text)
    until = ctx.now + shortcut if shortcut else when_or_fail(ctx, when_text)
    view = await actions.snooze_reminder(ctx, actions.SnoozeArgs(reminder_id=rid, until=until))
    return [
        Reply(
            text=ctx.t("reminder_snoozed", id=view.id, when=ctx.when(view.due_at)),
            buttons=views.undo_button(ctx),
            data=views.data_of(view),
        )
    ]


def split_score(head: str) -> tuple[str, int | None]:
    """ "张伟 9" -> ("张伟", 9); a trailing number 0-10 is the score."""
    match = re.fullmatch(r"(.+?)\s+(\d{1,2})(?:/10|分)?", head.strip())
    if match and int(match[2]) <= 10:
        return match[1], int(match[2])
    return head.strip(), None


@command("feedback")
async def feedback(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    parts = split_colon(rest)
    head, text = parts if parts else (rest, "")
    ref, score = split_score(head)
    if not ref or (score is None and not text):
        raise Usage("feedback")
    cid = await customer_or_choice(ctx, command="feedback", ref=ref, rest=rest, picked=picked)
    if isinstance(cid, list):
        return cid
    result = await actions.record_feedback(
        ctx, actions.FeedbackArgs(customer_id=cid, text=text, score=score)
    )
    key = "feedback_complaint" if result.status == "open" else "feedback_recorded"
    return [
        Reply(
            text=ctx.t(key, name=result.customer_name),
            buttons=views.undo_button(ctx),
            data=views.data_of(result),
        )
    ]


@command("order")
async def order(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    words = rest.split()
    for i, word in enumerate(words):
        amount = parse_amount(word)
        if amount is not None and i >= 1:
            break
    else:
        raise Usage("order")
    ref, items_text = " ".join(words[:i]), " ".join(words[i + 1 :])
    items = [x.strip() for x in re.split(r"[,，、;；]", items_text) if x.strip()]
    cid = await customer_or_choice(ctx, command="order", ref=ref, rest=rest, picked=picked)
    if isinstance(cid, list):
        return cid
    result = await actions.record_order(
        ctx, actions.OrderArgs(customer_id=cid, amount=amount[0], currency=amount[1], items=items)
    )
    return [
        Reply(
            text=ctx.t(
                "order_recorded",
                name=result.customer_name,
                amount=format_money(result.amount, result.currency, ctx.lang),
            ),
            buttons=views.undo_button(ctx),
            data=views.data_of(result),
        )
    ]


@command("undo")
async def undo(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    result = await actions.undo(ctx, actions.NoArgs())
    if not result.undone:
        return [Reply(text=ctx.t("undo_nothing"), data=views.data_of(result))]
    return [
        Reply(
            text=ctx.t("undo_done", what=views.undone_what(ctx, result)), data=views.data_of(result)
        )
    ]


@command("help")
async def help_(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    return [Reply(text="\n\n".join([ctx.t("help"), *feature_help(ctx.lang)]))]


@command("lang")
async def lang(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    choice = {"zh": "zh", "中文": "zh", "cn": "zh", "en": "en", "english": "en", "英文": "en"}
    language = choice.get(rest.strip().casefold())
    if language is None:
        raise Usage("lang")
    await actions.set_language(ctx, actions.LanguageArgs(language=language))
    return [Reply(text=t(language, "lang_set"))]


@command("link")
async def link(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    return [Reply(text=ctx.t("already_linked", name=ctx.actor.name))]


@button("pick")
async def press_pick(ctx: Context, arg: str) -> list[Reply]:
    """A customer chosen for the command that asked "which one?"."""
    pending = await pop_pending(ctx)
    if pending is None:
        return [Reply(text=ctx.t("pick_expired"))]
    return await HANDLERS[pending["command"]](ctx, pending["rest"], int(arg))


@button("card")
async def press_card(ctx: Context, arg: str) -> list[Reply]:
    return await card(ctx, "", int(arg))


@button("done")
async def press_done(ctx: Context, arg: str) -> list[Reply]:
    return await done(ctx, arg, None)


@button("snooze")
async def press_snooze(ctx: Context, arg: str) -> list[Reply]:
    reminder, _, span = arg.partition(":")
    return await snooze(ctx, f"{reminder} {span}", None)


@button("undo")
async def press_undo(ctx: Context, arg: str) -> list[Reply]:
    return await undo(ctx, "", None)
