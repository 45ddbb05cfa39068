"""Reply -> Slack Block Kit messages, within Slack's limits.

Limits (Block Kit reference): 50 blocks per message, 3000 characters per section text,
25 elements per actions block, 75 characters per button label, 255 per action_id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.events import Button, Reply
from bot.render import render_table

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
ACTIONS_LIMIT = 25
LABEL_LIMIT = 75
# Fallback text for notifications and screen readers.
FALLBACK_LIMIT = 3000
ACTION_PREFIX = "crm:"
_FENCE = "```"


@dataclass
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]]


def escape(text: str) -> str:
    """mrkdwn control characters; what people typed must not become links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _pack(lines: list[str], limit: int, *, wrap: tuple[str, str] = ("", "")) -> list[str]:
    """Lines packed into pieces of at most `limit` characters (wrapper included), never
    cutting a line unless it alone is too long."""
    head, tail = wrap
    room = limit - len(head) - len(tail)
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        for part in [line[i : i + room] for i in range(0, len(line), room)] or [""]:
            if current and size + 1 + len(part) > room:
                pieces.append(head + "\n".join(current) + tail)
                current, size = [], 0
            size += len(part) + (1 if current else 0)
            current.append(part)
    if current:
        pieces.append(head + "\n".join(current) + tail)
    return pieces


def _table_sections(reply: Reply) -> list[dict[str, Any]]:
    """The table as code blocks; each block repeats the header so it reads on its own."""
    assert reply.table is not None
    lines = escape(render_table(reply.table)).split("\n")
    header, rows = lines[:2], lines[2:]
    head = _FENCE + "\n".join(header) + "\n"
    return [_section(piece) for piece in _pack(rows or [""], SECTION_LIMIT, wrap=(head, _FENCE))]


def _button(button: Button, action_id: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": button.label[:LABEL_LIMIT], "emoji": True},
        "value": button.payload,
        "action_id": action_id,
    }


def _actions(rows: list[list[Button]]) -> list[dict[str, Any]]:
    blocks = []
    for r, row in enumerate(rows):
        for start in range(0, len(row), ACTIONS_LIMIT):
            elements = [
                _button(b, f"{ACTION_PREFIX}{r}:{start + c}")
                for c, b in enumerate(row[start : start + ACTIONS_LIMIT])
            ]
            blocks.append({"type": "actions", "elements": elements})
    return blocks


def render_messages(reply: Reply) -> list[SlackMessage]:
    """The reply as one message, or several when its blocks exceed Slack's limits; the
    buttons go with the last one."""
    blocks = [_section(piece) for piece in _pack(escape(reply.text).split("\n"), SECTION_LIMIT)]
    if reply.table is not None:
        blocks += _table_sections(reply)
    actions = _actions(reply.buttons)
    content_room = max(1, MAX_BLOCKS - len(actions))
    groups = [blocks[i : i + content_room] for i in range(0, len(blocks), content_room)] or [[]]
    if len(groups[-1]) + len(actions) > MAX_BLOCKS:
        groups.append([])
    groups[-1] += actions[:MAX_BLOCKS]
    fallback = reply.text[:FALLBACK_LIMIT] or "…"
    return [SlackMessage(text=fallback, blocks=group) for group in groups]
