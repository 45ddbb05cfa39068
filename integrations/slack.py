"""The Slack front door (slack-bolt AsyncApp): HTTP mode on the shared server (requests
signed, verified by Bolt), or Socket Mode when CRM_SLACK_APP_TOKEN is set.

Slack wants its answer within 3 s and resends events it has no 2xx for. Every listener
stores the Incoming (Assistant.accept), acks, and answers in a background task: a crash
after the ack loses nothing (replayed on start), a resend is recognised in the inbox.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Assistant
from bot.delivery import DeliveryError
from bot.events import Attachment, Incoming, Reply
from bot.i18n import normalize_language, t
from crm_core.models import Channel
from crm_core.settings import Settings, get_settings
from integrations.chats import ChatLocks, as_command, destination, spent_by
from integrations.slack_blocks import ACTION_PREFIX, render_messages

log = logging.getLogger(__name__)
CHANNEL = Channel.SLACK.value
EVENTS_PATH = "/slack/events"
SLASH_COMMAND = "/crm"
IMAGE_TITLE_LIMIT = 250
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
# Message subtypes that are a person writing to us; edits, joins and bots are not.
_PERSON_SUBTYPES = {None, "file_share", "thread_broadcast"}


@dataclass(frozen=True)
class Profile:
    email: str | None
    language: str | None


@dataclass(frozen=True)
class Origin:
    """Where to answer: the conversation, a thread in it, a slash command's response_url."""

    channel: str
    thread_ts: str | None = None
    response_url: str | None = None


def _attachments(files: list[dict[str, Any]]) -> list[Attachment]:
    found = []
    for f in files:
        mime = f.get("mimetype") or ""
        kind = (
            "voice"
            if mime.startswith("audio/")
            else "photo"
            if mime.startswith("image/")
            else "document"
        )
        found.append(
            Attachment(kind=kind, file_id=f["id"], mime_type=mime or None, file_name=f.get("name"))
        )
    return found


def _is_group(channel_id: str) -> bool:
    """D… is a direct message with the bot; C… (channel), G… (private channel or group DM)
    are shared with others."""
    return not channel_id.startswith("D")


def event_incoming(event: dict[str, Any]) -> Incoming | None:
    """A DM or an app mention as Incoming; None for what is not a person writing to us."""
    if event.get("bot_id") or event.get("subtype") not in _PERSON_SUBTYPES or "user" not in event:
        return None
    if event["type"] == "message" and event.get("channel_type") != "im":
        return None  # in channels we answer mentions (app_mention), not every message
    text = as_command(_MENTION.sub("", event.get("text") or "").strip())
    attachments = _attachments(event.get("files") or [])
    if not text and not attachments:
        return None
    return Incoming(
        channel=CHANNEL,
        # The same message may arrive as `message` and `app_mention`, and again on a retry.
        message_id=f"ev:{event['channel']}:{event['ts']}",
        sender_id=event["user"],
        chat_id=event["channel"],
        is_group=_is_group(event["channel"]),
        text=text or None,
        attachments=attachments,
    )


def command_incoming(command: dict[str, Any]) -> Incoming:
    """ "/crm find 张伟" -> "/find 张伟"; a bare "/crm" is help."""
    text = (command.get("text") or "").strip() or "help"
    return Incoming(
        channel=CHANNEL,
        message_id=f"cmd:{command['trigger_id']}",
        sender_id=command["user_id"],
        chat_id=command["channel_id"],
        is_group=_is_group(command["channel_id"]),
        text="/" + text.lstrip("/／"),
    )


def action_incoming(body: dict[str, Any]) -> Incoming:
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id") or body["user"]["id"]
    return Incoming(
        channel=CHANNEL,
        message_id=f"act:{body['trigger_id']}",
        sender_id=body["user"]["id"],
        chat_id=channel,
        is_group=_is_group(channel),
        button=action["value"],
    )


