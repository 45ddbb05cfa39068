"""Pinned reports: stored questions re-run daily, weekly or monthly for the team channel.

The scheduler asks `claim_due_pins` for what is due; each pin is claimed by moving its
next_due_at forward with a conditional UPDATE, so two bot processes never post one twice
and a process that was down posts a missed pin once, not once per missed day.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit
from crm_core.access import Actor
from crm_core.analytics.periods import Grain, add_units, start_of
from crm_core.analytics.sql import execute
from crm_core.errors import Forbidden, NotFound
from crm_core.models import Cadence, ReportPin, Role, Team

DEFAULT_SEND_TIME = time(9, 0)


def next_due(
    cadence: Cadence, after: datetime, timezone: str, at: time = DEFAULT_SEND_TIME
) -> datetime:
    """The first send time strictly after `after`: each day, each Monday or each 1st, at
    `at` local time."""
    zone = ZoneInfo(timezone)
    day = after.astimezone(zone).date()
    grain = {Cadence.DAILY: Grain.DAY, Cadence.WEEKLY: Grain.WEEK, Cadence.MONTHLY: Grain.MONTH}
    slot = start_of(day, grain[cadence])
    while True:
        moment = datetime.combine(slot, at, tzinfo=zone)
        if moment > after:
            return moment.astimezone(ZoneInfo("UTC"))
        slot = add_units(slot, grain[cadence], 1)


def _send_time(team: Team | None) -> time:
    try:
        hour, minute = (int(x) for x in (team.digest_time if team else "09:00").split(":"))
        return time(hour, minute)
    except ValueError:
        return DEFAULT_SEND_TIME


async def create_pin(
    *,
    session: AsyncSession,
    actor: Actor,
    question: str,
    query: dict[str, object],
    cadence: Cadence,
    now: datetime,
) -> tuple[ReportPin, Team]:
    """Pin a report for the actor's team channel (managers and admins with a team)."""
    if actor.role not in (Role.MANAGER, Role.ADMIN) or actor.team_id is None:
        raise Forbidden("pin_needs_team")
    team = await session.get(Team, actor.team_id)
    assert team is not None
    pin = ReportPin(
        staff_id=actor.staff_id,
        team_id=actor.team_id,
        question=question[:500],
        query=query,
        cadence=cadence,
        next_due_at=next_due(cadence, now, team.timezone, _send_time(team)),
    )
    session.add(pin)
    await session.flush()
    assert pin.id is not None
    await audit.record(
        session,
        actor,
        action="create",
        entity="report_pin",
        entity_id=pin.id,
        after=audit.snapshot(pin),
    )
    return pin, team


async def list_pins(session: AsyncSession, actor: Actor) -> list[ReportPin]:
    """The actor's pins; a manager also sees the team's, an admin all."""
    stmt = select(ReportPin).where(col(ReportPin.deleted_at).is_(None))
    if actor.role == Role.MANAGER:
        stmt = stmt.where(
            (ReportPin.staff_id == actor.staff_id) | (ReportPin.team_id == actor.team_id)
        )
    elif actor.role != Role.ADMIN:
        stmt = stmt.where(ReportPin.staff_id == actor.staff_id)
    return list((await session.exec(stmt.order_by(col(ReportPin.id)))).all())


async def remove_pin(
    *, session: AsyncSession, actor: Actor, pin_id: int, now: datetime
) -> ReportPin:
    pins = {p.id: p for p in await list_pins(session, actor)}
    pin = pins.get(pin_id)
    if pin is None:
        raise NotFound("pin_not_found", id=pin_id)
    # Only what removing changes: undoing it must not also rewind the schedule.
    before = audit.snapshot(pin, {"deleted_at"})
    pin.deleted_at = now
    session.add(pin)
    await audit.record(
        session,
        actor,
        action="update",
        entity="report_pin",
        entity_id=pin_id,
        before=before,
        after=audit.snapshot(pin),
    )
    return pin


async def claim_due_pins(
    session: AsyncSession, now: datetime, *, limit: int = 20
) -> list[ReportPin]:
    """Pins due at `now`, each claimed by this caller alone (run inside a transaction)."""
    stmt = (
        select(ReportPin, Team)
        .join(Team, col(Team.id) == ReportPin.team_id, isouter=True)
        .where(col(ReportPin.deleted_at).is_(None), ReportPin.next_due_at <= now)  # type: ignore[operator]
        .order_by(col(ReportPin.next_due_at))
        .limit(limit)
    )
    claimed = []
    for pin, team in (await session.exec(stmt)).all():
        following = next_due(pin.cadence, now, team.timezone if team else "UTC", _send_time(team))
        result = await execute(
            session,
            update(ReportPin)
            .where(col(ReportPin.id) == pin.id, col(ReportPin.next_due_at) == pin.next_due_at)
            .values(next_due_at=following, last_sent_at=now),
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(pin)
    return claimed


async def pin_destination(session: AsyncSession, pin: ReportPin) -> str | None:
    """Where the pin is posted: its team's channel ("telegram:-100…", "slack:C0…")."""
    team = await session.get(Team, pin.team_id) if pin.team_id else None
    return team.digest_channel if team else None
