"""One query box: name, pinyin, initials, phone in any format, e-mail, company, tag.

Every customer has normalised keys in `customer_search_key` (see search_keys.py); a query is
folded the same way and answered by an index range scan on the key, ranked in SQL by how the
key matched, ties broken by recent activity. Typos fall back to rapidfuzz over a small
candidate set that shares the query's first letters.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, Select, bindparam, func, literal, union_all
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor, customer_scope
from crm_core.errors import InvalidInput
from crm_core.models import Customer, CustomerSearchKey, Role, SearchKind
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
FUZZY_CANDIDATES = 20_000
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


def _score(kind: SearchKind, key: str, query: str) -> int:
    exact, prefix = WEIGHTS[kind]
    return exact if key == query else prefix


_HIT_COLUMNS = (
    Customer.id,
    Customer.name,
    Customer.company,
    Customer.phones,
    Customer.city,
    Customer.last_activity_at,
)
_EXACT, _PREFIX = 0, 1


def _hit(row: Any, score: int) -> SearchHit:
    customer_id, name, company, phones, city, last_activity_at = row
    return SearchHit(
        id=customer_id,
        name=name,
        company=company,
        phone=phones[0] if phones else None,
        city=city,
        score=score,
        last_activity_at=last_activity_at,
    )


def _matching(
    actor: Actor, condition: ColumnElement[bool], part: int, *, limit: int
) -> Select[Any]:
    """Matching keys of visible customers (with what a hit shows), most recently active first.

    Sorting by one indexed-table column keeps this a cheap top-N even when a common tag
    matches thousands of customers; the kind weights are applied in Python afterwards.
    """
    return (
        select(
            literal(part).label("part"),
            col(CustomerSearchKey.kind),
            col(CustomerSearchKey.key),
            *(col(c) for c in _HIT_COLUMNS),
        )
        .join(Customer, col(Customer.id) == col(CustomerSearchKey.customer_id))
        .where(condition, customer_scope(actor))
        .order_by(col(Customer.last_activity_at).desc().nulls_last())
        .limit(limit * 4)
    )


def _rank(rows: list[Any], query: str) -> list[tuple[int, int]]:
    """Best score per customer; the sort is stable, so equal scores stay in activity order."""
    best: dict[int, int] = {}
    for row in rows:
        customer_id = row.id
        best[customer_id] = max(best.get(customer_id, 0), _score(row.kind, row.key, query))
    return sorted(((cid, score) for cid, score in best.items() if score > 0), key=lambda x: -x[1])


@lru_cache(maxsize=1024)
def _keys_statement(
    role: Role, staff_id: int, team_id: int | None, exact_only: bool, limit: int
) -> Any:
    """The keys statement for one person's scope, built once: building the expression tree
    cost about as much CPU as running it. The query comes in as bound parameters."""
    actor = Actor(staff_id=staff_id, name="", role=role, team_id=team_id)
    key = col(CustomerSearchKey.key)
    exact = _matching(actor, key == bindparam("query"), _EXACT, limit=limit)
    if exact_only:
        return exact
    prefix = (key > bindparam("query")) & (key < bindparam("query_end"))
    both = (exact, _matching(actor, prefix, _PREFIX, limit=limit))
    return union_all(*(select(p.subquery()) for p in both))


async def _ranked_hits(
    session: AsyncSession, actor: Actor, query: str, *, exact_only: bool, limit: int
) -> list[SearchHit]:
    """Exact key matches first, then (unless `exact_only`) keys that start with the query.

    Both top-N lists come back in one statement (UNION ALL), with the columns a hit shows:
    one round trip to the database instead of three.
    """
    stmt = _keys_statement(actor.role, actor.staff_id, actor.team_id, exact_only, limit)
    params = {"query": query, "query_end": query + MAX_KEY}
    rows = list((await session.exec(stmt, params=params)).all())
    exact = [r for r in rows if r.part == _EXACT]
    ranked = _rank(exact, query)
    if len(ranked) < limit and not exact_only:
        seen = {cid for cid, _ in ranked}
        more = _rank([r for r in rows if r.part == _PREFIX], query)
        ranked += [(cid, score) for cid, score in more if cid not in seen]
    shown = {r.id: r[3:] for r in rows}
    return [_hit(shown[cid], score) for cid, score in ranked[:limit]]


async def _fuzzy_ids(
    session: AsyncSession, actor: Actor, query: str, *, limit: int
) -> list[tuple[int, int]]:
    """Small typos: compare against keys of about the query's length that share its first
    letters. The scan reads the key index alone (no join); scope is applied to the few
    best candidates afterwards, so it stays cheap even for common stems like "zh"."""
    # The second stem catches the second and third letters swapped ("zahngwei").
    stems = dict.fromkeys([query[:2], query[0] + query[2]])
    key = col(CustomerSearchKey.key)
    rows: list[tuple[int, str]] = []
    for stem in stems:
        stmt = (
            select(col(CustomerSearchKey.customer_id), key)
            .where(key >= stem, key < stem + MAX_KEY)
            .where(func.length(key).between(len(query) - 2, len(query) + 2))
            .limit(FUZZY_CANDIDATES)
        )
        rows += (await session.exec(stmt)).all()
    found = process.extract(
        query, [k for _, k in rows], scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=200
    )
    best: dict[int, int] = {}
    for _key, similarity, index in found:
        best.setdefault(rows[index][0], int(similarity * 0.6))
    if not best:
        return []
    visible_stmt = select(col(Customer.id)).where(col(Customer.id).in_(best), customer_scope(actor))
    visible = set((await session.exec(visible_stmt)).all())
    return [(cid, score) for cid, score in best.items() if cid in visible][:limit]


async def search_customers(
    *, session: AsyncSession, actor: Actor, query: str, limit: int = 10
) -> list[SearchHit]:
    """Customers in the actor's scope matching `query`, best first."""
    text = query.strip()
    if not text:
        return []
    hits: list[SearchHit] = []
    if looks_like_phone(text):
        phone = normalize_phone(text, get_settings().default_region)
        if phone:
            hits = await _ranked_hits(session, actor, phone, exact_only=True, limit=limit)
    folded = fold(text)
    if not hits and folded:
        exact_only = folded.isdigit()  # digits: last 4 of a phone, never a prefix scan
        hits = await _ranked_hits(session, actor, folded, exact_only=exact_only, limit=limit)
    if not hits and len(folded) >= 3 and not folded.isdigit():
        hits = await _hits(session, await _fuzzy_ids(session, actor, folded, limit=limit))
    return hits


