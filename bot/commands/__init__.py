"""Command modules register their handlers and buttons when imported (at start-up)."""

from bot.commands import care, draft, handlers, importing, subscribe, summary, usage  # noqa: F401
