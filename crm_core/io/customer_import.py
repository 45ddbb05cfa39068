"""Importing customers: match by phone or e-mail, merge, flag look-alikes, write in bulk.

A row whose phone or e-mail belongs to a customer — one already in the store (within the
importer's scope) or one an earlier row of the file created — is merged into it: empty
fields are filled, lists grow, and a value that contradicts the customer's is kept out and
written to the audit log as a conflict. A row that matches two different customers is
rejected rather than guessed at. New customers resembling another by name and company are
created but flagged as possible duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.access import Actor, customer_scope
from crm_core.clock import utcnow
from crm_core.customers import PROFILE_FIELDS, name_pinyin
from crm_core.io.duplicates import DuplicateIndex, Person, name_form
from crm_core.io.report import FieldConflict, ImportReport, PossibleDuplicate
from crm_core.io.rows import LIST_FIELDS, CustomerDraft
from crm_core.io.store import (
    StaffDirectory,
    audit_row,
    chunks,
    insert_rows,
    jsonable,
    key_rows,
    known_fingerprints,
    remember_fingerprints,
    replace_search_keys,
    reserve_ids,
    table,
    write_audit,
)
from crm_core.models import Customer, CustomerSearchKey, SearchKind, Stage
from crm_core.normalize import fold, has_cjk, split_words

KIND = "customers"
# Columns an import may set; the rest (tier, risk, activity times) belong to other features.
COLUMNS = ("name", *PROFILE_FIELDS, "owner_id", "team_id")


@dataclass
class Target:
    """A customer rows end up in: one from the store, or one this import creates."""

    existing: bool
    line: int  # the first row that created or matched it
    values: dict[str, Any]
    id: int | None = None
    before: dict[str, Any] | None = None
    changed: set[str] = field(default_factory=set)

    def ref(self) -> str:
        return f"#{self.id}" if self.existing else f"line {self.line}"


@dataclass
class CustomerImport:
    conn: AsyncConnection
    actor: Actor
    staff: StaffDirectory
    report: ImportReport
    sheet: str | None
    dry_run: bool
    # A dry run writes customers only when later sheets of the file must find them.
    write_rows: bool = True
    targets: list[Target] = field(default_factory=list)
    by_key: dict[tuple[str, str], Target] = field(default_factory=dict)
    fingerprints: dict[str, Target] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[tuple[Target, FieldConflict]] = field(default_factory=list)
    flagged: list[tuple[Target, PossibleDuplicate]] = field(default_factory=list)

    async def run(self, drafts: list[CustomerDraft]) -> None:
        drafts = await self._skip_known(drafts)
        existing = await self._existing_matches(drafts)
        for draft in drafts:
            self._place(draft, existing)
        created = [t for t in self.targets if not t.existing]
        await self._flag_lookalikes(created)
        await self._write(created, [t for t in self.targets if t.existing and t.changed])

    # -- matching ----------------------------------------------------------------------------
    async def _skip_known(self, drafts: list[CustomerDraft]) -> list[CustomerDraft]:
        """Rows imported before (same fingerprint, customer still there) change nothing."""
        known = await known_fingerprints(self.conn, [d.fingerprint for d in drafts])
        ids = [i for entity, i in known.values() if entity == "customer"]
        alive = await self._visible_ids(ids)
        fresh = []
        for draft in drafts:
            hit = known.get(draft.fingerprint)
            if hit and hit[1] in alive:
                self.report.count(KIND, "unchanged")
            else:
                fresh.append(draft)
        return fresh

    async def _visible_ids(self, ids: list[int]) -> set[int]:
        t = table(Customer)
        found: set[int] = set()
        for part in chunks(ids):
            rows = await self.conn.execute(
                select(t.c.id).where(t.c.id.in_(part), customer_scope(self.actor))
            )
            found.update(r.id for r in rows)
        return found

    async def _existing_matches(
        self, drafts: list[CustomerDraft]
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Stored customers (in scope) by the phones and e-mails the rows carry."""
        phones = sorted({p for d in drafts for p in d.fields.get("phones", [])})
        emails = {fold(e): e for d in drafts for e in d.fields.get("emails", [])}
        keys = table(CustomerSearchKey)
        t = table(Customer)
        ids: set[int] = set()
        for kind, values in ((SearchKind.PHONE, phones), (SearchKind.EMAIL, sorted(emails))):
            for part in chunks(values):
                rows = await self.conn.execute(
                    select(keys.c.customer_id)
                    .select_from(keys.join(t, t.c.id == keys.c.customer_id))
                    .where(keys.c.kind == kind, keys.c.key.in_(part), customer_scope(self.actor))
                )
                ids.update(r.customer_id for r in rows)
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for part in chunks(sorted(ids)):
            for row in await self.conn.execute(select(t).where(t.c.id.in_(part))):
                record = dict(row._mapping)
                for phone in record["phones"] or []:
                    found.setdefault(("p", phone), []).append(record)
                for email in record["emails"] or []:
                    found.setdefault(("e", email.lower()), []).append(record)
        return found

    def _place(
        self, draft: CustomerDraft, existing: dict[tuple[str, str], list[dict[str, Any]]]
    ) -> None:
        owner_id = self._owner(draft)
        if owner_id is None:
            return
        matched: list[Target] = []
        for key in draft.keys:
            target = self.by_key.get(key)
            if target is None and key in existing:
                records = existing[key]
                if len(records) > 1:
                    refs = ", ".join(f"#{r['id']}" for r in records)
                    self.report.reject(draft.line, self.sheet, KIND, "matches_several", refs=refs)
                    return
                target = self._stored_target(records[0], draft.line)
            if target is not None and all(target is not m for m in matched):
                matched.append(target)
        if len(matched) > 1:
            refs = ", ".join(m.ref() for m in matched)
            self.report.reject(draft.line, self.sheet, KIND, "matches_several", refs=refs)
            return
        if not matched:
            target = self._new_target(draft, owner_id)
            outcome = "created"
        else:
            target = matched[0]
            changed = self._merge(target, draft, owner_id)
            outcome = "merged" if not target.existing else ("updated" if changed else "unchanged")
        for key in draft.keys:
            self.by_key[key] = target
        self.fingerprints[draft.fingerprint] = target
        self.report.count(KIND, outcome)

    def _owner(self, draft: CustomerDraft) -> int | None:
        """The staff id the row assigns the customer to; None when the row is rejected."""
        if not draft.owner:
            return self.actor.staff_id
        member = self.staff.find(draft.owner)
        if member is None:
            # Not one of our staff (another CRM's user name): kept, and said so.
            assert draft.owner_header is not None
            draft.custom.setdefault(draft.owner_header, draft.owner)
            self.report.warn(draft.line, self.sheet, "owner_unknown", name=draft.owner)
            return self.actor.staff_id
        if not self.staff.may_assign(member):
            self.report.reject(draft.line, self.sheet, KIND, "cannot_assign", name=member.name)
            return None
        return member.id

    def _stored_target(self, record: dict[str, Any], line: int) -> Target:
        for target in self.targets:
            if target.existing and target.id == record["id"]:
                return target
        values = {name: record[name] for name in COLUMNS}
        values["custom_fields"] = dict(values["custom_fields"] or {})
        for name in LIST_FIELDS:
            values[name] = list(values[name] or [])
        target = Target(True, line, values, id=record["id"], before=jsonable(dict(values)))
        self.targets.append(target)
        return target

    def _new_target(self, draft: CustomerDraft, owner_id: int) -> Target:
        owner = self.staff.by_id.get(owner_id) or self.staff.me
        values: dict[str, Any] = {
            **{name: [] for name in LIST_FIELDS},
            "stage": Stage.LEAD,
            "do_not_contact": False,
            **draft.fields,
            "custom_fields": dict(draft.custom),
            "owner_id": owner_id,
            "team_id": owner.team_id,
        }
        target = Target(False, draft.line, values)
        self.targets.append(target)
        return target

    # -- merging -----------------------------------------------------------------------------
    def _merge(self, target: Target, draft: CustomerDraft, owner_id: int) -> bool:
        """Fill what is empty, grow lists, log what contradicts. True if anything changed."""
        values, changed = target.values, False
        for name, value in draft.fields.items():
            current = values.get(name)
            if name == "created_at":
                if not target.existing and (current is None or value < current):
                    values[name], changed = value, True
                continue
            if name in LIST_FIELDS:
                grown = current + [v for v in value if v not in current]
                if grown != current:
                    values[name], changed = grown, True
                    target.changed.add(name)
                continue
            if self._same(name, current, value):
                continue
            if self._empty(name, current) or (name == "do_not_contact" and value):
                values[name], changed = value, True
                target.changed.add(name)
            elif not (name == "stage" and value == Stage.LEAD):
                self._conflict(target, draft, name, current, value)
        custom = values["custom_fields"]
        for key, value in draft.custom.items():
            if key not in custom or custom[key] in (None, ""):
                custom[key], changed = value, True
                target.changed.add("custom_fields")
            elif str(custom[key]) != str(value):
                self._conflict(target, draft, key, custom[key], value)
        if draft.owner and owner_id != values["owner_id"]:
            kept = self.staff.by_id.get(values["owner_id"])
            other = self.staff.by_id.get(owner_id)
            self._conflict(
                target, draft, "owner", kept.name if kept else "", other.name if other else ""
            )
        return changed

    @staticmethod
    def _same(name: str, current: Any, value: Any) -> bool:
        if isinstance(current, str) and isinstance(value, str):
            return fold(current) == fold(value)
        return bool(current == value)

    @staticmethod
    def _empty(name: str, current: Any) -> bool:
        # Every customer starts as a lead: a stage from the file fills it in.
        return current in (None, "") or (name == "stage" and current == Stage.LEAD)

    def _conflict(
        self, target: Target, draft: CustomerDraft, name: str, kept: Any, other: Any
    ) -> None:
        conflict = FieldConflict(
            line=draft.line,
            sheet=self.sheet,
            field=name,
            kept=str(jsonable(kept)),
            other=str(jsonable(other)),
        )
        self.conflicts.append((target, conflict))

    # -- possible duplicates -----------------------------------------------------------------
    async def _flag_lookalikes(self, created: list[Target]) -> None:
        index = DuplicateIndex()
        for person in await self._stored_lookalikes(created):
            index.add(person)
        for target in created:
            person = Person(
                ("line", target.line), target.values["name"], target.values.get("company")
            )
            match = index.best_match(person)
            index.add(person)
            if match is None:
                continue
            other, score = match
            flag = PossibleDuplicate(
                line=target.line,
                sheet=self.sheet,
                name=person.name,
                company=person.company,
                similar_id=other.ref[1] if other.ref[0] == "id" else None,
                similar_line=other.ref[1] if other.ref[0] == "line" else None,
                similar_name=other.name,
                similar_company=other.company,
                score=score,
            )
            self.flagged.append((target, flag))

    async def _stored_lookalikes(self, created: list[Target]) -> list[Person]:
        """Stored customers in scope that share a name form with a new one."""
        names: set[str] = set()
        pinyins: set[str] = set()
        last_words: set[str] = set()
        for target in created:
            name = target.values["name"]
            names.add(fold(name)[:200])
            if has_cjk(name):
                pinyins.add(name_form(name)[:200])
            elif len(words := split_words(name)) > 1:
                last_words.add(fold(words[-1])[:200])
        keys, t = table(CustomerSearchKey), table(Customer)
        ids: set[int] = set()
        for kind, values in (
            (SearchKind.NAME, names),
            (SearchKind.PINYIN, pinyins),
            (SearchKind.GIVEN_NAME, last_words),
        ):
            for part in chunks(sorted(values)):
                rows = await self.conn.execute(
                    select(keys.c.customer_id)
                    .select_from(keys.join(t, t.c.id == keys.c.customer_id))
                    .where(keys.c.kind == kind, keys.c.key.in_(part), customer_scope(self.actor))
                )
                ids.update(r.customer_id for r in rows)
        people = []
        for part in chunks(sorted(ids)):
            rows = await self.conn.execute(
                select(t.c.id, t.c.name, t.c.company).where(t.c.id.in_(part))
            )
            people += [Person(("id", r.id), r.name, r.company) for r in rows]
        return people

    # -- writing -----------------------------------------------------------------------------
    async def _write(self, created: list[Target], changed: list[Target]) -> None:
        now = utcnow()
        for target, new_id in zip(
            created, await reserve_ids(self.conn, Customer, len(created)), strict=True
        ):
            target.id = new_id
        rows, keys = [], []
        for target in created:
            assert target.id is not None
            values = target.values
            row = {
                **{name: values.get(name) for name in COLUMNS},
                "id": target.id,
                "name_pinyin": name_pinyin(values["name"]),
                "created_at": values.get("created_at") or now,
                "updated_at": now,
            }
            rows.append(row)
            if not self.write_rows:
                continue
            keys += key_rows(target.id, values)
            self.audit.append(
                audit_row(
                    self.actor,
                    action="create",
                    entity="customer",
                    entity_id=target.id,
                    # Empty fields left out: 100k imported customers add up.
                    after={k: v for k, v in row.items() if v not in (None, "", [], {})},
                )
            )
        if self.write_rows:
            await insert_rows(self.conn, Customer, rows)
            await insert_rows(self.conn, CustomerSearchKey, keys)
            await self._update(changed, now)
        for target, conflict in self.conflicts:
            conflict.customer_id = target.id if (target.existing or not self.dry_run) else None
            self.report.conflicts.append(conflict)
            assert target.id is not None
            self.audit.append(
                audit_row(
                    self.actor,
                    action="conflict",
                    entity="customer",
                    entity_id=target.id,
                    after=conflict.model_dump(exclude={"customer_id"}),
                )
            )
        for target, flag in self.flagged:
            flag.customer_id = None if self.dry_run else target.id
            self.report.possible_duplicates.append(flag)
        if self.dry_run:
            return  # the audit log and fingerprints are only for what was really written
        await write_audit(self.conn, self.audit)
        await remember_fingerprints(
            self.conn,
            "customer",
            {f: t.id for f, t in self.fingerprints.items() if t.id is not None},
        )

    async def _update(self, changed: list[Target], now: Any) -> None:
        if not changed:
            return
        t = table(Customer)
        names = sorted({name for target in changed for name in target.changed})
        statement = (
            update(t)
            .where(t.c.id == bindparam("_id"))
            .values({name: bindparam(f"_{name}") for name in [*names, "updated_at"]})
        )
        params = [
            {"_id": target.id, "_updated_at": now, **{f"_{n}": target.values[n] for n in names}}
            for target in changed
        ]
        for part in chunks(params, 1000):
            await self.conn.execute(statement, list(part))
        await replace_search_keys(
            self.conn, {target.id: target.values for target in changed if target.id}
        )
        for target in changed:
            assert target.id is not None and target.before is not None
            self.audit.append(
                audit_row(
                    self.actor,
                    action="update",
                    entity="customer",
                    entity_id=target.id,
                    before={n: target.before[n] for n in sorted(target.changed)},
                    after={n: target.values[n] for n in sorted(target.changed)},
                )
            )
