"""Contact-frequency control: before a rule's touch reaches a customer, may it?

Do-not-contact and the rolling touch cap hold a touch back (recorded, with the reason, and
shown in the digest); quiet hours only move it to the morning.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from crm_core.care.policy import CUSTOMER_FACING, CarePolicy, out_of_quiet_hours
from crm_core.care.rules import Touch

HELD_DO_NOT_CONTACT = "do_not_contact"
HELD_TOUCH_CAP = "touch_cap"


class TouchLedger:
    """Customer touches already planned or made, to count a new one against the cap."""

    def __init__(self) -> None:
        self._planned: dict[int, list[datetime]] = defaultdict(list)
        self._contacted: dict[int, datetime] = {}

    def add_planned(self, customer_id: int, due_at: datetime) -> None:
        self._planned[customer_id].append(due_at)

    def add_contact(self, customer_id: int, at: datetime | None) -> None:
        if at is not None:
            self._contacted[customer_id] = at

    def count_near(self, customer_id: int, due_at: datetime, window: timedelta) -> int:
        """Touches within `window` either side: then no rolling window holding this touch
        can exceed the cap. A logged interaction in the window before counts as one."""
        planned = sum(1 for t in self._planned.get(customer_id, ()) if abs(t - due_at) < window)
        contact = self._contacted.get(customer_id)
        recent = contact is not None and due_at - window < contact <= due_at
        return planned + int(recent)


def control(touch: Touch, policy: CarePolicy, timezone: str, ledger: TouchLedger) -> str | None:
    """Adjust `touch` for quiet hours; return why it is held, or None when it may go."""
    touch.due_at = out_of_quiet_hours(touch.due_at, policy, timezone)
    if touch.kind not in CUSTOMER_FACING:
        return None
    customer = touch.customer
    if customer.do_not_contact:
        return HELD_DO_NOT_CONTACT
    window = timedelta(days=policy.touch_window_days)
    if ledger.count_near(customer.id, touch.due_at, window) >= policy.touch_cap:
        return HELD_TOUCH_CAP
    ledger.add_planned(customer.id, touch.due_at)
    return None
