"""Command names and their aliases in both languages, and splitting a message into them."""

from __future__ import annotations

import re
from dataclasses import dataclass

ALIASES: dict[str, tuple[str, ...]] = {
    "find": ("find", "search", "查", "查找", "搜索"),
    "card": ("card", "customer", "客户", "档案"),
    "new": ("new", "add", "新建", "新客户"),
    "log": ("log", "记录"),
    "remind": ("remind", "提醒"),
    "today": ("today", "今天", "待办"),
    "done": ("done", "完成"),
    "snooze": ("snooze", "推迟"),
    "feedback": ("feedback", "反馈"),
    "order": ("order", "订单"),
    "undo": ("undo", "撤销"),
    "help": ("help", "帮助", "start"),
    "lang": ("lang", "language", "语言"),
    "link": ("link", "绑定"),
    "summary": ("summary", "summarise", "summarize", "总结"),
    "draft": ("draft", "草拟"),
    "usage": ("usage", "用量"),
    "subscribe": ("subscribe", "订阅"),
    "report": ("report", "报表", "报告"),
    "pin": ("pin", "置顶", "定时报表"),
    "segment": ("segment", "分群"),
    "suggest": ("suggest", "recommend", "推荐"),
}
_BY_ALIAS = {alias.casefold(): name for name, aliases in ALIASES.items() for alias in aliases}
_COMMAND = re.compile(r"^[/／](?P<word>[^\s@:：]+)(@\S+)?[\s:：]*(?P<rest>.*)$", re.DOTALL)
_BARE_CJK = re.compile(r"^(?P<word>[\u4e00-\u9fff]{1,3})(\s+|$)(?P<rest>.*)$", re.DOTALL)
# "C: TEXT" with an ASCII or full-width colon.
_COLON = re.compile(r"[:：]")
# "segment=老客户召回" / "分群＝Win back" in place of a customer, in the key=value style of /new.
_SEGMENT_KEY = re.compile(r"^(?:segment|seg|分群)\s*[=＝]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    rest: str


def parse_command(text: str) -> ParsedCommand | None:
    """ "/log 张伟: …" or "/记录 张伟：…" or "查 张伟" -> ParsedCommand; None for free text.

    Without a slash only Chinese aliases count: "查 张伟" is clearly a command, while English
    words like "new" or "done" open ordinary sentences.
    """
    stripped = text.strip()
    match = _COMMAND.match(stripped) or _BARE_CJK.match(stripped)
    if match is None:
        return None
    name = _BY_ALIAS.get(match["word"].casefold())
    if name is None:
        return ParsedCommand(name="unknown", rest=match["word"]) if stripped[0] in "/／" else None
    return ParsedCommand(name=name, rest=match["rest"].strip())


def split_colon(rest: str) -> tuple[str, str] | None:
    """ "张伟: 聊了新报价" -> ("张伟", "聊了新报价"); None without a colon."""
    parts = _COLON.split(rest, maxsplit=1)
    if len(parts) != 2:
        return None
    head, tail = parts[0].strip(), parts[1].strip()
    return (head, tail) if head and tail else None


def segment_ref(ref: str) -> str | None:
    """ "分群=老客户召回" or "segment = Win back" -> the segment's name; None for a customer."""
    ref = ref.strip()
    match = _SEGMENT_KEY.match(ref)
    if match is None:
        return None
    return ref[match.end() :].strip().strip("\"'“”‘’「」") or None


def join_segment_key(rest: str) -> str:
    """ "segment = win-back winback" -> "segment=win-back winback": the name stays one word
    for grammars that split on spaces (/draft)."""
    match = _SEGMENT_KEY.match(rest.strip())
    return f"segment={rest.strip()[match.end() :]}" if match else rest
