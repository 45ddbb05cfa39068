"""What the bot asked in a chat and waits for, beyond the command grammar's customer pick:
the model's calls waiting for a customer choice, a draft waiting for its new text.

Same row as bot/conversation.py: one question open per chat, the newest one wins.
"""

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


async def save(ctx: Context, key: str, value: Any) -> None:
    async with ctx.transaction() as session:
        row = await _row(ctx, session) or ConversationState(
            staff_id=ctx.actor.staff_id, channel=ctx.incoming.channel, chat_id=ctx.incoming.chat_id
        )
        row.state = {key: value}
        row.updated_at = utcnow()
        session.add(row)


async def pop(ctx: Context, key: str) -> Any | None:
    """The value waiting under `key`, removed so a second press finds nothing."""
    async with ctx.transaction() as session:
        row = await _row(ctx, session)
        if row is None or key not in row.state:
            return None
        value = row.state[key]
        row.state = {}
        session.add(row)
        return value


async def peek(ctx: Context, key: str) -> Any | None:
    async with ctx.sessions() as session:
        row = await _row(ctx, session)
        return row.state.get(key) if row is not None else None
