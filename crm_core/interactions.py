"""Logging interactions with customers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core import audit, care_rules
from crm_core.access import Actor, get_customer
from crm_core.clock import utcnow
from crm_core.models import Interaction, InteractionKind


class InteractionCreate(BaseModel):
    summary: str = Field(min_length=1, max_length=4000)
    kind: InteractionKind = InteractionKind.NOTE
    channel: str | None = None
    occurred_at: datetime | None = None
    raw_text: str | None = None
    outcome: str | None = None


async def log_interaction(
    *, session: AsyncSession, actor: Actor, customer_id: int, data: InteractionCreate
) -> Interaction:
    customer = await get_customer(session, actor, customer_id)
    interaction = Interaction(
        **data.model_dump(exclude_none=True, exclude={"occurred_at"}),
        occurred_at=data.occurred_at or utcnow(),
        customer_id=customer_id,
        staff_id=actor.staff_id,
    )
    session.add(interaction)
    last = customer.last_activity_at
    if last is None or interaction.occurred_at > last:
        customer.last_activity_at = interaction.occurred_at
    contact = customer.last_contact_at
    if contact is None or interaction.occurred_at > contact:
        customer.last_contact_at = interaction.occurred_at
    session.add(customer)
    await session.flush()
    await care_rules.after_interaction(session, customer)
    assert interaction.id is not None
    await audit.record(
        session,
        actor,
        action="create",
        entity="interaction",
        entity_id=interaction.id,
        after=audit.snapshot(interaction),
    )
    return interaction


async def recent_interactions(
    session: AsyncSession, customer_id: int, *, limit: int = 5
) -> list[Interaction]:
    """Latest interactions of a customer the caller has already been allowed to see."""
    stmt = (
        select(Interaction)
        .where(Interaction.customer_id == customer_id, col(Interaction.deleted_at).is_(None))
        .order_by(col(Interaction.occurred_at).desc())
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())
