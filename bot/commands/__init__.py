"""Command modules register their handlers on import; import every one of them here."""

from bot.commands import subscribe  # noqa: F401
