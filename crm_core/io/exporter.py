"""Exporting what the actor may see to CSV or XLSX, in the shape the importer reads back.

Only the CLI calls this: exports are never an action, so no LLM tool can reach them.
CSV is written as UTF-8 with a BOM (Excel then shows Chinese correctly) with times in ISO
form with their offset; XLSX gets real date cells in the actor's timezone, one sheet per kind.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor, customer_scope
from crm_core.customers import PROFILE_FIELDS
from crm_core.errors import InvalidInput
from crm_core.io.headers import Kind, custom_header
from crm_core.io.store import table
from crm_core.models import Customer, Feedback, Interaction, Order, OrderItem, Staff

PAGE = 1000
# Custom fields follow as their own columns (see custom_header).
CUSTOMER_COLUMNS = [
    "name",
    *(f for f in PROFILE_FIELDS if f != "custom_fields"),
    "owner",
    "created_at",
]
REF_COLUMNS = ["customer", "customer_phone", "customer_email", "customer_company"]
ACTIVITY_COLUMNS = {
    Kind.ORDERS: [
        "ordered_at",
        "amount",
        "currency",
        "payment_method",
        "credit_days",
        "due_date",
        "payment_status",
        "paid_at",
        "note",
        "items",
        "staff",
    ],
    Kind.INTERACTIONS: [
        "occurred_at",
        "kind",
        "channel",
        "summary",
        "outcome",
        "raw_text",
        "staff",
    ],
    Kind.FEEDBACK: [
        "created_at",
        "kind",
        "score",
        "text",
        "status",
        "resolution",
        "resolved_at",
        "staff",
    ],
}
ACTIVITY_MODELS = {Kind.ORDERS: Order, Kind.INTERACTIONS: Interaction, Kind.FEEDBACK: Feedback}

Row = dict[str, Any]


class _Sheet(Protocol):
    def write(self, rows: list[list[Any]]) -> None: ...


async def _pages(conn: AsyncConnection, t: Table, where: Any) -> AsyncIterator[list[Row]]:
    """Rows of `t` by id, a page at a time (keyset paging: no whole-table load)."""
    last = 0
    while True:
        rows = (
            await conn.execute(select(t).where(where, t.c.id > last).order_by(t.c.id).limit(PAGE))
        ).all()
        if not rows:
            return
        last = rows[-1].id
        yield [dict(r._mapping) for r in rows]


class _Export:
    def __init__(self, conn: AsyncConnection, actor: Actor, *, local_cells: bool) -> None:
        self.conn, self.actor = conn, actor
        self.zone = ZoneInfo(actor.timezone)
        self.local_cells = local_cells  # XLSX: naive local datetimes; CSV: ISO text
        self.staff: dict[int, str] = {}

    async def load_staff(self) -> None:
        t = table(Staff)
        self.staff = {r.id: r.name for r in await self.conn.execute(select(t.c.id, t.c.name))}

    def cell(self, value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, datetime):
            local = value.astimezone(self.zone).replace(microsecond=0)
            return local.replace(tzinfo=None) if self.local_cells else local.isoformat()
        if isinstance(value, date):
            return value if self.local_cells else value.isoformat()
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, Decimal):
            return float(value) if self.local_cells else str(value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    async def customers(self, sheet_factory: Callable[[list[str]], _Sheet]) -> int:
        t = table(Customer)
        scope = customer_scope(self.actor)
        custom_keys: dict[str, None] = {}
        async for page in _pages(self.conn, t, scope):  # first pass: every custom field name
            for row in page:
                custom_keys.update(dict.fromkeys(row["custom_fields"] or {}))
        headers = CUSTOMER_COLUMNS + [custom_header(k) for k in custom_keys]
        sheet, count = sheet_factory(headers), 0
        async for page in _pages(self.conn, t, scope):
            lines = []
            for row in page:
                row["owner"] = self.staff.get(row["owner_id"] or 0)
                custom = row["custom_fields"] or {}
                lines.append(
                    [self.cell(row[c]) for c in CUSTOMER_COLUMNS]
                    + [self.cell(custom.get(k)) for k in custom_keys]
                )
            await asyncio.to_thread(sheet.write, lines)
            count += len(lines)
        return count

    async def activities(self, kind: Kind, sheet_factory: Callable[[list[str]], _Sheet]) -> int:
        t, customers = table(ACTIVITY_MODELS[kind]), table(Customer)
        visible = select(customers.c.id).where(customer_scope(self.actor))
        columns = ACTIVITY_COLUMNS[kind]
        sheet, count = sheet_factory(REF_COLUMNS + columns), 0
        async for page in _pages(
            self.conn, t, t.c.customer_id.in_(visible) & t.c.deleted_at.is_(None)
        ):
            people = await self._customers({r["customer_id"] for r in page})
            items = await self._items([r["id"] for r in page]) if kind == Kind.ORDERS else {}
            lines = []
            for row in page:
                person = people[row["customer_id"]]
                row["staff"] = self.staff.get(row["staff_id"] or 0)
                row["items"] = items.get(row["id"])
                lines.append(
                    [
                        person.name,
                        (person.phones or [""])[0],
                        (person.emails or [""])[0],
                        person.company or "",
                    ]
                    + [self.cell(row[c]) for c in columns]
                )
            await asyncio.to_thread(sheet.write, lines)
            count += len(lines)
        return count

    async def _customers(self, ids: set[int]) -> dict[int, Any]:
        t = table(Customer)
        rows = await self.conn.execute(
            select(t.c.id, t.c.name, t.c.phones, t.c.emails, t.c.company).where(t.c.id.in_(ids))
        )
        return {r.id: r for r in rows}

    async def _items(self, order_ids: list[int]) -> dict[int, str]:
        """Order lines as the importer reads them: "硒鼓 88A ×2 @399.00", one per line."""
        t = table(OrderItem)
        lines: dict[int, list[str]] = {}
        rows = await self.conn.execute(
            select(t).where(t.c.order_id.in_(order_ids)).order_by(t.c.id)
        )
        for r in rows:
            lines.setdefault(r.order_id, []).append(
                f"{r.description} ×{r.quantity} @{r.unit_price}"
            )
        return {order_id: "\n".join(parts) for order_id, parts in lines.items()}


class _CsvSheet:
    def __init__(self, handle: Any, headers: list[str]) -> None:
        self.writer = csv.writer(handle)
        self.writer.writerow(headers)

    def write(self, rows: list[list[Any]]) -> None:
        self.writer.writerows(rows)


class _XlsxSheet:
    def __init__(self, sheet: Any, headers: list[str]) -> None:
        self.sheet = sheet
        sheet.append(headers)

    def write(self, rows: list[list[Any]]) -> None:
        for row in rows:
            self.sheet.append(row)


async def export_file(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, path: Path, what: str = "customers"
) -> dict[str, int]:
    """Write `what` (a kind, or "all" for XLSX) to `path`; rows written per kind."""
    suffix = path.suffix.lower()
    kinds = list(Kind) if what == "all" else [Kind(what)]
    if suffix not in (".csv", ".xlsx") or (suffix == ".csv" and len(kinds) > 1):
        raise InvalidInput("export_format", name=path.name)
    counts: dict[str, int] = {}
    async with sessions() as session:
        conn = await session.connection()
        export = _Export(conn, actor, local_cells=suffix == ".xlsx")
        await export.load_staff()
        if suffix == ".csv":
            with path.open("w", encoding="utf-8-sig", newline="") as handle:
                counts[kinds[0].value] = await _export_kind(
                    export, kinds[0], lambda h: _CsvSheet(handle, h)
                )
            return counts
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        for kind in kinds:
            counts[kind.value] = await _export_kind(
                export, kind, lambda h, k=kind: _XlsxSheet(book.create_sheet(k.value), h)
            )
        await asyncio.to_thread(book.save, path)
    return counts


async def _export_kind(
    export: _Export, kind: Kind, sheet_factory: Callable[[list[str]], _Sheet]
) -> int:
    if kind == Kind.CUSTOMERS:
        return await export.customers(sheet_factory)
    return await export.activities(kind, sheet_factory)
