"""Plain language through the Assistant: the real openai client against the fake server."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import select

from bot.events import Reply
from crm_core.models import (
    Customer,
    InboxMessage,
    InboxStatus,
    Interaction,
    LlmToolCall,
    Reminder,
    ReminderStatus,
)
from tests.fakes.openai_server import error, malformed, slow, text, tool_calls
from tests.llm.conftest import SHANGHAI, count, payloads, say

VISIT = "今天拜访了华信的张伟,对新报价满意,下周三下午再跟进"


async def test_one_chinese_sentence_logs_the_visit_and_sets_the_follow_up(
    assistant, fake, sessions, staffing
):
    await say(assistant, "李娜", "/新建 张伟 13800138000 公司=华信科技")
    await say(assistant, "李娜", "/新建 张伟 13900139000 公司=恒达贸易")
    fake.script(
        tool_calls(
            (
                "log_interaction",
                {
                    "customer": "张伟(华信)",
                    "summary": "拜访,对新报价满意",
                    "kind": "visit",
                    "follow_up_at": "下周三下午",
                    "follow_up_text": "再跟进新报价",
                },
            )
        )
    )
    [reply] = await say(assistant, "李娜", VISIT)
    assert "拜访" in reply.text and "12月2日" in reply.text
    follow_up = reply.data["follow_up"]
    assert follow_up["due_at"].astimezone(SHANGHAI) == datetime(2026, 12, 2, 14, 0, tzinfo=SHANGHAI)
    assert "undo" in payloads(reply) and f"done:{follow_up['id']}" in payloads(reply)
    async with sessions() as session:
        interaction = (await session.exec(select(Interaction))).one()
        customer = await session.get(Customer, interaction.customer_id)
    # The company in brackets told the two 张伟 apart; the raw message is kept.
    assert customer.company == "华信科技" and interaction.kind == "visit"
    assert interaction.raw_text == VISIT
    # Writes only: no second round trip to the model.
    [request] = fake.chat_requests
    assert request["model"] == "fake-model"
    assert (
        request["messages"][0]["role"] == "system"
        and "2026-11-24" in request["messages"][0]["content"]
    )
    names = {t["function"]["name"] for t in request["tools"]}
    assert {"log_interaction", "create_reminder", "find_customers"} <= names
    assert not {"undo", "set_language"} & names
    assert all(t["function"]["strict"] for t in request["tools"])


async def test_an_english_note_with_two_actions_is_undone_with_one_button(
    assistant, fake, sessions, staffing
):
    await say(assistant, "Tom", "/new Jane Smith +1 415 555 0132 company=Acme")
    fake.script(
        tool_calls(
            (
                "log_interaction",
                {
                    "customer": "Jane Smith (Acme)",
                    "summary": "wants 20% off",
                    "kind": "call",
                    "follow_up_at": None,
                    "follow_up_text": None,
                },
            ),
            (
                "create_reminder",
                {"due_at": "Fri", "text": "follow up on the discount", "customer": "Jane Smith"},
            ),
        )
    )
    [reply] = await say(assistant, "Tom", "call w/ Jane Smith (Acme): wants 20% off, follow up Fri")
    assert "Logged a call with Jane Smith" in reply.text and "Reminder set for" in reply.text
    assert payloads(reply).count("undo") == 1
    [action_log, action_remind] = reply.data["actions"]
    assert action_remind["due_at"].astimezone(SHANGHAI) == datetime(
        2026, 11, 27, 9, 0, tzinfo=SHANGHAI
    )
    assert await count(sessions, Interaction) == 1 and await count(sessions, Reminder) == 1
    [undone] = await say(assistant, "Tom", button="undo")
    assert "Undone" in undone.text
    async with sessions() as session:
        assert (await session.exec(select(Interaction))).one().deleted_at is not None
        assert (await session.exec(select(Reminder))).one().status == ReminderStatus.CANCELLED


async def test_two_namesakes_are_asked_with_buttons_and_the_pick_finishes_both_calls(
    assistant, fake, sessions, staffing
):
    await say(assistant, "李娜", "/新建 张伟 13800138000 公司=华信科技")
    [second] = await say(assistant, "李娜", "/新建 张伟 13900139000 公司=恒达贸易")
    fake.script(
        tool_calls(
            (
                "log_interaction",
                {
                    "customer": "张伟",
                    "summary": "电话沟通",
                    "kind": "call",
                    "follow_up_at": None,
                    "follow_up_text": None,
                },
            ),
            ("create_reminder", {"due_at": "明天上午", "text": "发报价", "customer": "张伟"}),
        )
    )
    [question] = await say(assistant, "李娜", "给张伟打了电话,明天上午发报价")
    assert "哪一位" in question.text and await count(sessions, Interaction) == 0
    picks = [p for p in payloads(question) if p.startswith("nlupick:")]
    assert len(picks) == 2 and "nlunew" in payloads(question)
    [done] = await say(assistant, "李娜", button=f"nlupick:{second.data['id']}")
    assert "已记录" in done.text and "提醒" in done.text
    async with sessions() as session:
        assert (await session.exec(select(Interaction))).one().customer_id == second.data["id"]
        assert (await session.exec(select(Reminder))).one().customer_id == second.data["id"]
    # The pick was used up: pressing again does nothing.
    [again] = await say(assistant, "李娜", button=f"nlupick:{second.data['id']}")
    assert "已失效" in again.text or "过期" in again.text
    assert len(fake.chat_requests) == 1


async def test_an_unknown_customer_can_be_created_from_the_question(
    assistant, fake, sessions, staffing
):
    fake.script(
        tool_calls(
            (
                "log_interaction",
                {
                    "customer": "Jane Doe (Beta Ltd)",
                    "summary": "intro call",
                    "kind": "call",
                    "follow_up_at": None,
                    "follow_up_text": None,
                },
            )
        )
    )
    [question] = await say(assistant, "Tom", "intro call with Jane Doe from Beta Ltd")
    assert "no customer “Jane Doe”" in question.text
    [created] = await say(assistant, "Tom", button="nlunew")
    assert "Customer Jane Doe created" in created.text and "Logged a call" in created.text
    async with sessions() as session:
        customer = (await session.exec(select(Customer))).one()
    assert customer.company == "Beta Ltd" and await count(sessions, Interaction) == 1


async def test_a_question_is_answered_from_the_store(assistant, fake, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000 公司=华信科技")
    fake.script(
        tool_calls(("find_customers", {"query": "张伟"})),
        text("张伟(华信科技)的电话是 +8613800138000。"),
    )
    [answer] = await say(assistant, "李娜", "张伟的电话?")
    assert answer.text == "张伟(华信科技)的电话是 +8613800138000。" and answer.private
    first, second = fake.chat_requests
    tool_result = second["messages"][-1]
    assert tool_result["role"] == "tool" and "+8613800138000" in tool_result["content"]


async def test_no_model_configured_keeps_the_old_answer(sessions, staffing):
    from bot.app import Assistant
    from tests.llm.conftest import say as say_

    bot = Assistant(sessions)
    assert bot.llm is None
    [reply] = await say_(bot, "李娜", "今天拜访了张伟")
    assert "斜杠" in reply.text or "/帮助" in reply.text or "/help" in reply.text


async def test_malformed_arguments_are_rejected_and_nothing_is_written(
    assistant, fake, sessions, staffing
):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    bad = ("log_interaction", '{"customer": "张伟", "summary": ')
    fake.script(*[tool_calls(bad) for _ in range(4)])
    [reply] = await say(assistant, "李娜", "记一下张伟的电话")
    assert "几步之内" in reply.text and "/记录" in reply.text
    assert await count(sessions, Interaction) == 0
    assert await count(sessions, LlmToolCall, LlmToolCall.status == "invalid") == 4


async def test_the_model_may_correct_invalid_arguments(assistant, fake, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    fake.script(
        tool_calls(("record_feedback", {"customer": "张伟", "text": "很好", "score": 42})),
        tool_calls(("record_feedback", {"customer": "张伟", "text": "很好", "score": 9})),
        text("已记录"),
    )
    [reply] = await say(assistant, "李娜", "张伟打了9分,说很好")
    assert "张伟" in reply.text and reply.data["score"] == 9
    # The model was told what was wrong with the first call.
    assert "score" in json.dumps(fake.chat_requests[1]["messages"][-1], ensure_ascii=False)


async def test_an_unreadable_response_body_falls_back_and_the_message_stays_stored(
    assistant, fake, sessions, staffing
):
    fake.script(malformed())
    [reply] = await say(assistant, "李娜", "今天拜访了张伟", message_id="keep-me")
    assert "无法使用" in reply.text and reply.data == {"llm_error": "bad_response"}
    async with sessions() as session:
        row = (await session.exec(select(InboxMessage))).one()
    assert row.text == "今天拜访了张伟" and row.status == InboxStatus.PROCESSED


async def test_a_slow_model_times_out_politely(configure, sessions, fake, staffing):
    from bot.app import Assistant

    configure(llm_timeout=0.2, llm_max_retries=0)
    bot = Assistant(sessions)
    fake.script(slow(0.6, text("too late")))
    [reply] = await say(bot, "Tom", "what's due today?")
    assert reply.text.startswith("The AI assistant took too long") and "/log" in reply.text
    await bot.llm.aclose()


async def test_server_errors_are_retried_and_the_tool_runs_once(
    assistant, fake, sessions, staffing
):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    quick = {"retry-after-ms": "5"}
    fake.script(
        error(500, headers=quick),
        error(500, headers=quick),
        tool_calls(
            (
                "log_interaction",
                {
                    "customer": "张伟",
                    "summary": "电话",
                    "kind": "call",
                    "follow_up_at": None,
                    "follow_up_text": None,
                },
            )
        ),
    )
    [reply] = await say(assistant, "李娜", "给张伟打了电话")
    assert "已记录" in reply.text
    assert len(fake.chat_requests) == 3 and await count(sessions, Interaction) == 1


async def test_a_rate_limit_beyond_two_minutes_is_not_waited_for(
    assistant, fake, sessions, staffing
):
    fake.script(error(429, headers={"retry-after": "121"}))
    [reply] = await say(assistant, "Tom", "anything due?")
    assert reply.text.startswith("The AI service is busy") and len(fake.chat_requests) == 1


async def test_a_replayed_message_does_not_repeat_the_write(assistant, fake, sessions, staffing):
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    call = (
        "log_interaction",
        {
            "customer": "张伟",
            "summary": "电话",
            "kind": "call",
            "follow_up_at": None,
            "follow_up_text": None,
        },
    )
    fake.script(tool_calls(call), tool_calls(call))
    await say(assistant, "李娜", "给张伟打了电话", message_id="crash-1")
    # The process died before marking the message processed; on restart it is replayed.
    async with sessions() as session, session.begin():
        row = (
            await session.exec(select(InboxMessage).where(InboxMessage.message_id == "crash-1"))
        ).one()
        row.status = InboxStatus.RECEIVED
        session.add(row)
    [(_, replies)] = await assistant.replay_unprocessed()
    assert "已经处理过" in replies[0].text
    assert await count(sessions, Interaction) == 1


async def test_a_voice_note_is_transcribed_and_handled_as_text(assistant, fake, sessions, staffing):
    class Fetcher:
        def __init__(self) -> None:
            self.asked: list[str] = []

        async def fetch(self, attachment) -> bytes:
            self.asked.append(attachment.file_id)
            return b"OggS\x00fake-voice"

    fetcher = Fetcher()
    assistant.register_fetcher("console", fetcher)
    await say(assistant, "李娜", "/新建 张伟 13800138000")
    fake.transcript("今天拜访了张伟,下周三下午跟进")
    fake.script(
        tool_calls(
            (
                "log_interaction",
                {
                    "customer": "张伟",
                    "summary": "拜访",
                    "kind": "visit",
                    "follow_up_at": "下周三下午",
                    "follow_up_text": None,
                },
            )
        )
    )
    voice = [{"kind": "voice", "file_id": "tg-file-9", "mime_type": "audio/ogg"}]
    [reply] = await say(assistant, "李娜", attachments=voice, message_id="v-1")
    assert reply.text.startswith("🎤 “今天拜访了张伟,下周三下午跟进”") and "已记录" in reply.text
    assert fetcher.asked == ["tg-file-9"]
    [upload] = [r for r in fake.requests if r.path.endswith("/audio/transcriptions")]
    assert upload.body["model"] == "whisper-1" and upload.body["file_size"] > 0
    async with sessions() as session:
        interaction = (await session.exec(select(Interaction))).one()
        inbox = (
            await session.exec(select(InboxMessage).where(InboxMessage.message_id == "v-1"))
        ).one()
    assert interaction.raw_text == "今天拜访了张伟,下周三下午跟进"
    assert (
        inbox.text == interaction.raw_text
        and inbox.payload["attachments"][0]["file_id"] == "tg-file-9"
    )


async def test_a_voice_note_without_transcription_is_kept_and_the_rep_told(
    assistant, fake, sessions, staffing
):
    voice = [{"kind": "voice", "file_id": "f-1"}]
    [no_fetcher] = await say(assistant, "李娜", attachments=voice)
    assert "读不了" in no_fetcher.text

    class Fetcher:
        async def fetch(self, attachment) -> bytes:
            return b"audio"

    assistant.register_fetcher("console", Fetcher())
    fake.transcription_error(400)  # e.g. a local server without an audio endpoint
    [failed] = await say(assistant, "李娜", attachments=voice)
    assert "读不了" in failed.text
    assert await count(sessions, InboxMessage) == 2


def _reply_texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)
