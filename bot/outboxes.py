"""Where an unprompted message goes: a staff member's private chat, or a team's channel."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery import Outbox
from crm_core.models import Channel, Staff, StaffIdentity, Team

# A reminder goes to the first of these the owner is linked on and we can send through.
PREFERENCE = (Channel.TELEGRAM.value, Channel.SLACK.value, Channel.CONSOLE.value)


async def identities_of(session: AsyncSession, staff_ids: set[int]) -> dict[int, dict[str, str]]:
    """staff id -> channel -> their chat id on it (private chats are keyed by the user id)."""
    found: dict[int, dict[str, str]] = {}
    if not staff_ids:
        return found
    stmt = select(StaffIdentity).where(col(StaffIdentity.staff_id).in_(staff_ids))
    for identity in (await session.exec(stmt)).all():
        found.setdefault(identity.staff_id, {})[identity.channel.value] = identity.external_id
    return found


def private_chat(
    staff: Staff, identities: Mapping[str, str], outboxes: Mapping[str, Outbox]
) -> tuple[Outbox, str] | None:
    """The outbox and chat to reach `staff` privately, by PREFERENCE; None if unreachable.

    The console is one terminal for everyone, so there the staff member's name stands in.
    """
    for channel in PREFERENCE:
        outbox = outboxes.get(channel)
        if outbox is None:
            continue
        if channel in identities:
            return outbox, identities[channel]
        if channel == Channel.CONSOLE.value:
            return outbox, staff.name
    return None


def team_chat(team: Team, outboxes: Mapping[str, Outbox]) -> tuple[Outbox, str] | None:
    """The team's subscribed channel ("telegram:-100123", "slack:C0123"); the console
    stands in for a team without one when the console is all there is."""
    if team.digest_channel:
        channel, _, chat_id = team.digest_channel.partition(":")
        outbox = outboxes.get(channel)
        if outbox is not None and chat_id:
            return outbox, chat_id
        return None
    console = outboxes.get(Channel.CONSOLE.value)
    return (console, f"team:{team.name}") if console is not None else None
