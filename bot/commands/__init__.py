"""Command modules register their handlers and buttons when imported (at start-up)."""

from bot.commands import draft, summary, usage  # noqa: F401
