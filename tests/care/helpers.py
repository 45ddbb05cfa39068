"""Shared set-up for the care tests: customers with a history, reminders by rule kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from crm_core.customers import CustomerCreate, create_customer
from crm_core.models import Customer, Order, Reminder, ReminderSource, Team


async def customer_with(sessions, actor, name: str, **columns: Any) -> Customer:
    """A customer of `actor`, then columns set directly (history the services would make)."""
    async with sessions() as session, session.begin():
        customer = await create_customer(
            session=session, actor=actor, data=CustomerCreate(name=name)
        )
        for key, value in columns.items():
            setattr(customer, key, value)
        session.add(customer)
    return customer


async def add_orders(sessions, customer_id: int, times: list[datetime]) -> None:
    async with sessions() as session, session.begin():
        for at in times:
            session.add(Order(customer_id=customer_id, ordered_at=at, amount=100))


async def rule_reminders(sessions, customer_id: int | None = None) -> list[Reminder]:
    stmt = select(Reminder).where(Reminder.source == ReminderSource.RULE)
    if customer_id is not None:
        stmt = stmt.where(Reminder.customer_id == customer_id)
    async with sessions() as session:
        return list((await session.exec(stmt.order_by(col(Reminder.due_at)))).all())


async def set_policy(sessions, team_name: str, **policy: Any) -> None:
    async with sessions() as session, session.begin():
        team = (await session.exec(select(Team).where(Team.name == team_name))).one()
        team.care_policy = {**team.care_policy, **policy}
        session.add(team)


class RecordingOutbox:
    """An Outbox that records what it was asked to send; told to fail, it raises."""

    def __init__(self, channel: str = "console") -> None:
        self.channel = channel
        self.sent: list[tuple[str, Any]] = []
        self.failures: list[Exception] = []

    async def send(self, chat_id: str, reply: Any) -> str | None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((chat_id, reply))
        return str(len(self.sent))


async def add_reminders(sessions, owner_id: int, due: list[datetime], **fields: Any) -> list[int]:
    from sqlalchemy import insert

    rows = [
        {
            "owner_id": owner_id,
            "due_at": at,
            "kind": "followup",
            "text": f"task {i}",
            "status": "open",
            "source": "manual",
            "delivery": "pending",
            "attempts": 0,
            "created_at": at,
            **fields,
        }
        for i, at in enumerate(due)
    ]
    table = Reminder.__table__
    async with sessions() as session, session.begin():
        ids = []
        for i in range(0, len(rows), 1000):
            result = await session.execute(
                insert(table).values(rows[i : i + 1000]).returning(table.c.id)
            )
            ids += list(result.scalars())
    return ids
