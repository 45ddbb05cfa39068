"""Command grammar and handlers. Feature modules register their commands on import."""

from bot.commands import report  # noqa: F401  (registers /report, /pin, /segment)
