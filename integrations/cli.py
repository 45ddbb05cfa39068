"""`crmbot`: set up the store, load demo data, manage staff, chat and run the front doors."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.app import Assistant
from bot.events import Incoming
from bot.i18n import t
from bot.import_report import report_json, report_text
from bot.render import render_text
from bot.scheduler import CareScheduler
from crm_core import staff as staff_service
from crm_core.access import Actor
from crm_core.analytics.tiers import recompute_tiers
from crm_core.clock import utcnow
from crm_core.db import make_engine, make_session_factory, refresh_planner_stats
from crm_core.demo import load_demo
from crm_core.errors import CrmError
from crm_core.io.exporter import export_file
from crm_core.io.headers import Kind, MappingFile
from crm_core.io.importer import ImportOptions, import_file
from crm_core.migrate import upgrade
from crm_core.models import Channel, Customer, Role, Staff
from crm_core.settings import get_settings
from integrations.care_cli import care_app, digest_command
from integrations.console import ConsoleChat, ConsoleOutbox, reply_as_json
from integrations.runner import Runner, Service, build_front_doors, serve

app = typer.Typer(help="crm-assistant: a chat-first CRM assistant.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff members and their invite codes.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
app.add_typer(care_app, name="care")
app.command("digest")(digest_command)
console = Console()
T = TypeVar("T")


def _run(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run `work` with an engine built from the settings, and dispose of it after."""

    async def main() -> T:
        engine = make_engine(get_settings().database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except CrmError as error:
        console.print(f"[red]{t(get_settings().language, error.code, **error.params)}[/red]")
        raise typer.Exit(1) from error


async def _staff_for_chat(engine: AsyncEngine, ref: str | None) -> Staff:
    sessions = make_session_factory(engine)
    async with sessions() as session:
        if ref:
            return await staff_service.find_staff(session, ref)
        stmt = select(Staff).where(Staff.role == Role.ADMIN).order_by(Staff.id)  # type: ignore[arg-type]
        found = (await session.exec(stmt)).first()
    if found is None:
        console.print("No staff yet: run `crmbot demo` or `crmbot staff add NAME --role admin`.")
        raise typer.Exit(1)
    return found


@app.command()
def init() -> None:
    """Create or upgrade the database schema."""

    async def work(engine: AsyncEngine) -> None:
        await upgrade(engine)
        await refresh_planner_stats(engine)

    _run(work)
    console.print(f"Database ready: {get_settings().database_url}")


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="How many customers to make.")] = 300,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 7,
    if_empty: Annotated[bool, typer.Option(help="Only load into an empty store.")] = False,
) -> None:
    """Load realistic Chinese and English demo data (staff, customers, orders, tasks)."""

    async def work(engine: AsyncEngine) -> None:
        await upgrade(engine)
        if if_empty:
            async with make_session_factory(engine)() as session:
                count = (await session.exec(select(func.count()).select_from(Customer))).one()
            if count:
                console.print(f"Store already has {count} customers; demo data not loaded.")
                return
        summary = await load_demo(engine, customers=customers, seed=seed)
        await refresh_planner_stats(engine)
        console.print(f"Demo data loaded: {summary}")
        tiers = await recompute_tiers(make_session_factory(engine), utcnow())
        console.print(f"Customer tiers computed: {tiers.tiers}")

    _run(work)


@app.command()
def chat(
    as_: Annotated[str | None, typer.Option("--as", help="Staff name or id.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per reply.")] = False,
) -> None:
    """Chat with the assistant on this terminal (reads stdin; works when piped)."""

    async def work(engine: AsyncEngine) -> None:
        staff = await _staff_for_chat(engine, as_)
        assistant = Assistant(make_session_factory(engine))
        await ConsoleChat(assistant, staff, json_mode=json_output).run()

    _run(work)


