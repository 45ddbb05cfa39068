"""Importing a file sent in chat: a dry-run report with Import / Cancel buttons, in the
sender's language; the kept file imports once; reps are refused politely."""

from __future__ import annotations

import itertools

import pytest
from importfiles import csv_bytes, xlsx_bytes
from sqlalchemy import func
from sqlmodel import select

from bot.app import Assistant
from bot.events import Attachment, Incoming, Reply
from crm_core.models import Customer, ImportJob, ImportStatus

_ids = itertools.count(1)
ROWS = [
    ["姓名", "手机", "公司"],
    ["张伟", "13800138000", "华信科技"],
    ["张伟", "138 0013 8000", ""],
    ["坏号码", "123", ""],
]


class FakeFetcher:
    """Stands in for a front door's downloader: file id -> bytes."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.fetched: list[str] = []

    async def fetch(self, attachment: Attachment) -> bytes:
        self.fetched.append(attachment.file_id)
        return self.files[attachment.file_id]


@pytest.fixture
def fetcher() -> FakeFetcher:
    return FakeFetcher(
        {
            "csv-1": csv_bytes(ROWS, encoding="gbk"),
            "xlsx-1": xlsx_bytes(
                {"Contacts": [["Name", "Email"], ["Jane Smith", "jane@acme.example"]]}
            ),
        }
    )


@pytest.fixture
def assistant(sessions, fetcher) -> Assistant:
    assistant = Assistant(sessions)
    assistant.register_fetcher("telegram", fetcher)
    return assistant


async def send_file(
    assistant: Assistant, who: str, file_id: str, name: str, **extra
) -> list[Reply]:
    return await assistant.handle(
        Incoming(
            channel=extra.get("channel", "console"),
            message_id=str(next(_ids)),
            sender_id=who,
            chat_id=f"chat-{who}",
            text=extra.get("text"),
            attachments=[Attachment(kind="document", file_id=file_id, file_name=name)],
        )
    )


async def press(
    assistant: Assistant, who: str, payload: str, channel: str = "console"
) -> list[Reply]:
    return await assistant.handle(
        Incoming(
            channel=channel,
            message_id=str(next(_ids)),
            sender_id=who,
            chat_id=f"chat-{who}",
            button=payload,
        )
    )


async def customers(sessions) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(Customer))).one()


@pytest.fixture
async def linked(sessions, staffing):
    """王经理 and 李娜 also reach the bot on the fake Telegram channel (same ids as names)."""
    from crm_core.models import Channel, StaffIdentity

    async with sessions() as session, session.begin():
        for actor in (staffing.manager, staffing.lina, staffing.admin):
            session.add(
                StaffIdentity(
                    staff_id=actor.staff_id, channel=Channel.TELEGRAM, external_id=actor.name
                )
            )
    return staffing


async def test_manager_gets_a_dry_run_then_imports(assistant, sessions, linked, fetcher):
    [reply] = await send_file(assistant, "王经理", "csv-1", "客户.csv", channel="telegram")
    assert fetcher.fetched == ["csv-1"]
    assert (
        "试导入" in reply.text and "将新建 1 个" in reply.text and "合并重复行 1 行" in reply.text
    )
    assert "第 4 行:“123”不是有效的电话号码" in reply.text
    assert reply.data["rejected"] == [
        {
            "line": 4,
            "sheet": None,
            "reason": "bad_phone",
            "params": {"value": "123"},
            "message": "“123”不是有效的电话号码",
        }
    ]
    assert await customers(sessions) == 0
    go, cancel = reply.buttons[0]
    assert (go.label, cancel.label) == ("导入", "取消")
    # The button works from the kept file, even for a freshly started assistant.
    restarted = Assistant(sessions)
    [done] = await press(restarted, "王经理", go.payload, channel="telegram")
    assert done.text.startswith("已导入 客户.csv") and "新建 1 个" in done.text
    assert [b.payload for row in done.buttons for b in row] == ["undo"]
    assert await customers(sessions) == 1
    [again] = await press(restarted, "王经理", go.payload, channel="telegram")
    assert again.text == "这个文件已经导入过了。" and await customers(sessions) == 1
    async with sessions() as session:
        job = (await session.exec(select(ImportJob))).one()
    assert job.status == ImportStatus.DONE and job.content == b"" and job.report["created"] == 1


async def test_undo_reverts_the_whole_import(assistant, sessions, linked):
    [reply] = await send_file(assistant, "王经理", "csv-1", "客户.csv", channel="telegram")
    await press(assistant, "王经理", reply.buttons[0][0].payload, channel="telegram")
    [undone] = await press(assistant, "王经理", "undo", channel="telegram")
    assert "已撤销" in undone.text or "撤销" in undone.text
    async with sessions() as session:
        alive = (await session.exec(select(Customer).where(Customer.deleted_at.is_(None)))).all()
    assert alive == []


async def test_cancel_keeps_nothing(assistant, sessions, linked):
    [reply] = await send_file(assistant, "Admin", "xlsx-1", "contacts.xlsx", channel="telegram")
    assert reply.text.startswith("Dry run of contacts.xlsx") and "Would create 1" in reply.text
    [cancelled] = await press(assistant, "Admin", reply.buttons[0][1].payload, channel="telegram")
    assert cancelled.text == "Import cancelled. Nothing was written."
    [late] = await press(assistant, "Admin", reply.buttons[0][0].payload, channel="telegram")
    assert "cancelled" in late.text and await customers(sessions) == 0
    async with sessions() as session:
        job = (await session.exec(select(ImportJob))).one()
    assert job.status == ImportStatus.CANCELLED and job.content == b""


async def test_someone_else_cannot_press_my_import(assistant, sessions, linked):
    [reply] = await send_file(assistant, "王经理", "csv-1", "客户.csv", channel="telegram")
    [other] = await press(assistant, "Admin", reply.buttons[0][0].payload, channel="telegram")
    assert "can't find that import" in other.text and await customers(sessions) == 0


async def test_a_rep_is_refused_politely(assistant, sessions, linked, fetcher):
    [reply] = await send_file(assistant, "李娜", "csv-1", "客户.csv", channel="telegram")
    assert reply.text == "只有经理和管理员可以导入文件。请把文件发给你的经理。"
    assert fetcher.fetched == [] and await customers(sessions) == 0


async def test_no_fetcher_for_the_channel(assistant, staffing):
    [reply] = await send_file(assistant, "王经理", "csv-1", "客户.csv", channel="console")
    assert "暂时不能下载文件" in reply.text


async def test_an_unreadable_file_is_explained(assistant, linked, fetcher):
    fetcher.files["old"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel"
    [reply] = await send_file(assistant, "王经理", "old", "客户.xls", channel="telegram")
    # .xls is not offered to the importer at all: it is an attachment we can't read.
    assert "读不了附件" in reply.text
    [reply] = await send_file(assistant, "王经理", "old", "客户.xlsx", channel="telegram")
    assert reply.text == "这不是可读取的 .xlsx 工作簿。"


async def test_nothing_new_means_no_buttons(assistant, sessions, linked):
    [first] = await send_file(assistant, "王经理", "csv-1", "客户.csv", channel="telegram")
    await press(assistant, "王经理", first.buttons[0][0].payload, channel="telegram")
    [second] = await send_file(assistant, "王经理", "csv-1", "客户.csv", channel="telegram")
    assert "没有需要导入的新内容" in second.text and second.buttons == []


def test_import_and_export_are_not_actions_the_llm_could_call():
    from bot.actions import REGISTRY

    assert not [name for name in REGISTRY if "import" in name or "export" in name]
