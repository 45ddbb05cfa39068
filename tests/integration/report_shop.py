"""The hand-built dataset of test_reports_known.py, shared with the command tests, and the
way those tests talk to the console Assistant."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import Assistant
from bot.events import Incoming, Reply
from crm_core.models import (
    Customer,
    Feedback,
    FeedbackKind,
    Interaction,
    InteractionKind,
    Order,
    PaymentStatus,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)  # a Tuesday


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SH)


async def build_shop(sessions, staffing) -> dict[str, int]:
    """The dataset of test_reports_known's docstring; returns customer ids by letter."""
    s = staffing
    owners = {
        "A": (s.lina, "上海"),
        "B": (s.lina, "杭州"),
        "C": (s.chen, "上海"),
        "D": (s.chen, "上海"),
        "F": (s.lina, "杭州"),
        "G": (s.lina, "上海"),
        "E": (s.tom, "New York"),
    }
    ids: dict[str, int] = {}
    async with sessions() as session, session.begin():
        for letter, (owner, city) in owners.items():
            customer = Customer(
                name=f"客户{letter}",
                owner_id=owner.staff_id,
                team_id=owner.team_id,
                city=city,
                created_at=at(2024, 1, 1),
            )
            session.add(customer)
            await session.flush()
            assert customer.id is not None
            ids[letter] = customer.id

        def order(letter, when, amount, currency="CNY", **extra):
            session.add(
                Order(
                    customer_id=ids[letter],
                    ordered_at=when,
                    amount=Decimal(amount),
                    currency=currency,
                    **extra,
                )
            )

        order("A", at(2026, 9, 10), 100)
        order("A", at(2026, 10, 5), 200)
        order("A", at(2026, 10, 20), 300)
        order("A", at(2026, 10, 6), 5000, deleted_at=at(2026, 10, 7))
        order("B", at(2026, 9, 15), 400)
        order("C", at(2026, 10, 12), 500)
        order("D", at(2026, 9, 1), 50)
        order("D", at(2026, 10, 30), 150)
        order("D", at(2026, 10, 31, 23, 30), 999, payment_status=PaymentStatus.CANCELLED)
        order("D", at(2026, 11, 1, 0, 30), 70)
        order("F", at(2025, 10, 10), 800)
        order("F", at(2026, 10, 8), 100)
        order("G", at(2025, 6, 1), 300)
        order("E", at(2026, 10, 3), 1000, currency="USD")

        def feedback(letter, kind, score, when, **extra):
            session.add(
                Feedback(customer_id=ids[letter], kind=kind, score=score, created_at=when, **extra)
            )

        for letter, score in (("A", 10), ("B", 9), ("C", 9), ("D", 7), ("F", 3)):
            feedback(letter, FeedbackKind.NPS, score, at(2026, 10, 15))
        feedback("A", FeedbackKind.NPS, 0, at(2026, 9, 15))  # September
        feedback("B", FeedbackKind.NPS, 0, at(2026, 10, 16), deleted_at=at(2026, 10, 17))
        feedback("E", FeedbackKind.NPS, 0, at(2026, 10, 16))  # team Global
        for letter, score in (("A", 8), ("B", 7), ("C", 10), ("D", 4)):
            feedback(letter, FeedbackKind.REVIEW, score, at(2026, 10, 18))
        feedback("A", FeedbackKind.COMPLAINT, None, at(2026, 10, 18))  # no score: not counted

        def touch(letter, when, **extra):
            session.add(
                Interaction(customer_id=ids[letter], summary="x", occurred_at=when, **extra)
            )

        touch("A", at(2026, 10, 2))
        touch("A", at(2026, 10, 25), kind=InteractionKind.CALL)
        touch("C", at(2026, 10, 1, 0, 5))
        touch("C", at(2026, 10, 9), deleted_at=at(2026, 10, 10))
        touch("D", at(2026, 11, 1, 0, 10))  # November in Shanghai
    return ids


_ids = itertools.count(1)


async def say_all(
    assistant: Assistant, who: str, text: str | None = None, **extra: Any
) -> list[Reply]:
    """Every reply to one console message from `who` (message and chat ids made up unless
    given)."""
    return await assistant.handle(
        Incoming(
            channel="console",
            message_id=extra.pop("message_id", f"m{next(_ids)}"),
            sender_id=who,
            chat_id=extra.pop("chat_id", f"chat-{who}"),
            text=text,
            **extra,
        )
    )


async def say(assistant: Assistant, who: str, text: str | None = None, **extra: Any) -> Reply:
    """The one reply to one console message."""
    replies = await say_all(assistant, who, text, **extra)
    assert len(replies) == 1, [r.text for r in replies]
    return replies[0]
