"""`/usage` (/用量): AI tokens used today against the daily budget; admins set budgets."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot import llm_usage
from bot.commands.errors import Usage
from bot.commands.handlers import command
from bot.context import Context
from bot.events import Reply, Table
from crm_core.access import require_role
from crm_core.models import Role, Staff
from crm_core.staff import find_staff

BUDGET_WORDS = ("budget", "预算", "额度")


@command("usage")
async def usage(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    words = rest.split()
    if words and words[0].casefold() in BUDGET_WORDS:
        return [await set_budget(ctx, words[1:])]
    if words:
        raise Usage("usage")
    return [await show_usage(ctx)]


async def set_budget(ctx: Context, words: list[str]) -> Reply:
    require_role(ctx.actor, Role.ADMIN)
    if len(words) < 2 or not words[-1].isdigit():
        raise Usage("usage")
    async with ctx.transaction() as session:
        staff = await find_staff(session, " ".join(words[:-1]))
        staff.llm_daily_tokens = int(words[-1])
        session.add(staff)
    return Reply(text=ctx.t("tokens_budget_set", name=staff.name, tokens=f"{int(words[-1]):,}"))


async def show_usage(ctx: Context) -> Reply:
    today = llm_usage.today(ctx.actor)
    since = today - timedelta(days=6)
    async with ctx.sessions() as session:
        if ctx.actor.is_admin:
            staff_ids = None
        elif ctx.actor.is_manager:
            staff_ids = list(
                (
                    await session.exec(select(Staff.id).where(Staff.team_id == ctx.actor.team_id))
                ).all()
            )
        else:
            staff_ids = [ctx.actor.staff_id]
        rows = await llm_usage.usage_rows(session, staff_ids, since)
        budgets = {
            s.id: await llm_usage.budget_of(session, s.id) for s, _ in rows if s.id is not None
        }
        own_budget = await llm_usage.budget_of(session, ctx.actor.staff_id)
    mine = [u for s, u in rows if s.id == ctx.actor.staff_id]
    mine_today = next((u for u in mine if u.day == today), None)
    used = mine_today.prompt_tokens + mine_today.completion_tokens if mine_today else 0
    calls = mine_today.calls if mine_today else 0
    lines = [] if ctx.llm is not None else [ctx.t("tokens_no_llm")]
    if own_budget > 0:
        lines.append(ctx.t("tokens_today", used=f"{used:,}", budget=f"{own_budget:,}", calls=calls))
    else:
        lines.append(ctx.t("tokens_unlimited", used=f"{used:,}", calls=calls))
    week = sum(u.prompt_tokens + u.completion_tokens for u in mine)
    lines.append(ctx.t("tokens_week", total=f"{week:,}"))
    table = None
    if staff_ids is None or len(staff_ids) > 1:
        per_person: dict[str, list[int]] = {}
        for staff, row in rows:
            totals = per_person.setdefault(staff.name, [0, 0, budgets.get(staff.id, 0)])
            tokens = row.prompt_tokens + row.completion_tokens
            totals[1] += tokens
            if row.day == today:
                totals[0] += tokens
        if per_person:
            lines.append(ctx.t("tokens_team_header"))
            table = Table(
                columns=[
                    ctx.t("col_name"),
                    ctx.t("col_tokens_today"),
                    ctx.t("col_budget"),
                    ctx.t("col_tokens_week"),
                ],
                rows=[
                    [name, f"{t:,}", f"{b:,}" if b else "∞", f"{w:,}"]
                    for name, (t, w, b) in sorted(per_person.items())
                ],
            )
    return Reply(
        text="\n".join(lines),
        table=table,
        data={"today": today.isoformat(), "used": used, "calls": calls, "budget": own_budget},
    )
