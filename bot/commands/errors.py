"""Errors of the command grammar (as opposed to domain errors from crm_core)."""

from __future__ import annotations

from crm_core.errors import CrmError


class Usage(CrmError):
    """The command was recognised but its arguments were not: show how to write it."""

    code = "usage"

    def __init__(self, command: str) -> None:
        super().__init__("usage", command=command)


class BadWhen(CrmError):
    code = "bad_when"

    def __init__(self, value: str) -> None:
        super().__init__("bad_when", value=value)
