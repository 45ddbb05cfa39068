"""Fixtures of the console-level report, segment and suggestion tests (clock at the shop's
NOW, an Assistant, the hand-built shop); helpers to talk to it are in report_shop.py."""

from __future__ import annotations

import pytest
import time_machine
from report_shop import NOW, build_shop

from bot.app import Assistant


@pytest.fixture
def frozen():
    """The clock stopped at report_shop.NOW (Tuesday 24 November 2026, 10:00 Shanghai)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def assistant(sessions) -> Assistant:
    return Assistant(sessions)


@pytest.fixture
async def shop(sessions, staffing) -> dict[str, int]:
    return await build_shop(sessions, staffing)
