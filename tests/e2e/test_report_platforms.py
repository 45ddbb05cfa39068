"""Reports through the real Telegram and Slack clients against the fake platform APIs: the
numbers as a table, the chart as an uploaded PNG, and customer lists (or one customer's
numbers) kept out of group chats."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from e2e_support import running, slack_settings, telegram_settings, use_settings
from fakes.slack_api import block_text, dm_event, mention_event
from fakes.telegram_api import message_update
from test_slack import SlackClient, slack
from test_slack import link as slack_link
from test_telegram import GROUP, MANAGER, link, telegram

from crm_core.customers import CustomerCreate, create_customer
from crm_core.models import Order, PaymentStatus

SH = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n"
ADMIN = "U0ADMIN"


def last_month(day: int) -> datetime:
    """10:00 on `day` of last month, Shanghai time (the reports' "上个月")."""
    first_of_this = datetime.now(SH).replace(day=1, hour=10, minute=0, second=0, microsecond=0)
    return (first_of_this - timedelta(days=1)).replace(day=day)


@pytest.fixture
async def orders(sessions, staffing) -> None:
    """Last month the 华东 team sold ¥2,000.50 (a cancelled ¥999 does not count; this
    month's ¥800 is not last month's); Tom sold $400 to Jane Smith."""
    async with sessions() as session, session.begin():

        async def customer(actor, name, company, *orders, currency="CNY"):
            created = await create_customer(
                session=session, actor=actor, data=CustomerCreate(name=name, company=company)
            )
            for when, amount, status in orders:
                session.add(
                    Order(
                        customer_id=created.id,
                        ordered_at=when,
                        amount=Decimal(amount),
                        currency=currency,
                        payment_status=status,
                    )
                )

        paid, cancelled = PaymentStatus.PAID, PaymentStatus.CANCELLED
        await customer(
            staffing.lina,
            "张伟",
            "华信科技",
            (last_month(3), "1200", paid),
            (last_month(5), "300.50", paid),
            (last_month(6), "999", cancelled),
            (datetime.now(SH) - timedelta(minutes=5), "800", paid),
        )
        await customer(staffing.chen, "王芳", "东方贸易", (last_month(4), "500", paid))
        await customer(
            staffing.tom, "Jane Smith", "Acme Corp", (last_month(2), "400", paid), currency="USD"
        )


# --- Telegram -------------------------------------------------------------------------------


async def test_a_manager_gets_the_table_and_the_chart_on_telegram(telegram_api, sessions, orders):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, MANAGER, "王经理")
        telegram_api.push(message_update(MANAGER, "/报表 上个月销售额"))
        [photo] = await telegram_api.wait_for("sendPhoto", chat_id=MANAGER)
        answer = (await telegram_api.wait_for(count=2, chat_id=MANAGER))[-1]
    assert photo.params["photo"].startswith(PNG)
    assert photo.params.get("caption", "").startswith("上个月销售额：¥2,000.50")
    text = answer.params["text"]
    assert text.startswith("上个月销售额：¥2,000.50")
    assert "<pre>" in text and "¥2,000.50" in text.split("<pre>")[1]
    assert "范围：本团队" in text
    # Pin buttons under a team figure: a manager may post it to the team channel.
    markup = answer.params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"].split(":")[1] for b in markup[0]] == ["daily", "weekly", "monthly"]


async def test_a_customer_list_asked_in_a_group_goes_to_the_private_chat(
    telegram_api, sessions, orders
):
    settings = use_settings(**telegram_settings(telegram_api))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, MANAGER, "王经理")
        telegram_api.push(message_update(MANAGER, "/报表 上个月销售额前10的客户", chat_id=GROUP))
        [note] = await telegram_api.wait_for(chat_id=GROUP)
        [photo] = await telegram_api.wait_for("sendPhoto", chat_id=MANAGER)
        listed = (await telegram_api.wait_for(count=2, chat_id=MANAGER))[-1]
        # One customer's (or company's) numbers are as private as the list.
        telegram_api.push(message_update(MANAGER, "/报表 华信上个月销售额", chat_id=GROUP))
        await telegram_api.wait_for(count=2, chat_id=GROUP)
        named = (await telegram_api.wait_for(count=3, chat_id=MANAGER))[-1]
        # A team total asked in the group is answered in the group, chart and all.
        telegram_api.push(message_update(MANAGER, "/报表 上个月销售额", chat_id=GROUP))
        [group_photo] = await telegram_api.wait_for("sendPhoto", chat_id=GROUP)
        total = (await telegram_api.wait_for(count=3, chat_id=GROUP))[-1]
    assert "私信" in note.params["text"] and "张伟" not in note.params["text"]
    assert photo.params["photo"].startswith(PNG)
    table = listed.params["text"].split("<pre>")[1]
    assert "张伟" in table and "¥1,500.50" in table and "王芳" in table
    assert "reply_markup" not in listed.params  # never pinned to a channel
    assert named.params["text"].startswith("上个月销售额：¥1,500.50")
    assert "筛选：客户=张伟（华信科技）" in named.params["text"]
    assert group_photo.params["photo"].startswith(PNG)
    assert total.params["text"].startswith("上个月销售额：¥2,000.50")
    group_texts = "\n".join(telegram_api.texts(GROUP))
    assert "张伟" not in group_texts and "华信" not in group_texts.replace("/报表 华信", "")
    assert not telegram_api.sent("sendPhoto", chat_id=GROUP)[1:]  # one chart in the group


