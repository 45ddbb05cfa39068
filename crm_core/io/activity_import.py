"""Importing orders, interactions and feedback for customers the importer can see.

Each row names its customer by phone, e-mail or name (and company when names repeat). A row
already in the store — same customer, same moment, same amount or text — is left alone, so
re-importing a file, or an export of this store, adds nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from crm_core.access import Actor, customer_scope
from crm_core.clock import utcnow
from crm_core.feedback import FeedbackCreate, infer_kind
from crm_core.io.duplicates import company_form
from crm_core.io.headers import Kind
from crm_core.io.report import ImportReport
from crm_core.io.rows import ActivityDraft, CustomerRef
from crm_core.io.store import (
    StaffDirectory,
    audit_row,
    chunks,
    insert_rows,
    known_fingerprints,
    remember_fingerprints,
    reserve_ids,
    table,
    write_audit,
)
from crm_core.models import (
    Customer,
    CustomerSearchKey,
    Feedback,
    FeedbackKind,
    FeedbackStatus,
    Interaction,
    InteractionKind,
    Order,
    OrderItem,
    PaymentStatus,
    Product,
    SearchKind,
    Stage,
)
from crm_core.normalize import fold
from crm_core.settings import get_settings

MODELS: dict[Kind, type[SQLModel]] = {
    Kind.ORDERS: Order,
    Kind.INTERACTIONS: Interaction,
    Kind.FEEDBACK: Feedback,
}
ENTITY = {Kind.ORDERS: "order", Kind.INTERACTIONS: "interaction", Kind.FEEDBACK: "feedback"}
WHEN = {Kind.ORDERS: "ordered_at", Kind.INTERACTIONS: "occurred_at", Kind.FEEDBACK: "created_at"}
# What, besides customer and moment, makes two rows the same record.
SAME = {Kind.ORDERS: ("amount",), Kind.INTERACTIONS: ("summary",), Kind.FEEDBACK: ("text", "score")}
MAX_LENGTH = {"channel": 30, "payment_method": 30, "currency": 3}


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@dataclass
class ActivityImport:
    conn: AsyncConnection
    actor: Actor
    staff: StaffDirectory
    report: ImportReport
    sheet: str | None
    kind: Kind
    dry_run: bool = False  # nothing after an activity sheet depends on its rows
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_phone: dict[str, set[int]] = field(default_factory=dict)
    by_email: dict[str, set[int]] = field(default_factory=dict)
    by_name: dict[str, set[int]] = field(default_factory=dict)

    async def run(self, drafts: list[ActivityDraft]) -> None:
        drafts = await self._skip_known(drafts)
        await self._load_customers([d.customer for d in drafts])
        existing = await self._existing_keys()
        rows: list[tuple[ActivityDraft, dict[str, Any]]] = []
        for draft in drafts:
            row = self._row(draft, existing)
            if row is not None:
                rows.append((draft, row))
        if not self.dry_run:
            await self._write(rows)

    async def _skip_known(self, drafts: list[ActivityDraft]) -> list[ActivityDraft]:
        known = await known_fingerprints(self.conn, [d.fingerprint for d in drafts])
        t = table(MODELS[self.kind])
        ids = [i for _, i in known.values()]
        alive: set[int] = set()
        for part in chunks(ids):
            rows = await self.conn.execute(
                select(t.c.id).where(t.c.id.in_(part), t.c.deleted_at.is_(None))
            )
            alive.update(r.id for r in rows)
        fresh = []
        for draft in drafts:
            hit = known.get(draft.fingerprint)
            if hit and hit[0] == ENTITY[self.kind] and hit[1] in alive:
                self.report.count(self.kind.value, "unchanged")
            else:
                fresh.append(draft)
        return fresh

    # -- which customer --------------------------------------------------------------------
    async def _load_customers(self, refs: list[CustomerRef]) -> None:
        """Customers in scope that the rows could mean, by phone, e-mail or exact name."""
        wanted = (
            (SearchKind.PHONE, {p for r in refs for p in r.phones}),
            (SearchKind.EMAIL, {fold(e) for r in refs for e in r.emails}),
            (SearchKind.NAME, {fold(r.name)[:200] for r in refs if r.name}),
        )
        keys, t = table(CustomerSearchKey), table(Customer)
        ids: set[int] = set()
        for kind, values in wanted:
            for part in chunks(sorted(values)):
                rows = await self.conn.execute(
                    select(keys.c.customer_id)
                    .select_from(keys.join(t, t.c.id == keys.c.customer_id))
                    .where(keys.c.kind == kind, keys.c.key.in_(part), customer_scope(self.actor))
                )
                ids.update(r.customer_id for r in rows)
        columns = (t.c.id, t.c.name, t.c.company, t.c.phones, t.c.emails, t.c.stage)
        for part in chunks(sorted(ids)):
            for row in await self.conn.execute(
                select(*columns, t.c.last_activity_at).where(t.c.id.in_(part))
            ):
                record = dict(row._mapping)
                self.customers[row.id] = record
                for phone in row.phones or []:
                    self.by_phone.setdefault(phone, set()).add(row.id)
                for email in row.emails or []:
                    self.by_email.setdefault(email.lower(), set()).add(row.id)
                self.by_name.setdefault(fold(row.name), set()).add(row.id)

    def _customer(self, draft: ActivityDraft) -> int | None:
        """The one customer the row means; the row is rejected when none or several."""
        ref = draft.customer
        for value, index in [(p, self.by_phone) for p in ref.phones] + [
            (e, self.by_email) for e in ref.emails
        ]:
            ids = index.get(value, set())
            if len(ids) == 1:
                return next(iter(ids))
            if len(ids) > 1:
                return self._ambiguous(draft, ids)
        ids = self.by_name.get(fold(ref.name), set()) if ref.name else set()
        if len(ids) > 1 and ref.company:
            wanted = company_form(ref.company)
            ids = {i for i in ids if company_form(self.customers[i]["company"]) == wanted}
        if len(ids) == 1:
            return next(iter(ids))
        if len(ids) > 1:
            return self._ambiguous(draft, ids)
        self.report.reject(
            draft.line, self.sheet, self.kind.value, "customer_not_found", ref=ref.describe()
        )
        return None

    def _ambiguous(self, draft: ActivityDraft, ids: set[int]) -> None:
        refs = ", ".join(f"#{i}" for i in sorted(ids)[:5])
        self.report.reject(
            draft.line,
            self.sheet,
            self.kind.value,
            "customer_ambiguous",
            ref=draft.customer.describe(),
            refs=refs,
        )

    def _staff(self, draft: ActivityDraft) -> int | None:
        if not draft.staff:
            return self.actor.staff_id
        member = self.staff.find(draft.staff)
        if member is None:
            self.report.warn(draft.line, self.sheet, "staff_unknown", name=draft.staff)
            return self.actor.staff_id
        if not self.staff.may_assign(member):
            self.report.reject(
                draft.line, self.sheet, self.kind.value, "cannot_assign", name=member.name
            )
            return None
        return member.id

    # -- what the row becomes --------------------------------------------------------------
    async def _existing_keys(self) -> set[tuple[Any, ...]]:
        t = table(MODELS[self.kind])
        when = t.c[WHEN[self.kind]]
        same = [t.c[name] for name in SAME[self.kind]]
        keys: set[tuple[Any, ...]] = set()
        for part in chunks(sorted(self.customers)):
            rows = await self.conn.execute(
                select(t.c.customer_id, when, *same).where(
                    t.c.customer_id.in_(part), t.c.deleted_at.is_(None)
                )
            )
            keys.update((r[0], _second(r[1]), *r[2:]) for r in rows)
        return keys

    def _row(self, draft: ActivityDraft, existing: set[tuple[Any, ...]]) -> dict[str, Any] | None:
        for name, limit in MAX_LENGTH.items():
            if len(str(draft.values.get(name) or "")) > limit:
                self.report.reject(
                    draft.line, self.sheet, self.kind.value, "too_long", field=name, limit=limit
                )
                return None
        customer_id = self._customer(draft)
        staff_id = self._staff(draft) if customer_id is not None else None
        if customer_id is None or staff_id is None:
            return None
        for reason, params in draft.warnings:
            self.report.warn(draft.line, self.sheet, reason, **params)
        now = utcnow()
        dated = WHEN[self.kind] in draft.values
        row = {**draft.values, "customer_id": customer_id, "staff_id": staff_id}
        row.setdefault(WHEN[self.kind], now)
        build = {
            Kind.ORDERS: self._order,
            Kind.INTERACTIONS: self._interaction,
            Kind.FEEDBACK: self._feedback,
        }[self.kind]
        build(row, now)
        key = (customer_id, _second(row[WHEN[self.kind]]), *(row.get(n) for n in SAME[self.kind]))
        if dated and key in existing:
            self.report.count(self.kind.value, "unchanged")
            return None
        existing.add(key)
        self.report.count(self.kind.value, "created")
        return row

    def _order(self, row: dict[str, Any], now: datetime) -> None:
        row.setdefault("currency", get_settings().default_currency)
        credit = row.get("credit_days")
        if credit and "due_date" not in row:
            # Credit runs from the day of the order where the team works.
            ordered = row["ordered_at"].astimezone(ZoneInfo(self.actor.timezone)).date()
            row["due_date"] = ordered + timedelta(days=credit)
        status = row.setdefault(
            "payment_status", PaymentStatus.UNPAID if credit else PaymentStatus.PAID
        )
        if status == PaymentStatus.PAID:
            row.setdefault("paid_at", row["ordered_at"])
        row.setdefault("created_at", now)

    @staticmethod
    def _interaction(row: dict[str, Any], now: datetime) -> None:
        row.setdefault("kind", InteractionKind.NOTE)
        row.setdefault("created_at", now)

    @staticmethod
    def _feedback(row: dict[str, Any], now: datetime) -> None:
        kind = row.get("kind") or infer_kind(
            FeedbackCreate(text=row.get("text", ""), score=row.get("score"))
        )
        row["kind"] = kind
        follow_up = kind in (FeedbackKind.COMPLAINT, FeedbackKind.RETURN)
        row.setdefault("status", FeedbackStatus.OPEN if follow_up else FeedbackStatus.RESOLVED)
        row.setdefault("text", "")

    # -- writing ---------------------------------------------------------------------------
    async def _write(self, rows: list[tuple[ActivityDraft, dict[str, Any]]]) -> None:
        model, entity = MODELS[self.kind], ENTITY[self.kind]
        ids = await reserve_ids(self.conn, model, len(rows))
        items: list[dict[str, Any]] = []
        audit = []
        for (draft, row), new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
            items += [{**item, "order_id": new_id} for item in draft.items]
            audit.append(
                audit_row(self.actor, action="create", entity=entity, entity_id=new_id, after=row)
            )
        await insert_rows(self.conn, model, [r for _, r in rows])
        if items:
            await self._link_products(items)
            await insert_rows(self.conn, OrderItem, items)
        await self._touch_customers([r for _, r in rows])
        await write_audit(self.conn, audit)
        await remember_fingerprints(self.conn, entity, {d.fingerprint: r["id"] for d, r in rows})

    async def _link_products(self, items: list[dict[str, Any]]) -> None:
        """Items named like a product in the catalogue point at it, as record_order does."""
        t = table(Product)
        names = sorted({i["description"] for i in items})
        found: dict[str, int] = {}
        for part in chunks(names):
            rows = await self.conn.execute(select(t.c.id, t.c.name).where(t.c.name.in_(part)))
            found.update({r.name: r.id for r in rows})
        for item in items:
            item["product_id"] = found.get(item["description"])
            item["unit_price"] = Decimal(item["unit_price"])

    async def _touch_customers(self, rows: list[dict[str, Any]]) -> None:
        """Orders make buyers customers; orders and interactions are activity."""
        if self.kind == Kind.FEEDBACK:
            return
        when = WHEN[self.kind]
        changes: dict[int, dict[str, Any]] = {}
        for row in rows:
            customer = self.customers[row["customer_id"]]
            last = customer["last_activity_at"]
            if last is None or row[when] > last:
                customer["last_activity_at"] = row[when]
                changes[row["customer_id"]] = customer
            if self.kind == Kind.ORDERS and customer["stage"] in (Stage.LEAD, Stage.PROSPECT):
                customer["stage"] = Stage.CUSTOMER
                changes[row["customer_id"]] = customer
        if not changes:
            return
        t = table(Customer)
        statement = (
            update(t)
            .where(t.c.id == bindparam("_id"))
            .values(stage=bindparam("_stage"), last_activity_at=bindparam("_last"))
        )
        params = [
            {"_id": cid, "_stage": c["stage"], "_last": c["last_activity_at"]}
            for cid, c in changes.items()
        ]
        for part in chunks(params, 1000):
            await self.conn.execute(statement, list(part))
