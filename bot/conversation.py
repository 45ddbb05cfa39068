"""Per-chat conversation state: what the bot asked and is waiting for."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.context import Context
from crm_core.clock import utcnow
from crm_core.models import ConversationState


async def _row(ctx: Context, session: Any) -> ConversationState | None:
    stmt = select(ConversationState).where(
        ConversationState.staff_id == ctx.actor.staff_id,
        ConversationState.channel == ctx.incoming.channel,
        ConversationState.chat_id == ctx.incoming.chat_id,
    )
    return (await session.exec(stmt)).first()


async def save_pending(ctx: Context, *, command: str, rest: str) -> None:
    """Remember a command waiting for the person to pick a customer."""
    async with ctx.transaction() as session:
        row = await _row(ctx, session) or ConversationState(
            staff_id=ctx.actor.staff_id, channel=ctx.incoming.channel, chat_id=ctx.incoming.chat_id
        )
        row.state = {"pending": {"command": command, "rest": rest}}
        row.updated_at = utcnow()
        session.add(row)


async def pop_pending(ctx: Context) -> dict[str, str] | None:
    async with ctx.transaction() as session:
        row = await _row(ctx, session)
        if row is None or "pending" not in row.state:
            return None
        pending = row.state["pending"]
        row.state = {}
        session.add(row)
        return dict(pending)
