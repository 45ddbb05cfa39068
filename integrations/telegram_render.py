"""Reply -> Telegram messages: HTML text, tables in <pre>, inline keyboards, 4096-char limit."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field

from bot.events import Button, Reply
from bot.render import render_table

log = logging.getLogger(__name__)

# Telegram counts message length in UTF-16 code units, after entity parsing. We measure the
# HTML source, which is never shorter than what Telegram counts.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
_PRE_OPEN, _PRE_CLOSE = "<pre>", "</pre>"


def telegram_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class TelegramMessage:
    html: str
    buttons: list[list[Button]] = field(default_factory=list)


@dataclass(frozen=True)
class _Line:
    html: str
    in_table: bool


def _hard_split(text: str, limit: int) -> list[str]:
    """A single line longer than a whole message: cut it, at character boundaries."""
    pieces, current = [], ""
    for ch in text:
        if telegram_length(current + ch) > limit:
            pieces.append(current)
            current = ""
        current += ch
    return [*pieces, current]


def _assemble(lines: list[_Line]) -> str:
    """Join lines; runs of table lines go inside one <pre>."""
    out: list[str] = []
    table: list[str] = []
    for line in [*lines, _Line("", False)]:
        if line.in_table:
            table.append(line.html)
            continue
        if table:
            out.append(_PRE_OPEN + "\n".join(table) + _PRE_CLOSE)
            table = []
        out.append(line.html)
    return "\n".join(out[:-1])


def _lines(reply: Reply, limit: int) -> tuple[list[_Line], _Line | None]:
    """Text lines, then the table: its header (title row and rule) and one line per row."""
    lines = [
        _Line(piece, False)
        for raw in html.escape(reply.text, quote=False).split("\n")
        for piece in _hard_split(raw, limit - 1)
    ]
    if reply.table is None:
        return lines, None
    rendered = html.escape(render_table(reply.table), quote=False).split("\n")
    header = _Line("\n".join(rendered[:2]), True)
    budget = limit - telegram_length(_PRE_OPEN + _PRE_CLOSE) - 1
    rows = [_Line(piece, True) for row in rendered[2:] for piece in _hard_split(row, budget)]
    return [*lines, header, *rows], header


def photo_caption(reply: Reply) -> str | None:
    """The reply's first line under its image (a chart's headline), so the photo says what
    it shows in the chat list and in notifications; plain text, within Telegram's limit."""
    first = reply.text.split("\n", 1)[0].strip()
    return _hard_split(first, CAPTION_LIMIT)[0] if first else None


def split_reply(reply: Reply, limit: int = TEXT_LIMIT) -> list[TelegramMessage]:
    """The reply as messages of at most `limit` characters, never cutting a line or a table
    row (unless one alone exceeds the limit). A message that continues a table repeats its
    header, so each reads on its own. Buttons go with the last message."""
    lines, header = _lines(reply, limit)
    chunks: list[list[_Line]] = [[]]
    for line in lines:
        if chunks[-1] and telegram_length(_assemble([*chunks[-1], line])) > limit:
            fresh = [line]
            if line.in_table and header is not None and line is not header:
                with_header = [header, line]
                if telegram_length(_assemble(with_header)) <= limit:
                    fresh = with_header
            chunks.append(fresh)
        else:
            chunks[-1].append(line)
    messages = [TelegramMessage(html=_assemble(chunk) or "…") for chunk in chunks]
    messages[-1].buttons = keyboard_rows(reply.buttons)
    return messages


def keyboard_rows(rows: list[list[Button]]) -> list[list[Button]]:
    """Buttons whose payload Telegram accepts (callback_data is at most 64 bytes)."""
    kept = []
    for row in rows:
        good = [b for b in row if 0 < len(b.payload.encode()) <= CALLBACK_DATA_LIMIT]
        for dropped in (b for b in row if b not in good):
            log.error("button payload too long for Telegram, dropped: %r", dropped.payload)
        if good:
            kept.append(good)
    return kept
