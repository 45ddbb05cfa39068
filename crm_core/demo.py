"""Realistic demo data: two teams, their staff, and two years of customer history.

Everything comes from one `random.Random(seed)`, so a seed always gives the same data.
Rows are built as plain dicts and bulk-inserted with SQLAlchemy Core, a batch of customers
(with all their orders, interactions, feedback, reminders and search keys) per transaction:
building ORM objects costs about 0.2 ms each, which alone would take minutes at 100k customers.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from crm_core.clock import as_utc, utcnow
from crm_core.customers import name_pinyin
from crm_core.models import (
    Channel,
    Customer,
    CustomerSearchKey,
    DeliveryState,
    Feedback,
    FeedbackKind,
    FeedbackStatus,
    Interaction,
    InteractionKind,
    Order,
    OrderItem,
    PaymentStatus,
    Product,
    Reminder,
    ReminderSource,
    ReminderStatus,
    Role,
    Staff,
    StaffIdentity,
    Stage,
    Team,
)
from crm_core.normalize import normalize_phone
from crm_core.search_keys import search_keys

Row = dict[str, Any]
Staffing = dict[str, tuple[int, int | None]]  # staff name -> (id, team id)

BATCH = 1000  # customers per transaction: ~30k rows, short enough not to starve other writers
WINDOW = timedelta(days=730)
SHANGHAI = timedelta(hours=8)  # both teams work in Asia/Shanghai, which has no DST
MIDNIGHT_UTC = time(tzinfo=UTC)

TEAMS = [("华东销售", "zh"), ("Global Accounts", "en")]
# name, role, team, language, e-mail
STAFF = [
    ("Admin", Role.ADMIN, None, "en", "admin@example.com"),
    ("王经理", Role.MANAGER, "华东销售", "zh", "wang@example.com"),
    ("Emma Li", Role.MANAGER, "Global Accounts", "en", "emma.li@example.com"),
    ("李娜", Role.REP, "华东销售", "zh", "lina@example.com"),
    ("陈明", Role.REP, "华东销售", "zh", "chenming@example.com"),
    ("Tom Wu", Role.REP, "Global Accounts", "en", "tom.wu@example.com"),
]
ZH_REPS, EN_REP = ("李娜", "陈明"), "Tom Wu"

FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国文红梅玲飞鑫波宇浩凯婷雪"
FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Susan "
    "Richard Jessica Daniel Sarah Thomas Karen Emily Chris Olivia Noah Liam Sophia Lucas Grace"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Wilson Anderson Taylor Moore Martin "
    "Lee Clark Walker Hall Young King Wright Scott Green Baker Adams Nelson Chen Wong Tan"
).split()
ZH_FIRMS = "华信 恒达 新锐 金桥 东方 瑞丰 博远 天成 远航 锦程 中科 万通 嘉禾 美佳 绿源".split()
ZH_TRADES = "科技 贸易 传媒 物流 建材 食品 教育 医疗 电子 装饰".split()
EN_FIRMS = "Acme Northwind Globex Initech Contoso Fabrikam Redwood Summit Pioneer Atlas".split()
EN_TRADES = "Corp Traders Ltd Logistics Partners Foods Media Systems Group".split()
ZH_CITIES = [
    ("上海", "上海", 5),
    ("杭州", "浙江", 2),
    ("南京", "江苏", 2),
    ("苏州", "江苏", 2),
    ("北京", "北京", 2),
    ("深圳", "广东", 1),
    ("广州", "广东", 1),
    ("成都", "四川", 1),
]
# city, region, dialling prefix; seven digits complete each number
EN_CITIES = [
    ("New York", "NY", "+1 212"),
    ("San Francisco", "CA", "+1 415"),
    ("Chicago", "IL", "+1 312"),
    ("Boston", "MA", "+1 617"),
    ("Singapore", "Singapore", "+65 6"),
    ("London", "England", "+44 20 7"),
]
MOBILE = [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190)]


@dataclass(frozen=True)
class Lang:
    """Everything about a customer that depends on their language."""

    code: str
    currency: str
    titles: tuple[str | None, ...]
    times: tuple[str | None, ...]
    sources: tuple[str, ...]
    channels: tuple[str, ...]
    payments: tuple[str, ...]
    hobbies: tuple[str, ...]
    tags: tuple[str, ...]
    mail_hosts: tuple[str, ...]
    talk: dict[InteractionKind, tuple[str, ...]]
    outcomes: tuple[str, ...]
    praise: tuple[str, ...]  # what promoters (NPS 9-10) write
    meh: tuple[str, ...]  # passives (7-8)
    gripes: tuple[str, ...]  # detractors (0-6)
    complaints: tuple[tuple[FeedbackKind, str, str], ...]  # kind, text, resolution
    followups: tuple[str, ...]


ZH = Lang(
    code="zh",
    currency="CNY",
    titles=("采购经理", "总经理", "行政主管", "IT主管", "财务经理", None),
    times=("上午", "下午", "工作日晚上", None),
    sources=("referral", "展会", "官网", "cold call"),
    channels=("wechat", "wechat", "phone", "sms", "email"),
    payments=("银行转账", "银行转账", "支付宝", "微信支付"),
    hobbies=("高尔夫", "茶", "钓鱼", "跑步", "摄影", "书法", "羽毛球"),
    tags=("经销商", "重点客户", "政府采购"),
    mail_hosts=("example.com", "example.net"),
    talk={
        InteractionKind.CALL: (
            "电话沟通新报价,客户比较满意",
            "电话回访,确认上次订单已收货",
            "客户来电咨询耗材价格",
            "电话跟进付款进度,答应本周安排",
            "打电话没人接,稍后再联系",
            "电话介绍年终促销活动",
        ),
        InteractionKind.VISIT: (
            "上门拜访,了解设备使用情况",
            "拜访采购部,带了新品样品",
            "现场检查打印机故障,已解决",
        ),
        InteractionKind.MEETING: (
            "开会讨论明年采购计划",
            "线上演示云办公套件,客户很感兴趣",
            "和总经理见面,谈了年度框架协议",
        ),
        InteractionKind.EMAIL: ("发送了新报价单和产品目录", "邮件确认发货时间", "发送发票和对账单"),
        InteractionKind.MESSAGE: (
            "微信发了新品介绍,客户说稍后看看",
            "微信确认送货地址",
            "客户微信询问维保合同续约",
        ),
        InteractionKind.NOTE: (
            "客户预算紧张,下季度再谈",
            "竞争对手报价低10%,需要申请特价",
            "客户决策人换了,需要重新建立关系",
        ),
    },
    outcomes=("有意向", "待报价", "已成交", "暂无需求"),
    praise=("服务很及时,会推荐给朋友", "产品质量稳定,价格合理"),
    meh=("整体还可以,送货有点慢",),
    gripes=("售后响应太慢", "价格比别家贵"),
    complaints=(
        (FeedbackKind.COMPLAINT, "送货延迟了一周", "已道歉并补偿运费"),
        (FeedbackKind.COMPLAINT, "发票抬头开错了", "已重开发票"),
        (FeedbackKind.COMPLAINT, "打印机频繁卡纸", "已上门维修"),
        (FeedbackKind.RETURN, "硒鼓型号不对,申请退货", "已退款"),
        (FeedbackKind.RETURN, "椅子颜色与订单不符", "已换货"),
        (FeedbackKind.SUPPORT, "软件激活不了", "远程协助已激活"),
    ),
    followups=("跟进报价", "回访满意度", "确认付款到账", "邀请参加新品发布会", "续约年度维保合同"),
)
EN = Lang(
    code="en",
    currency="USD",
    titles=("Procurement Manager", "CEO", "Office Manager", "IT Director", None),
    times=("mornings", "afternoons", "after 5pm", None),
    sources=("referral", "LinkedIn", "website", "cold call"),
    channels=("email", "email", "phone", "sms"),
    payments=("credit card", "credit card", "invoice"),
    hobbies=("golf", "tennis", "wine", "hiking", "photography"),
    tags=("enterprise", "SMB", "partner"),
    mail_hosts=("example.com", "example.org"),
    talk={
        InteractionKind.CALL: (
            "Demo of the new plan, asked for a 10% discount",
            "Called to confirm delivery of the last order",
            "Follow-up on the quote, they are comparing vendors",
            "Left a voicemail, will try again Thursday",
        ),
        InteractionKind.VISIT: (
            "Visited their office, checked the printer fleet",
            "On-site visit with samples of the new models",
        ),
        InteractionKind.MEETING: (
            "Quarterly business review with procurement",
            "Video call on the subscription options",
        ),
        InteractionKind.EMAIL: (
            "Sent the updated quote and catalogue",
            "Emailed invoice and statement",
        ),
        InteractionKind.MESSAGE: (
            "Texted the tracking number",
            "Quick message about the holiday promotion",
        ),
        InteractionKind.NOTE: (
            "Budget frozen until next quarter",
            "Competitor is 10% cheaper, may need special pricing",
        ),
    },
    outcomes=("interested", "needs quote", "closed", "no need now"),
    praise=("Great service, would recommend", "Reliable products and fast delivery"),
    meh=("Good overall, delivery could be faster",),
    gripes=("Support is slow to respond", "Prices are higher than competitors"),
    complaints=(
        (FeedbackKind.COMPLAINT, "Delivery was a week late", "Refunded the shipping"),
        (FeedbackKind.COMPLAINT, "Invoice had the wrong company name", "Reissued it"),
        (FeedbackKind.RETURN, "Wrong toner model, returning it", "Refunded"),
        (FeedbackKind.SUPPORT, "Cannot activate the licence", "Activated remotely"),
    ),
    followups=(
        "Follow up on the quote",
        "Check satisfaction after delivery",
        "Confirm payment received",
        "Invite to the product launch",
        "Renew the maintenance contract",
    ),
)
KIND_WEIGHTS = {
    InteractionKind.CALL: 30,
    InteractionKind.MESSAGE: 20,
    InteractionKind.EMAIL: 15,
    InteractionKind.MEETING: 10,
    InteractionKind.VISIT: 10,
    InteractionKind.NOTE: 15,
}
KIND_CHANNEL = {
    InteractionKind.CALL: "phone",
    InteractionKind.VISIT: "in_person",
    InteractionKind.MEETING: "in_person",
    InteractionKind.EMAIL: "email",
}

# name, category, price in CNY, usual quantity range
PRODUCTS = [
    ("激光打印机 LaserJet Pro", "办公设备", 2999, 1, 3),
    ("多功能一体机 MFP-5200", "办公设备", 8999, 1, 2),
    ("投影仪 P800", "办公设备", 4599, 1, 2),
    ("会议平板 86寸", "办公设备", 15999, 1, 1),
    ("A4 复印纸 (5包)", "耗材", 129, 5, 50),
    ("硒鼓 88A", "耗材", 399, 2, 20),
    ("墨盒套装", "耗材", 259, 2, 20),
    ("云办公套件 年度订阅/席位", "软件订阅", 480, 5, 60),
    ("CRM 专业版 年度订阅/席位", "软件订阅", 1200, 3, 30),
    ("杀毒软件 企业版/席位", "软件订阅", 180, 10, 100),
    ("上门安装服务", "Services", 500, 1, 1),
    ("年度维保合同", "Services", 6800, 1, 1),
    ("员工培训(半天)", "Services", 3000, 1, 2),
    ("人体工学椅", "办公家具", 1899, 2, 20),
    ("升降办公桌", "办公家具", 2599, 1, 10),
]
USD_RATE = Decimal("7.2")
DISCOUNTS = (Decimal("1"), Decimal("0.95"), Decimal("0.9"))
# Seasonality: how much more often than usual people order in each month.
SEASON_ZH = (0, 1.4, 0.5, 1.0, 1.0, 0.9, 0.8, 0.6, 0.6, 1.0, 1.0, 1.5, 1.6)  # 春节 stock-up in Jan
SEASON_EN = (0, 0.8, 0.6, 1.0, 1.0, 0.9, 0.8, 0.6, 0.6, 1.1, 1.1, 1.5, 1.7)
# rhythm, share of customers, days between orders (None: never bought)
RHYTHMS = [
    ("lead", 14, None),
    ("prospect", 14, None),
    ("monthly", 12, 30),
    ("quarterly", 25, 91),
    ("occasional", 20, 200),
    ("lapsed", 15, 45),
]


@dataclass
class DemoSummary:
    """How many rows of each kind the demo loaded."""

    teams: int = 0
    staff: int = 0
    customers: int = 0
    orders: int = 0
    interactions: int = 0
    feedback: int = 0
    reminders: int = 0
    products: int = 0
    order_items: int = 0
    search_keys: int = 0


@dataclass(frozen=True)
class _Product:
    id: int
    name: str
    qty: tuple[int, int]
    prices: dict[tuple[str, Decimal], Decimal]  # (currency, discount) -> unit price


@dataclass
class _KeySource:
    """The fields search_keys() reads; a stand-in for a Customer, which is slow to build."""

    name: str
    company: str | None
    tags: list[str]
    emails: list[str]
    phones: list[str]
    wechat_id: str | None


# One transaction's worth of rows per table, in foreign-key order.
Batch = dict[type[SQLModel], list[Row]]


def _empty_batch() -> Batch:
    return {
        m: []
        for m in (Customer, CustomerSearchKey, Order, OrderItem, Interaction, Feedback, Reminder)
    }


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


class _Builder:
    """Generates the rows for customers one by one, with every choice from one rng."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        staff: Staffing,
        products: list[_Product],
        first_customer_id: int,
        first_order_id: int,
    ) -> None:
        self.rng, self.now, self.start = rng, now, now - WINDOW
        self.today = (now + SHANGHAI).date()  # in the teams' timezone
        self.staff, self.products = staff, products
        self.customer_id, self.order_id = first_customer_id, first_order_id
        self.zh_firms = [f + t for f in ZH_FIRMS for t in ZH_TRADES]
        self.en_firms = [f"{f} {t}" for f in EN_FIRMS for t in EN_TRADES]
        self.pinyin: dict[str, str] = {}  # names repeat a lot, and pypinyin is slow
        self.domains = {c: f"{name_pinyin(c)}.example" for c in self.zh_firms + self.en_firms}
        self.domains |= {"华信科技": "huaxin.example", "Acme Corp": "acme.example"}
        # Shanghai month starts from before the window to after now, for seasonal time.
        local = self.start + SHANGHAI
        year, month = local.year, local.month
        self.months: list[tuple[datetime, int]] = []
        while len(self.months) < 28:
            self.months.append((datetime(year, month, 1, tzinfo=UTC) - SHANGHAI, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        self.month_starts = [m[0] for m in self.months]

    def _pinyin(self, name: str) -> str:
        if (known := self.pinyin.get(name)) is None:
            known = self.pinyin[name] = name_pinyin(name)
        return known

    # -- time ------------------------------------------------------------------------------
    def _office_hours(self, day: date) -> datetime:
        """A moment between 9:00 and 18:00 Shanghai time on `day`."""
        return datetime.combine(day, MIDNIGHT_UTC) + timedelta(
            seconds=self.rng.randrange(3600, 36000)
        )

    def _workday(self, t: datetime) -> datetime:
        """`t` moved into office hours, mostly off weekends, and never after now."""
        day = (t + SHANGHAI).date()
        if day.weekday() >= 5 and self.rng.random() < 0.85:
            day -= timedelta(days=day.weekday() - 4)
        at = self._office_hours(day)
        return at if at < self.now else self.now - timedelta(seconds=self.rng.randrange(60, 7200))

    # -- customers -------------------------------------------------------------------------
    def _person(self, index: int) -> tuple[Row, Lang]:
        """Name, company and contact details; the first two customers are fixed for tests."""
        rng = self.rng
        if index == 0:
            return {
                "name": "张伟",
                "company": "华信科技",
                "phones": ["13800138000"],
                "emails": ["zhangwei@huaxin.example"],
                "city": "上海",
                "region": "上海",
                "wechat_id": "zhangwei_hx",
                "birthday": date(1982, 6, 18),
            }, ZH
        if index == 1:
            return {
                "name": "Jane Smith",
                "company": "Acme Corp",
                "phones": ["+1 415 555 0132"],
                "emails": ["jane.smith@acme.example"],
                "city": "San Francisco",
                "region": "CA",
                "wechat_id": None,
                "birthday": None,
            }, EN
        if rng.random() < 0.7:
            given = rng.choices(GIVEN, k=2 if rng.random() < 0.6 else 1)
            name = rng.choice(FAMILY) + "".join(given)
            handle = self._pinyin(name)
            city, region, _ = rng.choices(ZH_CITIES, [c[2] for c in ZH_CITIES])[0]
            phone = f"{rng.choice(MOBILE)}{rng.randrange(10**8):08d}"
            firms, lang = (self.zh_firms if rng.random() < 0.9 else self.en_firms), ZH
            wechat = f"wx_{handle}{rng.randrange(10, 9999)}" if rng.random() < 0.6 else None
        else:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name, handle = f"{first} {last}", f"{first}.{last}".lower()
            city, region, prefix = rng.choice(EN_CITIES)
            phone = f"{prefix} {rng.randrange(2_000_000, 10**7)}"  # no leading 0/1 locally
            firms, lang, wechat = self.en_firms, EN, None
        company = rng.choice(firms) if rng.random() < 0.8 else None
        host = self.domains[company] if company else rng.choice(lang.mail_hosts)
        email = f"{handle}@{host}" if company else f"{handle}{rng.randrange(1, 999)}@{host}"
        birthday = (
            date(1960, 1, 1) + timedelta(days=rng.randrange(14600)) if rng.random() < 0.5 else None
        )
        return {
            "name": name,
            "company": company,
            "phones": [phone],
            "emails": [email],
            "city": city,
            "region": region,
            "wechat_id": wechat,
            "birthday": birthday,
        }, lang

    def _customer(self, index: int, lang: Lang, person: Row, owner: str) -> Row:
        rng = self.rng
        phone = normalize_phone(person["phones"][0], "CN")
        hobbies = rng.sample(lang.hobbies, rng.choice((0, 0, 1, 2)))
        anniversary = (
            date(2010, 1, 1) + timedelta(days=rng.randrange(5000)) if rng.random() < 0.08 else None
        )
        return person | {
            "id": self.customer_id,
            "name_pinyin": self._pinyin(person["name"]),
            "title": rng.choice(lang.titles),
            "phones": [phone] if phone else [],
            "preferred_channel": rng.choice(lang.channels),
            "preferred_contact_time": rng.choice(lang.times),
            "language": lang.code,
            "source": rng.choice(lang.sources),
            "anniversary": anniversary,
            "hobbies": hobbies,
            "owner_id": self.staff[owner][0],
            "team_id": self.staff[owner][1],
            "do_not_contact": index > 1 and rng.random() < 0.02,
            "custom_fields": {},
        }

    def _order_times(self, rhythm: str, period: int | None, lang: Lang) -> list[datetime]:
        """Order dates by rhythm; gaps shrink in busy months, so busy months get more orders."""
        if period is None:
            return []
        rng, season = self.rng, SEASON_ZH if lang is ZH else SEASON_EN
        end = self.now
        if rhythm == "lapsed":  # bought regularly, then stopped: material for win-back
            period, end = rng.randrange(30, 61), self.now - timedelta(days=rng.randrange(120, 500))
        old = rng.random() < 0.5  # half were customers before the window opened
        t = self._advance(self.start, rng.uniform(0, period if old else 600), season)
        times: list[datetime] = []
        while t < end and len(times) < 30:
            times.append(self._workday(t))
            t = self._advance(t, period * rng.uniform(0.75, 1.25), season)
        return times or [self._workday(min(t, end))]

    def _advance(self, t: datetime, days: float, season: tuple[float, ...]) -> datetime:
        """`days` of ordinary buying time after `t`: time runs faster in busy months.

        Orders evenly spaced on this clock land more often in busy months, in proportion
        to the month's factor, while each customer keeps their own rhythm.
        """
        i = bisect_right(self.month_starts, t) - 1
        while i + 1 < len(self.months):
            factor = season[self.months[i][1]]
            room = (self.months[i + 1][0] - t).total_seconds() / 86400 * factor
            if days <= room:
                return t + timedelta(days=days / factor)
            days, t, i = days - room, self.months[i + 1][0], i + 1
        return t + timedelta(days=days)

    # -- orders ----------------------------------------------------------------------------
    def _orders(self, batch: Batch, customer: Row, lang: Lang, times: list[datetime]) -> None:
        rng = self.rng
        favourites = rng.sample(self.products, rng.randrange(2, 5))
        discount = DISCOUNTS[0] if rng.random() < 0.6 else rng.choice(DISCOUNTS[1:])
        credit = rng.choice((30, 60)) if rng.random() < 0.3 else None
        methods = ("invoice",) if credit and lang is EN else lang.payments
        for t in times:
            amount = Decimal(0)
            lines = min(len(favourites), rng.choice((1, 1, 1, 2, 3)))
            for product in rng.sample(favourites, lines):
                qty = rng.randint(*product.qty)
                price = product.prices[lang.currency, discount]
                amount += price * qty
                batch[OrderItem].append(
                    {
                        "order_id": self.order_id,
                        "product_id": product.id,
                        "description": product.name,
                        "quantity": qty,
                        "unit_price": price,
                    }
                )
            batch[Order].append(
                {
                    "id": self.order_id,
                    "customer_id": customer["id"],
                    "staff_id": customer["owner_id"],
                    "ordered_at": t,
                    "amount": amount,
                    "currency": lang.currency,
                    "payment_method": rng.choice(methods),
                    "created_at": t,
                    **self._payment(t, credit),
                }
            )
            self.order_id += 1

    def _payment(self, ordered: datetime, credit: int | None) -> Row:
        """Paid on the spot, or on credit terms; a few credit orders end up overdue."""
        rng, status = self.rng, PaymentStatus.PAID
        due = (ordered + SHANGHAI).date() + timedelta(days=credit) if credit else None
        paid: datetime | None = ordered + timedelta(hours=rng.uniform(0.1, 48))
        if credit:
            paid = ordered + timedelta(days=rng.uniform(credit * 0.5, credit + 10))
            if rng.random() < 0.06:
                paid = None
        if rng.random() < 0.01:
            status, paid = PaymentStatus.CANCELLED, None
        elif paid is None or paid > self.now:
            overdue = due is not None and due < self.today
            status, paid = (PaymentStatus.OVERDUE if overdue else PaymentStatus.UNPAID), None
        return {"credit_days": credit, "due_date": due, "payment_status": status, "paid_at": paid}

    # -- conversations, feedback, reminders ------------------------------------------------
    def _interactions(self, batch: Batch, customer: Row, lang: Lang, n: int) -> datetime | None:
        """`n` touches since the customer was created, denser recently; returns the last."""
        rng, kinds = self.rng, list(KIND_WEIGHTS)
        lo = max(customer["created_at"], self.start)
        span, last = (self.now - lo).total_seconds(), None
        for kind in rng.choices(kinds, list(KIND_WEIGHTS.values()), k=n):
            at = self._workday(self.now - timedelta(seconds=span * rng.random() ** 1.6))
            at = max(at, lo)  # the move into office hours may go back past the first contact
            last = at if last is None or at > last else last
            channel = KIND_CHANNEL.get(kind)
            if kind is InteractionKind.MESSAGE:
                channel = "wechat" if lang is ZH else "sms"
            batch[Interaction].append(
                {
                    "customer_id": customer["id"],
                    "staff_id": customer["owner_id"],
                    "kind": kind,
                    "channel": channel,
                    "occurred_at": at,
                    "summary": rng.choice(lang.talk[kind]),
                    "created_at": at,
                    "outcome": rng.choice(lang.outcomes) if rng.random() < 0.4 else None,
                }
            )
        return last

    def _feedback(self, batch: Batch, customer: Row, lang: Lang, since: datetime) -> None:
        """NPS scores and reviews from some buyers; a few complaints, returns, support cases.

        Only detractors and complaints stay open for someone to act on; a complaint is
        resolved days later, or is still open when it has no resolution yet.
        """
        rng, rows = self.rng, batch[Feedback]
        span = (self.now - since).total_seconds()

        def add(kind: FeedbackKind, score: int | None, said: str, fix: str | None) -> None:
            at = since + timedelta(seconds=span * rng.random())
            done: datetime | None = at  # praise needs no action: closed when received
            if fix or score is None or score <= 6:
                done = at + timedelta(days=rng.uniform(0.5, 10)) if fix else None
            status = (
                FeedbackStatus.RESOLVED
                if done and done < self.now
                else (FeedbackStatus.IN_PROGRESS if fix else FeedbackStatus.OPEN)
            )
            resolved = status is FeedbackStatus.RESOLVED
            rows.append(
                {
                    "customer_id": customer["id"],
                    "staff_id": customer["owner_id"],
                    "kind": kind,
                    "score": score,
                    "text": said,
                    "status": status,
                    "resolution": fix if resolved else None,
                    "resolved_at": done if resolved else None,
                    "created_at": at,
                }
            )

        for kind, chance in ((FeedbackKind.NPS, 0.3), (FeedbackKind.REVIEW, 0.12)):
            if rng.random() < chance:
                score = rng.choices((10, 9, 8, 7, 6, 5, 3, 0), (25, 25, 15, 15, 8, 6, 4, 2))[0]
                texts = lang.praise if score >= 9 else lang.meh if score >= 7 else lang.gripes
                add(kind, score, rng.choice(texts), None)
        if rng.random() < 0.08:
            kind, complaint, fix = rng.choice(lang.complaints)
            add(kind, None, complaint, fix if rng.random() < 0.8 else None)

    def _reminder(self, batch: Batch, customer: Row, lang: Lang) -> None:
        """An open follow-up: overdue, due today (Shanghai), or due in the next days."""
        rng, today = self.rng, self.today
        roll = rng.random()
        if roll < 0.3:
            due = self.now - timedelta(hours=rng.uniform(1, 14 * 24))
        else:
            days = 0 if roll < 0.55 else rng.randint(1, 10)
            due = self._office_hours(today + timedelta(days=days))
        batch[Reminder].append(
            {
                "owner_id": customer["owner_id"],
                "customer_id": customer["id"],
                "due_at": due,
                "kind": "followup",
                "text": rng.choice(lang.followups),
                "status": ReminderStatus.OPEN,
                "source": ReminderSource.MANUAL,
                "delivery": DeliveryState.PENDING,
                "attempts": 0,
                "created_by": customer["owner_id"],
                "created_at": max(
                    customer["created_at"], min(due, self.now) - timedelta(days=rng.uniform(0, 7))
                ),
            }
        )

    # -- one customer, everything --------------------------------------------------------
    def add_customer(self, batch: Batch, index: int) -> None:
        rng = self.rng
        person, lang = self._person(index)
        owner = EN_REP if lang is EN or rng.random() < 0.1 else rng.choice(ZH_REPS)
        if index == 0:
            owner = ZH_REPS[0]
        rhythm, _, period = rng.choices(RHYTHMS, [r[1] for r in RHYTHMS])[0]
        if index < 2:
            rhythm, period = ("monthly", 30) if index == 0 else ("quarterly", 91)
        customer = self._customer(index, lang, person, owner)
        times = self._order_times(rhythm, period, lang)
        if times:
            created = times[0] - timedelta(days=rng.uniform(7, 90))
        else:
            created = self.now - timedelta(days=rng.uniform(2, 120 if rhythm == "lead" else 400))
        customer["created_at"] = created
        stage = {"lead": Stage.LEAD, "prospect": Stage.PROSPECT}.get(rhythm, Stage.CUSTOMER)
        if rhythm == "lapsed" and times[-1] < self.now - timedelta(days=270) and rng.random() < 0.7:
            stage = Stage.CHURNED
        customer["stage"] = stage
        tags = [t for t in ("VIP",) if index == 0 or (rhythm == "monthly" and rng.random() < 0.4)]
        if rng.random() < 0.25:
            tags.append(rng.choice(lang.tags))
        if created > self.now - timedelta(days=90) and lang is ZH:
            tags.append("新客")
        customer["tags"] = tags

        self._orders(batch, customer, lang, times)
        n = min(20, len(times) // 2 + rng.randint(2, 6)) if times else rng.randint(1, 8)
        last = self._interactions(batch, customer, lang, n)
        if times:
            self._feedback(batch, customer, lang, times[0])
        if not customer["do_not_contact"] and stage is not Stage.CHURNED and rng.random() < 0.12:
            self._reminder(batch, customer, lang)
        activity = max(t for t in (last, *times[-1:]) if t is not None)
        customer["last_activity_at"] = activity
        customer["last_contact_at"] = last
        customer["updated_at"] = max(activity, created)
        batch[Customer].append(customer)
        source = _KeySource(
            customer["name"],
            customer["company"],
            tags,
            customer["emails"],
            customer["phones"],
            customer["wechat_id"],
        )
        # Sorted: set order varies with PYTHONHASHSEED, and the rows should not.
        batch[CustomerSearchKey].extend(
            {"customer_id": customer["id"], "kind": kind, "key": key}
            for kind, key in sorted(search_keys(cast(Customer, source)))
        )
        self.customer_id += 1


async def _insert_one(conn: AsyncConnection, model: type[SQLModel], row: Row) -> int:
    table = _table(model)
    return int((await conn.execute(insert(table).values(row).returning(table.c.id))).scalar_one())


async def _load_reference(conn: AsyncConnection, now: datetime) -> tuple[Staffing, list[_Product]]:
    """Teams, staff with console identities, and products. Returns staff name -> (id, team)."""
    teams = {
        name: await _insert_one(
            conn,
            Team,
            {
                "name": name,
                "timezone": "Asia/Shanghai",
                "language": lang,
                "digest_channel": None,
                "digest_time": "09:00",
                "care_policy": {},
            },
        )
        for name, lang in TEAMS
    }
    staff: Staffing = {}
    for name, role, team, lang, email in STAFF:
        team_id = teams[team] if team else None
        staff_id = await _insert_one(
            conn,
            Staff,
            {
                "name": name,
                "role": role,
                "team_id": team_id,
                "language": lang,
                "timezone": "Asia/Shanghai",
                "email": email,
                "active": True,
                "created_at": now,
            },
        )
        await _insert_one(
            conn,
            StaffIdentity,
            {"staff_id": staff_id, "channel": Channel.CONSOLE, "external_id": name},
        )
        staff[name] = (staff_id, team_id)
    products = []
    for n, (name, category, price, low, high) in enumerate(PRODUCTS, 1):
        cny = Decimal(price)
        product_id = await _insert_one(
            conn,
            Product,
            {
                "sku": f"DEMO-{n:03d}",
                "name": name,
                "category": category,
                "price": cny,
                "currency": "CNY",
            },
        )
        prices = {
            (cur, d): (cny * d / rate).quantize(Decimal("0.01"))
            for d in DISCOUNTS
            for cur, rate in (("CNY", 1), ("USD", USD_RATE))
        }
        products.append(_Product(product_id, name, (low, high), prices))
    return staff, products


async def _next_id(conn: AsyncConnection, model: type[SQLModel]) -> int:
    current = (await conn.execute(select(func.max(_table(model).c.id)))).scalar()
    return int(current or 0) + 1


async def _advance_sequences(engine: AsyncEngine) -> None:
    """We chose customer and order ids ourselves; PostgreSQL's sequences must catch up."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.begin() as conn:
        for name in ("customer", "customer_order"):
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                )
            )


async def _write(engine: AsyncEngine, batch: Batch) -> None:
    """One transaction per batch; columns that are always NULL are left out of the rows,
    which saves SQLAlchemy a bind-processor call per value."""
    async with engine.begin() as conn:
        for model, rows in batch.items():
            if rows:
                await conn.execute(insert(_table(model)), rows)


def _count(summary: DemoSummary, batch: Batch) -> None:
    summary.customers += len(batch[Customer])
    summary.orders += len(batch[Order])
    summary.order_items += len(batch[OrderItem])
    summary.interactions += len(batch[Interaction])
    summary.feedback += len(batch[Feedback])
    summary.reminders += len(batch[Reminder])
    summary.search_keys += len(batch[CustomerSearchKey])


async def load_demo(
    engine: AsyncEngine, *, customers: int = 300, seed: int = 7, now: datetime | None = None
) -> DemoSummary:
    """Load teams, staff, products and `customers` customers with two years of history."""
    now = as_utc(now or utcnow())  # the date arithmetic below assumes UTC
    rng = random.Random(seed)
    async with engine.begin() as conn:
        staff, products = await _load_reference(conn, now)
        # Customer and order ids are assigned here so that child rows can point at them
        # without a round trip per row (RETURNING over executemany is 10x slower on SQLite).
        first_customer, first_order = await _next_id(conn, Customer), await _next_id(conn, Order)
    summary = DemoSummary(teams=len(TEAMS), staff=len(STAFF), products=len(products))
    builder = _Builder(rng, now, staff, products, first_customer, first_order)
    for begin in range(0, customers, BATCH):
        batch = _empty_batch()
        for index in range(begin, min(begin + BATCH, customers)):
            builder.add_customer(batch, index)
        await _write(engine, batch)
        _count(summary, batch)
    await _advance_sequences(engine)
    return summary
