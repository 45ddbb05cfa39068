"""The Assistant: store the Incoming, know the sender, run the command, return Replies."""

from __future__ import annotations

import logging

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import nlu, nlu_resume, voice  # noqa: F401  (nlu_resume registers buttons)
from bot.attachments import AttachmentFetcher
from bot.commands.care import take_outcome
from bot.commands.grammar import parse_command
from bot.commands.handlers import BUTTONS, HANDLERS
from bot.commands.importing import handle_import_file, table_attachment
from bot.context import Context
from bot.events import Incoming, Reply
from bot.i18n import normalize_language, t
from bot.llm import Llm
from bot.when import EXAMPLES_EN, EXAMPLES_ZH
from crm_core.access import Actor
from crm_core.clock import utcnow
from crm_core.db import single_statement_sessions
from crm_core.errors import CrmError
from crm_core.models import Channel, InboxMessage, InboxStatus, Staff
from crm_core.settings import get_settings
from crm_core.staff import link_by_email, redeem_invite, staff_for_identity

log = logging.getLogger(__name__)
_INBOX = InboxMessage.__table__  # type: ignore[attr-defined]


class Assistant:
    """Channel-neutral conversation core. Front doors turn platform updates into Incoming."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], llm: Llm | None = None) -> None:
        self.sessions = sessions
        # The language model from CRM_LLM_* settings, if any; None keeps every path deterministic.
        self.llm = llm if llm is not None else Llm.from_settings(get_settings())
        # channel -> how to download that channel's attachments (registered by front doors)
        self.fetchers: dict[str, AttachmentFetcher] = {}

    def register_fetcher(self, channel: str, fetcher: AttachmentFetcher) -> None:
        self.fetchers[channel] = fetcher

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer `incoming` once: a redelivered message id gets no second answer."""
        stored = await self._store(incoming)
        if stored is None:
            log.info("duplicate %s message %s ignored", incoming.channel, incoming.message_id)
            return []
        inbox_id, staff = stored
        return await self._process(inbox_id, incoming, staff)

    async def accept(self, incoming: Incoming) -> int | None:
        """Store `incoming` without processing it; its inbox id, or None when already stored.

        For front doors that must confirm receipt to the platform before processing
        (Telegram's offset, Slack's ack): store, confirm, then `process`.
        """
        stored = await self._store(incoming)
        if stored is None:
            log.info("duplicate %s message %s ignored", incoming.channel, incoming.message_id)
            return None
        return stored[0]

    async def process(self, inbox_id: int, incoming: Incoming) -> list[Reply]:
        """Answer a message that `accept` stored."""
        return await self._process(inbox_id, incoming, await self._sender(incoming))

    async def _sender(self, incoming: Incoming) -> Staff | None:
        async with self.sessions() as session:
            return await staff_for_identity(
                session, channel=incoming.channel, external_id=incoming.sender_id
            )

    async def replay_unprocessed(self) -> list[tuple[Incoming, list[Reply]]]:
        """Process messages stored but never handled (the process died in between)."""
        async with self.sessions() as session:
            rows = (
                await session.exec(
                    select(InboxMessage)
                    .where(InboxMessage.status == InboxStatus.RECEIVED)
                    .order_by(col(InboxMessage.id))
                )
            ).all()
        done = []
        for row in rows:
            assert row.id is not None
            incoming = Incoming.model_validate(row.payload)
            done.append(
                (incoming, await self._process(row.id, incoming, await self._sender(incoming)))
            )
        return done

    async def _store(self, incoming: Incoming) -> tuple[int, Staff | None] | None:
        """Write the message to the inbox and look up its sender in one short transaction;
        None when this message id was stored before (a redelivery)."""
        row = InboxMessage(
            channel=incoming.channel,
            message_id=incoming.message_id,
            sender_id=incoming.sender_id,
            chat_id=incoming.chat_id,
            text=incoming.text,
            payload=incoming.model_dump(mode="json"),
        )
        # A Core INSERT (the ORM unit of work cost more than the insert itself), committed by
        # itself on SQLite; the sender lookup after it needs no transaction of its own.
        values = row.model_dump(exclude={"id"})
        try:
            async with single_statement_sessions(self.sessions)() as session, session.begin():
                conn = await session.connection()
                inserted = await conn.execute(insert(_INBOX), values)
                staff = await staff_for_identity(
                    session, channel=incoming.channel, external_id=incoming.sender_id
                )
        except IntegrityError:
            return None
        return inserted.inserted_primary_key[0], staff

    async def _process(self, inbox_id: int, incoming: Incoming, staff: Staff | None) -> list[Reply]:
        staff_id: int | None = None
        try:
            greeting: list[Reply] = []
            if staff is None and incoming.sender_email:
                staff = await self._link_by_email(incoming)
                if staff is not None:
                    greeting = [Reply(text=t(staff.language, "linked", name=staff.name))]
            if staff is None:
                replies = await self._stranger(incoming)
            else:
                staff_id = staff.id
                ctx = Context(
                    self.sessions,
                    Actor.from_staff(staff, channel=incoming.channel),
                    incoming,
                    self.llm,
                )
                replies = greeting + await self._dispatch(ctx)
            status, error = InboxStatus.PROCESSED, None
        except Exception as exc:  # the person gets an apology; the log and inbox keep detail
            log.exception("failed to process %s message %s", incoming.channel, incoming.message_id)
            replies = [Reply(text=t(self._language(incoming, None), "internal_error"))]
            status, error = InboxStatus.FAILED, repr(exc)[:1000]
        await self._finish(inbox_id, status, error, staff_id)
        return replies

    async def _finish(
        self, inbox_id: int, status: InboxStatus, error: str | None, staff_id: int | None
    ) -> None:
        # On the Core table: an ORM-enabled UPDATE would also sync the session (nothing here).
        stmt = (
            update(_INBOX)
            .where(_INBOX.c.id == inbox_id)
            .values(status=status, error=error, staff_id=staff_id, processed_at=utcnow())
        )
        async with single_statement_sessions(self.sessions)() as session, session.begin():
            await session.exec(stmt)

    async def _link_by_email(self, incoming: Incoming) -> Staff | None:
        """Front doors set `sender_email` only from a verified platform profile."""
        assert incoming.sender_email is not None
        async with self.sessions() as session, session.begin():
            return await link_by_email(
                session,
                email=incoming.sender_email,
                channel=Channel(incoming.channel),
                external_id=incoming.sender_id,
            )

    def _language(self, incoming: Incoming, staff: Staff | None) -> str:
        if staff is not None:
            return staff.language
        return normalize_language(incoming.sender_language, get_settings().language)

    async def _stranger(self, incoming: Incoming) -> list[Reply]:
        """Unknown senders may only redeem an invite code; they learn nothing else."""
        language = self._language(incoming, None)
        parsed = parse_command(incoming.text or "")
        if parsed and parsed.name in ("help", "link") and parsed.rest:
            try:
                async with self.sessions() as session, session.begin():
                    staff = await redeem_invite(
                        session,
                        code=parsed.rest.split()[0],
                        channel=Channel(incoming.channel),
                        external_id=incoming.sender_id,
                    )
            except CrmError:
                return [Reply(text=t(language, "bad_invite"))]
            return [Reply(text=t(staff.language, "linked", name=staff.name))]
        return [Reply(text=t(language, "unknown_sender"))]

    async def _dispatch(self, ctx: Context) -> list[Reply]:
        try:
            if ctx.incoming.button:
                return await self._press(ctx, ctx.incoming.button)
            if (document := table_attachment(ctx.incoming)) is not None:
                return await handle_import_file(ctx, document, self.fetchers)
            if ctx.incoming.attachments and not ctx.incoming.text:
                heard = await voice.transcribed(ctx, self.fetchers)
                if heard is not None:
                    return voice.with_transcript(heard, await self._dispatch(heard))
                # The file reference stays in the inbox payload for when we can read it.
                kinds = ", ".join(a.kind for a in ctx.incoming.attachments)
                return [Reply(text=ctx.t("attachment_unreadable", kinds=kinds))]
            parsed = parse_command(ctx.incoming.text or "")
            if parsed is None:
                if (outcome := await take_outcome(ctx)) is not None:
                    return outcome  # the one-line outcome a care reminder asked for
                return self._keep_private(ctx, await nlu.answer_free_text(ctx))
            if parsed.name == "unknown":
                return [Reply(text=ctx.t("unknown_command", command=parsed.rest))]
            return self._keep_private(ctx, await HANDLERS[parsed.name](ctx, parsed.rest, None))
        except CrmError as error:
            return [Reply(text=self._explain(ctx, error))]

    async def _press(self, ctx: Context, payload: str) -> list[Reply]:
        verb, _, arg = payload.partition(":")
        handler = BUTTONS.get(verb)
        if handler is None:
            return [Reply(text=ctx.t("pick_expired"))]
        return self._keep_private(ctx, await handler(ctx, arg))

    @staticmethod
    def _keep_private(ctx: Context, replies: list[Reply]) -> list[Reply]:
        """Asked in a group, personal details go to the private chat (the front door sends
        private replies there); the group is told where the answer went."""
        if ctx.incoming.is_group and any(r.private for r in replies):
            return [Reply(text=ctx.t("frontdoor_sent_privately")), *replies]
        return replies

    def _explain(self, ctx: Context, error: CrmError) -> str:
        """A domain error as a sentence that says what to do next."""
        if error.code == "usage":
            return ctx.t("usage_intro") + "\n" + ctx.t(f"usage_{error.params['command']}")
        if error.code == "bad_when":
            examples = EXAMPLES_ZH if ctx.lang == "zh" else EXAMPLES_EN
            return ctx.t(
                "bad_when", value=error.params.get("value", ""), examples=", ".join(examples)
            )
        return ctx.t(error.code, **error.params)
