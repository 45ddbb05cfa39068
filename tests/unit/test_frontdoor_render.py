"""Replies rendered for Telegram and Slack stay within each platform's limits and lose nothing."""

from __future__ import annotations

import re

from bot.events import Button, Incoming, Reply, Table
from integrations.chats import as_command, destination
from integrations.slack_blocks import MAX_BLOCKS, SECTION_LIMIT, render_messages
from integrations.telegram_render import TEXT_LIMIT, split_reply, telegram_length


def big_reply(rows: int) -> Reply:
    return Reply(
        text="找到 <很多> 客户 & more:",
        table=Table(
            columns=["编号", "姓名", "公司", "电话"],
            rows=[[f"#{i}", f"张伟{i}", "华信科技有限公司", f"+86138{i:08d}"] for i in range(rows)],
        ),
        buttons=[[Button(label=f"客户 {i}", payload=f"card:{i}")] for i in range(5)],
    )


def test_telegram_splits_at_4096_without_cutting_a_row() -> None:
    messages = split_reply(big_reply(400))
    assert len(messages) > 1
    assert all(telegram_length(m.html) <= TEXT_LIMIT for m in messages)
    rows = [
        line for m in messages for line in m.html.split("\n") if re.match(r"(<pre>)?#\d+ ", line)
    ]
    assert [int(re.search(r"#(\d+)", r)[1]) for r in rows] == list(range(400))
    for m in messages[1:]:  # each continuation repeats the header inside its own <pre>
        assert m.html.startswith("<pre>编号") and m.html.endswith("</pre>")
    assert "&lt;很多&gt;" in messages[0].html and "&amp;" in messages[0].html
    assert not any(m.buttons for m in messages[:-1]) and len(messages[-1].buttons) == 5


def test_telegram_cuts_only_a_line_longer_than_a_message() -> None:
    messages = split_reply(Reply(text="短\n" + "长" * 5000 + "\n尾"))
    assert all(telegram_length(m.html) <= TEXT_LIMIT for m in messages)
    assert "".join(m.html.replace("\n", "") for m in messages) == "短" + "长" * 5000 + "尾"


def test_telegram_drops_a_button_whose_payload_is_too_long() -> None:
    reply = Reply(
        text="x",
        buttons=[[Button(label="ok", payload="done:1"), Button(label="long", payload="x" * 65)]],
    )
    assert [[b.payload for b in row] for row in split_reply(reply)[0].buttons] == [["done:1"]]


def test_slack_keeps_within_block_kit_limits() -> None:
    messages = render_messages(big_reply(5000))
    assert len(messages) > 1
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS
        assert all(
            len(b["text"]["text"]) <= SECTION_LIMIT for b in m.blocks if b["type"] == "section"
        )
    text = "\n".join(
        b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"
    )
    assert [int(n) for n in re.findall(r"^#(\d+) ", text, re.M)] == list(range(5000))
    assert not any(b["type"] == "actions" for m in messages[:-1] for b in m.blocks)
    last_actions = [b for b in messages[-1].blocks if b["type"] == "actions"]
    ids = [e["action_id"] for b in last_actions for e in b["elements"]]
    assert len(ids) == len(set(ids)) == 5


def test_slack_escapes_what_people_typed() -> None:
    [message] = render_messages(Reply(text="<@U123> <!channel> <http://evil.example|click>"))
    assert "<" not in message.blocks[0]["text"]["text"]


def test_command_words_without_a_slash() -> None:
    assert as_command("find 张伟") == "/find 张伟"
    assert as_command("记录 张伟: 电话") == "/记录 张伟: 电话"
    assert as_command("/today") == "/today"
    assert as_command("hello there") == "hello there"


def test_private_replies_leave_groups_for_the_senders_chat() -> None:
    group = Incoming(
        channel="telegram", message_id="1", sender_id="42", chat_id="-100", is_group=True
    )
    direct = group.model_copy(update={"is_group": False, "chat_id": "42"})
    assert destination(group, Reply(text="card", private=True)) == "42"
    assert destination(group, Reply(text="note")) == "-100"
    assert destination(direct, Reply(text="card", private=True)) == "42"
