"""Commands through the Assistant, no network: messages/s and latency for /find and /log.

Run: .venv/bin/python benchmarks/assistant.py [--customers 100000] [--messages 1000]
Messages are sent one after another as a sales rep, as the console front door would.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from pathlib import Path

from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._data import demo_store, percentile  # noqa: E402
from bot.app import Assistant  # noqa: E402
from bot.events import Incoming  # noqa: E402
from crm_core.db import make_session_factory  # noqa: E402
from crm_core.models import Customer, Role, Staff  # noqa: E402


async def run(
    assistant: Assistant, sender: str, texts: list[str]
) -> tuple[float, list[float], float]:
    """Messages/s, latencies (ms) and CPU ms per message (all threads: steadier than wall
    time on a shared machine)."""
    latencies = []
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        incoming = Incoming(
            channel="console",
            message_id=uuid.uuid4().hex,
            sender_id=sender,
            chat_id="bench",
            text=text,
        )
        t0 = time.perf_counter()
        replies = await assistant.handle(incoming)
        latencies.append((time.perf_counter() - t0) * 1000)
        assert replies, text
    cpu_ms = (time.process_time() - cpu) * 1000 / len(texts)
    return len(texts) / (time.perf_counter() - started), latencies, cpu_ms


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    engine, _ = await demo_store(args.customers)
    sessions = make_session_factory(engine)
    async with sessions() as session:
        rep = (await session.exec(select(Staff).where(Staff.role == Role.REP))).first()
        mine = list(
            (
                await session.exec(
                    select(Customer.name, Customer.phones)
                    .where(Customer.owner_id == rep.id)
                    .limit(3000)
                )
            ).all()
        )
    rng = random.Random(3)
    picks = [rng.choice(mine) for _ in range(args.messages)]
    finds = [f"/find {name}" for name, _ in picks]
    # By phone so each /log resolves to exactly one customer, as a rep would write it.
    logs = [f"/log {phones[0]}: 电话沟通新报价,客户比较满意" for _, phones in picks if phones]
    assistant = Assistant(sessions)
    await run(assistant, rep.name, finds[:50])  # warm-up
    print(f"Assistant over {args.customers:,} customers (SQLite), sender: rep {rep.name}")
    print(f"{'command':<8} {'messages':>9} {'msg/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>8}")
    for label, texts in (("/find", finds), ("/log", logs)):
        rate, latencies, cpu_ms = await run(assistant, rep.name, texts)
        print(
            f"{label:<8} {len(texts):>9} {rate:>8.0f} {percentile(latencies, 50):>8.2f} "
            f"{percentile(latencies, 99):>8.2f} {cpu_ms:>8.2f}"
        )
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
