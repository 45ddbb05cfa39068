"""E2E fixtures: fake platform APIs on 127.0.0.1 (helpers live in e2e_support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fakes.openai_server import FakeOpenAI
from fakes.slack_api import FakeSlackApi
from fakes.telegram_api import FakeTelegramApi


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramApi]:
    api = FakeTelegramApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    api = FakeSlackApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def openai_api() -> AsyncIterator[FakeOpenAI]:
    api = FakeOpenAI()
    await api.start()
    yield api
    await api.stop()
