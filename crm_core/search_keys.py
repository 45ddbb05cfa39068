"""The keys a customer can be found by, derived from the record (see search.py)."""

from __future__ import annotations

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.models import Customer, CustomerSearchKey, SearchKind
from crm_core.normalize import fold, has_cjk, pinyin_full, pinyin_initials, split_words


def search_keys(customer: Customer) -> set[tuple[SearchKind, str]]:
    """Every (kind, key) pair for `customer`; keys are folded (see normalize.fold)."""
    keys: set[tuple[SearchKind, str]] = set()

    def add(kind: SearchKind, value: str | None) -> None:
        if value and (key := fold(value)[:200]):
            keys.add((kind, key))

    name = customer.name.strip()
    add(SearchKind.NAME, name)
    if has_cjk(name):
        # Chinese names: family name is the first character; people also search the given name.
        if len(name) > 1:
            add(SearchKind.GIVEN_NAME, name[1:])
        add(SearchKind.PINYIN, pinyin_full(name))
        add(SearchKind.INITIALS, pinyin_initials(name))
    else:
        words = split_words(name)
        for word in words[1:]:
            add(SearchKind.GIVEN_NAME, word)
        if len(words) > 1:
            add(SearchKind.INITIALS, "".join(w[0] for w in words))
    if customer.company:
        add(SearchKind.COMPANY, customer.company)
        if has_cjk(customer.company):
            add(SearchKind.COMPANY, pinyin_full(customer.company))
    for tag in customer.tags:
        add(SearchKind.TAG, tag)
    for email in customer.emails:
        add(SearchKind.EMAIL, email)
    for phone in customer.phones:
        keys.add((SearchKind.PHONE, phone))
        keys.add((SearchKind.PHONE_LAST4, phone[-4:]))
    add(SearchKind.WECHAT, customer.wechat_id)
    return keys


async def refresh_search_keys(session: AsyncSession, customer: Customer) -> None:
    """Replace the stored keys of `customer` with ones derived from its current fields."""
    assert customer.id is not None
    await session.exec(
        delete(CustomerSearchKey).where(col(CustomerSearchKey.customer_id) == customer.id)
    )
    for kind, key in search_keys(customer):
        session.add(CustomerSearchKey(customer_id=customer.id, kind=kind, key=key))
