"""An import from start to end: read the file, read every row, then match and write it all
in one transaction — a dry run rolls that transaction back, so its report is exactly what
the real import will do, and a failure leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor
from crm_core.io.activity_import import ActivityImport
from crm_core.io.customer_import import CustomerImport
from crm_core.io.errors import RowError
from crm_core.io.headers import CUSTOM, Column, Kind, MappingFile, detect_kind, map_columns
from crm_core.io.report import ImportReport, TableSummary
from crm_core.io.rows import (
    ActivityDraft,
    CustomerDraft,
    ReadOptions,
    activity_draft,
    customer_draft,
    fingerprint,
)
from crm_core.io.store import StaffDirectory
from crm_core.io.tables import SourceTable, read_tables
from crm_core.models import Role
from crm_core.settings import get_settings

# Customers first: the orders, interactions and feedback of the same file refer to them.
KIND_ORDER = (Kind.CUSTOMERS, Kind.ORDERS, Kind.INTERACTIONS, Kind.FEEDBACK)
PROGRESS_EVERY = 500

Progress = Callable[[int, int], None]  # rows done, rows in all (reading and writing count)


@dataclass
class ImportOptions:
    kind: Kind | None = None  # None: each table's kind from its sheet name or headers
    day_first: bool | None = None  # None: the mapping file's, else the setting
    mapping: MappingFile | None = None

    def to_json(self) -> dict[str, Any]:
        mapping = self.mapping
        return {
            "kind": self.kind.value if self.kind else None,
            "day_first": self.day_first,
            "mapping": None
            if mapping is None
            else {
                "columns": mapping.columns,
                "kind": mapping.kind.value if mapping.kind else None,
                "day_first": mapping.day_first,
            },
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ImportOptions:
        mapping = raw.get("mapping")
        return cls(
            kind=Kind(raw["kind"]) if raw.get("kind") else None,
            day_first=raw.get("day_first"),
            mapping=MappingFile.parse(mapping) if mapping else None,
        )


@dataclass
class _Plan:
    table: SourceTable
    kind: Kind
    columns: list[Column]
    drafts: list[CustomerDraft | ActivityDraft] = field(default_factory=list)


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def _scope(actor: Actor) -> str:
    """Who a fingerprint belongs to: the same rows imported by another rep are theirs anew."""
    if actor.role == Role.ADMIN:
        return "all"
    if actor.role == Role.MANAGER:
        return f"team:{actor.team_id}"
    return f"staff:{actor.staff_id}"


def _prepare(
    data: bytes,
    file_name: str,
    actor: Actor,
    options: ImportOptions,
    report: ImportReport,
    progress: Progress | None,
) -> list[_Plan]:
    """Read the file and every row (no database): blocking work, run in a thread."""
    tables = read_tables(data, file_name)
    mapping = options.mapping
    day_first = options.day_first
    if day_first is None:
        day_first = mapping.day_first if mapping and mapping.day_first is not None else None
    if day_first is None:
        day_first = get_settings().import_day_first
    read = ReadOptions(day_first, actor.timezone, get_settings().default_region)
    settings_key = json.dumps([day_first, mapping.columns if mapping else None], sort_keys=True)
    plans = []
    for source in tables:
        kind = options.kind or (mapping.kind if mapping else None)
        kind = kind or detect_kind(source.headers, source.sheet)
        if mapping:
            mapping.check(kind)
        plans.append(_Plan(source, kind, map_columns(source.headers, kind, mapping)))
    total = sum(len(p.table.rows) for p in plans) * 2
    done = 0
    for plan in sorted(plans, key=lambda p: KIND_ORDER.index(p.kind)):
        source = plan.table
        report.tables.append(
            TableSummary(
                sheet=source.sheet,
                kind=plan.kind.value,
                rows=len(source.rows),
                encoding=source.encoding,
                delimiter=source.delimiter,
                columns={c.header: c.target for c in plan.columns if c.target != CUSTOM},
                custom_columns=[c.header for c in plan.columns if c.target == CUSTOM],
            )
        )
        for row in source.rows:
            try:
                if plan.kind == Kind.CUSTOMERS:
                    draft: CustomerDraft | ActivityDraft = customer_draft(row, plan.columns, read)
                else:
                    draft = activity_draft(row, plan.columns, plan.kind, read)
            except RowError as error:
                report.reject(row.line, source.sheet, plan.kind.value, error.reason, **error.params)
            else:
                draft.fingerprint = fingerprint(
                    _scope(actor), plan.kind, settings_key, row, plan.columns
                )
                plan.drafts.append(draft)
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done, total)
    return sorted(plans, key=lambda p: KIND_ORDER.index(p.kind))


async def import_file(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    data: bytes,
    file_name: str,
    *,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import `data` (CSV or XLSX) as `actor`; the report says what happened to every row."""
    options = options or ImportOptions()
    report = ImportReport(file_name=file_name, dry_run=dry_run)
    plans = await asyncio.to_thread(_prepare, data, file_name, actor, options, report, progress)
    total = sum(len(p.table.rows) for p in plans) * 2
    done = total // 2
    try:
        async with sessions() as session, session.begin():
            conn = await session.connection()
            staff = await StaffDirectory.load(conn, actor)
            for plan in plans:
                sheet = plan.table.sheet
                if plan.kind == Kind.CUSTOMERS:
                    customers = [d for d in plan.drafts if isinstance(d, CustomerDraft)]
                    later = any(p.kind != Kind.CUSTOMERS for p in plans)
                    await CustomerImport(
                        conn, actor, staff, report, sheet, dry_run, write_rows=not dry_run or later
                    ).run(customers)
                else:
                    activities = [d for d in plan.drafts if isinstance(d, ActivityDraft)]
                    await ActivityImport(conn, actor, staff, report, sheet, plan.kind, dry_run).run(
                        activities
                    )
                done += len(plan.table.rows)
                if progress:
                    progress(done, total)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    report.rejected.sort(key=lambda r: (r.sheet or "", r.line))
    return report
