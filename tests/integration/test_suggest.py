"""/suggest (/推荐): the next-best products for a customer and the months they buy, worked
out on paper from a hand-made set of baskets (the last twelve months, team 华东):

  4 orders {打印机, 硒鼓} (customers P1-P4) · 2 orders {纸} (S1, S2) · 客户X: {打印机} in March
  and {打印机} in September 2026 — 8 baskets. 打印机 is in 6, 硒鼓 in 4, both in 4:
  confidence 打印机 -> 硒鼓 = 4/6 = 67%, lift = (4/6) / (4/8) = 1.3. 客户X has not bought
  硒鼓, so it is suggested because of 打印机; 纸 goes with nothing he bought.
  客户X's 2 orders in 24 months: a monthly mean of 1/6, March and September at 6× it: peaks.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from report_shop import SH, say

from bot.app import Assistant
from crm_core.models import Customer, Order, OrderItem, Product

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
async def baskets(sessions, staffing) -> dict[str, int]:
    lina = staffing.lina
    async with sessions() as session, session.begin():
        products = {name: Product(name=name) for name in ("打印机", "硒鼓", "纸")}
        session.add_all(products.values())
        customers = {
            name: Customer(name=name, owner_id=lina.staff_id, team_id=lina.team_id)
            for name in ("P1", "P2", "P3", "P4", "S1", "S2", "客户X")
        }
        session.add_all(customers.values())
        await session.flush()

        async def order(customer: str, when: datetime, *names: str) -> None:
            placed = Order(customer_id=customers[customer].id, ordered_at=when, amount=Decimal(100))
            session.add(placed)
            await session.flush()
            for name in names:
                item = OrderItem(order_id=placed.id, product_id=products[name].id, description=name)
                session.add(item)

        for name in ("P1", "P2", "P3", "P4"):
            await order(name, datetime(2026, 6, 1, tzinfo=SH), "打印机", "硒鼓")
        for name in ("S1", "S2"):
            await order(name, datetime(2026, 7, 1, tzinfo=SH), "纸")
        await order("客户X", datetime(2026, 3, 10, tzinfo=SH), "打印机")
        await order("客户X", datetime(2026, 9, 10, tzinfo=SH), "打印机")
    return {name: c.id for name, c in customers.items()}


async def test_suggests_what_goes_with_what_they_bought_and_when_they_buy(sessions, baskets):
    assistant = Assistant(sessions)
    reply = await say(assistant, "李娜", f"/推荐 #{baskets['客户X']}")
    assert reply.text.splitlines() == [
        "可以推荐：",
        "• 硒鼓：买过打印机的客户有 67% 也买了它（提升度 1.3）",
        "通常在 3月、9月 下单。",
    ]
    assert reply.private


async def test_in_english_and_only_for_a_customer_in_scope(sessions, baskets):
    assistant = Assistant(sessions)
    await say(assistant, "Tom", "/lang en")
    reply = await say(assistant, "Tom", f"/suggest #{baskets['客户X']}")
    # 李娜's customer: for Tom it does not exist.
    assert reply.text.startswith("I found no customer matching") and "硒鼓" not in reply.text
    lina = await say(assistant, "李娜", "/lang en")
    assert lina.text
    reply = await say(assistant, "李娜", f"/suggest #{baskets['P1']}")
    assert reply.text.splitlines()[1] == "• Nothing yet (no clear pairing with what they bought)."
    assert reply.text.splitlines()[2] == "Usually orders in Jun."
