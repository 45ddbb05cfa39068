"""The real Bolt AsyncApp in HTTP mode: signed requests in, the fake Slack Web API out."""

from __future__ import annotations

import time

import pytest
from e2e_support import SIGNING_SECRET, running, slack_settings, use_settings
from fakes.slack_api import (
    action_body,
    block_text,
    button_values,
    command_body,
    dm_event,
    event_body,
    mention_event,
    post_signed,
)
from sqlalchemy import func
from sqlmodel import select

from bot.events import Attachment
from crm_core.models import (
    InboxMessage,
    Interaction,
    Reminder,
    ReminderStatus,
    StaffIdentity,
    Team,
)
from crm_core.staff import create_invite, find_staff
from integrations.slack import SlackFrontDoor

LINA = "U0LINA"
MANAGER = "U0BOSS"
CHANNEL = "C0SALES"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


async def count(sessions, model) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


def slack(settings):
    return lambda assistant: [SlackFrontDoor(assistant, settings)]


class SlackClient:
    """Slack's side of the conversation: signed requests into /slack/events."""

    def __init__(self, api, platforms) -> None:
        self.api = api
        self.url = f"http://127.0.0.1:{platforms.http.port}/slack/events"
        self.events = 0

    async def command(self, user: str, text: str, *, channel: str = "D0LINA", name: str = "cmd"):
        body = command_body(user, text, channel=channel, response_url=self.api.response_url(name))
        response = await post_signed(self.url, body, secret=SIGNING_SECRET, content_type=FORM)
        assert response.status == 200
        return response

    async def event(self, event: dict, *, event_id: str | None = None, **kw):
        self.events += 1
        body = event_body(event, event_id or f"Ev{self.events:04d}")
        return await post_signed(self.url, body, secret=SIGNING_SECRET, content_type=JSON, **kw)

    async def press(self, user: str, value: str, *, channel: str, message: dict):
        body = action_body(user, value, channel=channel, message=message)
        response = await post_signed(self.url, body, secret=SIGNING_SECRET, content_type=FORM)
        assert response.status == 200

    async def responses(self, count: int, name: str = "cmd") -> list[dict]:
        calls = await self.api.wait_for("response_url", count)
        return [c.params for c in calls][:count]


async def link(client: SlackClient, sessions, user: str, name: str) -> None:
    async with sessions() as session, session.begin():
        code = (await create_invite(session, await find_staff(session, name))).code
    before = len(client.api.sent("response_url"))
    await client.command(user, f"link {code}")
    welcome = (await client.api.wait_for("response_url", before + 1))[-1]
    assert name in welcome.params["text"]


async def test_a_rep_links_logs_in_chinese_and_presses_done(slack_api, sessions, staffing):
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await link(client, sessions, LINA, "李娜")
        await client.command(LINA, "新建 张伟 13800138000 公司=华信科技")
        await slack_api.wait_for("response_url", 2)
        await client.event(dm_event(LINA, "记录 张伟: 拜访了客户,对报价满意,下周三下午跟进"))
        [logged] = await slack_api.wait_for("chat.postMessage", channel="D100")
        assert "已记录与 张伟 的拜访" in block_text(logged.params["blocks"])
        async with sessions() as session:
            reminder = (await session.exec(select(Reminder))).one()
        assert f"done:{reminder.id}" in button_values(logged.params["blocks"])
        assert logged.params["unfurl_links"] is False

        message = {"ts": "1700000000.000001", "blocks": logged.params["blocks"]}
        await client.press(LINA, f"done:{reminder.id}", channel="D100", message=message)
        done = (await slack_api.wait_for("chat.postMessage", 2, channel="D100"))[-1]
        assert f"已完成提醒 #{reminder.id}" in done.params["text"]
        # The pressed row is taken off the reminder message; Undo stays.
        [update] = slack_api.sent("chat.update", channel="D100", ts="1700000000.000001")
        assert button_values(update.params["blocks"]) == ["undo"]
    async with sessions() as session:
        assert (await session.get(Reminder, reminder.id)).status == ReminderStatus.DONE
    assert await count(sessions, Interaction) == 1


