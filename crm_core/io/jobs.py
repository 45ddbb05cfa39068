"""Imports waiting in chat: the file is kept until its owner presses Import or Cancel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor
from crm_core.clock import utcnow
from crm_core.errors import Conflict, NotFound
from crm_core.models import ImportJob, ImportStatus

_CLAIMED_ALREADY = {
    ImportStatus.DONE: "import_already_done",
    ImportStatus.CANCELLED: "import_already_cancelled",
    ImportStatus.RUNNING: "import_running",
    ImportStatus.FAILED: "import_already_cancelled",
}


async def create_job(
    session: AsyncSession,
    actor: Actor,
    *,
    chat_id: str,
    file_name: str,
    content: bytes,
    options: dict[str, Any],
    report: dict[str, Any],
) -> ImportJob:
    job = ImportJob(
        staff_id=actor.staff_id,
        channel=actor.channel,
        chat_id=chat_id,
        file_name=file_name[:255],
        content=content,
        options=options,
        report=report,
    )
    session.add(job)
    await session.flush()
    return job


async def _move(session: AsyncSession, actor: Actor, job_id: int, to: ImportStatus) -> ImportJob:
    """Pending -> `to`, atomically: a button pressed twice imports once."""
    result = await session.exec(
        update(ImportJob)
        .where(
            col(ImportJob.id) == job_id,
            col(ImportJob.staff_id) == actor.staff_id,
            col(ImportJob.status) == ImportStatus.PENDING,
        )
        .values(status=to)
    )
    job = await session.get(ImportJob, job_id, populate_existing=True)
    if job is None or job.staff_id != actor.staff_id:
        raise NotFound("import_job_not_found")
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_CLAIMED_ALREADY[job.status])
    return job


async def claim_job(session: AsyncSession, actor: Actor, job_id: int) -> ImportJob:
    return await _move(session, actor, job_id, ImportStatus.RUNNING)


async def cancel_job(session: AsyncSession, actor: Actor, job_id: int) -> None:
    job = await _move(session, actor, job_id, ImportStatus.CANCELLED)
    job.content, job.finished_at = b"", utcnow()
    session.add(job)


async def finish_job(
    session: AsyncSession, job_id: int, status: ImportStatus, report: dict[str, Any] | None
) -> None:
    """Done or failed; the file is dropped either way (a failed import is sent again)."""
    job = await session.get(ImportJob, job_id)
    if job is None:
        return
    job.status, job.content, job.finished_at = status, b"", utcnow()
    if report is not None:
        job.report = report
    session.add(job)
