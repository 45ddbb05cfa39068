"""Turning what a person typed ("张伟", "#42", "138…8000") into one customer, or a choice."""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import Context
from crm_core.errors import NotFound
from crm_core.search import SearchHit, search_customers

# A hit this good (exact name, phone or e-mail) that beats the runner-up needs no question.
CONFIDENT_SCORE = 95


@dataclass(frozen=True)
class Ambiguous:
    ref: str
    hits: list[SearchHit]


async def resolve_customer(ctx: Context, ref: str) -> int | Ambiguous:
    """The customer id `ref` means, Ambiguous when several fit; NotFound when none does."""
    ref = ref.strip()
    if ref.startswith("#") and ref[1:].isdigit():
        return int(ref[1:])
    async with ctx.reading() as session:
        hits = await search_customers(session=session, actor=ctx.actor, query=ref, limit=5)
    if not hits:
        raise NotFound("customer_not_found", ref=ref)
    if len(hits) == 1:
        return hits[0].id
    top, second = hits[0], hits[1]
    if top.score >= CONFIDENT_SCORE and second.score < top.score:
        return top.id
    return Ambiguous(ref=ref, hits=hits)
