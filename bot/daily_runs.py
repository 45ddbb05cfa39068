"""Once-a-day work (the care scan, each team's list and summary), exactly once per day.

A run is claimed by inserting its (job, scope, local date) row; the unique key lets one
process win. A run that failed is retried with backoff; one left `running` by a process
that died is taken over after STALE_AFTER. A split message remembers how many parts the
platform accepted, so a retry sends only the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery import DeliveryError, Outbox
from bot.digest import build_digest, build_summary, render_digest
from bot.events import Reply
from bot.outboxes import identities_of, private_chat, team_chat
from bot.reminder_delivery import backoff
from crm_core.care.policy import local_moment, policy_of
from crm_core.clock import utcnow
from crm_core.models import Role, ScheduledRun, Staff, Team

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 6


async def claim_run(
    sessions: async_sessionmaker[AsyncSession], job: str, scope: str, day: date, now: datetime
) -> ScheduledRun | None:
    """The run, if this process may do it now; None if another has it or it is done."""
    async with sessions() as session, session.begin():
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = ScheduledRun.__table__  # type: ignore[attr-defined]
        inserted = await session.exec(
            make(table)  # type: ignore[call-overload]
            .values(job=job, scope=scope, run_date=day, status="running", claimed_at=now)
            .on_conflict_do_nothing()
            .returning(table.c.id)
        )
        run_id = inserted.scalar()
        if run_id is None:
            retake = (
                update(ScheduledRun)
                .where(
                    ScheduledRun.job == job,
                    ScheduledRun.scope == scope,
                    ScheduledRun.run_date == day,
                    or_(
                        and_(
                            ScheduledRun.status == "failed",
                            ScheduledRun.attempts < MAX_ATTEMPTS,
                            col(ScheduledRun.next_attempt_at) <= now,
                        ),
                        and_(
                            ScheduledRun.status == "running",
                            ScheduledRun.claimed_at < now - STALE_AFTER,
                        ),
                    ),
                )
                .values(status="running", claimed_at=now, attempts=ScheduledRun.attempts + 1)
                .returning(col(ScheduledRun.id))
            )
            run_id = (await session.exec(retake)).scalar()  # type: ignore[call-overload]
        if run_id is None:
            return None
        return await session.get(ScheduledRun, run_id)


async def finish_run(
    sessions: async_sessionmaker[AsyncSession],
    run: ScheduledRun,
    *,
    error: str | None = None,
    wait: timedelta = timedelta(0),
    detail: str | None = None,
) -> None:
    values: dict[str, object] = {"finished_at": utcnow(), "detail": (error or detail or "")[:500]}
    if error is None:
        values["status"] = "done"
    else:
        values.update(status="failed", next_attempt_at=utcnow() + wait)
        log.warning("%s for %s on %s failed: %s", run.job, run.scope, run.run_date, error)
    async with sessions() as session, session.begin():
        await session.exec(
            update(ScheduledRun).where(col(ScheduledRun.id) == run.id).values(**values)
        )  # type: ignore[call-overload]


async def send_parts(
    sessions: async_sessionmaker[AsyncSession],
    run: ScheduledRun,
    outbox: Outbox,
    chat_id: str,
    replies: list[Reply],
) -> None:
    """Send the parts not sent yet, recording each one the platform accepted."""
    for index in range(run.parts_sent, len(replies)):
        await outbox.send(chat_id, replies[index])
        async with sessions() as session, session.begin():
            await session.exec(
                update(ScheduledRun)  # type: ignore[call-overload]
                .where(col(ScheduledRun.id) == run.id)
                .values(parts_sent=index + 1)
            )
        run.parts_sent = index + 1


def _parse_time(value: str, default: time) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        return default


class TeamLists:
    """Sends each team's daily list at its local digest time, and the manager's summary."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outboxes: Mapping[str, Outbox],
        *,
        grace: timedelta = timedelta(hours=24),
    ) -> None:
        self.sessions = sessions
        self.outboxes = outboxes
        self.grace = grace

    async def send_due(self) -> int:
        """Every list whose local time has come today (within the grace); returns how many."""
        now = utcnow()
        async with self.sessions() as session:
            teams = (await session.exec(select(Team).order_by(col(Team.id)))).all()
        sent = 0
        for team in teams:
            policy = policy_of(team)
            day = now.astimezone(ZoneInfo(team.timezone)).date()
            for job, at in (
                ("digest", _parse_time(team.digest_time, policy.remind_at)),
                ("summary", policy.summary_time),
            ):
                scheduled = local_moment(day, at, team.timezone)
                if not (scheduled <= now <= scheduled + self.grace):
                    continue
                run = await claim_run(self.sessions, job, str(team.id), day, now)
                if run is not None:
                    sent += await self._send(team, job, run)
        return sent

    async def _send(self, team: Team, job: str, run: ScheduledRun) -> int:
        try:
            async with self.sessions() as session:
                targets, replies = await self._prepare(session, team, job)
            if not targets:
                await finish_run(
                    self.sessions, run, error="no chat to send to", wait=timedelta(hours=1)
                )
                return 0
            for outbox, chat_id in targets:
                await send_parts(self.sessions, run, outbox, chat_id, replies)
        except Exception as error:  # retried later; the run row says why
            retry_after = error.retry_after if isinstance(error, DeliveryError) else None
            await finish_run(
                self.sessions, run, error=repr(error), wait=backoff(run.attempts, retry_after)
            )
            return 0
        await finish_run(self.sessions, run, detail=f"{len(replies)} parts")
        return 1

    async def _prepare(
        self, session: AsyncSession, team: Team, job: str
    ) -> tuple[list[tuple[Outbox, str]], list[Reply]]:
        now = utcnow()
        if job == "digest":
            replies = render_digest(await build_digest(session, team, now), policy_of(team))
            target = team_chat(team, self.outboxes)
            return ([target] if target else []), replies
        managers = (
            await session.exec(
                select(Staff).where(
                    Staff.team_id == team.id, Staff.role == Role.MANAGER, col(Staff.active)
                )
            )
        ).all()
        identities = await identities_of(session, {m.id for m in managers if m.id})
        targets = [
            target
            for m in managers[:1]  # one summary per team: parts_sent counts for one chat
            if (target := private_chat(m, identities.get(m.id or 0, {}), self.outboxes))
        ]
        return targets, [
            reply.model_copy(update={"private": True})
            for reply in await build_summary(session, team, now)
        ]
