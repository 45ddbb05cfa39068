"""`crmbot care scan` and `crmbot digest TEAM [--now]`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import Assistant
from bot.daily_runs import send_parts
from bot.delivery import Outbox
from bot.digest import build_digest, render_digest
from bot.i18n import t
from bot.outboxes import team_chat
from bot.render import render_text
from crm_core import care_rules
from crm_core.care.policy import policy_of
from crm_core.clock import utcnow
from crm_core.db import make_engine, make_session_factory
from crm_core.models import ScheduledRun, Team
from crm_core.settings import Settings, get_settings
from integrations.runner import build_front_doors

care_app = typer.Typer(help="Care rules: the daily scan.", no_args_is_help=True)
console = Console()


@care_app.command("scan")
def scan() -> None:
    """Run the daily care-rule scan now and print what it made."""

    async def work() -> care_rules.ScanResult:
        engine = make_engine(get_settings().database_url)
        try:
            return await care_rules.scan(make_session_factory(engine))
        finally:
            await engine.dispose()

    result = asyncio.run(work())
    console.print(
        t(
            get_settings().language,
            "care_scan_done",
            customers=result.customers,
            created=sum(result.created.values()),
            held=sum(result.held.values()),
            seconds=f"{result.seconds:.1f}",
        )
    )
    for kind in sorted(set(result.created) | set(result.held)):
        console.print(f"  {kind}: {result.created[kind]} made, {result.held[kind]} held")


def digest_command(
    team: Annotated[str, typer.Argument(help="Team name.")],
    now: Annotated[
        bool, typer.Option("--now", help="Send it to the team's channel (if one can be reached).")
    ] = False,
) -> None:
    """Print a team's daily follow-up list; with --now, send it to the team's channel."""
    settings = get_settings()

    async def work() -> None:
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        try:
            async with sessions() as session:
                found = (await session.exec(select(Team).where(Team.name == team))).first()
                if found is None:
                    console.print(t(settings.language, "digest_unknown_team", team=team))
                    raise typer.Exit(1)
                replies = render_digest(
                    await build_digest(session, found, utcnow()), policy_of(found)
                )
            if not now:
                print("\n\n".join(render_text(r) for r in replies))
                return
            async with platform_outboxes(sessions, settings) as outboxes:
                target = team_chat(found, outboxes)
                if target is None:
                    channel = found.digest_channel or "-"
                    note = t(
                        settings.language, "digest_channel_unreachable", team=team, channel=channel
                    )
                    console.print(note)
                    print("\n\n".join(render_text(r) for r in replies))
                    return
                outbox, chat_id = target
                run = ScheduledRun(job="digest_now", scope=str(found.id), run_date=utcnow().date())
                await send_parts(sessions, run, outbox, chat_id, replies)
            console.print(
                t(
                    settings.language,
                    "digest_sent_to",
                    team=team,
                    channel=found.digest_channel,
                    parts=len(replies),
                )
            )
        finally:
            await engine.dispose()

    asyncio.run(work())


@asynccontextmanager
async def platform_outboxes(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[dict[str, Outbox]]:
    """The configured front doors, ready to send but not receiving (a one-off command must
    not take the updates `crmbot run` is polling for)."""
    assistant = Assistant(sessions)  # the doors need one; it answers nothing here
    doors = build_front_doors(assistant, settings)
    opened = []
    try:
        for door in doors:
            await door.open_for_sending()  # type: ignore[attr-defined]
            opened.append(door)
        yield {door.channel: door for door in opened}
    finally:
        for door in opened:
            await door.close_for_sending()  # type: ignore[attr-defined]
        if assistant.llm is not None:
            await assistant.llm.aclose()