# --- Slack ----------------------------------------------------------------------------------


def uploads_to(slack_api, channel: str) -> list[bytes]:
    """The files completed into `channel`, as the bytes that were uploaded."""
    done = slack_api.sent("files.completeUploadExternal", channel_id=channel)
    ids = [f["id"] for call in done for f in _files(call.params["files"])]
    return [slack_api.files[i] for i in ids]


def _files(value) -> list[dict]:
    import json

    return json.loads(value) if isinstance(value, str) else value


async def test_an_admin_asks_in_english_in_a_slack_dm(slack_api, sessions, orders):
    slack_api.add_user(ADMIN, locale="en-US")
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await slack_link(client, sessions, ADMIN, "Admin")
        await client.event(dm_event(ADMIN, "report revenue last month", channel="D0ADM"))
        [posted] = await slack_api.wait_for("chat.postMessage", channel="D0ADM")
        # The same through the slash command, in the DM.
        await client.command(ADMIN, "report revenue last month", channel="D0ADM")
        again = (await slack_api.wait_for("chat.postMessage", 2, channel="D0ADM"))[-1]
    text = block_text(posted.params["blocks"])
    assert text.startswith("Revenue, last month: CN¥2,000.50")
    assert "Scope: all customers" in text
    assert "(USD orders not included)" in text  # Tom's dollars are never added to yuan
    assert "```" in text and "CN¥2,000.50" in text.split("```")[1]
    assert block_text(again.params["blocks"]) == text
    charts = uploads_to(slack_api, "D0ADM")
    assert len(charts) == 2 and all(c.startswith(PNG) for c in charts)
    titles = [
        f["title"]
        for call in slack_api.sent("files.completeUploadExternal", channel_id="D0ADM")
        for f in _files(call.params["files"])
    ]
    assert titles == ["Revenue, last month: CN¥2,000.50."] * 2


async def test_a_customer_list_asked_in_a_slack_channel_goes_to_a_dm(
    slack_api, sessions, staffing, orders
):
    slack_api.add_user(ADMIN, locale="en-US")
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await slack_link(client, sessions, ADMIN, "Admin")
        await client.event(
            mention_event(ADMIN, "report top 10 customers by revenue last month", channel="C0SALES")
        )
        [note] = await slack_api.wait_for("chat.postMessage", channel="C0SALES")
        [listed] = await slack_api.wait_for("chat.postMessage", channel=ADMIN)
        # A team figure is answered in the channel's thread: its chart goes in that thread too.
        asked = mention_event(ADMIN, "report revenue last month", channel="C0SALES")
        await client.event(asked)
        [total] = await slack_api.wait_for(
            "chat.postMessage", channel="C0SALES", thread_ts=asked["ts"]
        )
        [chart_in_thread] = slack_api.sent(
            "files.completeUploadExternal", channel_id="C0SALES", thread_ts=asked["ts"]
        )
    assert "张伟" not in str(note.params)
    table = block_text(listed.params["blocks"]).split("```")[1]
    assert "张伟" in table and "¥1,500.50" in table
    # The chart went to the person's DM (a user id is opened as a DM first), not the channel.
    assert slack_api.sent("conversations.open", users=ADMIN)
    [chart] = uploads_to(slack_api, "D0ADMIN")
    assert chart.startswith(PNG)
    assert "CN¥2,000.50" in block_text(total.params["blocks"])
    assert [slack_api.files[f["id"]][:8] for f in _files(chart_in_thread.params["files"])] == [PNG]


async def test_a_slash_command_report_in_a_channel_stays_private_with_its_chart_in_the_dm(
    slack_api, sessions, orders
):
    slack_api.add_user(ADMIN, locale="en-US")
    settings = use_settings(**slack_settings(slack_api))
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await slack_link(client, sessions, ADMIN, "Admin")
        await client.command(ADMIN, "report revenue last month", channel="C0SALES")
        answer = (await client.responses(2))[-1]  # the first answered the linking
        await slack_api.wait_for("files.completeUploadExternal", channel_id="D0ADMIN")
    assert answer["response_type"] == "ephemeral"
    assert "CN¥2,000.50" in block_text(answer["blocks"])
    # Nothing was posted in the channel itself; the chart went to the person's DM.
    assert not slack_api.sent("chat.postMessage", channel="C0SALES")
    assert not slack_api.sent("files.completeUploadExternal", channel_id="C0SALES")
    [chart] = uploads_to(slack_api, "D0ADMIN")
    assert chart.startswith(PNG)
