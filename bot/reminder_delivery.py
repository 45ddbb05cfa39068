"""Reminders to their owners' private chats, exactly once across processes and restarts.

A due reminder is claimed by one UPDATE … RETURNING (FOR UPDATE SKIP LOCKED on PostgreSQL;
under SQLite's BEGIN IMMEDIATE the statement holds the write lock), sent, then marked sent
only if our claim still stands. Platform errors are retried with backoff (a 429's
retry_after honoured); what keeps failing becomes `failed` and shows in the digest. A
claim left `sending` by a process that died is taken over after STALE_AFTER. What fell due
while nobody ran is sent on start if it is younger than the grace window; never at night
in the owner's timezone (it waits for the morning).

The one gap left: a process that dies after the platform accepted and before it marked the
row sent makes the next claimer send it again. No platform offers an idempotency key for
chat messages, so this is the narrowest window we can have.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery import DeliveryError, Outbox
from bot.events import Button, Reply
from bot.i18n import format_when, t
from bot.outboxes import identities_of, private_chat
from crm_core.care.policy import in_quiet_hours, out_of_quiet_hours, policy_of
from crm_core.clock import utcnow
from crm_core.models import Customer, DeliveryState, Reminder, ReminderStatus, Staff, Team

log = logging.getLogger(__name__)

GRACE = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 6
BATCH = 50
_ACTIVE = (ReminderStatus.OPEN, ReminderStatus.SNOOZED)


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """30 s, 60 s, 2 min … up to 1 h; never sooner than the platform asked."""
    wait = min(30 * 2 ** max(0, attempts - 1), 3600)
    return timedelta(seconds=max(wait, retry_after or 0))


def reminder_reply(reminder: Reminder, customer: Customer | None, owner: Staff) -> Reply:
    lang, rid = owner.language, reminder.id
    head = t(lang, "care_reminder_head", when=format_when(reminder.due_at, lang, owner.timezone))
    about = f"\n👤 {customer.name} #{customer.id}" if customer else ""
    return Reply(
        text=f"{head}\n{reminder.text}{about}  (#{rid})",
        buttons=[
            [
                Button(label=t(lang, "btn_done"), payload=f"care_done:{rid}"),
                Button(label=t(lang, "care_btn_log"), payload=f"care_log:{rid}"),
                Button(label=t(lang, "care_btn_skip"), payload=f"care_skip:{rid}"),
            ],
            [
                Button(label=t(lang, "btn_snooze_1d"), payload=f"snooze:{rid}:1d"),
                Button(label=t(lang, "btn_snooze_1w"), payload=f"snooze:{rid}:1w"),
            ],
        ],
        private=True,
    )


class ReminderDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outboxes: Mapping[str, Outbox],
        *,
        grace: timedelta = GRACE,
        batch: int = BATCH,
    ) -> None:
        self.sessions = sessions
        self.outboxes = outboxes
        self.grace = grace
        self.batch = batch

    def _claimable(self, now: datetime) -> object:
        ready = func.coalesce(Reminder.next_attempt_at, Reminder.due_at)
        return and_(
            col(Reminder.status).in_(_ACTIVE),
            or_(
                and_(
                    Reminder.delivery == DeliveryState.PENDING,
                    Reminder.due_at <= now,
                    ready <= now,
                    ready > now - self.grace,
                ),
                and_(
                    Reminder.delivery == DeliveryState.SENDING,
                    col(Reminder.claimed_at) < now - STALE_AFTER,
                ),
            ),
        )

    async def claim(self, now: datetime) -> list[int]:
        """Atomically take up to `batch` due reminders; no other process gets the same."""
        async with self.sessions() as session, session.begin():
            dialect = session.bind.dialect.name if session.bind else "sqlite"
            pick = (
                select(Reminder.id)
                .where(self._claimable(now))
                .order_by(col(Reminder.due_at))
                .limit(self.batch)
            )
            if dialect == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            stmt = (
                update(Reminder)
                .where(col(Reminder.id).in_(pick.scalar_subquery()))
                .values(delivery=DeliveryState.SENDING, claimed_at=now)
                .returning(col(Reminder.id))
            )
            return list((await session.exec(stmt)).scalars().all())  # type: ignore[call-overload]

    async def dispatch_due(self) -> DispatchResult:
        """Send everything due now, batch by batch."""
        result = DispatchResult()
        while True:
            now = utcnow()
            ids = await self.claim(now)
            if not ids:
                return result
            await self._deliver(ids, now, result)
            if len(ids) < self.batch:
                return result

    async def _deliver(self, ids: list[int], claimed_at: datetime, result: DispatchResult) -> None:
        async with self.sessions() as session:
            stmt = (
                select(Reminder, Customer, Staff, Team)
                .join(Staff, col(Staff.id) == col(Reminder.owner_id))
                .join(Team, col(Team.id) == col(Staff.team_id), isouter=True)
                .join(Customer, col(Customer.id) == col(Reminder.customer_id), isouter=True)
                .where(col(Reminder.id).in_(ids))
                .order_by(col(Reminder.due_at))
            )
            rows = (await session.exec(stmt)).all()
            identities = await identities_of(session, {s.id for _, _, s, _ in rows if s.id})
        for reminder, customer, owner, team in rows:
            assert reminder.id is not None and owner.id is not None
            policy = policy_of(team)
            now = utcnow()
            if in_quiet_hours(now, policy, owner.timezone):
                morning = out_of_quiet_hours(now, policy, owner.timezone)
                await self._release(reminder.id, claimed_at, next_attempt_at=morning)
                result.deferred += 1
                continue
            target = private_chat(owner, identities.get(owner.id, {}), self.outboxes)
            if target is None:
                await self._fail(reminder.id, claimed_at, "no chat to reach the owner", final=True)
                result.failed += 1
                continue
            outbox, chat_id = target
            try:
                await outbox.send(chat_id, reminder_reply(reminder, customer, owner))
            except Exception as error:  # any failure: the row must not stay claimed
                retry_after = error.retry_after if isinstance(error, DeliveryError) else None
                final = reminder.attempts + 1 >= MAX_ATTEMPTS
                log.warning("reminder %s to %s failed: %r", reminder.id, outbox.channel, error)
                await self._fail(
                    reminder.id,
                    claimed_at,
                    f"{outbox.channel}: {error}"[:500],
                    final=final,
                    wait=backoff(reminder.attempts + 1, retry_after),
                )
                if final:
                    result.failed += 1
                else:
                    result.retried += 1
                continue
            await self._finish(reminder.id, claimed_at)
            result.sent += 1

    def _ours(self, reminder_id: int, claimed_at: datetime) -> object:
        # Our claim still stands: nobody re-claimed it as stale meanwhile.
        return and_(
            col(Reminder.id) == reminder_id,
            Reminder.delivery == DeliveryState.SENDING,
            Reminder.claimed_at == claimed_at,
        )

    async def _update(self, reminder_id: int, claimed_at: datetime, **values: object) -> None:
        async with self.sessions() as session, session.begin():
            await session.exec(
                update(Reminder).where(self._ours(reminder_id, claimed_at)).values(**values)  # type: ignore[call-overload]
            )

    async def _finish(self, reminder_id: int, claimed_at: datetime) -> None:
        await self._update(
            reminder_id,
            claimed_at,
            delivery=DeliveryState.SENT,
            notified_at=utcnow(),
            attempts=Reminder.attempts + 1,
            last_error=None,
        )

    async def _release(
        self, reminder_id: int, claimed_at: datetime, *, next_attempt_at: datetime
    ) -> None:
        await self._update(
            reminder_id, claimed_at, delivery=DeliveryState.PENDING, next_attempt_at=next_attempt_at
        )

    async def _fail(
        self,
        reminder_id: int,
        claimed_at: datetime,
        error: str,
        *,
        final: bool,
        wait: timedelta = timedelta(0),
    ) -> None:
        if final:
            log.error("reminder %s not delivered, giving up: %s", reminder_id, error)
        await self._update(
            reminder_id,
            claimed_at,
            delivery=DeliveryState.FAILED if final else DeliveryState.PENDING,
            attempts=Reminder.attempts + 1,
            next_attempt_at=utcnow() + wait,
            last_error=error,
        )
