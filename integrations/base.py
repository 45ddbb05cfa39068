"""What every front door is: it starts, stops, and can send Replies (bot.delivery.Outbox)."""

from __future__ import annotations

from typing import Protocol

from bot.events import Incoming, Reply


class FrontDoor(Protocol):
    channel: str
    # Its name among `crmbot run`'s services (integrations.runner.Service).
    name: str

    async def start(self) -> None:
        """Begin receiving; must not block (run loops in tasks)."""
        ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply) -> str | None: ...

    async def answer(self, incoming: Incoming, replies: list[Reply]) -> None:
        """Send the replies to `incoming` where it came from (private ones privately)."""
        ...
