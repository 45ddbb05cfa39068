"""A demo store of the requested size, built once and reused across benchmark runs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core.db import make_engine, refresh_planner_stats
from crm_core.demo import load_demo
from crm_core.migrate import upgrade


def bench_db_path(customers: int) -> Path:
    folder = Path(os.environ.get("CRM_BENCH_DIR", "/tmp/crm-bench"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"demo-{customers}.db"


async def demo_store(customers: int, *, seed: int = 7) -> tuple[AsyncEngine, str]:
    """An engine on a SQLite demo store with `customers` customers (built on first use)."""
    path = bench_db_path(customers)
    url = f"sqlite+aiosqlite:///{path}"
    if not path.exists():
        partial = path.with_suffix(".building")
        partial.unlink(missing_ok=True)
        engine = make_engine(f"sqlite+aiosqlite:///{partial}")
        await upgrade(engine)
        started = time.perf_counter()
        summary = await load_demo(engine, customers=customers, seed=seed)
        await refresh_planner_stats(engine)
        print(f"built {path.name} in {time.perf_counter() - started:.1f} s: {summary}")
        await engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        partial.rename(path)
    return make_engine(url), url


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]
