"""`crmbot run`: every configured front door, one HTTP server and any other background
service (the scheduler), side by side in one process and one event loop.

A service that fails to start is reported and left out; the others keep running.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from aiohttp import web

from bot.app import Assistant
from bot.events import Incoming, Reply
from crm_core.settings import Settings
from integrations.base import FrontDoor

log = logging.getLogger(__name__)


class Service(Protocol):
    """Anything `crmbot run` keeps running: front doors, the HTTP server, the scheduler.
    A `name` attribute, if present, is what the log and /healthz call it."""

    async def start(self) -> None:
        """Begin; must return once running (loops go in tasks). Raise if it cannot."""
        ...

    async def stop(self) -> None: ...


@runtime_checkable
class HasRoutes(Protocol):
    """A service that receives over the shared HTTP server (webhooks)."""

    def routes(self) -> list[web.RouteDef]: ...


def build_front_doors(assistant: Assistant, settings: Settings) -> list[FrontDoor]:
    """A front door for each platform whose settings are present (one that cannot even be
    built is reported and left out)."""
    doors: list[FrontDoor] = []
    if settings.telegram_token:
        from integrations.telegram import TelegramFrontDoor

        _build(doors, "telegram", lambda: TelegramFrontDoor(assistant, settings))
    if settings.slack_bot_token:
        from integrations.slack import SlackFrontDoor

        _build(doors, "slack", lambda: SlackFrontDoor(assistant, settings))
    return doors


def _build(doors: list[FrontDoor], name: str, make: Callable[[], FrontDoor]) -> None:
    try:
        doors.append(make())
    except Exception as exc:
        log.error("%s front door not set up: %s", name, exc)


class HttpServer:
    """The one HTTP server: webhook routes of the services, and GET /healthz."""

    name = "http"

    def __init__(self, host: str, port: int, services: Sequence[Service]) -> None:
        self.host, self.port = host, port
        self.app = web.Application()
        for service in services:
            if isinstance(service, HasRoutes):
                self.app.add_routes(service.routes())
        self.app.add_routes([web.get("/healthz", self._health)])
        self.status: dict[str, str] = {}
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # tests ask for any free port
            self.port = self._runner.addresses[0][1]
        log.info("HTTP server on http://%s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        healthy = all(state == "running" for state in self.status.values())
        body = {"status": "ok" if healthy else "degraded", "services": self.status}
        return web.json_response(body, status=200 if healthy else 503)


class Runner:
    """Starts services one by one, keeping those that start; stops them in reverse."""

    def __init__(self, services: Sequence[Service]) -> None:
        self.services = list(services)
        self.status: dict[str, str] = {}
        self.started: list[Service] = []

    async def start(self) -> dict[str, str]:
        for service in self.services:
            name = service_name(service)
            try:
                await service.start()
            except Exception as exc:
                log.error("%s failed to start: %s", name, exc)
                log.debug("%s start failure", name, exc_info=True)
                self.status[name] = f"failed: {exc}"
                await _quietly_stop(service)
                continue
            self.started.append(service)
            self.status[name] = "running"
        return dict(self.status)

    async def stop(self) -> None:
        for service in reversed(self.started):
            await _quietly_stop(service)
            self.status[service_name(service)] = "stopped"
        self.started.clear()


def service_name(service: Service) -> str:
    return str(getattr(service, "name", type(service).__name__))


async def _quietly_stop(service: Service) -> None:
    try:
        await service.stop()
    except Exception:
        log.exception("%s did not stop cleanly", service_name(service))


async def deliver_replayed(
    doors: Sequence[FrontDoor], replayed: list[tuple[Incoming, list[Reply]]]
) -> None:
    """Answers to messages stored before a crash go out through their front door."""
    by_channel = {door.channel: door for door in doors}
    for incoming, replies in replayed:
        door = by_channel.get(incoming.channel)
        if door is None:
            log.warning("no front door for replayed %s message", incoming.channel)
            continue
        await door.answer(incoming, replies)


class Platforms:
    """Front doors, the HTTP server and other services, started and stopped together."""

    def __init__(
        self,
        assistant: Assistant,
        settings: Settings,
        doors: Sequence[FrontDoor],
        services: Sequence[Service] = (),
    ) -> None:
        self.assistant = assistant
        self.doors = list(doors)
        self.http = HttpServer(settings.http_host, settings.http_port, self.doors)
        self.runner = Runner([self.http, *self.doors, *services])
        self.http.status = self.runner.status

    async def start(self) -> dict[str, str]:
        # Messages stored but never answered (a crash) are answered before new ones arrive,
        # so nothing is processed twice by the replay and a live handler at once.
        replayed = await self.assistant.replay_unprocessed()
        status = await self.runner.start()
        await deliver_replayed([d for d in self.doors if status.get(d.name) == "running"], replayed)
        return status

    async def stop(self) -> None:
        await self.runner.stop()


async def serve(
    assistant: Assistant,
    settings: Settings,
    doors: Sequence[FrontDoor],
    services: Sequence[Service] = (),
    *,
    stop: asyncio.Event | None = None,
) -> dict[str, str]:
    """Run until SIGINT/SIGTERM (or `stop` is set). Returns the services' start status."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    platforms = Platforms(assistant, settings, doors, services)
    status = await platforms.start()
    log.info("started: %s", ", ".join(f"{name} {state}" for name, state in status.items()))
    try:
        if not any(status.get(d.name) == "running" for d in doors):
            log.error("no front door could start: %s", status)
        else:
            await stop.wait()
    finally:
        await platforms.stop()
    return status
