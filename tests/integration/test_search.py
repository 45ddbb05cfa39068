"""Search ranking on a real database: the best match first, ties by recent activity."""

from __future__ import annotations

from datetime import timedelta

from crm_core.clock import utcnow
from crm_core.customers import CustomerCreate, create_customer
from crm_core.models import Customer
from crm_core.search import search_customers


async def add(sessions, actor, name, **fields):
    async with sessions() as session, session.begin():
        return await create_customer(
            session=session, actor=actor, data=CustomerCreate(name=name, **fields)
        )


async def names(sessions, actor, query):
    async with sessions() as session:
        return [h.name for h in await search_customers(session=session, actor=actor, query=query)]


async def test_exact_name_beats_prefix_and_company(sessions, staffing):
    lina = staffing.lina
    await add(sessions, lina, "张伟强")
    await add(sessions, lina, "李雷", company="张伟贸易")
    await add(sessions, lina, "张伟")
    assert await names(sessions, lina, "张伟") == ["张伟", "张伟强", "李雷"]


async def test_ties_are_broken_by_recent_activity(sessions, staffing):
    lina = staffing.lina
    older = await add(sessions, lina, "王芳", company="恒达贸易")
    newer = await add(sessions, lina, "王芳", company="新锐传媒")
    async with sessions() as session, session.begin():
        (await session.get(Customer, older.id)).last_activity_at = utcnow() - timedelta(days=30)
        (await session.get(Customer, newer.id)).last_activity_at = utcnow() - timedelta(days=1)
    async with sessions() as session:
        hits = await search_customers(session=session, actor=lina, query="wangfang")
    assert [h.company for h in hits] == ["新锐传媒", "恒达贸易"]


async def test_typos_initials_and_english_names(sessions, staffing):
    tom = staffing.tom
    await add(sessions, tom, "Jane Smith", emails=["jane.smith@acme.example"], company="Acme Corp")
    await add(sessions, tom, "John Appleseed")
    assert await names(sessions, tom, "Jane Smyth") == ["Jane Smith"]
    assert await names(sessions, tom, "js") == ["Jane Smith"]
    assert await names(sessions, tom, "smith") == ["Jane Smith"]
    assert await names(sessions, tom, "JANE.SMITH@ACME.EXAMPLE") == ["Jane Smith"]
    assert await names(sessions, tom, "acme") == ["Jane Smith"]
    assert await names(sessions, tom, "nobody here") == []


async def test_four_digits_match_phone_endings_only(sessions, staffing):
    lina = staffing.lina
    await add(sessions, lina, "张伟", phones=["13800138000"])
    await add(sessions, lina, "8000号客户")
    assert await names(sessions, lina, "8000") == ["张伟"]
    assert await names(sessions, lina, "138 0013 8000") == ["张伟"]