@app.command()
def run(
    as_: Annotated[
        str | None, typer.Option("--as", help="Console user when no platform is set.")
    ] = None,
) -> None:
    """Start every configured front door; the console chat when no platform is configured."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per long poll otherwise
    settings = get_settings()

    async def work(engine: AsyncEngine) -> None:
        await upgrade(engine)
        await refresh_planner_stats(engine)
        assistant = Assistant(make_session_factory(engine))
        doors = build_front_doors(assistant, settings)
        # The care scheduler runs beside the front doors (sending through them) or the console.
        outboxes = {door.channel: door for door in doors} or {"console": ConsoleOutbox()}
        services: list[Service] = [CareScheduler(make_session_factory(engine), outboxes)]
        if doors:
            status = await serve(assistant, settings, doors, services)
            if not any(status.get(door.name) == "running" for door in doors):
                raise typer.Exit(1)
            return
        staff = await _staff_for_chat(engine, as_)
        await assistant.replay_unprocessed()
        runner = Runner(services)
        await runner.start()
        try:
            console.print(f"Signed in as {staff.name} ({staff.role.value}). /help lists commands.")
            await ConsoleChat(assistant, staff).run()
        finally:
            await runner.stop()

    _run(work)


@staff_app.command("add")
def staff_add(
    name: str,
    role: Annotated[Role, typer.Option(help="admin, manager or rep.")] = Role.REP,
    team: Annotated[str | None, typer.Option(help="Team name (created if new).")] = None,
    language: Annotated[str | None, typer.Option(help="zh or en.")] = None,
    timezone: Annotated[str | None, typer.Option(help="e.g. Asia/Shanghai.")] = None,
    email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a staff member and print their invite code."""

    async def work(engine: AsyncEngine) -> None:
        await upgrade(engine)
        async with make_session_factory(engine)() as session, session.begin():
            member = await staff_service.add_staff(
                session,
                name=name,
                role=role,
                team=team,
                language=language,
                timezone=timezone,
                email=email,
            )
            invite = await staff_service.create_invite(session, member)
        console.print(f"Added {member.name} (#{member.id}, {member.role.value}).")
        console.print(
            f"Invite code: [bold]{invite.code}[/bold] "
            f"(send /start {invite.code} to the bot; "
            f"expires {invite.expires_at:%Y-%m-%d %H:%M} UTC)"
        )
        settings = get_settings()
        if settings.telegram_token:
            from integrations.telegram import bot_username, invite_link

            try:
                link = invite_link(await bot_username(settings), invite.code)
                console.print(f"Telegram: {link}")
            except Exception as error:  # the code works without the link
                console.print(f"[yellow]Telegram link unavailable ({error}).[/yellow]")
        if settings.slack_bot_token:
            console.print(f"Slack: /crm link {invite.code}")

    _run(work)


