"""Fixtures: a fresh database per test (SQLite file, or a PostgreSQL schema), and staff."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor
from crm_core.db import make_engine, make_session_factory
from crm_core.migrate import upgrade
from crm_core.models import Role
from crm_core.settings import Settings, override_settings
from crm_core.staff import add_staff

POSTGRES_URL = os.environ.get("CRM_TEST_POSTGRES_URL")
# CI sets this: a PostgreSQL test that would be skipped fails instead.
REQUIRE_POSTGRES = os.environ.get("CRM_REQUIRE_POSTGRES") == "1"


@pytest.fixture(autouse=True)
def _settings() -> AsyncIterator[None]:
    # llm_base_url=None: a developer's CRM_LLM_BASE_URL never reaches a real model from tests.
    override_settings(
        Settings(_env_file=None, timezone="Asia/Shanghai", language="zh", llm_base_url=None)
    )
    yield
    override_settings(None)


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database of each kind; nothing is shared between tests."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite+aiosqlite:///{tmp_path}/crm.db")
        await upgrade(eng)
        yield eng
        await eng.dispose()
        return
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("CRM_TEST_POSTGRES_URL is not set but PostgreSQL tests are required")
        pytest.skip("CRM_TEST_POSTGRES_URL not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = make_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(eng)
        yield eng
    finally:
        await eng.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


@dataclass
class Staffing:
    """Two teams: 华东 (manager 王经理, reps 李娜 and 陈明) and Global (rep Tom), one admin."""

    admin: Actor
    manager: Actor
    lina: Actor
    chen: Actor
    tom: Actor


@pytest.fixture
async def staffing(sessions: async_sessionmaker[AsyncSession]) -> Staffing:
    async with sessions() as session, session.begin():
        admin = await add_staff(session, name="Admin", role=Role.ADMIN, language="en")
        manager = await add_staff(session, name="王经理", role=Role.MANAGER, team="华东")
        lina = await add_staff(session, name="李娜", role=Role.REP, team="华东")
        chen = await add_staff(session, name="陈明", role=Role.REP, team="华东")
        tom = await add_staff(session, name="Tom", role=Role.REP, team="Global", language="en")
    return Staffing(*(Actor.from_staff(s) for s in (admin, manager, lina, chen, tom)))
