"""/report (/报表), /pin (/订阅) and /segment (/分群)."""

from __future__ import annotations

import re

from sqlmodel import select

from bot import report_actions
from bot.actions import NoArgs
from bot.commands.errors import Usage
from bot.commands.grammar import parse_command, split_colon
from bot.commands.handlers import button, command
from bot.context import Context
from bot.events import Button, Reply
from bot.report_customers import PICK_VERB, AmbiguousCustomer, which_customer
from bot.report_narrative import model_narrative
from bot.report_questions import question_to_query, understand
from bot.report_view import ReportWords, definition_line, is_private, narrative, report_reply
from bot.segment_parser import parse_segment
from bot.views import data_of
from crm_core.analytics.catalogue import Dimension
from crm_core.analytics.segments import SegmentDefinition
from crm_core.errors import InvalidInput
from crm_core.models import Cadence, InboxMessage, Role
from crm_core.reports import ReportResult

CADENCE_WORDS = {
    "daily": Cadence.DAILY,
    "每天": Cadence.DAILY,
    "每日": Cadence.DAILY,
    "weekly": Cadence.WEEKLY,
    "每周": Cadence.WEEKLY,
    "monthly": Cadence.MONTHLY,
    "每月": Cadence.MONTHLY,
}
LIST_WORDS = {"list", "列表", "查看", "ls"}
REMOVE_WORDS = {"remove", "delete", "off", "取消", "删除"}


def examples(ctx: Context) -> list[Reply]:
    return [Reply(text=ctx.t("report_examples"))]


def pin_buttons(ctx: Context) -> list[list[Button]]:
    """Pin buttons under a report, for those who may pin (the payload names this message,
    whose text the inbox keeps)."""
    if ctx.actor.role not in (Role.MANAGER, Role.ADMIN) or ctx.actor.team_id is None:
        return []
    ref = ctx.incoming.message_id
    if len(f"pin:monthly:{ref}".encode()) > 64:  # Telegram's callback data limit
        return []
    return [
        [Button(label=ctx.t(f"btn_pin_{c.value}"), payload=f"pin:{c.value}:{ref}") for c in Cadence]
    ]


