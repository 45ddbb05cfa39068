"""The care scheduler inside `crmbot run`: APScheduler only ticks; the state is in our tables.

APScheduler 3.x with its own in-memory job store (a job store is never shared between
processes); every job has an id and replace_existing, coalesces missed runs and has a real
misfire grace. Each tick does work that is claimed in the database, so any number of
processes may tick side by side:
- reminders: claimed row by row (bot/reminder_delivery.py), every DISPATCH_EVERY;
- team lists and summaries: a (job, team, local date) row (bot/daily_runs.py);
- the care-rule scan: a (care_scan, all, UTC date) row, so one process scans a day;
- tiers, churn risk and planner statistics: a (tiers, all, UTC date) row, once a day;
- pinned reports: each pin claimed by its next due time (bot/report_pins.py).
On start one tick runs at once: that is the catch-up after downtime.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.daily_runs import TeamLists, claim_run, finish_run
from bot.delivery import DeliveryError, Outbox
from bot.reminder_delivery import DispatchResult, ReminderDispatcher
from bot.report_pins import due_pin_deliveries
from crm_core import care_rules
from crm_core.analytics.tiers import recompute_tiers
from crm_core.clock import utcnow

log = logging.getLogger(__name__)

DISPATCH_EVERY = timedelta(seconds=30)
LISTS_EVERY = timedelta(seconds=60)
SCAN_EVERY = timedelta(minutes=10)
PINS_EVERY = timedelta(seconds=60)


class CareScheduler:
    """Delivers care reminders, team lists and runs the daily scan. `outboxes`: channel ->
    Outbox of every front door that can send (the console one prints)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outboxes: Mapping[str, Outbox],
        *,
        grace: timedelta = care_rules.GRACE,
    ) -> None:
        self.sessions = sessions
        self.reminders = ReminderDispatcher(sessions, outboxes, grace=grace)
        self.lists = TeamLists(sessions, outboxes, grace=grace)
        self.outboxes = outboxes
        self._scheduler: AsyncIOScheduler | None = None

    async def start(self) -> None:
        # Its per-tick INFO lines would drown the console chat; our own log says what happened.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone="UTC",
        )
        now = utcnow()
        for job_id, func, every in (
            ("care:scan", self.scan_once_a_day, SCAN_EVERY),
            ("care:reminders", self.dispatch_reminders, DISPATCH_EVERY),
            ("care:lists", self.send_lists, LISTS_EVERY),
            ("analytics:daily", self.analytics_once_a_day, SCAN_EVERY),
            ("reports:pins", self.post_pinned_reports, PINS_EVERY),
        ):
            scheduler.add_job(
                func,
                "interval",
                seconds=every.total_seconds(),
                id=job_id,
                replace_existing=True,
                next_run_time=now,  # catch up at once after downtime
            )
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    async def tick(self) -> None:
        """Everything once, in order (tests and `crmbot` one-offs call this directly)."""
        await self.scan_once_a_day()
        await self.dispatch_reminders()
        await self.send_lists()
        await self.analytics_once_a_day()
        await self.post_pinned_reports()

    async def scan_once_a_day(self) -> care_rules.ScanResult | None:
        now = utcnow()
        run = await claim_run(self.sessions, "care_scan", "all", now.date(), now)
        if run is None:
            return None
        try:
            result = await care_rules.scan(self.sessions, now=now)
        except Exception as error:
            log.exception("care scan failed")
            await finish_run(self.sessions, run, error=repr(error), wait=timedelta(minutes=10))
            return None
        detail = f"{sum(result.created.values())} made, {sum(result.held.values())} held"
        log.info("care scan: %s in %.1f s", detail, result.seconds)
        await finish_run(self.sessions, run, detail=detail)
        return result

    async def dispatch_reminders(self) -> DispatchResult:
        result = await self.reminders.dispatch_due()
        if result.sent or result.failed or result.retried:
            log.info("reminders: %s", result)
        return result

    async def send_lists(self) -> int:
        return await self.lists.send_due()

    async def analytics_once_a_day(self) -> bool:
        """Recompute tiers and churn risk, and refresh the planner's statistics (SQLite picks
        the search-key index over the owner index only when it has them)."""
        now = utcnow()
        run = await claim_run(self.sessions, "tiers", "all", now.date(), now)
        if run is None:
            return False
        try:
            tiers = await recompute_tiers(self.sessions, now)
            async with self.sessions() as session, session.begin():
                await session.exec(text("ANALYZE"))  # type: ignore[call-overload]
        except Exception as error:
            log.exception("daily tiers failed")
            await finish_run(self.sessions, run, error=repr(error), wait=timedelta(minutes=10))
            return False
        detail = f"{tiers.customers} customers, {tiers.changed} changed"
        log.info("tiers: %s in %.1f s", detail, tiers.seconds)
        await finish_run(self.sessions, run, detail=detail)
        return True

    async def post_pinned_reports(self) -> int:
        """Post each due pinned report to its team channel; a pin is claimed before it is
        rendered, so a failed post is skipped (and logged) rather than repeated."""
        posted = 0
        for delivery in await due_pin_deliveries(self.sessions, utcnow()):
            channel, _, chat_id = (delivery.destination or "").partition(":")
            outbox = self.outboxes.get(channel)
            if outbox is None or not chat_id:
                log.warning(
                    "pinned report %s has nowhere to go (%s)", delivery.pin_id, delivery.destination
                )
                continue
            try:
                await outbox.send(chat_id, delivery.reply)
                posted += 1
            except DeliveryError:
                log.exception("pinned report %s could not be posted", delivery.pin_id)
        return posted
