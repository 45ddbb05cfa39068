"""Search latency per query kind over 100k demo customers on SQLite, beside a naive LIKE scan.

Run: .venv/bin/python benchmarks/search.py [--customers 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

from sqlalchemy import String, cast, or_
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._data import demo_store, percentile  # noqa: E402
from crm_core.access import Actor  # noqa: E402
from crm_core.db import make_session_factory  # noqa: E402
from crm_core.models import Customer, Role, Staff  # noqa: E402
from crm_core.normalize import has_cjk, pinyin_initials  # noqa: E402
from crm_core.search import search_customers  # noqa: E402


def make_queries(rows: list[Customer], rng: random.Random, n: int) -> dict[str, list[str]]:
    chinese = [c for c in rows if has_cjk(c.name)]
    english = [c for c in rows if not has_cjk(c.name)]
    phoned = [c for c in rows if c.phones]
    mailed = [c for c in rows if c.emails]
    companies = [c for c in rows if c.company]
    tagged = [c for c in rows if c.tags]

    def typo(word: str) -> str:
        i = rng.randrange(1, len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    def pick(pool: list[Customer]) -> list[Customer]:
        return [rng.choice(pool) for _ in range(n)]

    def formatted(phone: str) -> str:
        if phone.startswith("+86"):
            local = phone[3:]
            return rng.choice(
                [
                    local,
                    f"+86 {local[:3]}-{local[3:7]}-{local[7:]}",
                    f"{local[:3]} {local[3:7]} {local[7:]}",
                ]
            )
        return phone

    return {
        "chinese name": [c.name for c in pick(chinese)],
        "pinyin": [c.name_pinyin for c in pick(chinese)],
        "pinyin spaced": [
            " ".join([c.name_pinyin[:-2], c.name_pinyin[-2:]]) for c in pick(chinese)
        ],
        "initials": [pinyin_initials(c.name) for c in pick(chinese)],
        "english name": [c.name for c in pick(english)],
        "typo": [typo(c.name_pinyin) for c in pick(chinese) if len(c.name_pinyin) > 4],
        "phone": [formatted(c.phones[0]) for c in pick(phoned)],
        "last 4 digits": [c.phones[0][-4:] for c in pick(phoned)],
        "email": [c.emails[0] for c in pick(mailed)],
        "company": [c.company or "" for c in pick(companies)],
        "tag": [c.tags[0] for c in pick(tagged)],
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    engine, _ = await demo_store(args.customers)
    sessions = make_session_factory(engine)
    rng = random.Random(1)
    async with sessions() as session:
        admin = (await session.exec(select(Staff).where(Staff.role == Role.ADMIN))).first()
        sample = list(
            (await session.exec(select(Customer).order_by(Customer.id).limit(5000))).all()
        )
    actor = Actor.from_staff(admin)
    queries = make_queries(sample, rng, args.queries)

    print(
        f"Search over {args.customers:,} customers (SQLite), {args.queries} queries per kind, "
        "scope: admin (all customers)"
    )
    print(
        f"{'query kind':<15} {'p50 ms':>8} {'p95 ms':>8} {'naive p50':>10} {'naive p95':>10} "
        f"{'speed-up p50':>13} {'found':>6}"
    )
    for kind, texts in queries.items():
        ours, naive, found = [], [], 0
        for text in texts:
            async with sessions() as session:
                started = time.perf_counter()
                hits = await search_customers(session=session, actor=actor, query=text)
                ours.append((time.perf_counter() - started) * 1000)
                found += bool(hits)
        for text in texts[: max(10, len(texts) // 10)]:  # the scan is slow: fewer samples
            async with sessions() as session:
                pattern = f"%{text}%"
                started = time.perf_counter()
                stmt = (
                    select(Customer.id)
                    .where(
                        or_(
                            Customer.name.like(pattern),
                            Customer.company.like(pattern),
                            cast(Customer.phones, String).like(pattern),
                            cast(Customer.emails, String).like(pattern),
                            cast(Customer.tags, String).like(pattern),
                        )
                    )
                    .limit(10)
                )
                (await session.execute(stmt)).all()
                naive.append((time.perf_counter() - started) * 1000)
        p50, p95 = percentile(ours, 50), percentile(ours, 95)
        n50, n95 = percentile(naive, 50), percentile(naive, 95)
        print(
            f"{kind:<15} {p50:>8.2f} {p95:>8.2f} {n50:>10.2f} {n95:>10.2f} "
            f"{n50 / p50:>12.1f}x {found:>3}/{len(texts)}"
        )
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
