"""Exports: scoped by role, and a round trip (export, import into an empty store, export
again) loses nothing."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from importfiles import csv_bytes
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core.access import Actor
from crm_core.db import make_engine, make_session_factory
from crm_core.demo import load_demo
from crm_core.errors import InvalidInput
from crm_core.io.exporter import export_file
from crm_core.io.headers import Kind
from crm_core.io.importer import import_file
from crm_core.migrate import upgrade
from crm_core.staff import find_staff

POSTGRES_URL = os.environ.get("CRM_TEST_POSTGRES_URL")


@asynccontextmanager
async def empty_store(like: AsyncEngine, folder: Path) -> AsyncIterator[AsyncEngine]:
    """A second, migrated store of the same kind as `like`."""
    if like.dialect.name == "sqlite":
        engine = make_engine(f"sqlite+aiosqlite:///{folder}/second.db")
        await upgrade(engine)
        yield engine
        await engine.dispose()
        return
    assert POSTGRES_URL
    schema, admin = f"t_{uuid.uuid4().hex[:12]}", make_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def actor(engine: AsyncEngine, name: str) -> Actor:
    async with make_session_factory(engine)() as session:
        return Actor.from_staff(await find_staff(session, name), channel="cli")


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


async def export_csvs(engine: AsyncEngine, folder: Path) -> dict[str, list[list[str]]]:
    admin = await actor(engine, "Admin")
    folder.mkdir()
    tables = {}
    for kind in Kind:
        path = folder / f"{kind.value}.csv"
        await export_file(make_session_factory(engine), admin, path, kind.value)
        tables[kind.value] = read_csv(path)
    return tables


async def test_round_trip_into_an_empty_store_loses_nothing(engine, tmp_path):
    await load_demo(engine, customers=40, seed=3)
    sessions = make_session_factory(engine)
    admin = await actor(engine, "Admin")
    # The demo has no custom fields; give one customer some, with awkward names.
    await import_file(
        sessions,
        admin,
        csv_bytes(
            [["姓名", "手机", "城市", "地址", "评分"], ["张伟", "13800138000", "", "浦东", "VIP"]]
        ),
        "extra.csv",
    )
    before = await export_csvs(engine, tmp_path / "before")
    await export_file(sessions, admin, tmp_path / "all.xlsx", "all")
    async with empty_store(engine, tmp_path) as second:
        await load_demo(second, customers=0)  # the same staff and products, no customers
        report = await import_file(
            make_session_factory(second),
            await actor(second, "Admin"),
            (tmp_path / "all.xlsx").read_bytes(),
            "all.xlsx",
        )
        assert report.rejected == [] and report.warnings == [] and report.conflicts == []
        after = await export_csvs(second, tmp_path / "after")
    assert {k: len(rows) - 1 for k, rows in after.items()} == {
        k: len(rows) - 1 for k, rows in before.items()
    }
    assert before["customers"][0][-2:] == ["地址", "custom.评分"]
    for kind in Kind:
        assert after[kind.value] == before[kind.value], kind


async def test_exports_are_scoped_by_role(engine, tmp_path):
    await load_demo(engine, customers=30, seed=5)
    sessions = make_session_factory(engine)
    counts = {}
    for name in ("Admin", "王经理", "李娜", "Tom Wu"):
        path = tmp_path / f"{name}.csv"
        counts[name] = (await export_file(sessions, await actor(engine, name), path, "orders"))[
            "orders"
        ]
        rows = read_csv(path)
        assert rows[0][:4] == ["customer", "customer_phone", "customer_email", "customer_company"]
        assert len(rows) - 1 == counts[name]
    assert counts["Admin"] > counts["王经理"] > counts["李娜"] > 0
    assert counts["Admin"] == counts["王经理"] + counts["Tom Wu"]


async def test_only_csv_or_xlsx(engine, tmp_path):
    await load_demo(engine, customers=0)
    admin = await actor(engine, "Admin")
    for name, what in (("x.json", "customers"), ("x.csv", "all")):
        with pytest.raises(InvalidInput):
            await export_file(make_session_factory(engine), admin, tmp_path / name, what)
