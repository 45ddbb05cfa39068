"""Care through the real front doors: a team subscribed in a Telegram group or a Slack channel
gets its daily list at its local time from the scheduler, with native Claim / Done / Snooze
buttons; reminders reach a rep's private chat and survive a 429 or a 500."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from care.helpers import add_reminders
from e2e_support import running, slack_settings, telegram_settings, use_settings
from fakes.slack_api import block_text, button_values
from fakes.telegram_api import buttons_of, callback_update, message_update, sent_message
from sqlmodel import select
from test_run import fake_telegram_in_thread
from test_slack import LINA as SLACK_LINA
from test_slack import SlackClient, slack
from test_slack import link as slack_link
from test_telegram import GROUP, LINA, MANAGER, link, telegram
from typer.testing import CliRunner

from bot.scheduler import CareScheduler
from crm_core.db import make_engine, make_session_factory
from crm_core.migrate import upgrade
from crm_core.models import DeliveryState, Interaction, Reminder, ReminderStatus, Role, Team
from crm_core.settings import Settings, override_settings
from crm_core.staff import add_staff
from integrations.cli import app

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
CHEN = 503
# A Monday; the team lists go out at 09:00 local time.
DAY = datetime(2030, 3, 11, tzinfo=SHANGHAI)


def at(hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return DAY.replace(hour=hour, minute=minute, tzinfo=zone)


async def test_the_telegram_group_gets_its_list_at_nine_and_claim_assigns(
    telegram_api, sessions, staffing
):
    settings = use_settings(**telegram_settings(telegram_api))
    with time_machine.travel(at(8, 30), tick=True) as clock:
        async with running(sessions, settings, telegram(settings)) as platforms:
            for user, name in ((MANAGER, "王经理"), (LINA, "李娜"), (CHEN, "陈明")):
                await link(telegram_api, sessions, user, name)
            telegram_api.push(message_update(MANAGER, "/订阅", chat_id=GROUP))
            await telegram_api.wait_for(chat_id=GROUP)
            overdue, today = await add_reminders(
                sessions,
                staffing.lina.staff_id,
                [at(8) - timedelta(days=1), at(15)],
                delivery=DeliveryState.SENT,
            )
            scheduler = CareScheduler(sessions, {"telegram": platforms.doors[0]})
            assert await scheduler.send_lists() == 0  # 08:30: not yet

            clock.move_to(at(9, 1))
            assert await scheduler.send_lists() == 1
            assert await scheduler.send_lists() == 0  # once a day
            [_, digest] = await telegram_api.wait_for(count=2, chat_id=GROUP)
            text = digest.params["text"]
            assert "华东" in text and "跟进清单" in text and "李娜" in text and "逾期" in text
            assert "task 0" in text and "task 1" in text
            buttons = buttons_of(digest)
            for rid in (overdue, today):
                assert {f"claim:{rid}", f"done:{rid}", f"snooze:{rid}:1d"} <= set(buttons)

            telegram_api.push(callback_update(CHEN, f"claim:{overdue}", sent_message(digest)))
            claimed = (await telegram_api.wait_for(count=3, chat_id=GROUP))[-1]
            assert "陈明" in claimed.params["text"] and f"#{overdue}" in claimed.params["text"]
            assert telegram_api.sent("answerCallbackQuery")
    async with sessions() as session:
        assert (await session.get(Reminder, overdue)).owner_id == staffing.chen.staff_id
        assert (await session.get(Reminder, today)).owner_id == staffing.lina.staff_id


async def test_the_slack_channel_gets_the_list_in_english_at_new_york_nine(
    slack_api, sessions, staffing
):
    async with sessions() as session, session.begin():
        await add_staff(session, name="Grace", role=Role.MANAGER, team="Global", language="en")
        team = (await session.exec(select(Team).where(Team.name == "Global"))).one()
        team.language, team.timezone = "en", "America/New_York"
        session.add(team)
    slack_api.add_user("U0GRACE", locale="en-US")
    settings = use_settings(**slack_settings(slack_api))
    with time_machine.travel(at(8, 50, NEW_YORK), tick=True) as clock:
        async with running(sessions, settings, slack(settings)) as platforms:
            client = SlackClient(slack_api, platforms)
            await slack_link(client, sessions, "U0GRACE", "Grace")
            await client.command("U0GRACE", "subscribe", channel="C0GLOBAL")
            await slack_api.wait_for("response_url", 2)
            [rid] = await add_reminders(
                sessions, staffing.tom.staff_id, [at(11, 0, NEW_YORK)], delivery=DeliveryState.SENT
            )
            scheduler = CareScheduler(sessions, {"slack": platforms.doors[0]})
            assert await scheduler.send_lists() == 0
            clock.move_to(at(9, 0, NEW_YORK) + timedelta(seconds=30))
            slack_api.fail("chat.postMessage", 500)  # slack_sdk tries again
            assert await scheduler.send_lists() == 1
            [digest] = await slack_api.wait_for("chat.postMessage", channel="C0GLOBAL")
            text = block_text(digest.params["blocks"])
            assert "Global" in text and "Tom" in text and "task 0" in text
            assert {f"claim:{rid}", f"done:{rid}", f"snooze:{rid}:1d"} <= set(
                button_values(digest.params["blocks"])
            )
            message = {"ts": "1700000000.000009", "blocks": digest.params["blocks"]}
            await client.press("U0GRACE", f"claim:{rid}", channel="C0GLOBAL", message=message)
            claimed = (await slack_api.wait_for("chat.postMessage", 2, channel="C0GLOBAL"))[-1]
            assert "Grace" in claimed.params["text"]
    assert [c.status for c in slack_api.calls if c.method == "chat.postMessage"][:2] == [500, 200]
    async with sessions() as session:
        grace = (await session.exec(select(Team).where(Team.name == "Global"))).one()
        assert grace.digest_channel == "slack:C0GLOBAL"
        assert (await session.get(Reminder, rid)).owner_id != staffing.tom.staff_id


async def test_a_reminder_reaches_the_reps_telegram_chat_after_a_429_and_closes_its_loop(
    telegram_api, sessions, staffing
):
    settings = use_settings(**telegram_settings(telegram_api))
    with time_machine.travel(at(10), tick=True):
        async with running(sessions, settings, telegram(settings)) as platforms:
            await link(telegram_api, sessions, LINA, "李娜")
            telegram_api.push(message_update(LINA, "/新建 王芳 13700137000"))
            await telegram_api.wait_for(count=2, chat_id=LINA)
            [rid] = await add_reminders(
                sessions, staffing.lina.staff_id, [at(9, 55)], customer_id=1, text="回访王芳"
            )
            telegram_api.fail("sendMessage", 429, retry_after=1)
            scheduler = CareScheduler(sessions, {"telegram": platforms.doors[0]})
            result = await scheduler.dispatch_reminders()
            assert result.sent == 1
            assert (await scheduler.dispatch_reminders()).sent == 0  # exactly once
            reminder_msg = (await telegram_api.wait_for(count=3, chat_id=LINA))[-1]
            assert "回访王芳" in reminder_msg.params["text"]
            assert buttons_of(reminder_msg) == [
                f"care_done:{rid}",
                f"care_log:{rid}",
                f"care_skip:{rid}",
                f"snooze:{rid}:1d",
                f"snooze:{rid}:1w",
            ]
            [refused] = [c for c in telegram_api.calls if c.status == 429]
            assert reminder_msg.at - refused.at >= 1.0

            telegram_api.push(callback_update(LINA, f"care_done:{rid}", sent_message(reminder_msg)))
            asked = (await telegram_api.wait_for(count=4, chat_id=LINA))[-1]
            assert "结果" in asked.params["text"]
            telegram_api.push(message_update(LINA, "电话问候,她下月再订"))
            saved = (await telegram_api.wait_for(count=5, chat_id=LINA))[-1]
            assert f"#{rid}" in saved.params["text"]
    async with sessions() as session:
        row = await session.get(Reminder, rid)
        interaction = (await session.exec(select(Interaction))).one()
    assert row.status == ReminderStatus.DONE and row.delivery == DeliveryState.SENT
    assert interaction.summary == "电话问候,她下月再订" and interaction.customer_id == 1


async def test_a_reminder_reaches_the_reps_slack_dm_after_a_500(slack_api, sessions, staffing):
    settings = use_settings(**slack_settings(slack_api))
    with time_machine.travel(at(10), tick=True):
        async with running(sessions, settings, slack(settings)) as platforms:
            client = SlackClient(slack_api, platforms)
            await slack_link(client, sessions, SLACK_LINA, "李娜")
            [rid] = await add_reminders(
                sessions, staffing.lina.staff_id, [at(9, 55)], text="给王芳发报价"
            )
            slack_api.fail("chat.postMessage", 500)
            scheduler = CareScheduler(sessions, {"slack": platforms.doors[0]})
            assert (await scheduler.dispatch_reminders()).sent == 1
            [sent] = await slack_api.wait_for("chat.postMessage", channel=SLACK_LINA)
    assert "给王芳发报价" in block_text(sent.params["blocks"])
    assert f"care_done:{rid}" in button_values(sent.params["blocks"])
    async with sessions() as session:
        assert (await session.get(Reminder, rid)).delivery == DeliveryState.SENT


async def _subscribed_store(url: str) -> None:
    """A store of its own (the CLI runs its own loop): 华东 subscribed in GROUP, one task."""
    engine = make_engine(url)
    await upgrade(engine)
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        lina = await add_staff(session, name="李娜", role=Role.REP, team="华东")
        team = await session.get(Team, lina.team_id)
        team.digest_channel = f"telegram:{GROUP}"
        session.add(team)
    await add_reminders(sessions, lina.id, [datetime.now(SHANGHAI) - timedelta(hours=1)])
    await engine.dispose()


def test_crmbot_digest_now_sends_to_the_subscribed_telegram_group(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    asyncio.run(_subscribed_store(url))
    with fake_telegram_in_thread() as api:
        override_settings(
            Settings(
                _env_file=None,
                database_url=url,
                language="zh",
                timezone="Asia/Shanghai",
                telegram_token=api.token,
                telegram_api_url=api.base_url,
            )
        )
        result = CliRunner().invoke(app, ["digest", "华东", "--now"])
        assert result.exit_code == 0, result.output
        [digest] = api.sent("sendMessage", chat_id=GROUP)
    assert "华东" in digest.params["text"] and "task 0" in digest.params["text"]
    assert any(b.startswith("claim:") for b in buttons_of(digest))
    assert f"telegram:{GROUP}" in result.output
    assert not api.sent("getUpdates")  # a one-off send takes no updates from `crmbot run`


def test_crmbot_digest_now_prints_when_the_platform_is_not_configured(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    asyncio.run(_subscribed_store(url))
    override_settings(Settings(_env_file=None, database_url=url, language="zh"))
    result = CliRunner().invoke(app, ["digest", "华东", "--now"])
    assert result.exit_code == 0, result.output
    assert "无法连接" in result.output and "task 0" in result.output