async def _hits(session: AsyncSession, ranked: list[tuple[int, int]]) -> list[SearchHit]:
    if not ranked:
        return []
    stmt = select(*(col(c) for c in _HIT_COLUMNS)).where(
        col(Customer.id).in_([i for i, _ in ranked])
    )
    by_id = {row[0]: row for row in (await session.exec(stmt)).all()}
    return [_hit(by_id[cid], score) for cid, score in ranked if cid in by_id]


class CompanyMatch(BaseModel):
    company: str
    customer_ids: list[int]


async def company_customers(
    *, session: AsyncSession, actor: Actor, query: str, limit: int = 1000
) -> list[CompanyMatch]:
    """Companies whose name (or its pinyin) is or starts with `query`, each with its customers
    in the actor's scope, most customers first. More than `limit` customers raise
    InvalidInput: a report filter names customers one by one."""
    folded = fold(query)
    if not folded:
        return []
    key = col(CustomerSearchKey.key)
    stmt = (
        select(col(Customer.company), col(Customer.id))
        .select_from(CustomerSearchKey)
        .join(Customer, col(Customer.id) == col(CustomerSearchKey.customer_id))
        .where(
            CustomerSearchKey.kind == SearchKind.COMPANY,
            (key == folded) | ((key > folded) & (key < folded + MAX_KEY)),
            customer_scope(actor),
        )
        .order_by(col(Customer.id))
        .limit(2 * limit + 2)  # a customer may match by name and by pinyin
    )
    by_company: dict[str, tuple[str, set[int]]] = {}
    for company, customer_id in (await session.exec(stmt)).all():
        if company and customer_id is not None:
            by_company.setdefault(fold(company), (company, set()))[1].add(customer_id)
    if sum(len(ids) for _, ids in by_company.values()) > limit:
        raise InvalidInput("report_company_too_big", name=query, limit=limit)
    found = [CompanyMatch(company=c, customer_ids=sorted(ids)) for c, ids in by_company.values()]
    return sorted(found, key=lambda m: (-len(m.customer_ids), m.company))
