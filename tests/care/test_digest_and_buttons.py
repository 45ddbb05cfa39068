"""The reminder's buttons close its loop; the team's daily list, once a day, zh and en."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import select

from bot.app import Assistant
from bot.daily_runs import TeamLists
from bot.digest import TEXT_LIMIT
from bot.events import Incoming
from bot.reminder_delivery import ReminderDispatcher
from care.helpers import RecordingOutbox, add_reminders, customer_with
from crm_core.models import Customer, Interaction, Reminder, ReminderStatus, Team

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
MORNING = datetime(2025, 3, 10, 10, 0, tzinfo=SHANGHAI)
_ids = itertools.count(1)


async def press(assistant: Assistant, who: str, *, text=None, button=None):
    return await assistant.handle(
        Incoming(
            channel="console",
            message_id=f"m{next(_ids)}",
            sender_id=who,
            chat_id=f"chat-{who}",
            text=text,
            button=button,
        )
    )


async def test_done_asks_for_an_outcome_and_logs_it_as_an_interaction(sessions, staffing):
    with time_machine.travel(MORNING - timedelta(days=40), tick=False):
        fang = await customer_with(sessions, staffing.lina, "王芳")
    (rid,) = await add_reminders(
        sessions, staffing.lina.staff_id, [MORNING - timedelta(minutes=5)], customer_id=fang.id
    )
    assistant = Assistant(sessions)
    with time_machine.travel(MORNING, tick=False):
        outbox = RecordingOutbox()
        await ReminderDispatcher(sessions, {"console": outbox}).dispatch_due()
        [(_, reminder)] = outbox.sent
        assert "王芳" in reminder.text
        [asked] = await press(assistant, "李娜", button=f"care_done:{rid}")
        assert f"#{rid}" in asked.text and "结果" in asked.text
        [saved] = await press(assistant, "李娜", text="电话问候，她下月再订")
        assert f"#{rid}" in saved.text
        [later] = await press(assistant, "李娜", text="随便说一句")
        assert "斜杠" in later.text or "/help" in later.text  # nothing awaited any more
    async with sessions() as session:
        row = await session.get(Reminder, rid)
        logged = (await session.exec(select(Interaction))).all()
        customer = await session.get(Customer, fang.id)
    assert row.status == ReminderStatus.DONE and row.outcome == "电话问候，她下月再订"
    assert [i.summary for i in logged] == ["电话问候，她下月再订"]
    assert customer.last_contact_at == MORNING.astimezone(UTC)  # the cadence restarts


async def test_not_relevant_and_claim_buttons(sessions, staffing):
    ids = await add_reminders(sessions, staffing.lina.staff_id, [MORNING, MORNING])
    assistant = Assistant(sessions)
    with time_machine.travel(MORNING, tick=False):
        await press(assistant, "李娜", button=f"care_skip:{ids[0]}")
        [claimed] = await press(assistant, "陈明", button=f"claim:{ids[1]}")
        assert "陈明" in claimed.text
        [refused] = await press(assistant, "Tom", button=f"claim:{ids[1]}")
    assert "no reminder" in refused.text
    async with sessions() as session:
        skipped, taken = await session.get(Reminder, ids[0]), await session.get(Reminder, ids[1])
    assert skipped.status == ReminderStatus.CANCELLED
    assert taken.owner_id == staffing.chen.staff_id


async def test_team_list_in_chinese_once_a_day_with_buttons(sessions, staffing):
    ids = await add_reminders(
        sessions,
        staffing.lina.staff_id,
        [MORNING - timedelta(days=2), MORNING + timedelta(hours=3)],
    )
    outbox = RecordingOutbox()
    with time_machine.travel(datetime(2025, 3, 10, 8, 59, tzinfo=SHANGHAI), tick=False):
        assert await TeamLists(sessions, {"console": outbox}).send_due() == 0
    with time_machine.travel(datetime(2025, 3, 10, 9, 0, 30, tzinfo=SHANGHAI), tick=False):
        await TeamLists(sessions, {"console": outbox}).send_due()
        await TeamLists(sessions, {"console": outbox}).send_due()  # another process
    華东 = [reply for chat, reply in outbox.sent if chat == "team:华东"]
    assert len(華东) == 1
    text = 華东[0].text
    assert "华东" in text and "跟进清单" in text and "李娜：逾期 1 条，今天到期 1 条" in text
    payloads = {b.payload for row in 華东[0].buttons for b in row}
    assert {f"claim:{ids[0]}", f"done:{ids[0]}", f"snooze:{ids[0]}:1d"} <= payloads


async def test_team_list_in_english_at_nine_new_york_time_across_dst(sessions, staffing):
    async with sessions() as session, session.begin():
        team = (await session.exec(select(Team).where(Team.name == "Global"))).one()
        team.language, team.timezone = "en", "America/New_York"
        session.add(team)
    await add_reminders(
        sessions, staffing.tom.staff_id, [datetime(2025, 3, 10, 11, 0, tzinfo=NEW_YORK)]
    )
    outbox = RecordingOutbox()
    lists = TeamLists(sessions, {"console": outbox})
    # Sunday 9 March 2025 the clocks go forward: 09:00 is 14:00 UTC before, 13:00 UTC after.
    with time_machine.travel(datetime(2025, 3, 8, 13, 30, tzinfo=UTC), tick=False):
        await lists.send_due()
    assert [c for c, _ in outbox.sent if c == "team:Global"] == []  # 08:30 EST
    with time_machine.travel(datetime(2025, 3, 10, 13, 0, 5, tzinfo=UTC), tick=False):
        await lists.send_due()
    [english] = [r for c, r in outbox.sent if c == "team:Global"]
    assert "Global · follow-ups for" in english.text
    assert "Tom: 0 overdue, 1 due today" in english.text


async def test_a_long_list_is_split_to_fit_the_platforms(sessions, staffing):
    due = [MORNING - timedelta(days=1, minutes=i) for i in range(60)]
    for owner in (staffing.lina, staffing.chen, staffing.manager):
        await add_reminders(sessions, owner.staff_id, due, text="回访" * 120)
    outbox = RecordingOutbox()
    with time_machine.travel(datetime(2025, 3, 10, 9, 1, tzinfo=SHANGHAI), tick=False):
        await TeamLists(sessions, {"console": outbox}).send_due()
    parts = [r for c, r in outbox.sent if c == "team:华东"]
    assert len(parts) > 1 and parts[-1].text.endswith(f"（{len(parts)}/{len(parts)}）")
    assert all(len(p.text) <= 4096 and len(p.text) <= TEXT_LIMIT + 20 for p in parts)
    assert all(len(p.buttons) <= 10 for p in parts)
