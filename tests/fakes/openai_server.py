"""A local fake of the OpenAI API (chat completions with tool calls, audio transcriptions).

Each test scripts what the "model" answers, in order; the real `openai` client talks to it
over HTTP (base_url=http://127.0.0.1:PORT/v1). Every request is recorded. A step can be a
reply, a tool call, an HTTP error with headers (429/500, Retry-After), a slow answer, a
malformed body, or a function of the request. An exhausted script answers 500 and says so.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Json = dict[str, Any]
_ids = itertools.count(1)


@dataclass
class Step:
    """One scripted answer. `body` is JSON (dict) or raw text; `delay` is seconds to wait."""

    status: int = 200
    body: Json | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    build: Callable[[Json], Json] | None = None  # computes the body from the request


def _completion(message: Json, finish_reason: str, usage: tuple[int, int]) -> Json:
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": 1_790_000_000,
        "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        },
    }


def text(content: str, *, usage: tuple[int, int] = (100, 20)) -> Step:
    """The model answers in words."""
    return Step(body=_completion({"role": "assistant", "content": content}, "stop", usage))


def tool_calls(*calls: tuple[str, Json | str], usage: tuple[int, int] = (100, 20)) -> Step:
    """The model calls tools; arguments given as a dict are JSON-encoded, a str is sent as is."""
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{next(_ids)}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for name, args in calls
        ],
    }
    return Step(body=_completion(message, "tool_calls", usage))


def error(status: int, *, headers: dict[str, str] | None = None, message: str = "fake") -> Step:
    return Step(
        status=status,
        body={"error": {"message": message, "type": "fake_error", "code": None}},
        headers=headers or {},
    )


def slow(seconds: float, then: Step) -> Step:
    return Step(
        status=then.status, body=then.body, headers=then.headers, delay=seconds, build=then.build
    )


def malformed(raw: str = '{"choices": [ this is not json') -> Step:
    return Step(body=raw, headers={"content-type": "application/json"})


def dynamic(build: Callable[[Json], Json]) -> Step:
    """The answer depends on the request (e.g. echo which feedback ids were sent)."""
    return Step(build=build)


@dataclass
class Recorded:
    path: str
    body: Json
    headers: dict[str, str]


class FakeOpenAI:
    """Start with `await fake.start()`; `fake.base_url` goes into CRM_LLM_BASE_URL."""

    def __init__(self) -> None:
        self.chat: deque[Step] = deque()
        self.transcriptions: deque[Step] = deque()
        self.requests: list[Recorded] = []
        self.exhausted = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- scripting ---------------------------------------------------------------------------
    def script(self, *steps: Step) -> FakeOpenAI:
        self.chat.extend(steps)
        return self

    def transcript(self, words: str) -> FakeOpenAI:
        self.transcriptions.append(Step(body={"text": words}))
        return self

    def transcription_error(self, status: int) -> FakeOpenAI:
        self.transcriptions.append(error(status))
        return self

    @property
    def chat_requests(self) -> list[Json]:
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def sent_text(self) -> str:
        """Everything the client sent in chat requests, as one string (for leak checks)."""
        return "\n".join(json.dumps(body, ensure_ascii=False) for body in self.chat_requests)

    # -- server ------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Recorded(request.path, body, dict(request.headers)))
        return await self._answer(self.chat, body)

    async def _transcribe(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        upload = form.get("file")
        body = {
            "model": form.get("model"),
            "file_name": getattr(upload, "filename", None),
            "file_size": len(upload.file.read()) if hasattr(upload, "file") else 0,
        }
        self.requests.append(Recorded(request.path, body, dict(request.headers)))
        return await self._answer(self.transcriptions, body)

    async def _answer(self, queue: deque[Step], request_body: Json) -> web.StreamResponse:
        if not queue:
            self.exhausted = True
            step = error(500, headers={"x-should-retry": "false"}, message="script exhausted")
        else:
            step = queue.popleft()
        if step.delay:
            await asyncio.sleep(step.delay)
        body = step.build(request_body) if step.build else step.body
        if isinstance(body, str):
            return web.Response(status=step.status, text=body, headers=step.headers)
        return web.json_response(body, status=step.status, headers=step.headers)
