"""Voice notes: fetched through the channel's front door, transcribed by the endpoint's audio
API, then handled as if the person had typed the words. Without a fetcher or a model the
caller keeps the old answer (the file reference stays in the inbox either way)."""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlmodel import select

from bot import llm_calls
from bot.attachments import AttachmentFetcher
from bot.context import Context
from bot.events import Attachment, Reply
from bot.llm import LlmUnavailable
from crm_core.models import InboxMessage

log = logging.getLogger(__name__)

AUDIO_KINDS = ("voice", "audio")
DEFAULT_NAMES = {"audio/ogg": "voice.ogg", "audio/mpeg": "voice.mp3", "audio/mp4": "voice.m4a"}


def _voice(ctx: Context) -> Attachment | None:
    return next((a for a in ctx.incoming.attachments if a.kind in AUDIO_KINDS), None)


async def transcribed(ctx: Context, fetchers: dict[str, AttachmentFetcher]) -> Context | None:
    """A Context whose Incoming carries the transcript as text; None when it cannot be had."""
    attachment = _voice(ctx)
    fetcher = fetchers.get(ctx.incoming.channel)
    if attachment is None or fetcher is None or ctx.llm is None:
        return None
    try:
        audio = await fetcher.fetch(attachment)
    except Exception:  # the front door's download failed: tell the person, keep the reference
        log.exception("could not fetch %s attachment %s", ctx.incoming.channel, attachment.file_id)
        return None
    name = attachment.file_name or DEFAULT_NAMES.get(attachment.mime_type or "", "voice.ogg")
    try:
        words = await llm_calls.transcribe(
            ctx, audio, file_name=name, mime_type=attachment.mime_type
        )
    except LlmUnavailable as exc:
        log.warning("transcription failed: %s", exc)
        return None
    if not words:
        return None
    await _keep_transcript(ctx, words)
    return replace(ctx, incoming=ctx.incoming.model_copy(update={"text": words}))


async def _keep_transcript(ctx: Context, words: str) -> None:
    """The inbox row gets the words too; the payload still holds the file reference."""
    async with ctx.transaction() as session:
        row = (
            await session.exec(
                select(InboxMessage).where(
                    InboxMessage.channel == ctx.incoming.channel,
                    InboxMessage.message_id == ctx.incoming.message_id,
                )
            )
        ).first()
        if row is not None:
            row.text = words
            session.add(row)


def with_transcript(ctx: Context, replies: list[Reply]) -> list[Reply]:
    """Show what was heard above the answer, so a misheard word is noticed."""
    heard = ctx.t("voice_heard", text=ctx.incoming.text or "")
    if not replies:
        return [Reply(text=heard)]
    first = replies[0]
    return [first.model_copy(update={"text": heard + "\n" + first.text}), *replies[1:]]
