"""What every front door is: it starts, stops, and can send Replies (bot.delivery.Outbox)."""

from __future__ import annotations

from typing import Protocol

from bot.events import Reply


class FrontDoor(Protocol):
    channel: str

    async def start(self) -> None:
        """Begin receiving; must not block (run loops in tasks)."""
        ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply) -> str | None: ...
