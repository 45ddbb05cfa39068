"""Updates/s through the real python-telegram-bot Application (long polling) against the fake
Bot API: our /find on a large store, beside a no-op echo handler on the same stack.

Run: CRM_BENCH_DIR=/tmp/crm-bench-me .venv/bin/python benchmarks/telegram_throughput.py \
        [--customers 100000] [--updates 2000] [--chats 20]

All runs use the same Application set-up (polling, update queue, per-chat ordering, PTB's
rate limiter with Telegram's flood limits switched off — the fake is not Telegram) and the
same fake server; the ratio is our handler's throughput over the framework floor's.
The demo store is copied first, so the inbox rows written here stay out of the shared file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakes.telegram_api import FakeTelegramApi, message_update  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler  # noqa: E402
from telegram.ext import filters as tg_filters  # noqa: E402

from benchmarks._data import bench_db_path, demo_store  # noqa: E402
from bot.app import Assistant  # noqa: E402
from bot.events import Incoming, Reply  # noqa: E402
from crm_core.db import make_engine, make_session_factory  # noqa: E402
from crm_core.models import Channel, Customer, Role, Staff, StaffIdentity  # noqa: E402
from crm_core.settings import Settings, override_settings  # noqa: E402
from integrations.telegram import PerChatProcessor, TelegramFrontDoor, file_url  # noqa: E402

FIRST_USER = 10_000


def no_flood_limits() -> AIORateLimiter:
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)


async def measure(api: FakeTelegramApi, texts: list[str], chats: int) -> float:
    """Push every update at once; updates/s until the last answer reached the fake."""
    before = len(api.sent("sendMessage"))
    started = time.perf_counter()
    for i, text in enumerate(texts):
        api.push(message_update(FIRST_USER + i % chats, text))
    await api.wait_for(count=before + len(texts), timeout=600)
    return len(texts) / (time.perf_counter() - started)


async def echo_floor(settings: Settings, texts: list[str], chats: int) -> float:
    api = FakeTelegramApi()
    await api.start()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The framework floor: receive, send the text back."""
        assert update.effective_chat and update.effective_message
        await context.bot.send_message(
            update.effective_chat.id, update.effective_message.text or ""
        )

    application = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(file_url(settings))
        .concurrent_updates(PerChatProcessor())
        .rate_limiter(no_flood_limits())
        .build()
    )
    application.add_handler(MessageHandler(tg_filters.ALL, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling()
        await measure(api, texts[:50], chats)  # warm-up
        rate = await measure(api, texts, chats)
        await application.updater.stop()
        await application.stop()
    await api.stop()
    return rate


class EchoAssistant(Assistant):
    """Stores every update in the inbox like the real one (accept), answers with the text."""

    async def process(self, inbox_id: int, incoming: Incoming) -> list[Reply]:
        return [Reply(text=incoming.text or "")]


async def through_front_door(
    db_url: str, settings: Settings, texts: list[str], chats: int, *, echo: bool = False
) -> float:
    """Updates/s through TelegramFrontDoor: store first, answer, render, send."""
    api = FakeTelegramApi()
    await api.start()
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        rep = (await session.exec(select(Staff).where(Staff.role == Role.REP))).scalars().first()
        for i in range(chats):  # one rep on several phones: `chats` linked Telegram users
            session.add(
                StaffIdentity(
                    staff_id=rep.id, channel=Channel.TELEGRAM, external_id=str(FIRST_USER + i)
                )
            )
    settings = settings.model_copy(
        update={"telegram_token": api.token, "telegram_api_url": api.base_url}
    )
    override_settings(settings)
    assistant = (EchoAssistant if echo else Assistant)(sessions)
    door = TelegramFrontDoor(assistant, settings, rate_limiter=no_flood_limits())
    await door.start()
    await measure(api, texts[:50], chats)  # warm-up
    rate = await measure(api, texts, chats)
    await door.stop()
    await api.stop()
    await engine.dispose()
    return rate


async def rep_queries(db_url: str, count: int) -> list[str]:
    engine = make_engine(db_url)
    async with make_session_factory(engine)() as session:
        rep = (await session.exec(select(Staff).where(Staff.role == Role.REP))).scalars().first()
        names = (
            (
                await session.exec(
                    select(Customer.name).where(Customer.owner_id == rep.id).limit(3000)
                )
            )
            .scalars()
            .all()
        )
    await engine.dispose()
    rng = random.Random(3)
    return [f"/find {rng.choice(names)}" for _ in range(count)]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument(
        "--analyze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run ANALYZE on the store copy first (--no-analyze: as `crmbot demo` leaves it)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    engine, _ = await demo_store(args.customers)
    await engine.dispose()
    with tempfile.TemporaryDirectory() as folder:

        def fresh_copy(name: str) -> str:
            """Each run its own copy: inbox rows and update ids of one run stay out of the next."""
            copy = Path(folder) / f"{name}.db"
            shutil.copy(bench_db_path(args.customers), copy)
            if args.analyze:
                # Planner statistics: without them SQLite answers a rep's /find by walking all
                # of the rep's customers (hundreds of ms at 100k) instead of the key index.
                with sqlite3.connect(copy) as db:
                    db.execute("ANALYZE")
            return f"sqlite+aiosqlite:///{copy}"

        settings = Settings(_env_file=None, telegram_token="x")
        texts = await rep_queries(fresh_copy("queries"), args.updates)
        floor = await echo_floor(settings, texts, args.chats)
        plumbing = await through_front_door(
            fresh_copy("echo"), settings, texts, args.chats, echo=True
        )
        ours = await through_front_door(fresh_copy("find"), settings, texts, args.chats)
    print(
        f"Telegram front door, polling, {args.customers:,} customers (SQLite), "
        f"{args.updates} updates from {args.chats} chats, "
        f"{'after' if args.analyze else 'without'} ANALYZE"
    )
    print(f"{'handler':<34} {'updates/s':>10}")
    print(f"{'echo, bare PTB (floor)':<34} {floor:>10.0f}")
    print(f"{'echo, our front door (store first)':<34} {plumbing:>10.0f}")
    print(f"{'/find through the Assistant':<34} {ours:>10.0f}")
    print(f"ratio /find : floor = {ours / floor:.2f} (target >= 0.5)")
    print(f"ratio front-door echo : floor = {plumbing / floor:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
