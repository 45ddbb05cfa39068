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
