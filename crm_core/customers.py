"""Creating and changing customers, within the actor's scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit
from crm_core.access import Actor, customer_scope, get_customer
from crm_core.clock import utcnow
from crm_core.errors import Conflict, InvalidInput, NotFound
from crm_core.models import (
    Customer,
    CustomerSearchKey,
    CustomerShare,
    Role,
    SearchKind,
    Staff,
    Stage,
)
from crm_core.normalize import fold, has_cjk, normalize_email, normalize_phone, pinyin_full
from crm_core.search_keys import refresh_search_keys
from crm_core.settings import get_settings


class CustomerFields(BaseModel):
    """Fields a person may set on a customer; everything optional so updates reuse it."""

    company: str | None = None
    title: str | None = None
    phones: list[str] | None = None
    emails: list[str] | None = None
    wechat_id: str | None = None
    preferred_channel: str | None = None
    preferred_contact_time: str | None = None
    language: str | None = None
    source: str | None = None
    birthday: date | None = None
    anniversary: date | None = None
    hobbies: list[str] | None = None
    tags: list[str] | None = None
    city: str | None = None
    region: str | None = None
    stage: Stage | None = None
    do_not_contact: bool | None = None
    notes: str | None = None
    custom_fields: dict[str, Any] | None = None


# The profile a person (or an import, or an export) reads and writes, in one place.
PROFILE_FIELDS: tuple[str, ...] = tuple(CustomerFields.model_fields)


class CustomerCreate(CustomerFields):
    name: str = Field(min_length=1, max_length=200)
    owner_id: int | None = None


class CustomerUpdate(CustomerFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    owner_id: int | None = None


def _clean_contacts(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise phones to E.164 and e-mails to lower case; reject what is not one."""
    region = get_settings().default_region
    if values.get("phones") is not None:
        phones = []
        for raw in values["phones"]:
            phone = normalize_phone(raw, region)
            if phone is None:
                raise InvalidInput("bad_phone", value=raw)
            phones.append(phone)
        values["phones"] = list(dict.fromkeys(phones))
    if values.get("emails") is not None:
        emails = []
        for raw in values["emails"]:
            email = normalize_email(raw)
            if email is None:
                raise InvalidInput("bad_email", value=raw)
            emails.append(email)
        values["emails"] = list(dict.fromkeys(emails))
    return values


def name_pinyin(name: str) -> str:
    return pinyin_full(name) if has_cjk(name) else fold(name)


async def _check_duplicate_contacts(
    session: AsyncSession, actor: Actor, customer: Customer
) -> None:
    """A phone or e-mail already on another visible customer is almost surely the same person."""
    keys = [*customer.phones, *(fold(e) for e in customer.emails)]
    if not keys:
        return
    stmt = (
        select(Customer)
        .join(CustomerSearchKey, col(CustomerSearchKey.customer_id) == col(Customer.id))
        .where(col(CustomerSearchKey.kind).in_([SearchKind.PHONE, SearchKind.EMAIL]))
        .where(col(CustomerSearchKey.key).in_(keys), customer_scope(actor))
    )
    if customer.id is not None:
        stmt = stmt.where(Customer.id != customer.id)
    existing = (await session.exec(stmt.limit(1))).first()
    if existing is not None:
        raise Conflict("duplicate_customer", name=existing.name, id=existing.id)


async def _owner_team(session: AsyncSession, actor: Actor, owner_id: int) -> int | None:
    if owner_id == actor.staff_id:
        return actor.team_id
    owner = await session.get(Staff, owner_id)
    if owner is None or not owner.active:
        raise InvalidInput("unknown_staff", ref=str(owner_id))
    if actor.role == Role.REP or (actor.is_manager and owner.team_id != actor.team_id):
        raise InvalidInput("cannot_assign", name=owner.name)
    return owner.team_id


async def create_customer(*, session: AsyncSession, actor: Actor, data: CustomerCreate) -> Customer:
    values = _clean_contacts(data.model_dump(exclude_none=True))
    owner_id = values.pop("owner_id", None) or actor.staff_id
    team_id = await _owner_team(session, actor, owner_id)
    customer = Customer(**values, owner_id=owner_id, team_id=team_id)
    customer.name = customer.name.strip()
    customer.name_pinyin = name_pinyin(customer.name)
    customer.last_activity_at = utcnow()
    await _check_duplicate_contacts(session, actor, customer)
    session.add(customer)
    await session.flush()
    assert customer.id is not None
    await refresh_search_keys(session, customer)
    await audit.record(
        session,
        actor,
        action="create",
        entity="customer",
        entity_id=customer.id,
        after=audit.snapshot(customer),
    )
    return customer


async def update_customer(
    *, session: AsyncSession, actor: Actor, customer_id: int, data: CustomerUpdate
) -> Customer:
    customer = await get_customer(session, actor, customer_id)
    changes = _clean_contacts(data.model_dump(exclude_unset=True))
    if "owner_id" in changes:
        if changes["owner_id"] is None:
            raise InvalidInput("unknown_staff", ref="")
        changes["team_id"] = await _owner_team(session, actor, changes["owner_id"])
    before = audit.snapshot(customer, set(changes))
    for name, value in changes.items():
        setattr(customer, name, value)
    if "name" in changes:
        customer.name_pinyin = name_pinyin(customer.name)
    customer.updated_at = utcnow()
    await _check_duplicate_contacts(session, actor, customer)
    session.add(customer)
    await refresh_search_keys(session, customer)
    await audit.record(
        session,
        actor,
        action="update",
        entity="customer",
        entity_id=customer_id,
        before=before,
        after=audit.snapshot(customer, set(changes)),
    )
    return customer


async def share_customer(
    *, session: AsyncSession, actor: Actor, customer_id: int, staff_id: int
) -> None:
    """Let another rep see and change a customer (owner, their manager or an admin)."""
    customer = await get_customer(session, actor, customer_id)
    if actor.role == Role.REP and customer.owner_id != actor.staff_id:
        raise NotFound("customer_not_found", ref=str(customer_id))
    session.add(CustomerShare(customer_id=customer_id, staff_id=staff_id))


async def touch(session: AsyncSession, customer: Customer) -> None:
    """Mark recent activity: search ranks ties by it."""
    customer.last_activity_at = utcnow()
    session.add(customer)