async def test_an_unknown_user_is_refused_in_their_language(slack_api, sessions, staffing):
    settings = use_settings(**slack_settings(slack_api))
    slack_api.add_user("U0STRANGER", email="someone@else.example", locale="en-US")
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await link(client, sessions, LINA, "李娜")
        await client.command(LINA, "新建 张伟 13800138000")
        await slack_api.wait_for("response_url", 2)
        await client.event(dm_event("U0STRANGER", "find 张伟", channel="D200"))
        [refusal] = await slack_api.wait_for("chat.postMessage", channel="D200")
    assert refusal.params["text"].startswith("Sorry, I don't know you yet")
    assert "张伟" not in str(refusal.params)


async def test_a_slack_user_is_linked_by_profile_email(slack_api, sessions, staffing):
    async with sessions() as session, session.begin():
        tom = await find_staff(session, "Tom")
        tom.email = "tom@acme.example"
        session.add(tom)
    slack_api.add_user("U0TOM", email="Tom@Acme.example", locale="en-US")
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await client.command("U0TOM", "today")
        welcome, today = [c.params for c in await slack_api.wait_for("response_url", 2)]
    assert "Welcome, Tom" in welcome["text"]
    assert "Nothing due today" in today["text"] or "due" in today["text"].lower()


async def test_email_linking_can_be_switched_off(slack_api, sessions, staffing):
    async with sessions() as session, session.begin():
        tom = await find_staff(session, "Tom")
        tom.email = "tom@acme.example"
        session.add(tom)
    slack_api.add_user("U0TOM", email="tom@acme.example", locale="en-US")
    settings = use_settings(**slack_settings(slack_api, slack_link_by_email=False))
    async with running(sessions, settings, slack(settings)) as platforms:
        await SlackClient(slack_api, platforms).command("U0TOM", "today")
        [refusal] = await slack_api.wait_for("response_url")
    assert refusal.params["text"].startswith("Sorry, I don't know you yet")


async def test_a_retried_event_stores_one_interaction(slack_api, sessions, staffing):
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await link(client, sessions, LINA, "李娜")
        await client.command(LINA, "新建 张伟 13800138000")
        await slack_api.wait_for("response_url", 2)
        event = dm_event(LINA, "记录 张伟: 电话沟通")
        first = await client.event(event, event_id="EvSAME")
        again = await client.event(event, event_id="EvSAME", retry_num=1)
        assert first.status == again.status == 200
        await client.event(dm_event(LINA, "today"))  # answered after the retry was seen
        await slack_api.wait_for("chat.postMessage", 2, channel="D100")
    assert await count(sessions, Interaction) == 1
    assert len(slack_api.sent("chat.postMessage", channel="D100")) == 2


@pytest.mark.parametrize(
    ("age", "signature", "status"),
    [(0, "v0=" + "0" * 64, 401), (301, None, 401), (299, None, 200)],
    ids=["bad-hmac", "stale", "fresh"],
)
async def test_request_signing(slack_api, sessions, staffing, age, signature, status):
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        response = await client.event(
            dm_event("U0X", "help"), timestamp=int(time.time()) - age, signature=signature
        )
        assert response.status == status
        if status == 200:
            await slack_api.wait_for("chat.postMessage")
    assert await count(sessions, InboxMessage) == (1 if status == 200 else 0)


async def test_the_ack_comes_before_the_answer(slack_api, sessions, staffing):
    """Slow work (here a slow users.info) never holds Slack's 3-second ack window."""
    slack_api.delays["users.info"] = 1.0
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        response = await SlackClient(slack_api, platforms).event(dm_event("U0X", "help"))
        assert response.status == 200
        assert not slack_api.sent("chat.postMessage")  # acked, not answered yet
        await slack_api.wait_for("chat.postMessage")


async def test_a_429_waits_for_retry_after_and_posts_once(slack_api, sessions, staffing):
    slack_api.fail("chat.postMessage", 429, retry_after=1)
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        await SlackClient(slack_api, platforms).event(dm_event("U0X", "help"))
        [posted] = await slack_api.wait_for("chat.postMessage")
    [refused] = [c for c in slack_api.calls if c.status == 429]
    assert posted.at - refused.at >= 1.0
    assert len(slack_api.sent("chat.postMessage")) == 1


