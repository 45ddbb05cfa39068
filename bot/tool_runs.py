"""Running one tool call the model asked for: scoped by crm_core like any command, logged
(allowed or not), and never twice for the same message — a replayed message finds its
earlier write in the log, written in the same transaction as the change itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.actions import Action
from bot.context import Context
from crm_core.errors import CrmError, Forbidden, NotFound
from crm_core.models import LlmToolCall


@dataclass
class Ran:
    result: BaseModel | None  # None: done by an earlier delivery of this same message


@dataclass
class Refused:
    status: str  # denied | failed | invalid
    message: str  # in the person's language; also what the model is told


def fingerprint(tool: str, args: BaseModel | dict[str, Any]) -> str:
    data = args.model_dump(mode="json") if isinstance(args, BaseModel) else args
    canonical = json.dumps([tool, data], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _row(ctx: Context, tool: str, args: Any, status: str, error: str | None) -> LlmToolCall:
    data = args.model_dump(mode="json") if isinstance(args, BaseModel) else args
    return LlmToolCall(
        staff_id=ctx.actor.staff_id,
        channel=ctx.incoming.channel,
        message_id=ctx.incoming.message_id,
        tool=tool,
        arguments=to_jsonable_python(data),
        fingerprint=fingerprint(tool, data),
        status=status,
        error=error[:200] if error else None,
    )


@dataclass
class _LoggedContext(Context):
    """A Context whose first transaction also writes the tool-call log row."""

    pending_row: LlmToolCall | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session
            if self.pending_row is not None:
                session.add(self.pending_row)
                self.pending_row = None


async def log_refusal(ctx: Context, tool: str, args: Any, status: str, error: str) -> None:
    async with ctx.transaction() as session:
        session.add(_row(ctx, tool, args, status, error))


async def _done_before(ctx: Context, key: str) -> bool:
    async with ctx.sessions() as session:
        stmt = select(LlmToolCall.id).where(
            LlmToolCall.channel == ctx.incoming.channel,
            LlmToolCall.message_id == ctx.incoming.message_id,
            LlmToolCall.fingerprint == key,
            LlmToolCall.status == "done",
        )
        return (await session.exec(stmt)).first() is not None


async def run(ctx: Context, action: Action, args: BaseModel) -> Ran | Refused:
    """Run `action` for the actor; crm_core decides what they may see and change."""
    if ctx.actor.role not in action.roles:
        await log_refusal(ctx, action.name, args, "denied", "role")
        return Refused("denied", ctx.t("forbidden"))
    if action.writes and await _done_before(ctx, fingerprint(action.name, args)):
        return Ran(None)
    logged = _LoggedContext(
        ctx.sessions,
        ctx.actor,
        ctx.incoming,
        ctx.llm,
        pending_row=_row(ctx, action.name, args, "done", None),
    )
    try:
        result = await action.run(logged, args)
    except CrmError as error:
        status = "denied" if isinstance(error, NotFound | Forbidden) else "failed"
        await log_refusal(ctx, action.name, args, status, error.code)
        return Refused(status, ctx.t(error.code, **error.params))
    except ValidationError as error:
        await log_refusal(ctx, action.name, args, "invalid", str(error))
        return Refused("invalid", ctx.t("nlu_invalid_arguments"))
    return Ran(result)
