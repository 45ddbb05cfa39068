"""Reading commands in both languages, with ASCII and full-width punctuation."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands.grammar import (
    ParsedCommand,
    join_segment_key,
    parse_command,
    segment_ref,
    split_colon,
)
from bot.commands.infer import interaction_kind
from bot.commands.newcustomer import parse_new_customer
from crm_core.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/find 张伟", ParsedCommand("find", "张伟")),
        ("/查 张伟", ParsedCommand("find", "张伟")),
        ("查 张伟", ParsedCommand("find", "张伟")),
        ("／查 zhang wei", ParsedCommand("find", "zhang wei")),
        ("/FIND Jane", ParsedCommand("find", "Jane")),
        ("/find@crm_bot Jane", ParsedCommand("find", "Jane")),
        ("/记录 张伟：拜访", ParsedCommand("log", "张伟：拜访")),
        ("/今天", ParsedCommand("today", "")),
        ("今天", ParsedCommand("today", "")),
        ("/start ABCD2345", ParsedCommand("help", "ABCD2345")),
        ("/nope x", ParsedCommand("unknown", "nope")),
        ("done with that call", None),
        ("今天天气不错", None),
        ("hello", None),
    ],
)
def test_parse_command(text: str, expected: ParsedCommand | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("张伟: 聊了报价", ("张伟", "聊了报价")),
        ("张伟：聊了报价", ("张伟", "聊了报价")),
        ("Jane Smith: call at 10:30", ("Jane Smith", "call at 10:30")),
        ("no colon here", None),
        ("张伟:", None),
    ],
)
def test_split_colon(rest: str, expected: tuple[str, str] | None) -> None:
    assert split_colon(rest) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("今天拜访了华信的张伟", "visit"),
        ("电话沟通新报价", "call"),
        ("call w/ Jane, wants 20% off", "call"),
        ("微信发了报价单", "message"),
        ("sent the proposal by email", "email"),
        ("客户对价格有顾虑", "note"),
    ],
)
def test_interaction_kind(text: str, kind: str) -> None:
    assert interaction_kind(text).value == kind


def test_new_customer_reads_contacts_and_fields_in_both_languages() -> None:
    zh = parse_new_customer(
        "王芳 139 1234 5678 wf@example.com 公司=恒达贸易 生日=5月12日 标签=VIP,新客"
    )
    assert zh is not None
    assert (zh.name, zh.company, zh.tags) == ("王芳", "恒达贸易", ["VIP", "新客"])
    assert zh.phones == ["139 1234 5678"] and zh.emails == ["wf@example.com"]
    assert (zh.birthday.month, zh.birthday.day) == (5, 12)
    en = parse_new_customer("Jane Smith +1 415 555 0132 company=Acme birthday=1988-05-12")
    assert en is not None
    assert (en.name, en.phones, en.birthday) == (
        "Jane Smith",
        ["+1 415 555 0132"],
        date(1988, 5, 12),
    )


def test_new_customer_without_a_name_or_with_a_bad_date() -> None:
    assert parse_new_customer("13800138000") is None
    with pytest.raises(InvalidInput):
        parse_new_customer("张伟 生日=13月40日")


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("分群=老客户召回", "老客户召回"),
        ("分群 ＝ 老客户召回", "老客户召回"),
        ("segment=win-back", "win-back"),
        ("Segment = Win back", "Win back"),
        ("segment=“老客户 召回”", "老客户 召回"),
        ("segment=", None),
        ("张伟", None),
        ("segmentation lead", None),
    ],
)
def test_segment_ref(ref: str, expected: str | None) -> None:
    assert segment_ref(ref) == expected


def test_join_segment_key_keeps_the_name_one_word() -> None:
    assert join_segment_key("segment = win-back winback") == "segment=win-back winback"
    assert join_segment_key("分群＝老客户 召回") == "segment=老客户 召回"
    assert join_segment_key("张伟 生日") == "张伟 生日"
