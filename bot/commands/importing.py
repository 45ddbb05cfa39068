"""Importing a CSV/XLSX file sent in chat: a dry run first, then Import or Cancel.

The front door's AttachmentFetcher downloads the file; the bytes are kept in an import job
so the Import button still works after a restart. Only managers and admins import.
"""

from __future__ import annotations

import logging

from bot.attachments import AttachmentFetcher
from bot.commands.handlers import button
from bot.context import Context
from bot.events import Attachment, Button, Incoming, Reply
from bot.import_report import has_work, report_json, report_text
from crm_core.errors import CrmError
from crm_core.io.importer import ImportOptions, import_file
from crm_core.io.jobs import cancel_job, claim_job, create_job, finish_job
from crm_core.io.tables import is_table_file
from crm_core.models import ImportStatus, Role

log = logging.getLogger(__name__)

MAX_CHAT_IMPORT_MB = 20
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_attachment(incoming: Incoming) -> Attachment | None:
    """The CSV or XLSX document in a message, if there is one."""
    for attachment in incoming.attachments:
        if attachment.kind == "document" and is_table_file(
            attachment.file_name, attachment.mime_type
        ):
            return attachment
    return None


def _file_name(attachment: Attachment) -> str:
    if attachment.file_name:
        return attachment.file_name
    return "upload.xlsx" if attachment.mime_type == XLSX_MIME else "upload.csv"


async def handle_import_file(
    ctx: Context, attachment: Attachment, fetchers: dict[str, AttachmentFetcher]
) -> list[Reply]:
    """Dry-run the file and ask: Import or Cancel."""
    if ctx.actor.role not in (Role.ADMIN, Role.MANAGER):
        return [Reply(text=ctx.t("import_reps_cannot"))]
    fetcher = fetchers.get(ctx.incoming.channel)
    if fetcher is None:
        return [Reply(text=ctx.t("import_cannot_fetch"))]
    try:
        content = await fetcher.fetch(attachment)
    except Exception:  # the platform's error; the person only needs to resend
        log.exception("could not fetch %s from %s", attachment.file_id, ctx.incoming.channel)
        return [Reply(text=ctx.t("import_fetch_failed"))]
    size_mb = len(content) / 1_000_000
    if size_mb > MAX_CHAT_IMPORT_MB:
        return [
            Reply(text=ctx.t("import_too_big", size=round(size_mb, 1), limit=MAX_CHAT_IMPORT_MB))
        ]
    name, options = _file_name(attachment), ImportOptions()
    report = await import_file(
        ctx.sessions, ctx.actor, content, name, options=options, dry_run=True
    )
    text = report_text(report, ctx.lang)
    if not has_work(report):
        return [Reply(text=f"{text}\n{ctx.t('import_nothing_to_do')}", private=True)]
    async with ctx.transaction() as session:
        job = await create_job(
            session,
            ctx.actor,
            chat_id=ctx.incoming.chat_id,
            file_name=name,
            content=content,
            options=options.to_json(),
            report=report.model_dump(mode="json"),
        )
    buttons = [
        [
            Button(label=ctx.t("import_btn_go"), payload=f"import:{job.id}"),
            Button(label=ctx.t("import_btn_cancel"), payload=f"import_cancel:{job.id}"),
        ]
    ]
    return [
        Reply(
            text=f"{text}\n{ctx.t('import_confirm')}",
            buttons=buttons,
            data=report_json(report, ctx.lang),
            private=True,
        )
    ]


@button("import")
async def press_import(ctx: Context, arg: str) -> list[Reply]:
    """Run the import the dry run showed, once, from the kept file."""
    if ctx.actor.role not in (Role.ADMIN, Role.MANAGER):
        return [Reply(text=ctx.t("import_reps_cannot"))]
    job_id = int(arg)
    async with ctx.transaction() as session:
        job = await claim_job(session, ctx.actor, job_id)
    try:
        report = await import_file(
            ctx.sessions,
            ctx.actor,
            job.content,
            job.file_name,
            options=ImportOptions.from_json(job.options),
        )
    except Exception as error:
        async with ctx.transaction() as session:
            await finish_job(session, job_id, ImportStatus.FAILED, None)
        if isinstance(error, CrmError):
            raise
        log.exception("import job %s failed", job_id)
        return [Reply(text=ctx.t("import_failed"))]
    async with ctx.transaction() as session:
        await finish_job(session, job_id, ImportStatus.DONE, report.model_dump(mode="json"))
    return [
        Reply(
            text=report_text(report, ctx.lang),
            buttons=[[Button(label=ctx.t("btn_undo"), payload="undo")]],
            data=report_json(report, ctx.lang),
            private=True,
        )
    ]


@button("import_cancel")
async def press_cancel(ctx: Context, arg: str) -> list[Reply]:
    async with ctx.transaction() as session:
        await cancel_job(session, ctx.actor, int(arg))
    return [Reply(text=ctx.t("import_cancelled"))]
