"""Domain errors. Each carries a message code and parameters; the bot words them per language."""

from __future__ import annotations

from typing import Any


class CrmError(Exception):
    code = "error"

    def __init__(self, code: str | None = None, **params: Any) -> None:
        self.code = code or self.code
        self.params = params
        super().__init__(f"{self.code} {params}" if params else self.code)


class NotFound(CrmError):
    """Missing, or outside the actor's scope: the two look the same so nothing leaks."""

    code = "not_found"


class Forbidden(CrmError):
    code = "forbidden"


class InvalidInput(CrmError):
    code = "invalid_input"


class Conflict(CrmError):
    code = "conflict"
