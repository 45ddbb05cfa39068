"""Daily care-rule scan and 20 team digests on the demo store (100k customers by default).

    CRM_BENCH_DIR=/tmp/crm-bench-care .venv/bin/python benchmarks/care_scan.py [--customers N]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/crm_bench_care]

The demo has 2 teams; the digest figure builds each team's list ten times over (20 lists)
after spreading the customers' owners over 200 reps in 20 teams.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _data import demo_store
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.digest import build_digest, render_digest
from crm_core import care_rules
from crm_core.clock import utcnow
from crm_core.db import make_engine, make_session_factory
from crm_core.demo import load_demo
from crm_core.migrate import upgrade
from crm_core.models import Team


async def spread_over_reps(engine: AsyncEngine, reps: int = 200, teams: int = 20) -> None:
    async with engine.begin() as conn:
        exists = (await conn.execute(text("SELECT count(*) FROM team"))).scalar_one()
        if exists >= teams:
            return
        for t in range(teams):
            await conn.execute(
                text(
                    "INSERT INTO team (name, timezone, language, digest_time, care_policy) "
                    "VALUES (:n, 'Asia/Shanghai', :l, '09:00', '{}')"
                ),
                {"n": f"Bench{t:02d}", "l": "zh" if t % 2 else "en"},
            )
        team_ids = [
            r[0]
            for r in (
                await conn.execute(text("SELECT id FROM team WHERE name LIKE 'Bench%' ORDER BY id"))
            )
        ]
        for r in range(reps):
            await conn.execute(
                text(
                    "INSERT INTO staff (name, role, team_id, language, timezone, active,"
                    " created_at) VALUES (:n, 'rep', :t, 'zh', 'Asia/Shanghai', true,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"n": f"rep{r:03d}", "t": team_ids[r % teams]},
            )
    await assign_owners(engine)


async def assign_owners(engine: AsyncEngine) -> None:
    """Customer i goes to rep i mod 200 (portable SQL; idempotent)."""
    async with engine.begin() as conn:
        reps = (
            await conn.execute(
                text("SELECT id, team_id FROM staff WHERE name LIKE 'rep%' ORDER BY id")
            )
        ).all()
        for r, (staff_id, team_id) in enumerate(reps):
            await conn.execute(
                text("UPDATE customer SET owner_id = :s, team_id = :t WHERE id % :n = :r"),
                {"s": staff_id, "t": team_id, "n": len(reps), "r": r},
            )


async def measure(engine: AsyncEngine, label: str) -> None:
    await spread_over_reps(engine)
    sessions = make_session_factory(engine)
    for attempt in ("first", "again"):
        result = await care_rules.scan(sessions)
        print(
            f"{label}: scan ({attempt}) {result.seconds:.1f} s for {result.customers} customers: "
            f"{sum(result.created.values())} made, {sum(result.held.values())} held"
        )
    async with sessions() as session:
        teams = (await session.exec(select(Team).where(Team.name.like("Bench%")))).all()
        started = time.perf_counter()
        parts = 0
        for team in teams:
            parts += len(render_digest(await build_digest(session, team, utcnow())))
        elapsed = time.perf_counter() - started
    print(f"{label}: {len(teams)} team digests in {elapsed:.2f} s ({parts} messages)")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--postgres", help="URL of a scratch PostgreSQL database")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--reassign", action="store_true", help="redo the owner spread")
    args = parser.parse_args()
    if not args.skip_sqlite:
        engine, _ = await demo_store(args.customers)
        await measure(engine, "SQLite")
        await engine.dispose()
    if args.postgres:
        pg = make_engine(args.postgres)
        await upgrade(pg)
        async with pg.connect() as conn:
            empty = (await conn.execute(text("SELECT count(*) FROM customer"))).scalar_one() == 0
        if empty:
            started = time.perf_counter()
            await load_demo(pg, customers=args.customers)
            async with pg.connect() as conn:
                await conn.execute(text("ANALYZE"))
            print(f"PostgreSQL: demo loaded in {time.perf_counter() - started:.0f} s")
        if args.reassign:
            await assign_owners(pg)
        await measure(pg, "PostgreSQL")
        await pg.dispose()


if __name__ == "__main__":
    asyncio.run(main())
