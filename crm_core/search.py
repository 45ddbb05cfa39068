"""One query box: name, pinyin, initials, phone in any format, e-mail, company, tag.

Every customer has normalised keys in `customer_search_key` (see search_keys.py); a query is
folded the same way and answered by an index range scan on the key, ranked in SQL by how the
key matched, ties broken by recent activity. Typos fall back to rapidfuzz over a small
candidate set that shares the query's first letters.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from rapidfuzz import fuzz, process
from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor, customer_scope
from crm_core.models import Customer, CustomerSearchKey, SearchKind
from crm_core.normalize import fold, looks_like_phone, normalize_phone
from crm_core.settings import get_settings

# (score when the key equals the query, score when the key only starts with it)
WEIGHTS: dict[SearchKind, tuple[int, int]] = {
    SearchKind.PHONE: (100, 90),
    SearchKind.EMAIL: (100, 70),
    SearchKind.NAME: (98, 80),
    SearchKind.PINYIN: (95, 75),
    SearchKind.WECHAT: (92, 60),
    SearchKind.PHONE_LAST4: (88, 0),
    SearchKind.GIVEN_NAME: (85, 65),
    SearchKind.INITIALS: (80, 50),
    SearchKind.TAG: (70, 45),
    SearchKind.COMPANY: (68, 55),
}
FUZZY_KINDS = (SearchKind.NAME, SearchKind.PINYIN, SearchKind.COMPANY, SearchKind.GIVEN_NAME)
FUZZY_CANDIDATES = 5000
FUZZY_CUTOFF = 75
MAX_KEY = "\U0010ffff"


class SearchHit(BaseModel):
    id: int
    name: str
    company: str | None
    phone: str | None
    city: str | None
    score: int
    last_activity_at: datetime | None


def _score_expr(query: str) -> object:
    kind, key = col(CustomerSearchKey.kind), col(CustomerSearchKey.key)
    exact = case({k: w[0] for k, w in WEIGHTS.items()}, value=kind, else_=0)
    prefix = case({k: w[1] for k, w in WEIGHTS.items()}, value=kind, else_=0)
    return case((key == query, exact), else_=prefix)


async def _ranked_ids(
    session: AsyncSession, actor: Actor, query: str, *, exact_only: bool, limit: int
) -> list[tuple[int, int]]:
    key = col(CustomerSearchKey.key)
    matches = key == query if exact_only else (key >= query) & (key < query + MAX_KEY)
    score = func.max(_score_expr(query)).label("score")
    stmt = (
        select(col(CustomerSearchKey.customer_id), score)
        .join(Customer, col(Customer.id) == col(CustomerSearchKey.customer_id))
        .where(matches, customer_scope(actor))
        .group_by(col(CustomerSearchKey.customer_id), col(Customer.last_activity_at))
        .order_by(score.desc(), col(Customer.last_activity_at).desc().nulls_last())
        .limit(limit)
    )
    return [(cid, s) for cid, s in (await session.exec(stmt)).all() if s > 0]


async def _fuzzy_ids(
    session: AsyncSession, actor: Actor, query: str, *, limit: int
) -> list[tuple[int, int]]:
    """Small typos: compare against keys sharing the query's first letters."""
    stem = query[:3] if len(query) >= 6 else query[:2]
    key = col(CustomerSearchKey.key)
    stmt = (
        select(col(CustomerSearchKey.customer_id), key)
        .join(Customer, col(Customer.id) == col(CustomerSearchKey.customer_id))
        .where(key >= stem, key < stem + MAX_KEY, customer_scope(actor))
        .where(col(CustomerSearchKey.kind).in_(FUZZY_KINDS))
        .limit(FUZZY_CANDIDATES)
    )
    rows = (await session.exec(stmt)).all()
    found = process.extract(
        query, [k for _, k in rows], scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=limit * 3
    )
    best: dict[int, int] = {}
    for _key, similarity, index in found:
        customer_id = rows[index][0]
        best[customer_id] = max(best.get(customer_id, 0), int(similarity * 0.6))
    return sorted(best.items(), key=lambda item: -item[1])[:limit]


async def search_customers(
    *, session: AsyncSession, actor: Actor, query: str, limit: int = 10
) -> list[SearchHit]:
    """Customers in the actor's scope matching `query`, best first."""
    text = query.strip()
    if not text:
        return []
    ranked: list[tuple[int, int]] = []
    if looks_like_phone(text):
        phone = normalize_phone(text, get_settings().default_region)
        if phone:
            ranked = await _ranked_ids(session, actor, phone, exact_only=True, limit=limit)
    folded = fold(text)
    if not ranked and folded:
        exact_only = folded.isdigit()  # digits: last 4 of a phone, never a prefix scan
        ranked = await _ranked_ids(session, actor, folded, exact_only=exact_only, limit=limit)
    if not ranked and len(folded) >= 3 and not folded.isdigit():
        ranked = await _fuzzy_ids(session, actor, folded, limit=limit)
    return await _hits(session, ranked)


async def _hits(session: AsyncSession, ranked: list[tuple[int, int]]) -> list[SearchHit]:
    if not ranked:
        return []
    rows = await session.exec(select(Customer).where(col(Customer.id).in_([i for i, _ in ranked])))
    by_id = {c.id: c for c in rows.all()}
    return [
        SearchHit(
            id=cid,
            name=by_id[cid].name,
            company=by_id[cid].company,
            phone=by_id[cid].phones[0] if by_id[cid].phones else None,
            city=by_id[cid].city,
            score=score,
            last_activity_at=by_id[cid].last_activity_at,
        )
        for cid, score in ranked
        if cid in by_id
    ]
