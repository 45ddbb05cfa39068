"""Helpers of the end-to-end tests: settings pointing at the fakes, and `crmbot run`'s
services started on the test's database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fakes.openai_server import FakeOpenAI
from fakes.slack_api import FakeSlackApi
from fakes.telegram_api import FakeTelegramApi
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import Assistant
from crm_core.settings import Settings, override_settings
from integrations.base import FrontDoor
from integrations.runner import Platforms

SIGNING_SECRET = "slack-signing-secret"
WEBHOOK_SECRET = "tg-webhook-secret"


def use_settings(**values: Any) -> Settings:
    """The test's settings, with an HTTP server on any free port."""
    settings = Settings(
        _env_file=None, timezone="Asia/Shanghai", language="zh", http_port=0, **values
    )
    override_settings(settings)
    return settings


def telegram_settings(api: FakeTelegramApi, **values: Any) -> dict[str, Any]:
    return {"telegram_token": api.token, "telegram_api_url": api.base_url, **values}


def llm_settings(api: FakeOpenAI, **values: Any) -> dict[str, Any]:
    """A model behind the fake OpenAI server, reached by the real openai client."""
    return {
        "llm_base_url": api.base_url,
        "llm_api_key": "test-key",
        "llm_model": "fake-model",
        "llm_timeout": 5.0,
        **values,
    }


def slack_settings(api: FakeSlackApi, **values: Any) -> dict[str, Any]:
    return {
        "slack_bot_token": api.token,
        "slack_api_url": api.base_url,
        "slack_signing_secret": SIGNING_SECRET,
        **values,
    }


@asynccontextmanager
async def running(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    doors: Callable[[Assistant], Sequence[FrontDoor]],
) -> AsyncIterator[Platforms]:
    """`crmbot run`'s services, started on the test's database; stopped after."""
    assistant = Assistant(sessions)
    platforms = Platforms(assistant, settings, doors(assistant))
    await platforms.start()
    try:
        yield platforms
    finally:
        await platforms.stop()
        if assistant.llm is not None:
            await assistant.llm.aclose()
