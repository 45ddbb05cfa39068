"""Why a file or a row could not be imported: a code and parameters, worded by the bot."""

from __future__ import annotations

from typing import Any

from crm_core.errors import InvalidInput


class UnreadableFile(InvalidInput):
    """The file as a whole cannot be read (encoding, format, no header row)."""

    code = "import_unreadable"


class RowError(Exception):
    """One row cannot be imported; the report gives its line and this reason."""

    def __init__(self, reason: str, **params: Any) -> None:
        self.reason = reason
        self.params = {k: str(v) for k, v in params.items()}
        super().__init__(f"{reason} {self.params}")
