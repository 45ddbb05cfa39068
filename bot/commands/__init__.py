"""Command handlers and button verbs; importing the package registers them all."""

from bot.commands import handlers, importing  # noqa: F401
