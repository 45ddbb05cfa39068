"""Getting the bytes of an attachment (voice note, photo, document) from its front door.

A front door that receives files registers a fetcher for its channel on the Assistant;
features that read files (voice transcription, imports) ask through it.
"""

from __future__ import annotations

from typing import Protocol

from bot.events import Attachment


class AttachmentFetcher(Protocol):
    async def fetch(self, attachment: Attachment) -> bytes:
        """The file's content. Raise on failure; the caller tells the person."""
        ...
