"""The OpenAI-compatible client (OpenAI, DeepSeek, Qwen, Ollama, vLLM): one model, a real
timeout, the client's own retries, and errors turned into one exception with a reason.

Budgets, usage accounting and redaction sit one level up, in bot/llm_calls.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import openai
from openai import AsyncOpenAI

from crm_core.settings import Settings

log = logging.getLogger(__name__)

Message = dict[str, Any]

# A request's own timeout covers one attempt; this bounds the whole call with its retries,
# so a long Retry-After cannot keep a person waiting for minutes.
TOTAL_DEADLINE_FACTOR = 2.5


class LlmUnavailable(Exception):
    """The model could not give a usable answer. `reason` picks the message people see:
    timeout | rate_limited | server_error | connection | refused | bad_response | budget."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text exactly as the model wrote it (may be malformed)


@dataclass(frozen=True)
class Completion:
    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0


_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    """Rough token count when the server reports none: a CJK character is about one token,
    other text about four characters per token."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


class Llm:
    """One configured endpoint and model."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        transcribe_model: str,
        timeout: float,
        max_retries: int,
        redact: bool = False,
    ) -> None:
        # Local servers (Ollama, vLLM) take any key; the client insists on one.
        self.client = AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=max_retries,
        )
        self.model = model
        self.transcribe_model = transcribe_model
        self.redact = redact
        self.deadline = timeout * TOTAL_DEADLINE_FACTOR + 10 * max_retries

    @classmethod
    def from_settings(cls, settings: Settings) -> Llm | None:
        """None unless CRM_LLM_BASE_URL is set: without it every feature runs deterministically."""
        if not settings.llm_base_url:
            return None
        return cls(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            model=settings.llm_model,
            transcribe_model=settings.llm_transcribe_model,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            redact=settings.llm_redact,
        )

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[Message] | None = None,
        json_mode: bool = False,
    ) -> Completion:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": 0.2}
        if tools:
            kwargs["tools"] = tools
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        response = await self._call(self.client.chat.completions.create(**kwargs))
        try:
            message = response.choices[0].message
            calls = [
                ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments or "")
                for c in message.tool_calls or []
                if getattr(c, "function", None) is not None
            ]
        except (AttributeError, IndexError, TypeError) as exc:
            raise LlmUnavailable("bad_response", repr(exc)) from exc
        usage = response.usage
        prompt = usage.prompt_tokens if usage else estimate_tokens(str(messages))
        completion = usage.completion_tokens if usage else estimate_tokens(message.content or "")
        return Completion(message.content, calls, prompt, completion)

    async def transcribe(self, audio: bytes, *, file_name: str, mime_type: str | None) -> str:
        upload = (file_name, audio, mime_type or "application/octet-stream")
        result = await self._call(
            self.client.audio.transcriptions.create(model=self.transcribe_model, file=upload)
        )
        text = getattr(result, "text", None)
        if not isinstance(text, str):
            raise LlmUnavailable("bad_response", "transcription without text")
        return text.strip()

    async def _call(self, request: Any) -> Any:
        try:
            return await asyncio.wait_for(request, timeout=self.deadline)
        except (TimeoutError, openai.APITimeoutError) as exc:
            raise LlmUnavailable("timeout") from exc
        except openai.RateLimitError as exc:
            raise LlmUnavailable("rate_limited", str(exc)) from exc
        except openai.InternalServerError as exc:
            raise LlmUnavailable("server_error", str(exc)) from exc
        except openai.APIConnectionError as exc:
            raise LlmUnavailable("connection", str(exc)) from exc
        except openai.APIStatusError as exc:
            raise LlmUnavailable("refused", f"{exc.status_code} {exc}") from exc
        except (openai.APIResponseValidationError, ValueError) as exc:
            raise LlmUnavailable("bad_response", repr(exc)) from exc
        except openai.OpenAIError as exc:
            raise LlmUnavailable("bad_response", repr(exc)) from exc

    async def aclose(self) -> None:
        await self.client.close()


def assistant_message(calls: list[ToolCall]) -> Message:
    """The model's tool calls, as the conversation sent back to it records them."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for c in calls
        ],
    }


def tool_message(call: ToolCall, content: str | dict[str, Any]) -> Message:
    """One tool call's result (or error) for the model."""
    body = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return {"role": "tool", "tool_call_id": call.id, "content": body}
