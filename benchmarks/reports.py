"""Report latency per report kind and the daily tier recomputation, on 100k customers with
1M orders and 2M interactions, on SQLite and (with --postgres) PostgreSQL.

The demo generator makes ~560k orders and ~680k interactions for 100k customers; this
script copies orders and interactions, shifted a few days earlier, until the issue's volumes
are reached (in a copy of the demo file, or in the PostgreSQL database it creates).

Run:
  CRM_BENCH_DIR=/tmp/crm-bench-me .venv/bin/python benchmarks/reports.py
  .venv/bin/python benchmarks/reports.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/crm_bench
(the PostgreSQL database is created, filled and, unless --keep, dropped again).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._data import bench_db_path, demo_store, percentile  # noqa: E402
from bot.report_chart import render_chart  # noqa: E402
from bot.report_parser import parse_question  # noqa: E402
from bot.report_view import ReportWords, chart  # noqa: E402
from crm_core.access import Actor  # noqa: E402
from crm_core.analytics.tiers import recompute_tiers  # noqa: E402
from crm_core.clock import utcnow  # noqa: E402
from crm_core.db import make_engine, make_session_factory  # noqa: E402
from crm_core.demo import load_demo  # noqa: E402
from crm_core.migrate import upgrade  # noqa: E402
from crm_core.models import Staff  # noqa: E402
from crm_core.reports import run_report  # noqa: E402

ORDERS, INTERACTIONS = 1_000_000, 2_000_000
QUESTIONS = {
    "KPI + previous (repurchase)": "上个月复购率",
    "revenue, orders, AOV + prev": "本月销售额 订单数 客单价",
    "top 10 customers by revenue": "本季度销售额前10的客户",
    "NPS trend, 6 months": "近6个月NPS趋势",
    "new customers per rep": "各销售本月新客户数",
    "churn-risk customer list": "哪些客户有流失风险",
    "revenue by month vs last yr": "今年按月销售额同比",
    "retention by month, 6 mo": "近6个月按月留存率",
    "CLV hist + predicted by tier": "按等级客户终身价值 预测终身价值",
    "interactions per rep": "上个月各销售跟进次数",
    "bought together (12 mo)": "经常一起买的产品",
    "best leads": "最值得跟进的线索",
    "seasonality (24 months)": "打印机哪几个月卖得好",
}

_ORDER_COLUMNS = (
    "customer_id, staff_id, amount, currency, payment_method, credit_days, due_date, "
    "payment_status, paid_at, note, deleted_at"
)
_TOUCH_COLUMNS = "customer_id, staff_id, kind, channel, summary, raw_text, outcome, deleted_at"


def _shift(dialect: str, column: str, days: int) -> str:
    if dialect == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%f', {column}, '-{days} days')"
    return f"{column} - interval '{days} days'"


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def top_up(engine: AsyncEngine) -> None:
    """Copy orders and interactions (a few days earlier) up to 1M and 2M rows."""
    dialect = engine.dialect.name
    for table, columns, when, target, days in (
        ("customer_order", _ORDER_COLUMNS, "ordered_at", ORDERS, 13),
        ("interaction", _TOUCH_COLUMNS, "occurred_at", INTERACTIONS, 3),
    ):
        step = 0
        while (have := await _count(engine, table)) < target:
            step += 1
            stamps = f"{when}, created_at"
            back = days * step
            shifted = f"{_shift(dialect, when, back)}, {_shift(dialect, 'created_at', back)}"
            sql = (
                f"INSERT INTO {table} ({columns}, {stamps}) "
                f"SELECT {columns}, {shifted} FROM {table} ORDER BY id LIMIT {target - have}"
            )
            async with engine.begin() as conn:
                await conn.execute(text(sql))
    await settle(engine)


async def settle(engine: AsyncEngine) -> None:
    """Fresh statistics (and on PostgreSQL a visibility map), as autovacuum would leave."""
    if engine.dialect.name == "sqlite":
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
        return
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM ANALYZE"))


async def sqlite_store(customers: int) -> AsyncEngine:
    engine, _ = await demo_store(customers)
    await engine.dispose()
    base = bench_db_path(customers)
    path = base.with_name(f"reports-{base.name}")
    if not path.exists():
        partial = path.with_suffix(".building")
        shutil.copy(base, partial)
        engine = make_engine(f"sqlite+aiosqlite:///{partial}")
        await upgrade(engine)
        started = time.perf_counter()
        await top_up(engine)
        print(
            f"topped up to {ORDERS:,} orders / {INTERACTIONS:,} interactions in "
            f"{time.perf_counter() - started:.0f} s"
        )
        await engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        partial.rename(path)
    return make_engine(f"sqlite+aiosqlite:///{path}")


async def postgres_store(url: str, customers: int) -> AsyncEngine:
    """Create the database named in `url`, fill it, and return an engine on it."""
    base, _, name = url.rpartition("/")
    admin = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        exists = (
            await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        ).first()
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    engine = make_engine(url)
    await upgrade(engine)
    if not await _count(engine, "customer"):
        started = time.perf_counter()
        summary = await load_demo(engine, customers=customers, seed=7)
        print(
            f"loaded {summary.customers:,} customers into PostgreSQL in "
            f"{time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        await top_up(engine)
        print(f"topped up in {time.perf_counter() - started:.0f} s")
    return engine


async def drop_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    admin = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def measure(engine: AsyncEngine, label: str, runs: int) -> None:
    sessions = make_session_factory(engine)
    counts = {t: await _count(engine, t) for t in ("customer", "customer_order", "interaction")}
    print(
        f"\n{label}: {counts['customer']:,} customers, {counts['customer_order']:,} orders, "
        f"{counts['interaction']:,} interactions"
    )
    await recompute_tiers(sessions, utcnow())  # the churn-risk list reads stored tiers
    await settle(engine)
    async with sessions() as session:
        staff = {s.name: s for s in (await session.exec(select(Staff))).all()}
    from bot.report_actions import load_vocabulary

    print(
        f"{'report kind (as manager 王经理, team scope)':<44} "
        f"{'p50 ms':>8} {'max ms':>8} {'rows':>5}"
    )
    actor = Actor.from_staff(staff["王经理"])
    charts: list[float] = []
    for kind, question in QUESTIONS.items():
        async with sessions() as session:
            vocab = await load_vocabulary(session, actor)
        query = parse_question(question, vocab)
        assert query is not None, question
        times, rows = [], 0
        for i in range(runs + 1):
            async with sessions() as session:
                t0 = time.perf_counter()
                result = await run_report(session=session, actor=actor, query=query, now=utcnow())
                if i:  # the first run warms the caches
                    times.append((time.perf_counter() - t0) * 1000)
            rows = len(result.rows)
        spec = chart(ReportWords(result, "zh"))
        if spec is not None:
            t0 = time.perf_counter()
            render_chart(spec)
            charts.append((time.perf_counter() - t0) * 1000)
        print(f"{kind:<44} {percentile(times, 50):>8.0f} {max(times):>8.0f} {rows:>5}")
    print(f"chart PNG (matplotlib, worker thread in the bot): p50 {percentile(charts, 50):.0f} ms")
    # Last, so its 100k row writes do not disturb the report figures above.
    async with engine.begin() as conn:  # the worst case: every customer's tier is written
        await conn.execute(text("UPDATE customer SET tier = NULL, tier_reason = NULL, risk = NULL"))
    started = time.perf_counter()
    run = await recompute_tiers(sessions, utcnow())
    print(
        f"daily tier recomputation: {time.perf_counter() - started:.1f} s "
        f"({run.customers:,} customers, {run.changed:,} rows written)"
    )
    again = time.perf_counter()
    await recompute_tiers(sessions, utcnow())
    print(f"  again, nothing changed: {time.perf_counter() - again:.1f} s")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", help="URL of a database to create (e.g. …/crm_bench)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        engine = await sqlite_store(args.customers)
        await measure(engine, "SQLite", args.runs)
        await engine.dispose()
    if args.postgres:
        engine = await postgres_store(args.postgres, args.customers)
        try:
            await measure(engine, "PostgreSQL", args.runs)
        finally:
            await engine.dispose()
            if not args.keep:
                await drop_database(args.postgres)


if __name__ == "__main__":
    asyncio.run(main())
