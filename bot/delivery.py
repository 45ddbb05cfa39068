"""Sending to people unprompted (reminders, digests): what the core asks of a front door."""

from __future__ import annotations

from typing import Protocol

from bot.events import Reply


class DeliveryError(Exception):
    """The platform refused or failed; `retry_after` (seconds) when it said when to retry."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Outbox(Protocol):
    """A front door's sending side. `chat_id` is a platform chat: a private chat with a staff
    member (their identity's external id) or a group/channel."""

    channel: str

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        """Deliver `reply`; return the platform's message id. Raise DeliveryError on failure."""
        ...
