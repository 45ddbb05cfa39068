"""Tokens per staff member and day, the daily budget, and what /usage shows."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from crm_core.access import Actor
from crm_core.clock import local_now, utcnow
from crm_core.models import LlmUsage, Staff
from crm_core.settings import get_settings


def today(actor: Actor) -> date:
    """Budgets reset at the person's local midnight."""
    return local_now(actor.timezone).date()


async def budget_of(session: AsyncSession, staff_id: int) -> int:
    """Tokens per day this person may use; 0 means no limit."""
    staff = await session.get(Staff, staff_id)
    if staff is not None and staff.llm_daily_tokens is not None:
        return staff.llm_daily_tokens
    return get_settings().llm_daily_tokens


async def used_on(session: AsyncSession, staff_id: int, day: date) -> int:
    row = (
        await session.exec(
            select(LlmUsage).where(LlmUsage.staff_id == staff_id, LlmUsage.day == day)
        )
    ).first()
    return row.prompt_tokens + row.completion_tokens if row else 0


async def remaining(ctx: Context) -> int | None:
    """Tokens left today, None when there is no limit."""
    async with ctx.sessions() as session:
        budget = await budget_of(session, ctx.actor.staff_id)
        if budget <= 0:
            return None
        return budget - await used_on(session, ctx.actor.staff_id, today(ctx.actor))


async def record(ctx: Context, *, prompt_tokens: int, completion_tokens: int) -> None:
    """Add one call's tokens to today's row (an upsert: concurrent turns both count)."""
    values = {
        "staff_id": ctx.actor.staff_id,
        "day": today(ctx.actor),
        "calls": 1,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "updated_at": utcnow(),
    }
    async with ctx.transaction() as session:
        dialect = session.bind.dialect.name  # type: ignore[union-attr]
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = LlmUsage.__table__  # type: ignore[attr-defined]
        stmt = insert(table).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["staff_id", "day"],
            set_={
                "calls": table.c.calls + 1,
                "prompt_tokens": table.c.prompt_tokens + prompt_tokens,
                "completion_tokens": table.c.completion_tokens + completion_tokens,
                "updated_at": values["updated_at"],
            },
        )
        await session.exec(stmt)  # type: ignore[call-overload]


async def usage_rows(
    session: AsyncSession, staff_ids: list[int] | None, since: date
) -> list[tuple[Staff, LlmUsage]]:
    """Usage since `since`, per staff and day (all staff when `staff_ids` is None)."""
    stmt = (
        select(Staff, LlmUsage)
        .join(LlmUsage, col(LlmUsage.staff_id) == col(Staff.id))
        .where(LlmUsage.day >= since)
        .order_by(col(LlmUsage.day).desc(), col(Staff.name))
    )
    if staff_ids is not None:
        stmt = stmt.where(col(Staff.id).in_(staff_ids))
    return [(s, u) for s, u in (await session.exec(stmt)).all()]


def week_start(day: date) -> date:
    return day - timedelta(days=6)
