"""Model output is untrusted text: links are removed (no data leaves through a URL) and
length is capped before anything reaches a chat."""

from __future__ import annotations

import re

_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)\S+")
# Bare domains with a path or query (evil.example/x?d=…) also carry data out.
_BARE = re.compile(r"(?i)\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/\S*")


def strip_links(text: str) -> str:
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _URL.sub("[…]", text)
    return _BARE.sub("[…]", text)


def clean_model_text(text: str | None, *, limit: int = 3000) -> str:
    cleaned = strip_links(text or "").strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
