"""A small fake Slack Web API (what slack_sdk's AsyncWebClient reaches through `base_url`),
plus the response_url and file endpoints Slack hands out, and signed requests into the
bot's own /slack/events endpoint the way Slack sends them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from fakes.recording import Call, RecordedCalls

TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
BOT_USER_ID = "UBOT"


@dataclass
class Failure:
    status: int
    retry_after: int | None = None


class FakeSlackApi(RecordedCalls):
    default_method = "chat.postMessage"

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.failures: dict[str, list[Failure]] = {}
        # user id -> users.info "user" object parts
        self.users: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.delays: dict[str, float] = {}
        self.reject_token = False
        # Socket Mode: the open connections, and the envelope ids the app acknowledged.
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: list[str] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.add_routes(
            [
                web.route("*", "/api/{method}", self._api),
                web.post("/respond/{name}", self._respond),
                web.post("/upload/{file_id}", self._upload),
                web.get("/download/{file_id}", self._download),
                web.get("/socket", self._socket),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.root}/respond/{name}"

    def add_user(self, user_id: str, *, email: str | None = None, locale: str = "zh-CN") -> None:
        self.users[user_id] = {"id": user_id, "locale": locale, "profile": {"email": email}}

    def fail(self, method: str, status: int = 429, *, retry_after: int = 1, times: int = 1) -> None:
        self.failures.setdefault(method, []).extend(
            Failure(status, retry_after if status == 429 else None) for _ in range(times)
        )

    # --- endpoints ---

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            params.update(dict(await request.post()))
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        token = token or params.get("token", "")
        if method == "apps.connections.open" and token == APP_TOKEN:
            self.calls.append(Call(method, params))
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        if token != self.token or self.reject_token:
            self.calls.append(Call(method, params, status=200))
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        queued = self.failures.get(method)
        if queued:
            failure = queued.pop(0)
            self.calls.append(Call(method, params, status=failure.status))
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            error = "ratelimited" if failure.status == 429 else "internal_error"
            return web.json_response(
                {"ok": False, "error": error}, status=failure.status, headers=headers
            )
        self.calls.append(Call(method, params))
        return web.json_response({"ok": True, **self._answer(method, params)})

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "url": "https://crm.slack.example/",
                "team": "CRM",
                "user": "crm",
                "team_id": "T1",
                "user_id": BOT_USER_ID,
                "bot_id": "BBOT",
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text"), "ts": ts},
            }
        if method == "users.info":
            user = self.users.get(params["user"])
            if user is None:
                return {"user": {"id": params["user"], "locale": "en-US", "profile": {}}}
            return {"user": user}
        if method == "conversations.open":
            return {"channel": {"id": "D" + str(params["users"]).lstrip("UW")}}
        if method == "files.info":
            file_id = params["file"]
            return {
                "file": {"id": file_id, "url_private_download": f"{self.root}/download/{file_id}"}
            }
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {"files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        return {}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.acks.append(json.loads(message.data)["envelope_id"])
        return ws

    async def socket_send(self, envelope_id: str, body: str) -> None:
        """Deliver an Events API payload over Socket Mode, as Slack does."""
        envelope = {
            "envelope_id": envelope_id,
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": json.loads(body),
        }
        while not self.sockets:
            await asyncio.sleep(0.01)
        await self.sockets[-1].send_json(envelope)

    async def _respond(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await request.json()))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.files[request.match_info["file_id"]] = await request.read()
        self.calls.append(Call("upload", {"file_id": request.match_info["file_id"]}))
        return web.Response(text="OK - uploaded")

    async def _download(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=403)
        body = self.files.get(request.match_info["file_id"])
        return web.Response(status=404) if body is None else web.Response(body=body)


# --- Slack's requests into the bot ----------------------------------------------------------


def sign(secret: str, body: str, timestamp: int) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


async def post_signed(
    url: str,
    body: str,
    *,
    secret: str,
    content_type: str,
    timestamp: int | None = None,
    signature: str | None = None,
    retry_num: int | None = None,
) -> aiohttp.ClientResponse:
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature or sign(secret, body, ts),
    }
    if retry_num is not None:
        headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body.encode(), headers=headers) as response,
    ):
        await response.read()
        return response


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER_ID, "is_bot": True}],
            "event": event,
        }
    )


_ts = itertools.count(1)


def dm_event(user: str, text: str, *, channel: str = "D100", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": f"1710000000.{next(_ts):06d}",
        **extra,
    }


def mention_event(user: str, text: str, *, channel: str = "C100") -> dict[str, Any]:
    return {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": f"1710000000.{next(_ts):06d}",
    }


def command_body(user: str, text: str, *, channel: str, response_url: str) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "sales",
            "user_id": user,
            "command": "/crm",
            "text": text,
            "response_url": response_url,
            "trigger_id": f"trig-{next(_ts)}",
        }
    )


def action_body(user: str, value: str, *, channel: str, message: dict[str, Any]) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "trigger_id": f"trig-{next(_ts)}",
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": message.get("ts")},
        "message": message,
        "actions": [
            {
                "type": "button",
                "action_id": "crm:0:0",
                "block_id": "b",
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def button_values(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def block_text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