class SlackFrontDoor:
    """Receives events, /crm and button presses; answers with Block Kit. Also the Outbox
    and AttachmentFetcher of the slack channel."""

    channel = CHANNEL
    name = "slack"

    def __init__(self, assistant: Assistant, settings: Settings | None = None) -> None:
        self.assistant = assistant
        self.settings = settings or get_settings()
        if not self.settings.slack_bot_token:
            raise ValueError("CRM_SLACK_BOT_TOKEN is not set")
        self.socket_mode = bool(self.settings.slack_app_token)
        self.client = AsyncWebClient(
            token=self.settings.slack_bot_token,
            base_url=self.settings.slack_api_url,
            # slack_sdk retries only connection errors by default; 429s wait Retry-After.
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=2),
                AsyncServerErrorRetryHandler(max_retry_count=2),
            ],
        )
        self.app: AsyncApp | None = None
        self.socket_handler: Any = None
        self.locks = ChatLocks()
        self.tasks: set[asyncio.Task[None]] = set()
        self.profiles: dict[str, Profile] = {}
        self.running = False
        assistant.register_fetcher(self.channel, self)

    def _build_app(self) -> AsyncApp:
        if not self.socket_mode and not self.settings.slack_signing_secret:
            raise ValueError("CRM_SLACK_SIGNING_SECRET is required in HTTP mode")
        app = AsyncApp(
            client=self.client,
            signing_secret=self.settings.slack_signing_secret or "socket-mode",
            # Listeners only store and ack (fast); answering runs in our own tasks.
            process_before_response=True,
            request_verification_enabled=not self.socket_mode,
        )
        app.event("message")(self._on_event)
        app.event("app_mention")(self._on_event)
        app.command(SLASH_COMMAND)(self._on_command)
        app.action(re.compile(f"^{ACTION_PREFIX}"))(self._on_action)
        return app

    async def start(self) -> None:
        """Check the token (auth.test), then listen: Socket Mode, or the HTTP route."""
        self.app = self._build_app()
        await self.client.auth_test()
        if self.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self.socket_handler = AsyncSocketModeHandler(self.app, self.settings.slack_app_token)
            await self.socket_handler.connect_async()
        self.running = True
        log.info("Slack: %s", "Socket Mode" if self.socket_mode else f"HTTP at {EVENTS_PATH}")

    async def stop(self) -> None:
        self.running = False
        if self.socket_handler is not None:
            await self.socket_handler.close_async()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def open_for_sending(self) -> None:
        """Send-only use (`crmbot digest --now`): the Web API client needs no start."""

    async def close_for_sending(self) -> None:
        """Nothing to release."""

    def routes(self) -> list[web.RouteDef]:
        return [web.post(EVENTS_PATH, self._http)]

    async def _http(self, request: web.Request) -> web.Response:
        if not self.running or self.app is None or self.socket_mode:
            return web.Response(status=503)
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    # --- listeners: store, ack, answer later ---

    async def _on_event(self, event: dict[str, Any]) -> None:
        """A DM or a mention (acked by Bolt when this returns)."""
        incoming = event_incoming(event)
        if incoming is None:
            return
        thread = event.get("thread_ts") or (event["ts"] if incoming.is_group else None)
        await self._accept(incoming, Origin(channel=event["channel"], thread_ts=thread))

    async def _on_command(self, ack: Any, command: dict[str, Any]) -> None:
        """/crm …: store, ack (empty, so nothing shows twice), answer via response_url."""
        incoming = command_incoming(command)
        origin = Origin(channel=command["channel_id"], response_url=command.get("response_url"))
        await self._accept(incoming, origin)
        await ack()

    async def _on_action(self, ack: Any, body: dict[str, Any]) -> None:
        """A Block Kit button press."""
        incoming = action_incoming(body)
        message = body.get("message") or {}
        origin = Origin(channel=incoming.chat_id, thread_ts=message.get("thread_ts"))
        await self._accept(incoming, origin, pressed=message or None)
        await ack()

    async def _accept(
        self, incoming: Incoming, origin: Origin, *, pressed: dict[str, Any] | None = None
    ) -> None:
        inbox_id = await self.assistant.accept(incoming)  # raises -> no ack -> Slack resends
        if inbox_id is None:
            return
        task = asyncio.create_task(self._answer_stored(inbox_id, incoming, origin, pressed))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer_stored(
        self, inbox_id: int, incoming: Incoming, origin: Origin, pressed: dict[str, Any] | None
    ) -> None:
        try:
            async with self.locks.hold(incoming.chat_id):
                incoming = await self._with_profile(incoming)
                replies = await self.assistant.process(inbox_id, incoming)
                if pressed is not None and incoming.button:
                    await self._spend_button(incoming.chat_id, pressed, incoming.button)
                await self._answer(incoming, replies, origin)
        except Exception:
            log.exception("Slack message %s not answered", incoming.message_id)

    async def _spend_button(self, channel: str, message: dict[str, Any], payload: str) -> None:
        """Take used buttons off the message they were pressed on (see chats.spent_by)."""
        spent = spent_by(payload)
        blocks = message.get("blocks") or []
        if spent is None or not message.get("ts"):
            return

        def used(block: dict[str, Any]) -> bool:
            if block.get("type") != "actions":
                return False
            return spent == "all" or any(e.get("value") == payload for e in block["elements"])

        kept = [b for b in blocks if not used(b)]
        if len(kept) == len(blocks):
            return
        try:
            await self.client.chat_update(
                channel=channel, ts=message["ts"], text=message.get("text") or "…", blocks=kept
            )
        except SlackClientError as exc:  # an old message, or already changed: harmless
            log.info("pressed message not updated: %s", exc)

    async def _with_profile(self, incoming: Incoming) -> Incoming:
        """Language and (if allowed) e-mail from the Slack profile, for people not linked
        yet: a refusal in their language, or linking by e-mail. One users.info per user."""
        profile = self.profiles.get(incoming.sender_id)
        if profile is None:
            try:
                user = (await self.client.users_info(user=incoming.sender_id, include_locale=True))[
                    "user"
                ]
            except SlackClientError as exc:
                log.info("users.info %s failed: %s", incoming.sender_id, exc)
                return incoming
            profile = Profile(
                email=(user.get("profile") or {}).get("email"), language=user.get("locale")
            )
            self.profiles[incoming.sender_id] = profile
        email = profile.email if self.settings.slack_link_by_email else None
        return incoming.model_copy(
            update={"sender_email": email, "sender_language": profile.language}
        )

    # --- outbound ---

    async def answer(
        self, incoming: Incoming, replies: list[Reply], origin: Origin | None = None
    ) -> None:
        """Send replies where `incoming` came from; private ones out of shared channels."""
        await self._answer(incoming, replies, origin or Origin(channel=incoming.chat_id))

    async def _answer(self, incoming: Incoming, replies: list[Reply], origin: Origin) -> None:
        for reply in replies:
            target = destination(incoming, reply)
            try:
                in_dm = incoming.chat_id.startswith("D")
                if target == incoming.chat_id and origin.response_url and not in_dm:
                    # A slash command in a channel is answered to the person alone; a chart
                    # cannot ride in an ephemeral message, so it goes to their DM.
                    await self._respond(origin.response_url, reply)
                    if reply.image is not None:
                        await self._upload_image(incoming.sender_id, reply, thread_ts=None)
                elif target == incoming.chat_id and origin.response_url and reply.image is None:
                    await self._respond(origin.response_url, reply)
                else:
                    thread = origin.thread_ts if target == incoming.chat_id else None
                    await self._post(target, reply, thread_ts=thread)
            except (DeliveryError, aiohttp.ClientError) as exc:
                log.warning("reply to %s not delivered: %s", target, exc)
                if target != incoming.chat_id:
                    language = normalize_language(incoming.sender_language, self.settings.language)
                    await self._post(
                        incoming.chat_id, Reply(text=t(language, "frontdoor_private_failed"))
                    )

    async def _respond(self, response_url: str, reply: Reply) -> None:
        """A slash command's answer: visible only to the person who typed it."""
        async with aiohttp.ClientSession() as session:
            for message in render_messages(reply):
                body = {
                    "response_type": "ephemeral",
                    "text": message.text,
                    "blocks": message.blocks,
                }
                async with session.post(response_url, json=body) as response:
                    response.raise_for_status()

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        """Outbox.send: a channel id, or a user id for their DM with the app."""
        return await self._post(chat_id, reply)

    async def _post(
        self, chat_id: str, reply: Reply, *, thread_ts: str | None = None
    ) -> str | None:
        last: str | None = None
        try:
            if reply.image is not None:
                await self._upload_image(chat_id, reply, thread_ts=thread_ts)
            for message in render_messages(reply):
                response = await self.client.chat_postMessage(
                    channel=chat_id,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                last = response.get("ts")
        except SlackApiError as exc:
            retry_after = (
                exc.response.headers.get("Retry-After") if exc.response.status_code == 429 else None
            )
            raise DeliveryError(
                str(exc), retry_after=float(retry_after) if retry_after else None
            ) from exc
        except SlackClientError as exc:
            raise DeliveryError(str(exc)) from exc
        return last

    async def _upload_image(self, chat_id: str, reply: Reply, *, thread_ts: str | None) -> None:
        """The reply's image (a chart), titled with its first line, in the same thread as
        the text that follows it."""
        assert reply.image is not None
        if chat_id.startswith(("U", "W")):  # a person: uploads need their DM's channel id
            opened = await self.client.conversations_open(users=chat_id)
            chat_id = opened["channel"]["id"]
        headline = reply.text.split("\n", 1)[0].strip()[:IMAGE_TITLE_LIMIT] or None
        await self.client.files_upload_v2(
            channel=chat_id,
            content=reply.image,
            filename="chart.png",
            title=headline,
            alt_txt=headline,
            thread_ts=thread_ts,
        )

    # --- attachments ---

    async def fetch(self, attachment: Attachment) -> bytes:
        """AttachmentFetcher: files.info, then the private download URL with the bot token."""
        info = await self.client.files_info(file=attachment.file_id)
        url = info["file"].get("url_private_download") or info["file"]["url_private"]
        headers = {"Authorization": f"Bearer {self.settings.slack_bot_token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers=headers) as response,
        ):
            response.raise_for_status()
            return await response.read()