@staff_app.command("list")
def staff_list() -> None:
    """List staff members with their role and team."""

    async def work(engine: AsyncEngine) -> None:
        async with make_session_factory(engine)() as session:
            rows = await staff_service.list_staff(session)
        table = Table("id", "name", "role", "team", "language", "timezone", "active")
        for member, team in rows:
            table.add_row(
                str(member.id),
                member.name,
                member.role.value,
                team.name if team else "",
                member.language,
                member.timezone,
                "yes" if member.active else "no",
            )
        console.print(table)

    _run(work)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX.")],
    dry_run: Annotated[bool, typer.Option(help="Report what would happen; write nothing.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    mapping: Annotated[
        Path | None, typer.Option(exists=True, help="Column mapping file (TOML or JSON).")
    ] = None,
    as_: Annotated[str | None, typer.Option("--as", help="Import as this staff member.")] = None,
    what: Annotated[
        Kind | None, typer.Option(help="What the file holds (default: from its headers).")
    ] = None,
    day_first: Annotated[
        bool | None, typer.Option("--day-first/--month-first", help="How to read 01/05/2026.")
    ] = None,
) -> None:
    """Import customers, orders, interactions or feedback; every rejected row is reported."""

    async def work(engine: AsyncEngine) -> None:
        await upgrade(engine)
        staff = await _staff_for_chat(engine, as_)
        actor = Actor.from_staff(staff, channel="cli")
        try:
            options = ImportOptions(
                kind=what,
                day_first=day_first,
                mapping=MappingFile.load(mapping) if mapping else None,
            )
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            ) as bar:
                task = bar.add_task(file.name, total=None)
                report = await import_file(
                    make_session_factory(engine),
                    actor,
                    file.read_bytes(),
                    file.name,
                    options=options,
                    dry_run=dry_run,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        except CrmError as error:
            console.print(t(actor.language, error.code, **error.params), style="red")
            raise typer.Exit(1) from error
        if json_output:
            print(json.dumps(report_json(report, actor.language), ensure_ascii=False, indent=2))
        else:
            print(report_text(report, actor.language))

    _run(work)


@app.command()
def report(
    question: str,
    as_: Annotated[str | None, typer.Option("--as", help="Staff name or id.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    chart: Annotated[
        Path | None, typer.Option(help="Also write the chart PNG to this file.")
    ] = None,
) -> None:
    """Answer a question about the numbers, as a staff member sees them."""

    async def work(engine: AsyncEngine) -> None:
        staff = await _staff_for_chat(engine, as_)
        assistant = Assistant(make_session_factory(engine))
        replies = await assistant.handle(
            Incoming(
                channel=Channel.CONSOLE.value,
                message_id=uuid.uuid4().hex,
                sender_id=staff.name,
                chat_id="cli",
                text=f"/report {question}",
            )
        )
        for reply in replies:
            print(reply_as_json(reply, staff.timezone) if json_output else render_text(reply))
            if chart is not None and reply.image:
                chart.write_bytes(reply.image)

    _run(work)


@app.command("export")
def export(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="FILE.csv or FILE.xlsx.")],
    what: Annotated[
        str, typer.Option(help="customers, orders, interactions, feedback, or all (XLSX).")
    ] = "customers",
    as_: Annotated[str | None, typer.Option("--as", help="Export as this staff member.")] = None,
) -> None:
    """Export what a staff member may see, in the shape `crmbot import` reads back."""

    async def work(engine: AsyncEngine) -> None:
        staff = await _staff_for_chat(engine, as_)
        actor = Actor.from_staff(staff, channel="cli")
        if what != "all" and what not in {k.value for k in Kind}:
            console.print(t(actor.language, "export_format", name=what), style="red")
            raise typer.Exit(1)
        try:
            counts = await export_file(make_session_factory(engine), actor, file, what)
        except CrmError as error:
            console.print(t(actor.language, error.code, **error.params), style="red")
            raise typer.Exit(1) from error
        for kind, count in counts.items():
            kind_name = t(actor.language, f"import_kind_{kind}")
            console.print(t(actor.language, "export_done", count=count, kind=kind_name, file=file))

    _run(work)


@app.command()
def tiers(
    recompute: Annotated[
        bool, typer.Option("--recompute", help="Recompute every customer's tier and risk now.")
    ] = False,
) -> None:
    """Show how many customers are in each tier; --recompute runs the daily job now."""

    async def work(engine: AsyncEngine) -> None:
        sessions = make_session_factory(engine)
        if recompute:
            run = await recompute_tiers(sessions, utcnow())
            console.print(
                f"Recomputed {run.customers} customers in {run.seconds:.1f} s "
                f"({run.changed} changed)."
            )
        async with sessions() as session:
            rows = (
                await session.exec(
                    select(Customer.tier, func.count())
                    .where(col(Customer.deleted_at).is_(None))
                    .group_by(Customer.tier)
                )
            ).all()
        table = Table("tier", "customers")
        for tier, count in sorted(rows, key=lambda r: -r[1]):
            table.add_row(tier or "(none)", str(count))
        console.print(table)

    _run(work)
