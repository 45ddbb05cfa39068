"""Delivering pinned reports: the scheduler calls `due_pin_deliveries` and posts each Reply
to its destination (the team channel, e.g. "telegram:-100123" or "slack:C0123").

A pin is claimed before it is rendered (crm_core.pins.claim_due_pins), so two processes
never post it twice; a crash between claim and post skips that one post rather than
repeating it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import Reply
from bot.i18n import t
from bot.report_view import report_reply
from crm_core import pins
from crm_core.access import Actor
from crm_core.errors import CrmError
from crm_core.models import ReportPin, Staff
from crm_core.reports import ReportQuery, run_report

log = logging.getLogger(__name__)


class PinDelivery(BaseModel):
    pin_id: int
    destination: str | None  # None: the team has no channel yet
    reply: Reply


async def render_pin(
    sessions: async_sessionmaker[AsyncSession], pin: ReportPin, now: datetime
) -> PinDelivery | None:
    """The pinned report as it stands at `now`, in its owner's scope and language; None
    when its owner is no longer active."""
    async with sessions() as session:
        staff = await session.get(Staff, pin.staff_id)
        if staff is None or not staff.active:
            return None
        actor = Actor.from_staff(staff, channel="scheduler")
        destination = await pins.pin_destination(session, pin)
        try:
            query = ReportQuery.model_validate(pin.query)
            result = await run_report(session=session, actor=actor, query=query, now=now)
        except (CrmError, ValueError) as error:  # e.g. a segment it used was deleted
            log.warning("pinned report %s cannot run: %r", pin.id, error)
            text = t(staff.language, "pin_title", question=pin.question)
            reply = Reply(text=f"{text}\n{t(staff.language, 'pin_unreadable')}")
            return PinDelivery(pin_id=pin.id or 0, destination=destination, reply=reply)
    reply = await report_reply(result, lang=staff.language)
    reply.text = f"{t(staff.language, 'pin_title', question=pin.question)}\n{reply.text}"
    return PinDelivery(pin_id=pin.id or 0, destination=destination, reply=reply)


async def due_pin_deliveries(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> list[PinDelivery]:
    """Claim every pin due at `now` and render it; the caller posts the replies."""
    async with sessions() as session, session.begin():
        claimed = await pins.claim_due_pins(session, now)
    deliveries = []
    for pin in claimed:
        delivery = await render_pin(sessions, pin, now)
        if delivery is not None:
            deliveries.append(delivery)
    return deliveries
