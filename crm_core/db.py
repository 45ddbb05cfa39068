"""Engine and session factory. SQLite (WAL, BEGIN IMMEDIATE) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Reports scan hundreds of thousands of index entries: a 64 MiB page cache and memory-mapped
# reads (address space, not RAM) keep that from turning into one read() per page.
SQLITE_CACHE_KIB = 65_536
SQLITE_MMAP_BYTES = 1 << 30
# Execution option marking a unit of work that only reads (see read_only_sessions).
READ_ONLY = "crm_read_only"
# Execution option for work made of statements that each stand alone (single_statement_sessions).
SINGLE_STATEMENT = "crm_single_statement"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """Build an engine for `url`. No module-level engine exists: callers own theirs."""
    if not is_sqlite(url):
        return create_async_engine(url, echo=echo, pool_pre_ping=True, **kwargs)
    # Sessions end their own transactions (commit, or rollback on close); the pool's extra
    # rollback on every check-in is a wasted round trip to aiosqlite's thread.
    kwargs.setdefault("pool_reset_on_return", None)
    engine = create_async_engine(url, echo=echo, **kwargs)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling issues a deferred BEGIN, and a deferred
    # read-then-write transaction fails with SQLITE_BUSY at once, whatever busy_timeout
    # says. So we switch it off and emit BEGIN IMMEDIATE ourselves (SQLAlchemy's recipe).
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only unit of work needs no write lock: a deferred BEGIN reads one WAL
        # snapshot while writers carry on (and it never waits for them).
        options = conn.get_execution_options()
        if options.get(SINGLE_STATEMENT, False):
            return  # autocommit: each statement is its own transaction
        conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY, False) else "BEGIN IMMEDIATE")


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def read_only_sessions(
    factory: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions on the same engine (and pool) for units of work that only read.

    On SQLite their transactions begin deferred instead of IMMEDIATE, so a long read (the
    care scan) or a busy stream of searches never queues behind, or blocks, the writers. A
    write through such a session is a bug: SQLite may then answer "database is locked" at
    once instead of waiting. PostgreSQL ignores the option.
    """
    return _with_option(factory, READ_ONLY)


def single_statement_sessions(
    factory: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions for work whose every statement stands alone (one INSERT, one UPDATE).

    On SQLite no BEGIN is sent: each statement commits by itself (and still waits for the
    write lock as busy_timeout allows), which saves a BEGIN's round trips to aiosqlite's
    thread on the per-message inbox writes. Statements that must commit together belong in
    an ordinary session. PostgreSQL ignores the option.
    """
    return _with_option(factory, SINGLE_STATEMENT)


def _with_option(
    factory: async_sessionmaker[AsyncSession], option: str
) -> async_sessionmaker[AsyncSession]:
    cache = _DERIVED_FACTORIES.setdefault(option, WeakKeyDictionary())
    derived = cache.get(factory)
    if derived is None:
        bind = factory.kw["bind"].execution_options(**{option: True})
        derived = async_sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)
        cache[factory] = derived
    return derived


_DERIVED_FACTORIES: dict[
    str, WeakKeyDictionary[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]]
] = {}


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on error."""
    async with factory() as session, session.begin():
        yield session


async def create_all(engine: AsyncEngine) -> None:
    """Create every table from the models (tests); production uses the migrations."""
    from crm_core import models  # noqa: F401  (registers the tables)

    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)


async def refresh_planner_stats(engine: AsyncEngine) -> None:
    """ANALYZE, so the planner knows a search key is selective and an owner is not.

    Without statistics SQLite may drive a rep's search from the owner index and probe
    every one of their customers (~150 ms at 100k) instead of the key index (~1 ms).
    Cheap (about 0.3 s per 100k customers); run after bulk loads, at start-up and daily.
    """
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
