"""Command and button handlers; feature modules register themselves on import."""

from bot.commands import care  # noqa: F401  (care reminder and daily-list buttons)