@command("report")
async def report(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    """Answer a question about the numbers, with a table, a chart and the definitions."""
    if not rest:
        return examples(ctx)
    return await answer_question(ctx, rest, picked) or examples(ctx)


async def answer_question(
    ctx: Context, question: str, picked: int | None, *, use_model: bool = True
) -> list[Reply] | None:
    """The report for `question`, a "which customer?" question, or None when the question
    is not understood. `use_model=False`: the parser and the template only (the model is
    known to be down, or not wanted)."""
    model = use_model and ctx.llm is not None
    try:
        if model:
            query = await understand(ctx, question, picked=picked)
        else:
            query = await question_to_query(ctx, question, picked=picked)
    except AmbiguousCustomer as ambiguous:
        return [which_customer(ctx, ambiguous)]
    if query is None:
        return None
    try:
        result = await report_actions.run_report(ctx, query)
    except InvalidInput as error:
        if "metric" not in error.params:
            raise
        # Name the metric in the person's words, not by its code.
        metric = ctx.t(f"report_metric_{error.params['metric']}")
        return [Reply(text=ctx.t(error.code, **{**error.params, "metric": metric}))]
    return [await answer_reply(ctx, question, result, narrate=model)]


async def answer_reply(
    ctx: Context, question: str, result: ReportResult, *, narrate: bool = True
) -> Reply:
    """The report as a reply: table, chart, definitions; the narrative worded by the model
    when one is configured (and `narrate`) and its figures check out, else by the template."""
    buttons = [] if is_private(result) else pin_buttons(ctx)
    reply = await report_reply(result, lang=ctx.lang, buttons=buttons)
    if narrate and ctx.llm is not None:
        words = ReportWords(result, ctx.lang)
        definition = definition_line(words)
        worded = await model_narrative(
            ctx,
            question=question,
            draft=narrative(words),
            definition=definition,
            table=reply.table,
        )
        if worded is not None:
            reply.text = f"{worded}\n{definition}"
    return reply


async def _pin(ctx: Context, cadence: Cadence, question: str) -> list[Reply]:
    try:
        query = await understand(ctx, question)
    except AmbiguousCustomer:
        return [Reply(text=ctx.t("pin_private_customer"))]
    if query is None:
        return examples(ctx)
    if Dimension.CUSTOMER in query.dimensions:
        return [Reply(text=ctx.t("pin_private"))]
    if query.filters.customer_ids:
        return [Reply(text=ctx.t("pin_private_customer"))]
    view = await report_actions.pin_report(
        ctx, report_actions.PinArgs(question=question, query=query, cadence=cadence)
    )
    text = ctx.t(
        "pin_created",
        id=view.id,
        question=view.question,
        cadence=ctx.t(f"pin_cadence_{view.cadence}"),
        when=ctx.when(view.next_due_at),
    )
    if not view.channel:
        text += ctx.t("pin_no_channel")
    return [Reply(text=text, data=data_of(view))]


@command("pin")
async def pin(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    """/pin weekly QUESTION · /pin list · /pin remove N"""
    first, _, tail = rest.strip().partition(" ")
    word = first.casefold()
    if not rest or word in LIST_WORDS:
        found = await report_actions.list_pins(ctx, NoArgs())
        if not found.pins:
            return [Reply(text=ctx.t("pin_list_empty"))]
        lines = [ctx.t("pin_list_header")] + [
            ctx.t(
                "pin_line",
                id=p.id,
                cadence=ctx.t(f"pin_cadence_{p.cadence}"),
                question=p.question,
                when=ctx.when(p.next_due_at),
            )
            for p in found.pins
        ]
        return [Reply(text="\n".join(lines), data=data_of(found))]
    if word in REMOVE_WORDS:
        match = re.fullmatch(r"#?(\d+)", tail.strip())
        if match is None:
            raise Usage("pin")
        view = await report_actions.unpin_report(ctx, report_actions.PinRef(pin_id=int(match[1])))
        return [Reply(text=ctx.t("pin_removed", id=view.id), data=data_of(view))]
    cadence = CADENCE_WORDS.get(word)
    if cadence is None or not tail.strip():
        raise Usage("pin")
    return await _pin(ctx, cadence, tail.strip())


async def asked_question(ctx: Context, message_id: str) -> str | None:
    """The question of the /report message `message_id` this person sent (the inbox keeps
    its text), so a button under the answer can name it in 64 bytes."""
    async with ctx.transaction() as session:
        stmt = select(InboxMessage).where(
            InboxMessage.channel == ctx.incoming.channel,
            InboxMessage.message_id == message_id,
            InboxMessage.staff_id == ctx.actor.staff_id,
        )
        asked = (await session.exec(stmt)).first()
    if asked is None or not asked.text:
        return None
    # The report answered a /report command, or a question asked in plain words.
    parsed = parse_command(asked.text)
    return parsed.rest if parsed is not None and parsed.name == "report" else asked.text


@button("pin")
async def press_pin(ctx: Context, arg: str) -> list[Reply]:
    """A pin button under a report: pin the question that report answered."""
    cadence_word, _, message_id = arg.partition(":")
    question = await asked_question(ctx, message_id)
    if question is None or cadence_word not in set(Cadence):
        return [Reply(text=ctx.t("pick_expired"))]
    return await _pin(ctx, Cadence(cadence_word), question)


@button(PICK_VERB)
async def press_report_for(ctx: Context, arg: str) -> list[Reply]:
    """ "Which 张伟?" answered: the question asked again, for the customer picked."""
    customer, _, message_id = arg.partition(":")
    question = await asked_question(ctx, message_id)
    if question is None or not customer.isdigit():
        return [Reply(text=ctx.t("pick_expired"))]
    return await report(ctx, question, int(customer))


def describe_segment(ctx: Context, definition: SegmentDefinition) -> str:
    parts = []
    for name, value in definition.model_dump(exclude_defaults=True, mode="json").items():
        if isinstance(value, list):
            if name == "tiers":
                value = [ctx.t(f"tier_{v}") for v in value]
            parts.append(ctx.t(f"segment_{name}", values="/".join(str(v) for v in value)))
        else:
            parts.append(ctx.t(f"segment_{name}", n=value))
    return ", ".join(parts)


@command("segment")
async def segment(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    """/segment NAME: CONDITIONS saves a segment; /segment alone lists them."""
    if not rest.strip():
        found = await report_actions.list_segments(ctx, NoArgs())
        if not found.segments:
            return [Reply(text=ctx.t("segment_list_empty"))]
        lines = [ctx.t("segment_list_header")] + [
            ctx.t("segment_line", name=s.name, definition=describe_segment(ctx, s.definition))
            for s in found.segments
        ]
        return [Reply(text="\n".join(lines), data=data_of(found))]
    parts = split_colon(rest)
    if parts is None:
        raise Usage("segment")
    name, conditions = parts
    async with ctx.transaction() as session:
        vocab = await report_actions.load_vocabulary(session, ctx.actor)
    definition = parse_segment(conditions, vocab)
    view = await report_actions.save_segment(
        ctx, report_actions.SegmentArgs(name=name.strip(), definition=definition)
    )
    text = ctx.t("segment_saved", name=view.name, count=view.count)
    return [Reply(text=f"{text}\n{describe_segment(ctx, view.definition)}", data=data_of(view))]
