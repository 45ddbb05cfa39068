"""Imports on a real database: the exports of other CRMs and Chinese spreadsheets, in every
encoding; merging, possible duplicates, rejected rows, scope, re-imports and rollback."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from importfiles import csv_bytes, xlsx_bytes
from sqlalchemy import func
from sqlmodel import col, select

from crm_core.io.activity_import import ActivityImport
from crm_core.io.errors import UnreadableFile
from crm_core.io.headers import Kind, MappingFile
from crm_core.io.importer import ImportOptions, import_file
from crm_core.models import (
    AuditEntry,
    Customer,
    Feedback,
    FeedbackStatus,
    Interaction,
    Order,
    OrderItem,
    PaymentStatus,
    Stage,
)
from crm_core.search import search_customers

SHANGHAI = ZoneInfo("Asia/Shanghai")

CHINESE = [
    ["客户名称", "手机号", "邮箱", "公司", "生日", "地址", "标签", "备注", "负责人"],
    [
        "张伟",
        "138-0013-8000",
        "zhangwei@huaxin.example",
        "华信科技",
        "1982年6月18日",
        "上海市浦东新区",
        "VIP,经销商",
        "老客户",
        "李娜",
    ],
    ["王芳", "13900139000 / 021-6234 5678", "", "恒达贸易", "5月12日", "", "", "", ""],
]


async def customers(sessions) -> list[Customer]:
    async with sessions() as session:
        rows = await session.exec(select(Customer).order_by(col(Customer.id)))
        return list(rows.all())


async def count(sessions, model) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
async def test_chinese_headers_in_every_encoding(sessions, staffing, encoding):
    data = csv_bytes(CHINESE, encoding=encoding)
    report = await import_file(sessions, staffing.manager, data, "客户.csv")
    assert (report.created, report.rejected) == (2, [])
    zhang, wang = await customers(sessions)
    assert zhang.name == "张伟" and zhang.company == "华信科技"
    assert zhang.phones == ["+8613800138000"] and zhang.emails == ["zhangwei@huaxin.example"]
    assert zhang.birthday == date(1982, 6, 18) and zhang.tags == ["VIP", "经销商"]
    assert zhang.notes == "老客户" and zhang.custom_fields == {"地址": "上海市浦东新区"}
    assert zhang.owner_id == staffing.lina.staff_id and zhang.team_id == staffing.lina.team_id
    # Two numbers in one cell; a birthday without a year.
    assert wang.phones == ["+8613900139000", "+862162345678"]
    assert wang.birthday == date(1904, 5, 12) and wang.owner_id == staffing.manager.staff_id
    assert report.tables[0].custom_columns == ["地址"]


async def test_gbk_text_is_not_mistaken_for_latin1_and_back(sessions, staffing):
    latin = csv_bytes([["Name", "Company"], ["José Müller", "Café Zürich"]], encoding="cp1252")
    await import_file(sessions, staffing.admin, latin, "eu.csv")
    gbk = csv_bytes([["姓名", "单位"], ["欧阳娜娜", "东方传媒"]], encoding="gbk")
    await import_file(sessions, staffing.admin, gbk, "cn.csv")
    assert [(c.name, c.company) for c in await customers(sessions)] == [
        ("José Müller", "Café Zürich"),
        ("欧阳娜娜", "东方传媒"),
    ]


HUBSPOT = [
    [
        "Record ID",
        "First Name",
        "Last Name",
        "Email",
        "Phone Number",
        "Company Name",
        "Job Title",
        "Lifecycle Stage",
        "City",
        "State/Region",
        "Create Date",
    ],
    [
        "501",
        "Jane",
        "Smith",
        "Jane.Smith@Acme.example",
        "+1 (415) 555-0132",
        "Acme Corp",
        "CTO",
        "customer",
        "San Francisco",
        "CA",
        "2025-03-04 10:21",
    ],
]
SALESFORCE = [
    [
        "FirstName",
        "LastName",
        "Account.Name",
        "Email",
        "MobilePhone",
        "Title",
        "MailingCity",
        "Birthdate",
        "LeadSource",
        "Description",
    ],
    [
        "Tom",
        "Baker",
        "Globex Ltd",
        "tom@globex.example",
        "+44 20 7946 0958",
        "Buyer",
        "London",
        "1/5/1980",
        "Web",
        "Met at the fair",
    ],
]
ZOHO = [
    [
        "Contact Id",
        "First Name",
        "Last Name",
        "Account Name",
        "Email",
        "Mobile",
        "Secondary Email",
        "Date of Birth",
        "Lead Source",
        "Tag",
    ],
    [
        "zcrm_1",
        "Ana",
        "Lopez",
        "Initech",
        "ana@initech.example",
        "+34 612 345 678",
        "ana.l@mail.example",
        "1990-02-28",
        "Trade Show",
        "partner;SMB",
    ],
]
PIPEDRIVE = [
    [
        "Name",
        "Organization - Name",
        "Email - Work",
        "Email - Home",
        "Phone - Work",
        "Phone - Mobile",
        "Labels",
        "Person created",
    ],
    [
        "Li Lei",
        "Contoso",
        "lilei@contoso.example",
        "",
        "010-6552 1234",
        "13700137000",
        "Hot lead",
        "2024-11-02 09:00:00",
    ],
]


@pytest.mark.parametrize(
    ("rows", "name", "company", "first_phone", "email"),
    [
        (HUBSPOT, "Jane Smith", "Acme Corp", "+14155550132", "jane.smith@acme.example"),
        (SALESFORCE, "Tom Baker", "Globex Ltd", "+442079460958", "tom@globex.example"),
        (ZOHO, "Ana Lopez", "Initech", "+34612345678", "ana@initech.example"),
        (PIPEDRIVE, "Li Lei", "Contoso", "+861065521234", "lilei@contoso.example"),
    ],
    ids=["hubspot", "salesforce", "zoho", "pipedrive"],
)
async def test_other_crms_exports(sessions, staffing, rows, name, company, first_phone, email):
    report = await import_file(sessions, staffing.admin, csv_bytes(rows), "export.csv")
    assert (report.created, report.rejected, report.warnings) == (1, [], [])
    [customer] = await customers(sessions)
    assert (customer.name, customer.company) == (name, company)
    assert customer.phones[0] == first_phone and customer.emails[0] == email


async def test_crm_specific_values(sessions, staffing):
    for rows in (HUBSPOT, SALESFORCE, ZOHO, PIPEDRIVE):
        await import_file(sessions, staffing.admin, csv_bytes(rows), "export.csv")
    jane, tom, ana, lilei = await customers(sessions)
    assert jane.stage == Stage.CUSTOMER and jane.region == "CA" and jane.title == "CTO"
    assert jane.created_at == datetime(2025, 3, 4, 2, 21, tzinfo=ZoneInfo("UTC"))
    assert jane.custom_fields == {"Record ID": "501"}
    assert (
        tom.birthday == date(1980, 1, 5) and tom.source == "Web" and tom.notes == "Met at the fair"
    )
    assert ana.emails == ["ana@initech.example", "ana.l@mail.example"]
    assert ana.tags == ["partner", "SMB"] and ana.custom_fields == {"Contact Id": "zcrm_1"}
    assert lilei.phones == ["+861065521234", "+8613700137000"] and lilei.tags == ["Hot lead"]


async def test_semicolons_tabs_and_day_first(sessions, staffing):
    rows = [["Name", "Phone", "Birthday"], ["Anna Berg", "+46 8 123 456 78", "05/01/1985"]]
    data = csv_bytes(rows, delimiter=";", encoding="utf-8-sig")
    await import_file(
        sessions, staffing.admin, data, "eu.csv", options=ImportOptions(day_first=True)
    )
    tabbed = csv_bytes(
        [["Name", "Phone", "Birthday"], ["Bo Ek", "+46 8 765 432 10", "05/01/1985"]], delimiter="\t"
    )
    await import_file(sessions, staffing.admin, tabbed, "us.tsv")
    anna, bo = await customers(sessions)
    assert anna.birthday == date(1985, 1, 5) and bo.birthday == date(1985, 5, 1)


async def test_xlsx_with_excel_dates_numbers_and_a_title_row(sessions, staffing):
    data = xlsx_bytes(
        {
            "客户": [
                ["2026年客户名单"],
                ["姓名", "手机", "生日", "签约日期", "积分"],
                ["刘洋", 13600136000, datetime(1990, 3, 8), 46027, 1200],
                [],
                ["赵敏", "136 0013 6001", "1991/7/1", 46028, None],
            ]
        },
        number_formats={"D3": "General"},
    )
    report = await import_file(sessions, staffing.manager, data, "名单.xlsx")
    assert report.created == 2 and report.rejected == []
    liu, zhao = await customers(sessions)
    assert liu.phones == ["+8613600136000"] and liu.birthday == date(1990, 3, 8)
    assert liu.custom_fields == {"签约日期": 46027, "积分": 1200}
    assert zhao.birthday == date(1991, 7, 1)


async def test_excel_serial_dates_in_date_columns(sessions, staffing):
    await import_file(sessions, staffing.admin, csv_bytes(CHINESE[:2]), "c.csv")
    data = xlsx_bytes(
        {
            "订单": [
                ["客户", "手机", "金额", "下单日期"],
                ["张伟", "13800138000", "¥1,200.50", 46027],
            ]
        }
    )
    report = await import_file(sessions, staffing.admin, data, "orders.xlsx")
    assert report.by_kind["orders"]["created"] == 1
    async with sessions() as session:
        order = (await session.exec(select(Order))).one()
    assert order.amount == Decimal("1200.50") and order.currency == "CNY"
    # Serial 46027 is 2026-01-05, midnight in the importer's timezone.
    assert order.ordered_at == datetime(2026, 1, 5, tzinfo=SHANGHAI)


async def test_duplicates_by_phone_or_email_are_merged_and_conflicts_kept(sessions, staffing):
    await import_file(sessions, staffing.manager, csv_bytes(CHINESE[:2]), "first.csv")
    rows = [
        ["姓名", "电话", "邮箱", "公司", "城市", "职位"],
        ["张伟", "+86 138 0013 8000", "", "华信集团", "上海", ""],  # same phone: merge
        ["张伟", "", "ZhangWei@huaxin.example", "", "", "采购经理"],  # same e-mail: merge
        ["李雷", "13700137000", "lilei@x.example", "", "", ""],
        ["Li Lei", "", "lilei@x.example", "", "北京", ""],  # same file, same e-mail: merged
    ]
    report = await import_file(sessions, staffing.manager, csv_bytes(rows), "second.csv")
    assert (report.created, report.updated, report.merged, report.rejected) == (1, 2, 1, [])
    zhang, lilei = await customers(sessions)
    assert zhang.city == "上海" and zhang.title == "采购经理" and zhang.company == "华信科技"
    assert [(c.line, c.field, c.kept, c.other) for c in report.conflicts] == [
        (2, "company", "华信科技", "华信集团"),
        (5, "name", "李雷", "Li Lei"),
    ]
    assert lilei.city == "北京" and lilei.phones == ["+8613700137000"]
    async with sessions() as session:
        logged = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "conflict"))
        ).all()
    assert {(e.entity_id, e.after["field"], e.after["other"]) for e in logged} == {
        (zhang.id, "company", "华信集团"),
        (lilei.id, "name", "Li Lei"),
    }


async def test_look_alikes_are_flagged_never_merged(sessions, staffing):
    await import_file(sessions, staffing.admin, csv_bytes(CHINESE[:2]), "first.csv")
    rows = [
        ["Name", "Company", "Email"],
        ["张玮", "华信科技有限公司", ""],  # sounds the same, same company: flagged
        ["Jon Smith", "ACME Corporation", "jon@acme.example"],
        ["John Smith", "Acme Corp", "john@acme.example"],  # near name, same firm: flagged
        ["张伟", "恒达贸易", ""],  # same name, another company: not flagged
    ]
    report = await import_file(sessions, staffing.admin, csv_bytes(rows), "second.csv")
    assert report.created == 4 and report.merged == 0 and report.updated == 0
    flags = [(d.line, d.similar_id, d.similar_line) for d in report.possible_duplicates]
    zhang = (await customers(sessions))[0]
    assert flags == [(2, zhang.id, None), (4, None, 3)]
    assert await count(sessions, Customer) == 5


async def test_every_rejected_row_has_its_line_and_reason(sessions, staffing):
    rows = [
        ["姓名", "手机", "邮箱", "生日", "勿扰"],
        ["甲", "123", "", "", ""],
        ["乙", "", "not-an-email", "", ""],
        ["丙", "", "", "2026-13-45", ""],
        ["", "", "", "", ""],  # blank: skipped, not a row
        ["", "13800138000", "", "", ""],
        ["丁", "", "", "", "maybe"],
        ["戊", "13900139000", "", "", "是"],
    ]
    report = await import_file(sessions, staffing.admin, csv_bytes(rows), "bad.csv")
    assert [(r.line, r.reason, r.params) for r in report.rejected] == [
        (2, "bad_phone", {"value": "123"}),
        (3, "bad_email", {"value": "not-an-email"}),
        (4, "bad_date", {"value": "2026-13-45"}),
        (6, "no_name", {}),
        (7, "bad_flag", {"value": "maybe"}),
    ]
    [wu] = await customers(sessions)
    assert wu.name == "戊" and wu.do_not_contact is True


async def test_reimporting_the_same_file_changes_nothing(sessions, staffing):
    rows = [*CHINESE, ["没有联系方式", "", "", "", "", "", "", "", ""]]
    data = csv_bytes(rows, encoding="gbk")
    first = await import_file(sessions, staffing.manager, data, "c.csv")
    audit_before = await count(sessions, AuditEntry)
    second = await import_file(sessions, staffing.manager, data, "c.csv")
    assert first.created == 3
    assert (second.created, second.updated, second.merged, second.unchanged) == (0, 0, 0, 3)
    assert (
        await count(sessions, Customer) == 3 and await count(sessions, AuditEntry) == audit_before
    )


async def test_a_dry_run_writes_nothing_and_predicts_the_import(sessions, staffing):
    data = csv_bytes(CHINESE)
    dry = await import_file(sessions, staffing.manager, data, "c.csv", dry_run=True)
    assert await count(sessions, Customer) == 0 and await count(sessions, AuditEntry) == 0
    real = await import_file(sessions, staffing.manager, data, "c.csv")
    assert (dry.created, dry.rejected) == (real.created, real.rejected) == (2, [])


async def test_imported_customers_are_searchable_and_audited(sessions, staffing):
    await import_file(sessions, staffing.manager, csv_bytes(CHINESE), "c.csv")
    async with sessions() as session:
        for query in ("zhangwei", "张伟", "8000", "华信", "vip", "恒达"):
            hits = await search_customers(session=session, actor=staffing.manager, query=query)
            assert hits, query
        created = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "create"))
        ).all()
    assert len(created) == 2 and {e.change_id for e in created} == {staffing.manager.request_id}


async def test_scope_rep_imports_for_themself_manager_for_the_team(sessions, staffing):
    rows = [["姓名", "手机", "负责人"], ["甲", "13800000001", "陈明"], ["乙", "13800000002", ""]]
    report = await import_file(sessions, staffing.lina, csv_bytes(rows), "mine.csv")
    assert [(r.line, r.reason) for r in report.rejected] == [(2, "cannot_assign")]
    [yi] = await customers(sessions)
    assert yi.owner_id == staffing.lina.staff_id
    # Tom (another team) has a customer with the same phone: not visible, so not merged.
    other = [["Name", "Phone"], ["Yi", "13800000002"]]
    assert (await import_file(sessions, staffing.tom, csv_bytes(other), "t.csv")).created == 1
    # A manager may assign within the team, not to Tom.
    rows = [["姓名", "手机", "负责人"], ["丙", "13800000003", "陈明"], ["丁", "13800000004", "Tom"]]
    report = await import_file(sessions, staffing.manager, csv_bytes(rows), "team.csv")
    assert report.created == 1 and [r.reason for r in report.rejected] == ["cannot_assign"]


async def test_unknown_owner_is_kept_and_reported(sessions, staffing):
    rows = [["Name", "Contact owner"], ["Jane Smith", "Sarah Connor (sarah@old-crm.example)"]]
    report = await import_file(sessions, staffing.admin, csv_bytes(rows), "hs.csv")
    [jane] = await customers(sessions)
    assert jane.owner_id == staffing.admin.staff_id
    assert jane.custom_fields == {"Contact owner": "Sarah Connor (sarah@old-crm.example)"}
    assert [(w.line, w.reason) for w in report.warnings] == [(2, "owner_unknown")]


async def test_mapping_file_overrides_headers(sessions, staffing):
    rows = [["客户", "号码", "所属行业"], ["周杰", "13800138111", "零售"]]
    mapping = MappingFile.parse({"columns": {"号码": "phones", "所属行业": "custom:industry"}})
    await import_file(
        sessions, staffing.admin, csv_bytes(rows), "m.csv", options=ImportOptions(mapping=mapping)
    )
    [zhou] = await customers(sessions)
    assert zhou.phones == ["+8613800138111"] and zhou.custom_fields == {"industry": "零售"}


async def test_orders_interactions_and_feedback(sessions, staffing):
    await import_file(sessions, staffing.manager, csv_bytes(CHINESE), "c.csv")
    book = xlsx_bytes(
        {
            "订单": [
                ["客户", "手机", "金额", "下单日期", "商品", "账期"],
                ["张伟", "13800138000", "¥1,200", "2026/1/5", "硒鼓 88A ×2 @399\n上门安装服务", ""],
                ["王芳", "", "3.5万", "2026/2/1", "", "30"],
                ["查无此人", "", "100", "2026/2/1", "", ""],
            ],
            "沟通记录": [
                ["客户", "跟进时间", "跟进方式", "跟进内容"],
                ["张伟", "2026-01-06 15:30", "电话", "确认收货"],
                ["王芳", "2026-01-07", "飞鸽传书", "寄了样品"],
            ],
            "反馈": [
                ["客户", "评分", "反馈内容", "日期"],
                ["张伟", "9分", "很满意", "2026-01-08"],
                ["王芳", "", "送货太慢", "2026-01-09"],
                ["王芳", "11", "", "2026-01-09"],
            ],
        }
    )
    dry = await import_file(sessions, staffing.manager, book, "history.xlsx", dry_run=True)
    assert await count(sessions, Order) == 0
    report = await import_file(sessions, staffing.manager, book, "history.xlsx")
    assert dry.by_kind == report.by_kind and dry.rejected == report.rejected
    assert report.by_kind["orders"] == {**report.by_kind["orders"], "created": 2, "rejected": 1}
    assert report.by_kind["interactions"]["created"] == 2
    assert report.by_kind["feedback"]["created"] == 2
    assert [(r.sheet, r.line, r.reason) for r in report.rejected] == [
        ("反馈", 4, "bad_score"),
        ("订单", 4, "customer_not_found"),
    ]
    assert [(w.sheet, w.reason) for w in report.warnings] == [("沟通记录", "unknown_value")]
    async with sessions() as session:
        orders = (await session.exec(select(Order).order_by(col(Order.id)))).all()
        items = (await session.exec(select(OrderItem).order_by(col(OrderItem.id)))).all()
        calls = (await session.exec(select(Interaction).order_by(col(Interaction.id)))).all()
        said = (await session.exec(select(Feedback).order_by(col(Feedback.id)))).all()
        zhang = await session.get(Customer, orders[0].customer_id)
    assert [o.amount for o in orders] == [Decimal("1200.00"), Decimal("35000.00")]
    assert [o.payment_status for o in orders] == [PaymentStatus.PAID, PaymentStatus.UNPAID]
    assert orders[1].due_date == date(2026, 3, 3)
    assert [(i.description, i.quantity, i.unit_price) for i in items] == [
        ("硒鼓 88A", 2, Decimal("399.00")),
        ("上门安装服务", 1, Decimal("0.00")),
    ]
    assert [c.kind for c in calls] == ["call", "note"]
    assert calls[0].occurred_at == datetime(2026, 1, 6, 15, 30, tzinfo=SHANGHAI)
    assert [(f.score, f.status) for f in said] == [
        (9, FeedbackStatus.RESOLVED),
        (None, FeedbackStatus.RESOLVED),
    ]
    assert zhang is not None and zhang.stage == Stage.CUSTOMER
    assert zhang.last_activity_at == datetime(2026, 1, 6, 15, 30, tzinfo=SHANGHAI)
    again = await import_file(sessions, staffing.manager, book, "history.xlsx")
    assert again.created == 0 and await count(sessions, Order) == 2


async def test_a_failing_import_rolls_back_its_batch(sessions, staffing, monkeypatch):
    async def broken(self, drafts):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ActivityImport, "run", broken)
    book = xlsx_bytes(
        {
            "customers": [["Name", "Phone"], ["Jane Smith", "+1 415 555 0132"]],
            "orders": [["customer", "amount"], ["Jane Smith", "99"]],
        }
    )
    with pytest.raises(RuntimeError):
        await import_file(sessions, staffing.admin, book, "both.xlsx")
    assert await count(sessions, Customer) == 0 and await count(sessions, AuditEntry) == 0


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "empty.csv", "import_empty_file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "old.xls", "import_old_excel"),
        (b"PK\x03\x04broken", "broken.xlsx", "import_bad_xlsx"),
    ],
)
async def test_unreadable_files_say_why(sessions, staffing, data, name, code):
    with pytest.raises(UnreadableFile) as caught:
        await import_file(sessions, staffing.admin, data, name)
    assert caught.value.code == code


async def test_kind_can_be_forced(sessions, staffing):
    rows = [["姓名", "金额"], ["张三", "100"]]  # looks like orders by its headers
    report = await import_file(
        sessions,
        staffing.admin,
        csv_bytes(rows),
        "c.csv",
        options=ImportOptions(kind=Kind.CUSTOMERS),
    )
    assert report.created == 1
    [zhang] = await customers(sessions)
    assert zhang.custom_fields == {"金额": "100"}


async def test_a_dry_run_finds_customers_created_earlier_in_the_same_workbook(sessions, staffing):
    book = xlsx_bytes(
        {
            "orders": [
                ["customer", "customer_phone", "amount"],
                ["Jane Smith", "+1 415 555 0132", "99"],
            ],
            "customers": [["Name", "Phone"], ["Jane Smith", "+1 415 555 0132"]],
        }
    )
    dry = await import_file(sessions, staffing.admin, book, "both.xlsx", dry_run=True)
    assert dry.by_kind["customers"]["created"] == dry.by_kind["orders"]["created"] == 1
    assert await count(sessions, Customer) == 0 and await count(sessions, AuditEntry) == 0
