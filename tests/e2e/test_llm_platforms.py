"""Plain language and voice notes through the real front doors: python-telegram-bot and Bolt
against the fake platform APIs, the real openai client against the fake OpenAI server."""

from __future__ import annotations

import time_machine
from e2e_support import llm_settings, running, slack_settings, telegram_settings, use_settings
from fakes.openai_server import text, tool_calls
from fakes.slack_api import block_text, button_values, dm_event
from fakes.telegram_api import (
    buttons_of,
    callback_update,
    message_update,
    sent_message,
    voice_update,
)
from sqlmodel import select
from test_slack import LINA as SLACK_LINA
from test_slack import SlackClient, slack
from test_slack import link as slack_link
from test_telegram import LINA, MANAGER, count, link, telegram

from crm_core.models import Customer, InboxMessage, Interaction, Reminder, ReminderStatus
from tests.integration.report_shop import NOW, build_shop
from tests.llm.test_llm_reports import SHANGHAI_LAST_MONTH

VISIT = "今天拜访了华信的张伟,对新报价满意,下周三下午再跟进"


def visit_logged(customer: str = "张伟(华信)") -> object:
    """The model's answer to VISIT: one tool call that logs the visit and its follow-up."""
    return tool_calls(
        (
            "log_interaction",
            {
                "customer": customer,
                "summary": "拜访,对新报价满意",
                "kind": "visit",
                "follow_up_at": "下周三下午",
                "follow_up_text": "再跟进新报价",
            },
        )
    )


async def test_free_text_in_telegram_logs_the_visit_and_undo_takes_it_back(
    telegram_api, openai_api, sessions, staffing
):
    settings = use_settings(**telegram_settings(telegram_api), **llm_settings(openai_api))
    openai_api.script(visit_logged())
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000 公司=华信科技"))
        await telegram_api.wait_for(count=2, chat_id=LINA)
        telegram_api.push(message_update(LINA, VISIT))
        logged = (await telegram_api.wait_for(count=3, chat_id=LINA))[-1]
        assert "已记录" in logged.params["text"] and "张伟" in logged.params["text"]
        assert "undo" in buttons_of(logged)
        async with sessions() as session:
            interaction = (await session.exec(select(Interaction))).one()
            follow_up = (await session.exec(select(Reminder))).one()
        assert interaction.raw_text == VISIT and interaction.kind == "visit"
        assert follow_up.customer_id == interaction.customer_id

        telegram_api.push(callback_update(LINA, "undo", sent_message(logged)))
        undone = (await telegram_api.wait_for(count=4, chat_id=LINA))[-1]
        assert "已撤销" in undone.params["text"]
        # The question's buttons are spent: the message loses them.
        [edit] = await telegram_api.wait_for("editMessageText")
        assert not buttons_of(edit)
    [request] = openai_api.chat_requests
    assert request["messages"][1]["content"] == VISIT
    async with sessions() as session:
        assert (await session.exec(select(Interaction))).one().deleted_at is not None
        assert (await session.exec(select(Reminder))).one().status == ReminderStatus.CANCELLED


async def test_an_ambiguous_name_is_asked_with_buttons_and_the_press_finishes_it(
    telegram_api, openai_api, sessions, staffing
):
    settings = use_settings(**telegram_settings(telegram_api), **llm_settings(openai_api))
    openai_api.script(visit_logged(customer="张伟"))
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000 公司=华信科技"))
        telegram_api.push(message_update(LINA, "/新建 张伟 13900139000 公司=恒达贸易"))
        await telegram_api.wait_for(count=3, chat_id=LINA)
        async with sessions() as session:
            hengda = (
                await session.exec(select(Customer).where(Customer.company == "恒达贸易"))
            ).one()
        telegram_api.push(message_update(LINA, VISIT))
        question = (await telegram_api.wait_for(count=4, chat_id=LINA))[-1]
        picks = buttons_of(question)
        assert "哪一位" in question.params["text"]
        assert f"nlupick:{hengda.id}" in picks and "nlunew" in picks
        assert await count(sessions, Interaction) == 0

        telegram_api.push(callback_update(LINA, f"nlupick:{hengda.id}", sent_message(question)))
        done = (await telegram_api.wait_for(count=5, chat_id=LINA))[-1]
        assert "已记录" in done.params["text"] and "undo" in buttons_of(done)
        assert telegram_api.sent("answerCallbackQuery")
        # The question is closed: its buttons are taken off, so nobody picks twice.
        [closed] = await telegram_api.wait_for("editMessageText")
        assert not buttons_of(closed) and "恒达" in closed.params["text"]
    async with sessions() as session:
        assert (await session.exec(select(Interaction))).one().customer_id == hengda.id
        assert (await session.exec(select(Reminder))).one().customer_id == hengda.id
    assert len(openai_api.chat_requests) == 1


