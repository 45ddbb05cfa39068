"""The Telegram front door (python-telegram-bot 22): long polling, or a webhook on the shared
HTTP server; every update is stored in the inbox before Telegram is told it arrived.

PTB confirms an update (next getUpdates offset, or the webhook's 200) as soon as it is in
the update queue, before any handler runs. So the queue itself stores: `InboxQueue.put`
writes the Incoming to the inbox and only then lets the update through. A crash after that
loses nothing: the stored message is replayed on start, and a redelivery is recognised.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.app import Assistant
from bot.delivery import DeliveryError
from bot.events import Attachment, Button, Incoming, Reply
from bot.i18n import normalize_language, t
from crm_core.models import Channel
from crm_core.settings import Settings, get_settings
from integrations.chats import ChatLocks, as_command, destination, spent_by
from integrations.telegram_render import photo_caption, split_reply

log = logging.getLogger(__name__)
CHANNEL = Channel.TELEGRAM.value
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Transient failures (network, 5xx) are retried this many times before giving up.
SEND_ATTEMPTS = 3
T = TypeVar("T")


def file_url(settings: Settings) -> str:
    """Where files are downloaded: https://api.telegram.org/bot -> …/file/bot."""
    if settings.telegram_file_url:
        return settings.telegram_file_url
    base = settings.telegram_api_url.rstrip("/")
    head, _, tail = base.rpartition("/")
    return f"{head}/file/{tail}"


def _seconds(period: int | float | timedelta) -> float:
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form is deprecated
        warnings.simplefilter("ignore")
        return _seconds(error.retry_after)


# --- inbound: Update -> Incoming ------------------------------------------------------------


def _attachments(message: Message) -> list[Attachment]:
    found = []
    if message.voice:
        found.append(
            Attachment(
                kind="voice", file_id=message.voice.file_id, mime_type=message.voice.mime_type
            )
        )
    if message.audio:
        audio = message.audio
        found.append(
            Attachment(
                kind="voice",
                file_id=audio.file_id,
                mime_type=audio.mime_type,
                file_name=audio.file_name,
            )
        )
    if message.photo:  # several sizes of one photo: keep the largest
        found.append(
            Attachment(kind="photo", file_id=message.photo[-1].file_id, mime_type="image/jpeg")
        )
    if message.document:
        doc = message.document
        found.append(
            Attachment(
                kind="document",
                file_id=doc.file_id,
                mime_type=doc.mime_type,
                file_name=doc.file_name,
            )
        )
    return found


def _addressed_to_us(message: Message, text: str, bot_username: str) -> bool:
    """In a group only commands for us, mentions and replies to us count; chatter does not."""
    if text.startswith(("/", "／")):
        first = text.split(maxsplit=1)[0]
        _, at, name = first.partition("@")
        return not at or name.casefold() == bot_username.casefold()
    if bot_username and f"@{bot_username}".casefold() in text.casefold():
        return True
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.username == bot_username)


def to_incoming(update: Update, bot_username: str = "") -> Incoming | None:
    """The update as the Assistant's Incoming; None for what the bot does not answer."""
    base: dict[str, Any] = {"channel": CHANNEL, "message_id": str(update.update_id)}
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message else None
        return Incoming(
            **base,
            sender_id=str(query.from_user.id),
            chat_id=str(chat.id if chat else query.from_user.id),
            is_group=bool(chat and chat.type != ChatType.PRIVATE),
            button=query.data,
            sender_language=query.from_user.language_code,
        )
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    text = (message.text or message.caption or "").strip()
    is_group = message.chat.type != ChatType.PRIVATE
    attachments = _attachments(message)
    if is_group:
        if not _addressed_to_us(message, text, bot_username):
            return None
        if bot_username and not text.startswith("/"):  # "@crm_bot find 张伟"
            text = as_command(re.sub(f"@{re.escape(bot_username)}", "", text, flags=re.I))
    if not text and not attachments:
        return None
    return Incoming(
        **base,
        sender_id=str(message.from_user.id),
        chat_id=str(message.chat.id),
        is_group=is_group,
        text=text or None,
        attachments=attachments,
        sender_language=message.from_user.language_code,
    )


@dataclass
class StoredUpdate:
    """What the Application's handlers receive: the update, already in the inbox."""

    update: Update
    incoming: Incoming
    inbox_id: int


