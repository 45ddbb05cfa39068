"""What Telegram and Slack share: where a reply goes, chat ordering, commands without a slash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.commands.grammar import ALIASES
from bot.events import Incoming, Reply

_ALIAS_WORDS = {alias.casefold() for aliases in ALIASES.values() for alias in aliases}


# Pressing one of these uses up buttons of the message it was on, so they are taken off and
# cannot be pressed twice: a reminder's row after Done or Snooze, a question after its answer.
_SPENT_ROW = {"done", "snooze"}
# The LLM's "which customer?" question and a draft's Send/Discard are answered once too.
_SPENT_ALL = {"pick", "undo", "nlupick", "nlunew", "draft_send", "draft_discard", "reportfor"}


def spent_by(payload: str) -> str | None:
    """ "row", "all" or None: what pressing a button with this payload uses up."""
    verb = payload.partition(":")[0]
    return "row" if verb in _SPENT_ROW else "all" if verb in _SPENT_ALL else None


def destination(incoming: Incoming, reply: Reply) -> str:
    """The chat a reply goes to: personal details asked in a group go to the sender's
    private chat (on both platforms the sender's user id addresses it)."""
    if incoming.is_group and reply.private:
        return incoming.sender_id
    return incoming.chat_id


def as_command(text: str) -> str:
    """ "find 张伟" -> "/find 张伟": where a leading slash cannot be typed (Slack takes it for
    its own slash commands) or is left out, a known command word still counts."""
    stripped = text.strip()
    if not stripped or stripped[0] in "/／":
        return stripped
    first = stripped.split(maxsplit=1)[0].rstrip(":：").casefold()
    return "/" + stripped if first in _ALIAS_WORDS else stripped


class ChatLocks:
    """One lock per chat: messages of one chat are answered in order (a pick follows its
    question), different chats concurrently."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, chat: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._users[chat] = self._users.get(chat, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[chat] -= 1
            if not self._users[chat]:
                del self._users[chat], self._locks[chat]