async def test_a_telegram_voice_note_is_downloaded_transcribed_and_logged(
    telegram_api, openai_api, sessions, staffing
):
    settings = use_settings(**telegram_settings(telegram_api), **llm_settings(openai_api))
    telegram_api.files["voice-7"] = b"OggS\x00-a-real-looking-voice-note"
    openai_api.transcript(VISIT)
    openai_api.script(visit_logged())
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(message_update(LINA, "/新建 张伟 13800138000 公司=华信科技"))
        await telegram_api.wait_for(count=2, chat_id=LINA)
        telegram_api.push(voice_update(LINA, "voice-7"))
        heard = (await telegram_api.wait_for(count=3, chat_id=LINA))[-1]
    assert heard.params["text"].startswith(f"🎤 “{VISIT}”")
    assert "已记录" in heard.params["text"] and "undo" in buttons_of(heard)
    [get_file] = telegram_api.sent("getFile")
    assert get_file.params["file_id"] == "voice-7"
    [upload] = [r for r in openai_api.requests if r.path.endswith("/audio/transcriptions")]
    assert upload.body["file_size"] == len(telegram_api.files["voice-7"])
    assert openai_api.chat_requests[0]["messages"][1]["content"] == VISIT
    async with sessions() as session:
        interaction = (await session.exec(select(Interaction))).one()
        inbox = (
            await session.exec(select(InboxMessage).order_by(InboxMessage.id.desc()))  # type: ignore[union-attr]
        ).first()
    # The transcript is what was logged; the inbox keeps the words and the file reference.
    assert interaction.raw_text == VISIT
    assert inbox.text == VISIT and inbox.payload["attachments"][0]["file_id"] == "voice-7"


async def test_a_voice_note_the_endpoint_cannot_transcribe_is_kept_and_the_rep_told(
    telegram_api, openai_api, sessions, staffing
):
    settings = use_settings(**telegram_settings(telegram_api), **llm_settings(openai_api))
    telegram_api.files["voice-8"] = b"OggS\x00-voice"
    openai_api.transcription_error(404)  # a local server without an audio endpoint
    async with running(sessions, settings, telegram(settings)):
        await link(telegram_api, sessions, LINA, "李娜")
        telegram_api.push(voice_update(LINA, "voice-8"))
        told = (await telegram_api.wait_for(count=2, chat_id=LINA))[-1]
    assert "读不了" in told.params["text"]
    assert await count(sessions, Interaction) == 0


async def test_free_text_in_a_slack_dm_logs_the_visit_with_an_undo_button(
    slack_api, openai_api, sessions, staffing
):
    settings = use_settings(**slack_settings(slack_api), **llm_settings(openai_api))
    openai_api.script(visit_logged())
    async with running(sessions, settings, slack(settings)) as platforms:
        client = SlackClient(slack_api, platforms)
        await slack_link(client, sessions, SLACK_LINA, "李娜")
        await client.command(SLACK_LINA, "新建 张伟 13800138000 公司=华信科技")
        await slack_api.wait_for("response_url", 2)
        await client.event(dm_event(SLACK_LINA, VISIT))
        [logged] = await slack_api.wait_for("chat.postMessage", channel="D100")
        assert "已记录" in block_text(logged.params["blocks"])
        assert "undo" in button_values(logged.params["blocks"])

        message = {"ts": "1700000000.000001", "blocks": logged.params["blocks"]}
        await client.press(SLACK_LINA, "undo", channel="D100", message=message)
        undone = (await slack_api.wait_for("chat.postMessage", 2, channel="D100"))[-1]
        assert "已撤销" in undone.params["text"]
    assert openai_api.chat_requests[0]["messages"][1]["content"] == VISIT
    async with sessions() as session:
        interaction = (await session.exec(select(Interaction))).one()
    assert interaction.raw_text == VISIT and interaction.deleted_at is not None


async def test_a_managers_plain_question_in_telegram_gets_the_models_report_and_chart(
    telegram_api, openai_api, sessions, staffing
):
    question = "上海那边的客户上个月买了多少，跟再前一个月比呢?"
    openai_api.script(
        tool_calls(("ask_report", {"question": question})),
        tool_calls(("run_report", SHANGHAI_LAST_MONTH)),
        text("上海客户上个月销售额 ¥1,150.00，9月为 ¥150.00。"),
    )
    settings = use_settings(**telegram_settings(telegram_api), **llm_settings(openai_api))
    # The shop's "last month" is October 2026: the clock starts at its NOW and runs on.
    with time_machine.travel(NOW, tick=True):
        await build_shop(sessions, staffing)
        async with running(sessions, settings, telegram(settings)):
            await link(telegram_api, sessions, MANAGER, "王经理")
            telegram_api.push(message_update(MANAGER, question))
            [photo] = await telegram_api.wait_for("sendPhoto", chat_id=MANAGER)
            answer = (await telegram_api.wait_for(count=2, chat_id=MANAGER))[-1]
    assert photo.params["photo"].startswith(b"\x89PNG")
    words = answer.params["text"]
    assert words.startswith("上海客户上个月销售额 ¥1,150.00，9月为 ¥150.00。")
    assert "¥1,150.00" in words.split("<pre>")[1]  # the table, as Telegram shows it
    assert "2026-10-01 至 2026-10-31" in words
    assert [len(r["tools"]) > 1 for r in openai_api.chat_requests[:2]] == [True, False]