class InboxQueue(asyncio.Queue[object]):
    """PTB's update queue, storing each update in the inbox before accepting it."""

    def __init__(self, assistant: Assistant, bot_username: Callable[[], str]) -> None:
        super().__init__()
        self.assistant = assistant
        self.bot_username = bot_username

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and not item.edited_message:
            incoming = to_incoming(item, self.bot_username())
            if incoming is None:
                return
            try:
                inbox_id = await self.assistant.accept(incoming)
            except Exception as exc:
                # A TelegramError keeps PTB's polling loop alive and retrying: the update
                # is not confirmed, so Telegram sends it again once the store is back.
                log.exception("could not store Telegram update %s", item.update_id)
                raise NetworkError(f"inbox unavailable: {exc!r}") from exc
            if inbox_id is None:
                return  # redelivered: answered (or being answered, or replayed) already
            item = StoredUpdate(item, incoming, inbox_id)
        await super().put(item)


class PerChatProcessor(BaseUpdateProcessor):
    """Up to `limit` updates at once, but one chat's updates strictly in order."""

    def __init__(self, limit: int = 64) -> None:
        super().__init__(limit)
        self.locks = ChatLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.incoming.chat_id if isinstance(update, StoredUpdate) else ""
        async with self.locks.hold(chat):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


# --- the front door ------------------------------------------------------------------------


