"""The CRM services on a real database: scope, normalisation, reminders, undo."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from crm_core import audit
from crm_core.card import customer_card
from crm_core.clock import utcnow
from crm_core.customers import CustomerCreate, CustomerUpdate, create_customer, update_customer
from crm_core.errors import Conflict, InvalidInput, NotFound
from crm_core.feedback import FeedbackCreate, record_feedback
from crm_core.interactions import InteractionCreate, log_interaction
from crm_core.models import (
    Customer,
    FeedbackKind,
    FeedbackStatus,
    Interaction,
    Order,
    PaymentStatus,
    Reminder,
    ReminderStatus,
    Stage,
)
from crm_core.orders import OrderCreate, OrderItemIn, record_order
from crm_core.reminders import (
    ReminderCreate,
    complete_reminder,
    create_reminder,
    due_reminders,
    snooze_reminder,
)
from crm_core.search import search_customers


async def new_customer(sessions, actor, name="张伟", **fields):
    async with sessions() as session, session.begin():
        return await create_customer(
            session=session, actor=actor, data=CustomerCreate(name=name, **fields)
        )


async def test_phones_are_stored_in_e164_and_emails_lower_case(sessions, staffing):
    customer = await new_customer(
        sessions,
        staffing.lina,
        phones=["138-0013-8000", "+1 (415) 555-0132"],
        emails=["Zhang.Wei@HuaXin.example"],
    )
    assert customer.phones == ["+8613800138000", "+14155550132"]
    assert customer.emails == ["zhang.wei@huaxin.example"]
    assert customer.name_pinyin == "zhangwei"
    assert customer.owner_id == staffing.lina.staff_id


async def test_invalid_phone_is_rejected_and_nothing_is_written(sessions, staffing):
    with pytest.raises(InvalidInput) as error:
        await new_customer(sessions, staffing.lina, phones=["12"])
    assert error.value.code == "bad_phone"
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Customer))).one() == 0


async def test_same_phone_twice_is_a_duplicate(sessions, staffing):
    first = await new_customer(sessions, staffing.lina, phones=["13800138000"])
    with pytest.raises(Conflict) as error:
        await new_customer(sessions, staffing.lina, name="张三", phones=["+86 138 0013 8000"])
    assert error.value.params["id"] == first.id


async def test_a_rep_cannot_read_or_change_another_reps_customer(sessions, staffing):
    theirs = await new_customer(sessions, staffing.chen)
    lina = staffing.lina
    attempts = [
        lambda s: customer_card(session=s, actor=lina, customer_id=theirs.id),
        lambda s: update_customer(
            session=s, actor=lina, customer_id=theirs.id, data=CustomerUpdate(city="北京")
        ),
        lambda s: log_interaction(
            session=s, actor=lina, customer_id=theirs.id, data=InteractionCreate(summary="x")
        ),
        lambda s: create_reminder(
            session=s,
            actor=lina,
            data=ReminderCreate(due_at=utcnow() + timedelta(days=1), customer_id=theirs.id),
        ),
        lambda s: record_feedback(
            session=s, actor=lina, customer_id=theirs.id, data=FeedbackCreate(score=3)
        ),
        lambda s: record_order(
            session=s, actor=lina, customer_id=theirs.id, data=OrderCreate(amount=Decimal("10"))
        ),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            async with sessions() as session, session.begin():
                await attempt(session)
    async with sessions() as session:
        assert await search_customers(session=session, actor=lina, query="张伟") == []
        assert (await session.exec(select(func.count()).select_from(Interaction))).one() == 0
        assert (await session.get(Customer, theirs.id)).city is None


async def test_managers_see_their_team_and_admins_see_all(sessions, staffing):
    await new_customer(sessions, staffing.chen, name="张伟")
    await new_customer(sessions, staffing.tom, name="Jane Smith")
    async with sessions() as session:
        manager_sees = await search_customers(session=session, actor=staffing.manager, query="j")
        assert manager_sees == []
        assert [
            h.name
            for h in await search_customers(
                session=session, actor=staffing.manager, query="zhangwei"
            )
        ] == ["张伟"]
        assert [
            h.name
            for h in await search_customers(session=session, actor=staffing.admin, query="jane")
        ] == ["Jane Smith"]


async def test_card_gathers_orders_interactions_tasks_and_feedback(sessions, staffing):
    lina = staffing.lina
    customer = await new_customer(sessions, lina, company="华信科技", tags=["VIP"])
    async with sessions() as session, session.begin():
        await record_order(
            session=session,
            actor=lina,
            customer_id=customer.id,
            data=OrderCreate(
                amount=Decimal("1200"), items=[OrderItemIn(description="打印机")], credit_days=30
            ),
        )
        await record_order(
            session=session,
            actor=lina,
            customer_id=customer.id,
            data=OrderCreate(amount=Decimal("300.50")),
        )
        await log_interaction(
            session=session,
            actor=lina,
            customer_id=customer.id,
            data=InteractionCreate(summary="电话沟通新报价"),
        )
        await create_reminder(
            session=session,
            actor=lina,
            data=ReminderCreate(
                due_at=utcnow() + timedelta(days=2), text="发报价", customer_id=customer.id
            ),
        )
        await record_feedback(
            session=session,
            actor=lina,
            customer_id=customer.id,
            data=FeedbackCreate(score=3, text="送货太慢"),
        )
    async with sessions() as session:
        card = await customer_card(session=session, actor=lina, customer_id=customer.id)
    assert card.order_count == 2
    assert [(t.currency, t.total) for t in card.order_totals] == [("CNY", Decimal("1500.50"))]
    assert card.stage == Stage.CUSTOMER
    assert {o.payment_status for o in card.recent_orders} == {
        PaymentStatus.UNPAID.value,
        PaymentStatus.PAID.value,
    }
    assert [i.summary for i in card.recent_interactions] == ["电话沟通新报价"]
    assert [r.text for r in card.open_reminders] == ["发报价"]
    assert card.recent_feedback[0].kind == FeedbackKind.COMPLAINT
    assert card.recent_feedback[0].status == FeedbackStatus.OPEN


async def test_card_counts_orders_as_reports_do(sessions, staffing):
    """Cancelled and deleted orders are not purchases; ¥ and $ are summed apart."""
    lina = staffing.lina
    customer = await new_customer(sessions, lina)
    day = utcnow() - timedelta(days=10)

    def order(days: int, amount: str, currency: str = "CNY", **extra) -> Order:
        return Order(
            customer_id=customer.id,
            ordered_at=day + timedelta(days=days),
            amount=Decimal(amount),
            currency=currency,
            **extra,
        )

    async with sessions() as session, session.begin():
        session.add(order(0, "800", payment_status=PaymentStatus.PAID))
        session.add(order(5, "5000", payment_status=PaymentStatus.CANCELLED))
    async with sessions() as session:
        card = await customer_card(session=session, actor=lina, customer_id=customer.id)
    assert card.order_count == 1
    assert [(t.currency, t.total) for t in card.order_totals] == [("CNY", Decimal("800.00"))]
    assert card.last_ordered_at == day  # the cancelled order is later but is no purchase

    async with sessions() as session, session.begin():
        session.add(order(1, "200", "USD"))
        session.add(order(2, "100"))
        session.add(order(3, "9999", deleted_at=utcnow()))
    async with sessions() as session:
        card = await customer_card(session=session, actor=lina, customer_id=customer.id)
    assert card.order_count == 3
    assert [(t.currency, t.count, t.total) for t in card.order_totals] == [
        ("CNY", 2, Decimal("900.00")),
        ("USD", 1, Decimal("200.00")),
    ]
    assert card.last_ordered_at == day + timedelta(days=2)


async def test_reminders_complete_snooze_and_list_due(sessions, staffing):
    lina = staffing.lina
    async with sessions() as session, session.begin():
        overdue = await create_reminder(
            session=session,
            actor=lina,
            data=ReminderCreate(due_at=utcnow() - timedelta(hours=3), text="回电话"),
        )
        later = await create_reminder(
            session=session,
            actor=lina,
            data=ReminderCreate(due_at=utcnow() + timedelta(days=3), text="拜访"),
        )
    async with sessions() as session:
        due = await due_reminders(session, lina, until=utcnow())
        assert [r.id for r, _ in due] == [overdue.id]
        # Another rep cannot touch it.
        with pytest.raises(NotFound):
            await complete_reminder(session=session, actor=staffing.chen, reminder_id=overdue.id)
    async with sessions() as session, session.begin():
        await snooze_reminder(
            session=session, actor=lina, reminder_id=overdue.id, until=utcnow() + timedelta(days=1)
        )
        await complete_reminder(session=session, actor=lina, reminder_id=later.id, outcome="签了")
    async with sessions() as session:
        assert await due_reminders(session, lina, until=utcnow()) == []
        snoozed = await session.get(Reminder, overdue.id)
        assert snoozed.status == ReminderStatus.SNOOZED
        assert (await session.get(Reminder, later.id)).outcome == "签了"
    async with sessions() as session:
        with pytest.raises(InvalidInput):
            await complete_reminder(session=session, actor=lina, reminder_id=later.id)


async def test_undo_reverts_the_whole_last_change_only(sessions, staffing):
    lina = staffing.lina
    customer = await new_customer(sessions, lina, city="上海")
    # Each message is its own request; undo reverts one request's changes.
    async with sessions() as session, session.begin():
        await update_customer(
            session=session,
            actor=replace(lina, request_id="second"),
            customer_id=customer.id,
            data=CustomerUpdate(name="张伟伟", city="北京"),
        )
    async with sessions() as session, session.begin():
        undone = await audit.undo_last(session, lina)
    assert undone is not None and undone.what == [("update", "customer", customer.id)]
    async with sessions() as session:
        restored = await session.get(Customer, customer.id)
        assert (restored.name, restored.city) == ("张伟", "上海")
        # Search keys follow the restored name.
        hits = await search_customers(session=session, actor=lina, query="zhangwei")
        assert [h.name for h in hits] == ["张伟"]
    async with sessions() as session, session.begin():
        await audit.undo_last(session, lina)  # now the creation: soft-deleted, not erased
    async with sessions() as session:
        assert (await session.get(Customer, customer.id)).deleted_at is not None
        assert await search_customers(session=session, actor=lina, query="张伟") == []
        assert await audit.undo_last(session, staffing.chen) is None


async def test_concurrent_writers_do_not_lock_each_other_out(sessions, staffing):
    customer = await new_customer(sessions, staffing.lina)

    async def write(i: int) -> None:
        async with sessions() as session, session.begin():
            await log_interaction(
                session=session,
                actor=staffing.lina,
                customer_id=customer.id,
                data=InteractionCreate(summary=f"note {i}"),
            )

    await asyncio.gather(*(write(i) for i in range(50)))
    async with sessions() as session:
        count = select(func.count()).select_from(Interaction)
        assert (await session.exec(count)).one() == 50
