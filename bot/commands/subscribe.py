"""/subscribe (/订阅): a manager makes the current group the team's digest channel."""

from __future__ import annotations

from bot.commands.handlers import command
from bot.context import Context
from bot.events import Reply
from crm_core.staff import set_digest_channel


@command("subscribe")
async def subscribe(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    """Daily follow-up lists go to the group or channel this is sent in."""
    if not ctx.incoming.is_group:
        return [Reply(text=ctx.t("subscribe_not_group"))]
    target = f"{ctx.incoming.channel}:{ctx.incoming.chat_id}"
    async with ctx.transaction() as session:
        team = await set_digest_channel(session, actor=ctx.actor, channel=target)
    return [Reply(text=ctx.t("subscribe_done", team=team.name), data={"digest_channel": target})]
