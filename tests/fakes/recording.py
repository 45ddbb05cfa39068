"""What the fake platform APIs share: the calls they recorded, and a bounded wait for them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int = 200


class RecordedCalls:
    """Mixed into a fake API: `calls` holds every request; `default_method` is its send."""

    calls: list[Call]
    default_method: str

    def sent(self, method: str | None = None, **match: Any) -> list[Call]:
        """Successful calls of `method` whose params match (compared as strings)."""
        method = method or self.default_method
        return [
            c
            for c in self.calls
            if c.method == method
            and c.status == 200
            and all(str(c.params.get(k)) == str(v) for k, v in match.items())
        ]

    async def wait_for(
        self, method: str | None = None, count: int = 1, *, timeout: float = 10.0, **match: Any
    ) -> list[Call]:
        """Poll the recorded calls until `count` of them arrived (bounded wait)."""
        method = method or self.default_method
        deadline = time.monotonic() + timeout
        while True:
            found = self.sent(method, **match)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{method} {match}: {len(found)} of {count} calls after {timeout}s; "
                    f"calls: {[(c.method, c.status, c.params.get('text')) for c in self.calls]}"
                )
            await asyncio.sleep(0.01)
