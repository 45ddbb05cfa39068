"""Buttons on care reminders and the daily list: Done / Log outcome (ask for a one-line
outcome, stored as an interaction), Not relevant, Claim; and the answer to that question."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.commands.handlers import button
from bot.commands.infer import interaction_kind
from bot.context import Context
from bot.events import Reply
from crm_core import interactions, reminders
from crm_core.care.claims import claim_reminder
from crm_core.clock import utcnow
from crm_core.models import ConversationState

# An unanswered "what happened?" lapses: later free text means something else.
OUTCOME_WAIT = timedelta(hours=12)
_KEY = "care_outcome"


async def _state(ctx: Context, session: object) -> ConversationState | None:
    stmt = select(ConversationState).where(
        ConversationState.staff_id == ctx.actor.staff_id,
        ConversationState.channel == ctx.incoming.channel,
        ConversationState.chat_id == ctx.incoming.chat_id,
    )
    return (await session.exec(stmt)).first()  # type: ignore[attr-defined]


async def _ask_outcome(ctx: Context, arg: str) -> list[Reply]:
    rid = int(arg)
    async with ctx.transaction() as session:
        reminder = await reminders.get_reminder(session, ctx.actor, rid)
        if reminder.status not in reminders.ACTIVE:
            return [Reply(text=ctx.t("reminder_closed", ref=rid, status=reminder.status.value))]
        row = await _state(ctx, session) or ConversationState(
            staff_id=ctx.actor.staff_id, channel=ctx.incoming.channel, chat_id=ctx.incoming.chat_id
        )
        row.state = {**row.state, _KEY: {"reminder_id": rid}}
        row.updated_at = utcnow()
        session.add(row)
    return [Reply(text=ctx.t("care_ask_outcome", id=rid))]


@button("care_done")
async def press_done(ctx: Context, arg: str) -> list[Reply]:
    """Done: one line on how it went, then the reminder closes."""
    return await _ask_outcome(ctx, arg)


@button("care_log")
async def press_log(ctx: Context, arg: str) -> list[Reply]:
    return await _ask_outcome(ctx, arg)


@button("care_skip")
async def press_skip(ctx: Context, arg: str) -> list[Reply]:
    """Not relevant: cancelled, kept for the record."""
    async with ctx.transaction() as session:
        reminder = await reminders.cancel_reminder(
            session=session, actor=ctx.actor, reminder_id=int(arg)
        )
        reminder.outcome = ctx.t("care_not_relevant")
        session.add(reminder)
    return [Reply(text=ctx.t("care_skipped", id=arg))]


@button("claim")
async def press_claim(ctx: Context, arg: str) -> list[Reply]:
    """Claim an item of the team's list: it becomes the presser's."""
    async with ctx.transaction() as session:
        reminder = await claim_reminder(session=session, actor=ctx.actor, reminder_id=int(arg))
    return [Reply(text=ctx.t("care_claimed", id=arg, name=ctx.actor.name, text=reminder.text))]


async def take_outcome(ctx: Context) -> list[Reply] | None:
    """If this chat owes a reminder's outcome, this plain text is it: logged as an
    interaction (restarting the stay-in-touch cadence) and the reminder is done.
    None when nothing is awaited."""
    text = (ctx.incoming.text or "").strip()
    async with ctx.transaction() as session:
        row = await _state(ctx, session)
        waiting = row.state.get(_KEY) if row else None
        if row is None or waiting is None or not text:
            return None
        row.state = {k: v for k, v in row.state.items() if k != _KEY}
        session.add(row)
        if row.updated_at < utcnow() - OUTCOME_WAIT:
            return None
        reminder = await reminders.complete_reminder(
            session=session, actor=ctx.actor, reminder_id=waiting["reminder_id"], outcome=text
        )
        if reminder.customer_id is not None:
            await interactions.log_interaction(
                session=session,
                actor=ctx.actor,
                customer_id=reminder.customer_id,
                data=interactions.InteractionCreate(
                    summary=text,
                    kind=interaction_kind(text),
                    outcome=text,
                    raw_text=text,
                    channel=ctx.actor.channel,
                ),
            )
    return [Reply(text=ctx.t("care_outcome_saved", id=reminder.id))]
