"""Care rules on a real database: the right day, once; caps, do-not-contact, quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from care.helpers import add_orders, customer_with, rule_reminders, set_policy
from crm_core import care_rules
from crm_core.interactions import InteractionCreate, log_interaction
from crm_core.models import ReminderStatus
from crm_core.orders import OrderCreate, record_order

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, hm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=SHANGHAI)


async def scan_at(sessions, moment: datetime) -> care_rules.ScanResult:
    with time_machine.travel(moment, tick=False):
        return await care_rules.scan(sessions)


async def test_birthday_reminds_on_the_eve_and_on_the_day_once_each(sessions, staffing):
    with time_machine.travel(at("2025-01-01"), tick=False):
        wang = await customer_with(
            sessions,
            staffing.lina,
            "王芳",
            birthday=date(1990, 3, 10),
            last_contact_at=at("2025-01-01").astimezone(UTC),
        )
    assert (await scan_at(sessions, at("2025-03-05"))).created["birthday_eve"] == 0
    for day in ("2025-03-08", "2025-03-08", "2025-03-09", "2025-03-10", "2025-03-11"):
        await scan_at(sessions, at(day, "00:30"))
    found = await rule_reminders(sessions, wang.id)
    assert [(r.kind, r.due_at.astimezone(SHANGHAI)) for r in found] == [
        ("birthday_eve", at("2025-03-09", "09:00")),
        ("birthday", at("2025-03-10", "09:00")),
    ]
    assert "王芳" in found[0].text and "3/10" in found[0].text
    assert found[0].owner_id == staffing.lina.staff_id
    # Next year: one more pair, not one per scan.
    await scan_at(sessions, at("2026-03-09", "08:00"))
    birthdays = [r for r in await rule_reminders(sessions, wang.id) if "birthday" in r.kind]
    assert len(birthdays) == 4


async def test_touch_cap_holds_the_third_touch_of_the_week_with_its_reason(sessions, staffing):
    with time_machine.travel(at("2024-01-01"), tick=False):
        fang = await customer_with(sessions, staffing.lina, "王芳", birthday=date(1990, 3, 10))
    # Stay-in-touch overdue since long, a birthday tomorrow, and now a third touch.
    await add_orders(sessions, fang.id, [at("2025-02-24").astimezone(UTC)])  # check-in 02-27
    await scan_at(sessions, at("2025-03-09", "00:30"))
    found = {r.kind: r for r in await rule_reminders(sessions, fang.id)}
    assert found["stay_in_touch"].status == ReminderStatus.OPEN
    assert found["birthday_eve"].status == ReminderStatus.OPEN
    assert found["birthday"].status == ReminderStatus.HELD
    assert found["birthday"].held_reason == "touch_cap"


async def test_do_not_contact_holds_every_customer_touch(sessions, staffing):
    with time_machine.travel(at("2024-01-01"), tick=False):
        fang = await customer_with(
            sessions, staffing.lina, "王芳", birthday=date(1990, 3, 10), do_not_contact=True
        )
    await scan_at(sessions, at("2025-03-09", "00:30"))
    found = await rule_reminders(sessions, fang.id)
    assert found and all(r.status == ReminderStatus.HELD for r in found)
    assert {r.held_reason for r in found} == {"do_not_contact"}


async def test_quiet_hours_move_a_touch_to_the_morning(sessions, staffing):
    await set_policy(sessions, "华东", remind_at="22:00", quiet_start="21:00", quiet_end="08:30")
    with time_machine.travel(at("2025-01-01"), tick=False):
        fang = await customer_with(
            sessions,
            staffing.lina,
            "王芳",
            birthday=date(1990, 3, 10),
            last_contact_at=at("2025-01-01").astimezone(UTC),
        )
    await scan_at(sessions, at("2025-03-09", "00:30"))
    eve = (await rule_reminders(sessions, fang.id))[0]
    assert eve.kind == "birthday_eve"
    assert eve.due_at.astimezone(SHANGHAI) == at("2025-03-10", "08:30")


async def test_winback_when_buying_slows_down_and_closed_by_the_next_order(sessions, staffing):
    with time_machine.travel(at("2024-01-01"), tick=False):
        buyer = await customer_with(
            sessions, staffing.lina, "赵磊", last_contact_at=at("2025-04-01").astimezone(UTC)
        )
    monthly = [at("2025-01-01") + timedelta(days=30 * i) for i in range(4)]  # last: 04-01
    await add_orders(sessions, buyer.id, [t.astimezone(UTC) for t in monthly])
    await scan_at(sessions, at("2025-05-10"))  # 39 days: within 1.5 × 30
    assert not [r for r in await rule_reminders(sessions, buyer.id) if r.kind == "winback"]
    await scan_at(sessions, at("2025-05-20"))  # 49 days: beyond 45
    winback = [r for r in await rule_reminders(sessions, buyer.id) if r.kind == "winback"]
    assert len(winback) == 1 and "49 天" in winback[0].text and "30 天" in winback[0].text
    with time_machine.travel(at("2025-05-21"), tick=False):
        async with sessions() as session, session.begin():
            await record_order(
                session=session,
                actor=staffing.lina,
                customer_id=buyer.id,
                data=OrderCreate(amount=500),
            )
    winback = [r for r in await rule_reminders(sessions, buyer.id) if r.kind == "winback"]
    assert winback[0].status == ReminderStatus.DONE


async def test_an_interaction_restarts_the_stay_in_touch_cadence(sessions, staffing):
    with time_machine.travel(at("2025-01-01"), tick=False):
        fang = await customer_with(sessions, staffing.lina, "王芳", tags=["VIP"])
    await scan_at(sessions, at("2025-01-30", "00:30"))  # VIP: every 30 days -> due 01-31
    (due,) = await rule_reminders(sessions, fang.id)
    assert due.kind == "stay_in_touch" and due.due_at.astimezone(SHANGHAI) == at(
        "2025-01-31", "09:00"
    )
    with time_machine.travel(at("2025-02-01"), tick=False):
        async with sessions() as session, session.begin():
            await log_interaction(
                session=session,
                actor=staffing.lina,
                customer_id=fang.id,
                data=InteractionCreate(summary="电话问候"),
            )
    (closed,) = await rule_reminders(sessions, fang.id)
    assert closed.status == ReminderStatus.DONE
    await scan_at(sessions, at("2025-02-20"))
    assert len(await rule_reminders(sessions, fang.id)) == 1  # next one only in March
    await scan_at(sessions, at("2025-03-02", "00:30"))
    latest = (await rule_reminders(sessions, fang.id))[-1]
    assert latest.due_at.astimezone(SHANGHAI) == at("2025-03-03", "09:00")


async def test_first_purchase_check_in_after_three_days_from_the_order_event(sessions, staffing):
    with time_machine.travel(at("2025-01-01"), tick=False):
        fang = await customer_with(
            sessions, staffing.lina, "王芳", last_contact_at=at("2025-01-01").astimezone(UTC)
        )
    await add_orders(sessions, fang.id, [at("2025-03-01", "15:00").astimezone(UTC)])
    await scan_at(sessions, at("2025-03-01", "16:00"))
    assert await rule_reminders(sessions, fang.id) == []  # due 03-04: beyond the horizon
    await scan_at(sessions, at("2025-03-02", "10:00"))
    (checkin,) = await rule_reminders(sessions, fang.id)
    assert checkin.kind == "checkin" and checkin.due_at.astimezone(SHANGHAI) == at(
        "2025-03-04", "09:00"
    )
    await scan_at(sessions, at("2025-03-14"))
    kinds = [r.kind for r in await rule_reminders(sessions, fang.id)]
    assert kinds == ["checkin", "satisfaction"]


async def test_two_scans_racing_make_each_reminder_once(sessions, staffing):
    import asyncio

    with time_machine.travel(at("2024-01-01"), tick=False):
        for i in range(20):
            await customer_with(sessions, staffing.lina, f"客户{i}", birthday=date(1990, 3, 10))
    with time_machine.travel(at("2025-03-09", "00:30"), tick=False):
        await asyncio.gather(care_rules.scan(sessions), care_rules.scan(sessions))
    found = await rule_reminders(sessions)
    assert len(found) == len({r.cause_key for r in found}) == 20 * 3  # eve, day, cadence
