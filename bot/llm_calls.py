"""Every call to the model goes through here: the daily budget is checked first, phones and
e-mails are redacted when CRM_LLM_REDACT=1, and the tokens are recorded after."""

from __future__ import annotations

import copy
from dataclasses import replace

from bot import llm_usage
from bot.context import Context
from bot.llm import Completion, LlmUnavailable, Message, estimate_tokens
from bot.redact import Redactor


def new_redactor(ctx: Context) -> Redactor | None:
    return Redactor() if ctx.llm is not None and ctx.llm.redact else None


def _redacted(messages: list[Message], redactor: Redactor) -> list[Message]:
    out = copy.deepcopy(messages)
    for message in out:
        if isinstance(message.get("content"), str):
            message["content"] = redactor.redact(message["content"])
        for call in message.get("tool_calls") or []:
            call["function"]["arguments"] = redactor.redact(call["function"]["arguments"])
    return out


async def _check_budget(ctx: Context) -> None:
    left = await llm_usage.remaining(ctx)
    if left is not None and left <= 0:
        raise LlmUnavailable("budget")


async def chat(
    ctx: Context,
    messages: list[Message],
    *,
    tools: list[Message] | None = None,
    json_mode: bool = False,
    redactor: Redactor | None = None,
) -> Completion:
    """One completion for `ctx.actor`. Raises LlmUnavailable (reason "budget" when spent)."""
    llm = ctx.llm
    if llm is None:
        raise LlmUnavailable("refused", "no model configured")
    await _check_budget(ctx)
    outgoing = _redacted(messages, redactor) if redactor else messages
    completion = await llm.complete(outgoing, tools=tools, json_mode=json_mode)
    await llm_usage.record(
        ctx,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
    )
    if redactor is None:
        return completion
    return replace(
        completion,
        content=redactor.restore(completion.content) if completion.content else None,
        tool_calls=[
            replace(c, arguments=redactor.restore(c.arguments)) for c in completion.tool_calls
        ],
    )


async def transcribe(ctx: Context, audio: bytes, *, file_name: str, mime_type: str | None) -> str:
    llm = ctx.llm
    if llm is None:
        raise LlmUnavailable("refused", "no model configured")
    await _check_budget(ctx)
    words = await llm.transcribe(audio, file_name=file_name, mime_type=mime_type)
    # Transcription reports no tokens: count the words it produced.
    await llm_usage.record(ctx, prompt_tokens=0, completion_tokens=estimate_tokens(words))
    return words
