"""The LLM layer's tests: a fake OpenAI server per test, the real openai client against it,
and the Assistant on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func
from sqlmodel import select

from bot.app import Assistant
from bot.events import Incoming, Reply
from crm_core.settings import Settings, override_settings
from tests.fakes.openai_server import FakeOpenAI

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Tuesday 24 November 2026, 10:00 in Shanghai.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    await server.start()
    yield server
    await server.stop()


def llm_settings(fake: FakeOpenAI, **changes: object) -> Settings:
    values: dict[str, object] = {
        "timezone": "Asia/Shanghai",
        "language": "zh",
        "llm_base_url": fake.base_url,
        "llm_api_key": "test-key",
        "llm_model": "fake-model",
        "llm_timeout": 5.0,
        "llm_max_retries": 2,
    }
    values.update(changes)
    return Settings(_env_file=None, **values)


@pytest.fixture
def configure(fake: FakeOpenAI):
    """configure(**settings): settings pointing at the fake (before building an Assistant)."""

    def apply(**changes: object) -> None:
        override_settings(llm_settings(fake, **changes))

    apply()
    return apply


@pytest.fixture
async def assistant(sessions, configure) -> AsyncIterator[Assistant]:
    bot = Assistant(sessions)
    assert bot.llm is not None
    yield bot
    await bot.llm.aclose()


async def say(
    assistant: Assistant,
    who: str,
    text: str | None = None,
    *,
    button: str | None = None,
    message_id: str | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> list[Reply]:
    return await assistant.handle(
        Incoming(
            channel="console",
            message_id=message_id or f"m-{next(_ids)}",
            sender_id=who,
            chat_id=f"chat-{who}",
            text=text,
            button=button,
            attachments=attachments or [],
        )
    )


def payloads(reply: Reply) -> list[str]:
    return [b.payload for row in reply.buttons for b in row]


async def count(sessions, model, *where) -> int:
    async with sessions() as session:
        stmt = select(func.count()).select_from(model)
        if where:
            stmt = stmt.where(*where)
        return (await session.exec(stmt)).one()
