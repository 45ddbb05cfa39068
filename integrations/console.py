"""The console front door: a REPL on stdin/stdout, pipe-friendly for scripts and tests."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.app import Assistant
from bot.events import Incoming, Reply
from bot.render import render_text
from crm_core.models import Channel, Staff

CHAT_ID = "console"


def reply_as_json(reply: Reply, timezone: str) -> str:
    """One line of JSON; datetimes in ISO-8601 with the actor's offset."""
    zone = ZoneInfo(timezone)

    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(zone).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, bytes):
            return None
        raise TypeError(f"cannot serialise {type(value).__name__}")

    body = reply.model_dump(mode="python", exclude={"image"})
    return json.dumps(body, ensure_ascii=False, default=default)


class ConsoleChat:
    """Reads lines, sends each to the Assistant as the given staff member, prints the replies.

    Typing a button's number presses that button of the last reply.
    """

    def __init__(
        self,
        assistant: Assistant,
        staff: Staff,
        *,
        json_mode: bool = False,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
    ) -> None:
        self.assistant = assistant
        self.staff = staff
        self.json_mode = json_mode
        self.stdin = stdin
        self.stdout = stdout
        self.last_buttons: list[str] = []

    def _incoming(self, line: str) -> Incoming:
        base = {
            "channel": Channel.CONSOLE.value,
            "message_id": uuid.uuid4().hex,
            "sender_id": self.staff.name,
            "chat_id": CHAT_ID,
        }
        if line.isdigit() and 0 < int(line) <= len(self.last_buttons):
            return Incoming(**base, button=self.last_buttons[int(line) - 1])
        return Incoming(**base, text=line)

    def _print(self, replies: list[Reply]) -> None:
        self.last_buttons = [b.payload for r in replies for row in r.buttons for b in row]
        if self.json_mode:
            for reply in replies:
                print(reply_as_json(reply, self.staff.timezone), file=self.stdout)
        else:
            # Number buttons across all replies of this turn, as _incoming reads them.
            print("\n\n".join(render_text(r) for r in replies), file=self.stdout)
            print(file=self.stdout)
        self.stdout.flush()

    async def send(self, line: str) -> list[Reply]:
        replies = await self.assistant.handle(self._incoming(line))
        self._print(replies)
        return replies

    async def run(self) -> None:
        interactive = self.stdin.isatty()
        while True:
            if interactive:
                print(f"{self.staff.name}> ", end="", file=self.stdout, flush=True)
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            if interactive and line in ("/quit", "/exit", "/退出"):
                break
            await self.send(line)


class ConsoleOutbox:
    """The console's sending side: reminders and team lists printed to the terminal."""

    channel = Channel.CONSOLE.value

    def __init__(self, stdout: TextIO = sys.stdout) -> None:
        self.stdout = stdout

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        print(f"\n— {chat_id} —\n{render_text(reply)}\n", file=self.stdout, flush=True)
        return None