class TelegramFrontDoor:
    """Receives through polling or the webhook, answers through the Bot API; also the
    Outbox and AttachmentFetcher of the telegram channel."""

    channel = CHANNEL
    name = "telegram"

    def __init__(
        self,
        assistant: Assistant,
        settings: Settings | None = None,
        *,
        rate_limiter: BaseRateLimiter[Any] | None = None,
    ) -> None:
        self.assistant = assistant
        self.settings = settings or get_settings()
        if not self.settings.telegram_token:
            raise ValueError("CRM_TELEGRAM_TOKEN is not set")
        self.webhook = bool(self.settings.telegram_webhook_url)
        self.queue = InboxQueue(assistant, lambda: self.application.bot.username or "")
        builder = (
            ApplicationBuilder()
            .token(self.settings.telegram_token)
            .base_url(self.settings.telegram_api_url)
            .base_file_url(file_url(self.settings))
            .update_queue(self.queue)
            .concurrent_updates(PerChatProcessor())
            # Waits out 429s (retry_after) up to 3 times; Telegram's limits apply outbound.
            .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
        )
        if self.webhook:
            builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(TypeHandler(StoredUpdate, self._on_stored))
        self.application.add_handler(
            MessageHandler(filters.UpdateType.EDITED_MESSAGE, self._on_edited)
        )
        self.application.add_error_handler(self._on_error)
        self.running = False
        assistant.register_fetcher(self.channel, self)

    @property
    def bot(self) -> Bot:
        return self.application.bot

    async def start(self) -> None:
        """getMe, then poll or register the webhook. Raises when Telegram refuses."""
        if self.webhook and not self.settings.telegram_secret:
            raise ValueError("CRM_TELEGRAM_SECRET is required with CRM_TELEGRAM_WEBHOOK_URL")
        await self.application.initialize()
        await self.application.start()
        if self.webhook:
            await self.bot.set_webhook(
                url=str(self.settings.telegram_webhook_url),
                secret_token=self.settings.telegram_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            assert self.application.updater is not None
            await self.application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, error_callback=self._polling_error
            )
        self.running = True
        log.info("Telegram @%s: %s", self.bot.username, "webhook" if self.webhook else "polling")

    async def stop(self) -> None:
        self.running = False
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def open_for_sending(self) -> None:
        """Send-only use (`crmbot digest --now`): the Bot is ready, nothing is received."""
        await self.application.initialize()

    async def close_for_sending(self) -> None:
        await self.application.shutdown()

    def routes(self) -> list[web.RouteDef]:
        return [web.post(WEBHOOK_PATH, self._webhook)]

    async def _webhook(self, request: web.Request) -> web.Response:
        """Telegram's POST: check the secret, store the update, then say 200."""
        secret = self.settings.telegram_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("Telegram webhook call with a wrong or missing secret refused")
            return web.Response(status=403)
        if not self.running:
            return web.Response(status=503)
        try:
            update = Update.de_json(json.loads(await request.read()), self.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        try:
            await self.queue.put(update)
        except NetworkError:
            return web.Response(status=500)  # not stored: Telegram will send it again
        return web.Response(status=200)

    @staticmethod
    def _polling_error(error: TelegramError) -> None:
        log.warning("Telegram polling: %s", error)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram handler failed for %r", update, exc_info=context.error)

    # --- handlers ---

    async def _on_stored(self, stored: StoredUpdate, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a stored update where it came from."""
        query = stored.update.callback_query
        if query is not None:
            try:
                await query.answer()  # stop the spinner on the pressed button
            except TelegramError as exc:
                log.info("callback query not answered: %s", exc)
        replies = await self.assistant.process(stored.inbox_id, stored.incoming)
        if query is not None and query.data and isinstance(query.message, Message):
            await self._spend_button(query.message, query.data)
        await self.answer(stored.incoming, replies)

    async def _on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Edits are not replayed as new commands (that would log twice); say so."""
        message = update.edited_message
        if message is None or message.from_user is None:
            return
        text = message.text or message.caption or ""
        if message.chat.type != ChatType.PRIVATE and not text.startswith("/"):
            return
        language = normalize_language(message.from_user.language_code, self.settings.language)
        await self._send_chunks(
            str(message.chat.id), Reply(text=t(language, "frontdoor_edit_ignored"))
        )

    async def _spend_button(self, message: Message, payload: str) -> None:
        """Take used buttons off the message they were pressed on, so they are not pressed
        twice: a reminder's row after Done or Snooze, a whole question after a pick."""
        spent = spent_by(payload)
        markup = message.reply_markup
        if markup is None or spent is None:
            return
        try:
            if spent == "all":
                label = next(
                    (
                        b.text
                        for row in markup.inline_keyboard
                        for b in row
                        if b.callback_data == payload
                    ),
                    "",
                )
                await self.bot.edit_message_text(
                    chat_id=message.chat.id,
                    message_id=message.message_id,
                    text=f"{message.text or ''}\n→ {label}".strip(),
                    reply_markup=None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                return
            rows = [
                row
                for row in markup.inline_keyboard
                if all(b.callback_data != payload for b in row)
            ]
            await self.bot.edit_message_reply_markup(
                chat_id=message.chat.id,
                message_id=message.message_id,
                reply_markup=InlineKeyboardMarkup(rows) if rows else None,
            )
        except TelegramError as exc:  # an old message, or already edited: harmless
            log.info("pressed message not edited: %s", exc)

    # --- outbound ---

    async def answer(self, incoming: Incoming, replies: list[Reply]) -> None:
        """Send replies where `incoming` came from; private ones out of groups."""
        for reply in replies:
            target = destination(incoming, reply)
            try:
                await self.send(target, reply)
            except DeliveryError as exc:
                log.warning("reply to %s not delivered: %s", target, exc)
                if target != incoming.chat_id and isinstance(exc.__cause__, Forbidden | BadRequest):
                    language = normalize_language(incoming.sender_language, self.settings.language)
                    note = Reply(text=t(language, "frontdoor_private_failed"))
                    await self.send(incoming.chat_id, note)

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        """Outbox.send: the reply as one or more messages; the last message's id."""
        try:
            return await self._send_chunks(chat_id, reply)
        except RetryAfter as exc:
            raise DeliveryError(str(exc), retry_after=retry_after_seconds(exc)) from exc
        except TelegramError as exc:
            raise DeliveryError(str(exc)) from exc

    async def _send_chunks(self, chat_id: str, reply: Reply) -> str | None:
        last: Message | None = None
        if reply.image is not None:
            caption = photo_caption(reply)
            last = await self._call(
                lambda: self.bot.send_photo(chat_id=chat_id, photo=reply.image, caption=caption)
            )
        for chunk in split_reply(reply):
            markup = _keyboard(chunk.buttons)
            last = await self._call(
                lambda chunk=chunk, markup=markup: self.bot.send_message(
                    chat_id=chat_id,
                    text=chunk.html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            )
        return str(last.message_id) if last else None

    @staticmethod
    async def _call(request: Callable[[], Awaitable[T]]) -> T:
        """One Bot API call; network errors and 5xx are tried again with a short backoff
        (429s are waited out by the rate limiter)."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                return await request()
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == SEND_ATTEMPTS:
                    raise
                log.info("Telegram call failed (%s), retrying", exc)
                await asyncio.sleep(0.5 * attempt)
        raise AssertionError("unreachable")

    # --- attachments ---

    async def fetch(self, attachment: Attachment) -> bytes:
        """AttachmentFetcher: getFile, then download it."""
        file = await self.bot.get_file(attachment.file_id)
        return bytes(await file.download_as_bytearray())


def _keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.payload) for b in row] for row in rows]
    )


async def bot_username(settings: Settings) -> str:
    """The bot's @username: from the settings, else asked of getMe."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username.lstrip("@")
    assert settings.telegram_token
    async with Bot(
        settings.telegram_token,
        base_url=settings.telegram_api_url,
        base_file_url=file_url(settings),
    ) as bot:
        return bot.username


def invite_link(username: str, code: str) -> str:
    """The deep link that opens the bot and sends /start CODE."""
    return f"https://t.me/{username}?start={code}"
