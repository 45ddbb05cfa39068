"""Bulk reads and writes for imports, with SQLAlchemy Core inside the import's transaction.

Building ORM objects costs about 0.2 ms each (see demo.py); an import of 100k rows writes
plain dicts instead, and keeps what the services keep: search keys, audit entries, scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel, col

from crm_core.access import Actor
from crm_core.clock import utcnow
from crm_core.models import AuditEntry, CustomerSearchKey, ImportedRow, Role, Staff
from crm_core.normalize import fold
from crm_core.search_keys import search_keys

CHUNK = 500  # values per IN (...) list: well under SQLite's and asyncpg's parameter limits
T = TypeVar("T")


def table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def jsonable(value: Any) -> Any:
    """A value as the audit log's JSON keeps it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


async def reserve_ids(conn: AsyncConnection, model: type[SQLModel], count: int) -> list[int]:
    """`count` fresh primary keys, so child rows can point at rows not yet inserted.

    PostgreSQL hands them out from the table's sequence (safe beside other writers); on
    SQLite the import's BEGIN IMMEDIATE transaction already excludes every other writer.
    """
    if count == 0:
        return []
    name = table(model).name
    if conn.dialect.name == "postgresql":
        rows = await conn.execute(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{name}', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        )
        return [int(r[0]) for r in rows]
    current = (await conn.execute(select(func.max(table(model).c.id)))).scalar()
    start = int(current or 0) + 1
    return list(range(start, start + count))


async def insert_rows(
    conn: AsyncConnection, model: type[SQLModel], rows: list[dict[str, Any]]
) -> None:
    """executemany needs one set of keys: a value a row leaves out is NULL."""
    names = {name for row in rows for name in row}
    if any(len(row) != len(names) for row in rows):
        rows = [{n: row.get(n) for n in names} for row in rows]
    for part in chunks(rows, 5000):
        await conn.execute(insert(table(model)), list(part))


@dataclass
class KeySource:
    """The fields search_keys() reads; a stand-in for a Customer, which is slow to build."""

    name: str
    company: str | None
    tags: list[str]
    emails: list[str]
    phones: list[str]
    wechat_id: str | None


def key_rows(customer_id: int, values: dict[str, Any]) -> list[dict[str, Any]]:
    source = KeySource(
        values["name"],
        values.get("company"),
        values.get("tags") or [],
        values.get("emails") or [],
        values.get("phones") or [],
        values.get("wechat_id"),
    )
    return [
        {"customer_id": customer_id, "kind": kind, "key": key}
        for kind, key in sorted(search_keys(cast(Any, source)))
    ]


async def replace_search_keys(conn: AsyncConnection, customers: dict[int, dict[str, Any]]) -> None:
    """Search keys of changed customers, derived again from their new values."""
    ids = list(customers)
    for part in chunks(ids):
        await conn.execute(
            delete(table(CustomerSearchKey)).where(table(CustomerSearchKey).c.customer_id.in_(part))
        )
    await insert_rows(
        conn, CustomerSearchKey, [k for cid, v in customers.items() for k in key_rows(cid, v)]
    )


def audit_row(
    actor: Actor,
    *,
    action: str,
    entity: str,
    entity_id: int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An audit entry as audit.record writes it; one change id for the whole import."""
    return {
        "staff_id": actor.staff_id,
        "channel": actor.channel[:20],
        "change_id": actor.request_id,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": jsonable(before) if before is not None else None,
        "after": jsonable(after) if after is not None else None,
        "created_at": utcnow(),
    }


async def write_audit(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await insert_rows(conn, AuditEntry, rows)


async def known_fingerprints(
    conn: AsyncConnection, fingerprints: Iterable[str]
) -> dict[str, tuple[str, int]]:
    """fingerprint -> (entity, id) for rows imported before."""
    found: dict[str, tuple[str, int]] = {}
    t = table(ImportedRow)
    values = list(fingerprints)
    for part in chunks(values):
        rows = await conn.execute(
            select(t.c.fingerprint, t.c.entity, t.c.entity_id).where(t.c.fingerprint.in_(part))
        )
        found.update({r.fingerprint: (r.entity, r.entity_id) for r in rows})
    return found


async def remember_fingerprints(conn: AsyncConnection, entity: str, rows: dict[str, int]) -> None:
    """Record imported rows; a fingerprint that pointed at an undone row points anew."""
    t = table(ImportedRow)
    keys = list(rows)
    for part in chunks(keys):
        await conn.execute(delete(t).where(t.c.fingerprint.in_(part)))
    now = utcnow()
    await insert_rows(
        conn,
        ImportedRow,
        [
            {"fingerprint": f, "entity": entity, "entity_id": i, "created_at": now}
            for f, i in rows.items()
        ],
    )


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    team_id: int | None


class StaffDirectory:
    """Staff found by name or e-mail, and who the importing actor may assign work to."""

    def __init__(self, actor: Actor, staff: list[StaffMember], emails: dict[str, int]) -> None:
        self.actor = actor
        self.by_id = {s.id: s for s in staff}
        self.by_key = {fold(s.name): s for s in staff}
        self.by_key.update({fold(e): self.by_id[i] for e, i in emails.items() if i in self.by_id})

    @classmethod
    async def load(cls, conn: AsyncConnection, actor: Actor) -> StaffDirectory:
        t = table(Staff)
        rows = (
            await conn.execute(
                select(t.c.id, t.c.name, t.c.team_id, t.c.email).where(col(t.c.active).is_(True))
            )
        ).all()
        staff = [StaffMember(r.id, r.name, r.team_id) for r in rows]
        return cls(actor, staff, {r.email: r.id for r in rows if r.email})

    def find(self, ref: str) -> StaffMember | None:
        """ "李娜", "lina@example.com" or "Li Na (lina@example.com)" as exports write it."""
        found = self.by_key.get(fold(ref))
        if found is None and "(" in ref:
            inner = ref[ref.index("(") + 1 :].rstrip(")")
            found = self.by_key.get(fold(inner)) or self.by_key.get(fold(ref[: ref.index("(")]))
        return found

    def may_assign(self, member: StaffMember) -> bool:
        """A rep imports for themself; a manager for their team; an admin for anyone."""
        if self.actor.role == Role.ADMIN:
            return True
        if self.actor.role == Role.MANAGER:
            return member.team_id == self.actor.team_id
        return member.id == self.actor.staff_id

    @property
    def me(self) -> StaffMember:
        return self.by_id.get(self.actor.staff_id) or StaffMember(
            self.actor.staff_id, self.actor.name, self.actor.team_id
        )
