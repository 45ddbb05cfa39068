"""Drafted messages to customers: the contact checks before one is offered or sent, the
discount codes win-back drafts carry, and the draft's life (draft -> sent | discarded)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit, interactions
from crm_core.access import Actor, get_customer
from crm_core.care.contact import HELD_DO_NOT_CONTACT, check_contact
from crm_core.clock import utcnow
from crm_core.errors import InvalidInput, NotFound
from crm_core.models import (
    Customer,
    DiscountCode,
    DiscountStatus,
    DraftStatus,
    InteractionKind,
    MessageDraft,
)

# How a sent draft is logged, by the customer's preferred channel.
CHANNEL_KIND = {"email": InteractionKind.EMAIL, "phone": InteractionKind.CALL}
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class ContactBlock:
    """Why a customer may not be contacted now: a message code and its parameters."""

    code: str  # draft_dnc | draft_cap
    params: dict[str, object]


async def contact_block(session: AsyncSession, customer: Customer) -> ContactBlock | None:
    """Do-not-contact, then the team's cap on touches per rolling window (the care rules'
    own check, so a draft and a rule's touch count alike)."""
    held = await check_contact(session, customer, utcnow())
    if held is None:
        return None
    if held.reason == HELD_DO_NOT_CONTACT:
        return ContactBlock("draft_dnc", {"name": customer.name})
    params = {"name": customer.name, "count": held.count, "cap": held.cap}
    return ContactBlock("draft_cap", {**params, "days": held.window_days})


async def create_discount_code(
    session: AsyncSession, actor: Actor, customer_id: int, *, percent: Decimal, days: int
) -> DiscountCode:
    code = DiscountCode(
        code="WB-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6)),
        customer_id=customer_id,
        staff_id=actor.staff_id,
        percent=percent,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(code)
    await session.flush()
    return code


async def save_draft(session: AsyncSession, actor: Actor, draft: MessageDraft) -> MessageDraft:
    draft.staff_id = actor.staff_id
    session.add(draft)
    await session.flush()
    return draft


async def with_open_draft(session: AsyncSession, customer_ids: list[int], kind: str) -> set[int]:
    """Those of `customer_ids` with a draft of `kind` still waiting for review (anyone's):
    a second one would only duplicate it (and a win-back's discount code)."""
    if not customer_ids:
        return set()
    stmt = select(MessageDraft.customer_id).where(
        col(MessageDraft.customer_id).in_(customer_ids),
        MessageDraft.kind == kind,
        MessageDraft.status == DraftStatus.DRAFT,
    )
    return set((await session.exec(stmt)).all())


async def get_draft(session: AsyncSession, actor: Actor, draft_id: int) -> MessageDraft:
    """A draft of the actor's (or one they may see through its customer) still open."""
    draft = await session.get(MessageDraft, draft_id)
    if draft is None:
        raise NotFound("draft_not_found", ref=str(draft_id))
    await get_customer(session, actor, draft.customer_id)  # scope: NotFound if out of it
    if draft.status is not DraftStatus.DRAFT:
        raise InvalidInput("draft_closed", ref=str(draft_id), status=draft.status.value)
    return draft


async def replace_text(
    session: AsyncSession, actor: Actor, draft_id: int, text: str
) -> MessageDraft:
    draft = await get_draft(session, actor, draft_id)
    draft.text, draft.updated_at, draft.method = text, utcnow(), "edited"
    session.add(draft)
    return draft


async def mark_sent(session: AsyncSession, actor: Actor, draft_id: int) -> MessageDraft:
    """Checked again at send time; the touch is logged as an interaction (it counts)."""
    draft = await get_draft(session, actor, draft_id)
    customer = await get_customer(session, actor, draft.customer_id)
    block = await contact_block(session, customer)
    if block is not None:
        raise InvalidInput(block.code, **block.params)
    await interactions.log_interaction(
        session=session,
        actor=actor,
        customer_id=draft.customer_id,
        data=interactions.InteractionCreate(
            summary=draft.text,
            kind=CHANNEL_KIND.get(draft.channel, InteractionKind.MESSAGE),
            channel=draft.channel,
            outcome=f"draft:{draft.kind}",
        ),
    )
    draft.status, draft.sent_at = DraftStatus.SENT, utcnow()
    session.add(draft)
    return draft


async def discard(session: AsyncSession, actor: Actor, draft_id: int) -> MessageDraft:
    """A discarded win-back draft voids its code: nobody was given it."""
    draft = await get_draft(session, actor, draft_id)
    draft.status, draft.updated_at = DraftStatus.DISCARDED, utcnow()
    session.add(draft)
    if draft.discount_code_id is not None:
        code = await session.get(DiscountCode, draft.discount_code_id)
        if code is not None and code.status is DiscountStatus.ACTIVE:
            code.status = DiscountStatus.VOID
            session.add(code)
            await audit.record(
                session,
                actor,
                action="update",
                entity="discount_code",
                entity_id=draft.discount_code_id,
                before={"status": "active"},
                after={"status": "void"},
            )
    return draft
