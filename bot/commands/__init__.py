"""Command modules register their handlers and buttons when imported (at start-up)."""

from bot.commands import (  # noqa: F401
    care,
    draft,
    handlers,
    importing,
    report,
    subscribe,
    suggest,
    summary,
    usage,
)