async def test_the_outbox_reports_a_lasting_429(slack_api, sessions, staffing):
    from bot.app import Assistant
    from bot.delivery import DeliveryError
    from bot.events import Reply

    slack_api.fail("chat.postMessage", 429, retry_after=1, times=3)
    settings = use_settings(**slack_settings(slack_api))
    door = SlackFrontDoor(Assistant(sessions), settings)
    await door.start()
    try:
        with pytest.raises(DeliveryError) as raised:
            await door.send(LINA, Reply(text="提醒:回电话"))
        assert raised.value.retry_after == 1
        slack_api.fail("chat.postMessage", 500)
        assert await door.send(LINA, Reply(text="提醒:回电话", image=b"\x89PNG")) is not None
        assert slack_api.sent("files.completeUploadExternal", channel_id="D0LINA")
    finally:
        await door.stop()


async def test_personal_details_in_a_channel_go_to_a_dm(slack_api, sessions, staffing):
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await link(client, sessions, LINA, "李娜")
        await client.command(LINA, "新建 张伟 13800138000")
        await slack_api.wait_for("response_url", 2)
        await client.event(mention_event(LINA, "find 张伟", channel=CHANNEL))
        [note] = await slack_api.wait_for("chat.postMessage", channel=CHANNEL)
        [details] = await slack_api.wait_for("chat.postMessage", channel=LINA)
    assert "私信" in note.params["text"] and note.params["thread_ts"]
    assert "13800138000" in block_text(details.params["blocks"])
    assert "```" in block_text(details.params["blocks"])


async def test_a_manager_subscribes_a_channel(slack_api, sessions, staffing):
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await link(client, sessions, MANAGER, "王经理")
        await client.command(MANAGER, "订阅", channel=CHANNEL)
        done = (await slack_api.wait_for("response_url", 2))[-1]
    assert "华东" in done.params["text"]
    async with sessions() as session:
        team = (await session.exec(select(Team).where(Team.name == "华东"))).one()
    assert team.digest_channel == f"slack:{CHANNEL}"


async def test_a_shared_file_is_kept_and_can_be_fetched(slack_api, sessions, staffing):
    settings = use_settings(**slack_settings(slack_api))
    slack_api.files["F0VOICE"] = b"audio-bytes"
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await link(client, sessions, LINA, "李娜")
        files = [{"id": "F0VOICE", "mimetype": "audio/webm", "name": "clip.webm"}]
        await client.event(dm_event(LINA, "", subtype="file_share", files=files))
        [told] = await slack_api.wait_for("chat.postMessage", channel="D100")
        data = await platforms.assistant.fetchers["slack"].fetch(
            Attachment(kind="voice", file_id="F0VOICE")
        )
    assert "读不了" in told.params["text"]
    assert data == b"audio-bytes"


async def test_a_bad_invite_code_binds_nobody(slack_api, sessions, staffing):
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        await SlackClient(slack_api, platforms).command("U0X", "link NOPE1234")
        [reply] = await slack_api.wait_for("response_url")
    assert "invite code is not valid" in reply.params["text"]  # U0X's Slack locale: en-US
    async with sessions() as session:
        slack_ids = await session.exec(
            select(StaffIdentity).where(StaffIdentity.channel == "slack")
        )
        assert slack_ids.all() == []


async def test_socket_mode_receives_acks_and_answers(slack_api, sessions, staffing):
    from fakes.slack_api import APP_TOKEN

    settings = use_settings(**slack_settings(slack_api, slack_app_token=APP_TOKEN))
    async with running(sessions, settings, slack(settings)):
        await slack_api.socket_send("env-1", event_body(dm_event("U0X", "help"), "Ev1"))
        [reply] = await slack_api.wait_for("chat.postMessage")
        assert slack_api.acks == ["env-1"]
    assert reply.params["text"].startswith("Sorry, I don't know you yet")
