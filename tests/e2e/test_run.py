"""`crmbot run`: both front doors side by side; one that cannot start does not stop the other;
`crmbot staff add` prints the Telegram deep link."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from e2e_support import SIGNING_SECRET, slack_settings, telegram_settings, use_settings
from fakes.slack_api import dm_event, event_body, post_signed
from fakes.telegram_api import FakeTelegramApi, message_update
from typer.testing import CliRunner

from bot.app import Assistant
from crm_core.settings import Settings, override_settings
from integrations.cli import app
from integrations.runner import Platforms, build_front_doors, serve


async def test_both_front_doors_run_side_by_side(telegram_api, slack_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api), **slack_settings(slack_api))
    assistant = Assistant(sessions)
    doors = build_front_doors(assistant, settings)
    assert [d.name for d in doors] == ["telegram", "slack"]
    platforms = Platforms(assistant, settings, doors)
    status = await platforms.start()
    try:
        assert status == {"http": "running", "telegram": "running", "slack": "running"}
        telegram_api.push(message_update(999, "/help"))
        url = f"http://127.0.0.1:{platforms.http.port}"
        body = event_body(dm_event("U0X", "help"), "Ev1")
        await post_signed(
            f"{url}/slack/events", body, secret=SIGNING_SECRET, content_type="application/json"
        )
        await telegram_api.wait_for(chat_id=999)
        await slack_api.wait_for("chat.postMessage")
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
    finally:
        await platforms.stop()


async def test_a_front_door_that_fails_is_reported_and_the_other_runs(
    telegram_api, slack_api, sessions, staffing
):
    telegram_api.reject_token = True  # getMe: 401 Unauthorized
    port = free_port()
    settings = use_settings(**telegram_settings(telegram_api), **slack_settings(slack_api))
    settings.http_port = port
    stop = asyncio.Event()
    assistant = Assistant(sessions)
    task = asyncio.create_task(
        serve(assistant, settings, build_front_doors(assistant, settings), stop=stop)
    )
    try:
        await slack_api.wait_for("auth.test")
        url = f"http://127.0.0.1:{port}"
        body = event_body(dm_event("U0X", "help"), "Ev1")
        await post_signed(
            f"{url}/slack/events", body, secret=SIGNING_SECRET, content_type="application/json"
        )
        await slack_api.wait_for("chat.postMessage")
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
            assert response.status == 503
            health = await response.json()
        assert health["services"]["slack"] == "running"
        assert health["services"]["telegram"].startswith("failed:")
    finally:
        stop.set()
        status = await task
    assert status["telegram"].startswith("failed") and status["slack"] == "running"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def fake_telegram_in_thread() -> Iterator[FakeTelegramApi]:
    """The fake Bot API on its own loop, for CLI commands that run their own loop."""
    loop = asyncio.new_event_loop()
    api = FakeTelegramApi()
    ready = threading.Event()

    def serve_forever() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(api.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield api
    finally:
        asyncio.run_coroutine_threadsafe(api.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def test_staff_add_prints_the_telegram_deep_link(tmp_path) -> None:
    with fake_telegram_in_thread() as api:
        override_settings(
            Settings(
                _env_file=None,
                database_url=f"sqlite+aiosqlite:///{tmp_path}/crm.db",
                telegram_token=api.token,
                telegram_api_url=api.base_url,
            )
        )
        result = CliRunner().invoke(app, ["staff", "add", "周杰", "--role", "rep"])
    assert result.exit_code == 0, result.output
    code = result.output.split("Invite code: ")[1].split()[0]
    assert f"https://t.me/crm_test_bot?start={code}" in result.output


class Ticker:
    """A background service as the scheduler is one: started beside the doors, stopped after."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


class Broken:
    name = "broken"

    async def start(self) -> None:
        raise RuntimeError("no scheduler today")

    async def stop(self) -> None:
        pass


async def test_background_services_run_beside_the_front_doors(telegram_api, sessions, staffing):
    settings = use_settings(**telegram_settings(telegram_api))
    assistant = Assistant(sessions)
    ticker = Ticker()
    platforms = Platforms(
        assistant, settings, build_front_doors(assistant, settings), [ticker, Broken()]
    )
    status = await platforms.start()
    try:
        assert status["Ticker"] == "running" and status["telegram"] == "running"
        assert status["broken"] == "failed: no scheduler today"
        telegram_api.push(message_update(999, "/help"))
        await telegram_api.wait_for(chat_id=999)
    finally:
        await platforms.stop()
    assert ticker.events == ["start", "stop"]
