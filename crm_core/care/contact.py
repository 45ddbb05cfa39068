"""Contact-frequency control: before a touch reaches a customer, may it?

One check for both kinds of touch: a care rule's (held back, recorded with the reason and
shown in the digest) and a drafted message (not offered, not sent). Do-not-contact and the
team's rolling touch cap hold a touch; quiet hours only move a rule's touch to the morning.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.care.policy import CUSTOMER_FACING, CarePolicy, out_of_quiet_hours, policy_of
from crm_core.care.rules import Touch
from crm_core.models import Customer, Interaction, InteractionKind, Team

HELD_DO_NOT_CONTACT = "do_not_contact"
HELD_TOUCH_CAP = "touch_cap"


class TouchLedger:
    """Customer touches already planned or made, to count a new one against the cap."""

    def __init__(self) -> None:
        self._planned: dict[int, list[datetime]] = defaultdict(list)
        self._contacted: dict[int, list[datetime]] = {}

    def add_planned(self, customer_id: int, due_at: datetime) -> None:
        self._planned[customer_id].append(due_at)

    def add_contact(self, customer_id: int, at: datetime | None) -> None:
        if at is not None:
            self._contacted.setdefault(customer_id, []).append(at)

    def count_near(self, customer_id: int, due_at: datetime, window: timedelta) -> int:
        """Touches within `window` either side: then no rolling window holding this touch
        can exceed the cap. Each logged contact in the window before counts as one."""
        planned = sum(1 for t in self._planned.get(customer_id, ()) if abs(t - due_at) < window)
        contacts = self._contacted.get(customer_id, ())
        return planned + sum(1 for c in contacts if due_at - window < c <= due_at)


class _Contactable(Protocol):
    id: int | None
    do_not_contact: bool


def held_reason(
    customer: _Contactable, policy: CarePolicy, ledger: TouchLedger, due_at: datetime
) -> str | None:
    """Why a touch of `customer` at `due_at` may not happen; None when it may."""
    if customer.do_not_contact:
        return HELD_DO_NOT_CONTACT
    assert customer.id is not None
    window = timedelta(days=policy.touch_window_days)
    if ledger.count_near(customer.id, due_at, window) >= policy.touch_cap:
        return HELD_TOUCH_CAP
    return None


def control(touch: Touch, policy: CarePolicy, timezone: str, ledger: TouchLedger) -> str | None:
    """Adjust `touch` for quiet hours; return why it is held, or None when it may go."""
    touch.due_at = out_of_quiet_hours(touch.due_at, policy, timezone)
    if touch.kind not in CUSTOMER_FACING:
        return None
    held = held_reason(touch.customer, policy, ledger, touch.due_at)
    if held is None:
        ledger.add_planned(touch.customer.id, touch.due_at)
    return held


# Logged interactions that reached the customer (a note to self does not).
TOUCH_KINDS = (
    InteractionKind.CALL,
    InteractionKind.VISIT,
    InteractionKind.MEETING,
    InteractionKind.EMAIL,
    InteractionKind.MESSAGE,
)


@dataclass(frozen=True)
class ContactHeld:
    """A touch that may not happen now, and what the team's policy says."""

    reason: str  # HELD_DO_NOT_CONTACT | HELD_TOUCH_CAP
    count: int
    cap: int
    window_days: int


async def check_contact(
    session: AsyncSession, customer: Customer, now: datetime
) -> ContactHeld | None:
    """May `customer` be contacted at `now` (a drafted message)? Their team's policy, and
    the touches logged in its rolling window."""
    team = await session.get(Team, customer.team_id) if customer.team_id else None
    policy = policy_of(team)
    window = timedelta(days=policy.touch_window_days)
    assert customer.id is not None
    ledger = TouchLedger()
    logged = select(Interaction.occurred_at).where(
        Interaction.customer_id == customer.id,
        col(Interaction.kind).in_(TOUCH_KINDS),
        Interaction.occurred_at > now - window,
        col(Interaction.deleted_at).is_(None),
    )
    for at in (await session.exec(logged)).all():
        ledger.add_contact(customer.id, at)
    reason = held_reason(customer, policy, ledger, now)
    if reason is None:
        return None
    count = ledger.count_near(customer.id, now, window)
    return ContactHeld(reason, count, policy.touch_cap, policy.touch_window_days)
