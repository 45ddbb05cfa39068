"""A small fake Telegram Bot API: a real aiohttp server on 127.0.0.1 that python-telegram-bot
talks to through `base_url`. It serves updates to getUpdates (long polling), records every
call, and can be told to answer 429 (with retry_after) or 500.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fakes.recording import Call, RecordedCalls

TOKEN = "123456:TEST-TOKEN"
BOT_USER = {"id": 777, "is_bot": True, "first_name": "CRM", "username": "crm_test_bot"}
# Fields PTB sends JSON-encoded; everything else is kept as the string it sent.
_JSON_FIELDS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "reply_markup",
    "allowed_updates",
    "link_preview_options",
    "show_alert",
}


@dataclass
class Failure:
    status: int
    retry_after: int | None = None
    chat_id: int | None = None  # only calls to this chat fail


class FakeTelegramApi(RecordedCalls):
    default_method = "sendMessage"

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.pending: list[dict[str, Any]] = []
        self.failures: dict[str, list[Failure]] = {}
        self.files: dict[str, bytes] = {}
        self.webhook: dict[str, Any] | None = None
        self.reject_token = False
        # Called with the highest confirmed update_id when getUpdates moves the offset.
        self.on_confirm: Callable[[int], Awaitable[None]] | None = None
        self._confirmed = 0
        self._forced: set[int] = set()
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---

    async def start(self) -> None:
        app = web.Application(client_max_size=20 * 1024**2)
        app.add_routes(
            [
                web.post("/bot{token}/{method}", self._api),
                web.get("/bot{token}/{method}", self._api),
                web.get("/file/bot{token}/{path:.+}", self._file),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- what tests do ---

    def push(self, update: dict[str, Any], update_id: int | None = None) -> int:
        """Queue an update for getUpdates (a known update_id redelivers it)."""
        update = {**update, "update_id": update_id or next(self._update_ids)}
        if update_id is not None:
            self._forced.add(update_id)
        self.pending.append(update)
        self._new_update.set()
        return update["update_id"]

    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int = 1,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        self.failures.setdefault(method, []).extend(
            Failure(status, retry_after if status == 429 else None, chat_id) for _ in range(times)
        )

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        match = {} if chat_id is None else {"chat_id": chat_id}
        return [c.params.get("text", "") for c in self.sent("sendMessage", **match)]

    # --- the API ---

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
            return params
        form = await request.post()
        for key, value in form.items():
            if hasattr(value, "file"):
                params[key] = value.file.read()
            elif key in _JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
            else:
                params[key] = value
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if request.match_info["token"] != self.token or self.reject_token:
            self.calls.append(Call(method, params, status=401))
            return _error(401, "Unauthorized")
        queued = [
            f
            for f in self.failures.get(method, [])
            if f.chat_id is None or str(f.chat_id) == str(params.get("chat_id"))
        ]
        if queued:
            failure = queued[0]
            self.failures[method].remove(failure)
            self.calls.append(Call(method, params, status=failure.status))
            if failure.status == 403:
                return _error(403, "Forbidden: bot can't initiate conversation with a user")
            if failure.status == 429:
                return _error(
                    429,
                    f"Too Many Requests: retry after {failure.retry_after}",
                    parameters={"retry_after": failure.retry_after},
                )
            return _error(failure.status, "Internal Server Error")
        if method == "getUpdates":
            result = await self._get_updates(params)
        else:
            result = self._answer(method, params)
        call = Call(method, params)
        self.calls.append(call)
        return web.json_response({"ok": True, "result": result})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:
            # A higher offset confirms every update below it: Telegram forgets them.
            self.pending = [
                u
                for u in self.pending
                if u["update_id"] >= offset or u["update_id"] in self._forced
            ]
            if offset - 1 > self._confirmed:
                self._confirmed = offset - 1
                if self.on_confirm is not None:
                    await self.on_confirm(self._confirmed)
        if not self.pending:
            self._new_update.clear()
            timeout = float(params.get("timeout") or 0)
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=min(timeout, 2.0))
            except TimeoutError:
                pass
        batch = sorted(self.pending, key=lambda u: u["update_id"])[
            : int(params.get("limit") or 100)
        ]
        for update in batch:
            if update["update_id"] in self._forced:  # a redelivery is served once
                self._forced.discard(update["update_id"])
                self.pending.remove(update)
        return batch

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": BOT_USER,
            **extra,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False}
        if method in ("deleteWebhook", "answerCallbackQuery", "close", "logOut"):
            if method == "deleteWebhook":
                self.webhook = None
            return True
        if method == "setWebhook":
            self.webhook = params
            return True
        if method == "getWebhookInfo":
            return {
                "url": (self.webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
        if method in ("sendMessage", "editMessageText"):
            return self._message(params, text=params.get("text", ""))
        if method == "editMessageReplyMarkup":
            return self._message(params)
        if method == "sendPhoto":
            return self._message(params, photo=[_photo_size("photo-out")])
        if method == "sendDocument":
            return self._message(params, document={"file_id": "doc-out", "file_unique_id": "u"})
        if method == "getFile":
            file_id = params["file_id"]
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self.files.get(file_id, b"")),
                "file_path": f"docs/{file_id}",
            }
        raise web.HTTPNotFound(text=json.dumps({"ok": False, "description": f"no {method}"}))

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])


def _error(code: int, description: str, **extra: Any) -> web.Response:
    body = {"ok": False, "error_code": code, "description": description, **extra}
    return web.json_response(body, status=code)


def _photo_size(file_id: str) -> dict[str, Any]:
    return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "width": 90, "height": 90}


# --- updates as Telegram sends them -------------------------------------------------------

_message_ids = itertools.count(5000)


def tg_user(user_id: int, first_name: str = "Rep", language: str | None = "zh-hans") -> dict:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language:
        user["language_code"] = language
    return user


def message_update(
    user_id: int,
    text: str | None = None,
    *,
    chat_id: int | None = None,
    language: str | None = "zh-hans",
    edited: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    chat_id = chat_id or user_id
    chat = (
        {"id": chat_id, "type": "private", "first_name": "Rep"}
        if chat_id > 0
        else {"id": chat_id, "type": "supergroup", "title": "华东销售群"}
    )
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": tg_user(user_id, language=language),
        **extra,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    if edited:
        message["edit_date"] = int(time.time())
        return {"edited_message": message}
    return {"message": message}


def voice_update(user_id: int, file_id: str) -> dict[str, Any]:
    voice = {
        "file_id": file_id,
        "file_unique_id": f"u-{file_id}",
        "duration": 3,
        "mime_type": "audio/ogg",
    }
    return message_update(user_id, voice=voice)


def callback_update(
    user_id: int, data: str, message: dict[str, Any], *, language: str | None = "zh-hans"
) -> dict[str, Any]:
    """A button press on `message` (a message the bot sent, as getUpdates would show it)."""
    return {
        "callback_query": {
            "id": f"cq-{next(_message_ids)}",
            "from": tg_user(user_id, language=language),
            "chat_instance": "ci-1",
            "data": data,
            "message": message,
        }
    }


def sent_message(call: Call) -> dict[str, Any]:
    """The message a recorded sendMessage produced, as Telegram shows it in a callback."""
    chat_id = int(call.params["chat_id"])
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
        "from": BOT_USER,
        "text": call.params.get("text", ""),
    }
    if call.params.get("reply_markup"):
        message["reply_markup"] = call.params["reply_markup"]
    return message


def buttons_of(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]
