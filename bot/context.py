"""What a handler or action needs: who asks, where, when, and a way to the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import Incoming
from bot.i18n import format_when, t
from crm_core.access import Actor
from crm_core.clock import local_now
from crm_core.db import read_only_sessions

if TYPE_CHECKING:
    from bot.llm import Llm


@dataclass
class Context:
    sessions: async_sessionmaker[AsyncSession]
    actor: Actor
    incoming: Incoming
    # The configured language model, or None: every feature then takes its deterministic path.
    llm: Llm | None = None

    @property
    def lang(self) -> str:
        return self.actor.language

    @property
    def now(self) -> datetime:
        """Now in the actor's timezone: relative dates ("明天", "next Friday") start here."""
        return local_now(self.actor.timezone)

    def t(self, key: str, **params: Any) -> str:
        return t(self.lang, key, **params)

    def when(self, value: datetime) -> str:
        return format_when(value, self.lang, self.actor.timezone)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One short unit of work; never held across slow calls (LLM, network)."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that only reads: on SQLite it takes no write lock, so searches
        neither wait for nor block the writers. Never write through it."""
        async with read_only_sessions(self.sessions)() as session, session.begin():
            yield session
