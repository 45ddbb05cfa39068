"""A segment put to work through the Assistant: /remind segment=… (one reminder per member),
/undo of all of them, and /draft segment=… (template drafts, no model), timed.

Run: .venv/bin/python benchmarks/segment_use.py [--customers 10000]
Works on a copy of the demo store, so the shared one is left as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._data import bench_db_path, demo_store  # noqa: E402
from bot import segment_actions  # noqa: E402
from bot.app import Assistant  # noqa: E402
from bot.events import Incoming, Reply  # noqa: E402
from crm_core.db import make_engine, make_session_factory  # noqa: E402
from crm_core.models import Role, Staff  # noqa: E402


async def timed(assistant: Assistant, sender: str, text: str) -> tuple[float, list[Reply]]:
    incoming = Incoming(
        channel="console",
        message_id=uuid.uuid4().hex,
        sender_id=sender,
        chat_id="bench",
        text=text,
    )
    started = time.perf_counter()
    replies = await assistant.handle(incoming)
    return (time.perf_counter() - started) * 1000, replies


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    shared, _ = await demo_store(args.customers)
    await shared.dispose()
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "crm.db"
        shutil.copy(bench_db_path(args.customers), copy)
        engine = make_engine(f"sqlite+aiosqlite:///{copy}")
        sessions = make_session_factory(engine)
        async with sessions() as session:
            manager = (await session.exec(select(Staff).where(Staff.role == Role.MANAGER))).first()
        assert manager is not None
        assistant = Assistant(sessions)
        assistant.llm = None  # template drafts: the model's time is not ours to measure
        await timed(assistant, manager.name, "/segment bench: bought>=2")
        print(f"Segment use over {args.customers:,} customers (SQLite), manager {manager.name}")
        remind = "/remind segment=bench tomorrow 9am: call back"
        # The first unparsed date phrase loads dateparser's locales (seconds, once a process).
        await timed(assistant, manager.name, "/remind segment=none tomorrow 9am: warm up")
        ms, _ = await timed(assistant, manager.name, remind)
        print(f"/remind segment=…  refused (cap {segment_actions.REMINDER_CAP}): {ms:.0f} ms")
        segment_actions.REMINDER_CAP = 100_000  # now time the work itself, all members
        ms, [reply] = await timed(assistant, manager.name, remind)
        count = len(reply.data["reminders"]) if reply.data else 0
        print(f"/remind segment=…  {count:>6} reminders  {ms:8.0f} ms  {ms / count:.2f} ms each")
        ms, _ = await timed(assistant, manager.name, "/undo")
        print(f"/undo              {count:>6} reminders  {ms:8.0f} ms  {ms / count:.2f} ms each")
        ms, replies = await timed(assistant, manager.name, "/draft segment=bench followup")
        print(f"/draft segment=…   {len(replies) - 1:>6} drafts     {ms:8.0f} ms")
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
