"""Small deterministic readings of free text: what kind of interaction a log line describes."""

from __future__ import annotations

from crm_core.models import InteractionKind

_KIND_WORDS: list[tuple[InteractionKind, tuple[str, ...]]] = [
    (InteractionKind.VISIT, ("拜访", "上门", "见面", "visit", "visited", "dropped by")),
    (InteractionKind.MEETING, ("会议", "开会", "会谈", "meeting", "met ", "demo")),
    (InteractionKind.CALL, ("电话", "通话", "致电", "回电", "call", "called", "phoned", "rang")),
    (InteractionKind.EMAIL, ("邮件", "email", "e-mail", "mailed")),
    (InteractionKind.MESSAGE, ("微信", "短信", "消息", "wechat", "message", "texted", "sms")),
]


def interaction_kind(text: str) -> InteractionKind:
    lowered = text.casefold()
    for kind, words in _KIND_WORDS:
        if any(word in lowered for word in words):
            return kind
    return InteractionKind.NOTE
