"""A whole session piped through `crmbot chat`, as a newcomer would try it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CRMBOT = Path(sys.executable).with_name("crmbot")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/crm.db",
               CRM_TIMEZONE="Asia/Shanghai")
    subprocess.run([CRMBOT, "demo", "--customers", "60"], env=env, check=True,
                   capture_output=True, timeout=120)
    return env


def chat(env: dict[str, str], who: str, lines: list[str], *json_flag: str) -> str:
    result = subprocess.run(
        [CRMBOT, "chat", "--as", who, *json_flag], input="\n".join(lines) + "\n", text=True,
        env=env, capture_output=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_chinese_session_with_json_output(env: dict[str, str]) -> None:
    out = chat(env, "李娜", [
        "/查 zhang wei",
        "/记录 13800138000: 拜访了客户,对新报价满意,下周三下午跟进",
        "/今天",
        "/撤销",
        "/提醒 张伟 改天: 发报价",
    ], "--json")
    replies = [json.loads(line) for line in out.splitlines()]
    assert len(replies) == 5
    found, logged, today, undone, bad = replies
    assert "张伟" in [h["name"] for h in found["data"]["hits"]]
    assert logged["data"]["customer_name"] == "张伟"
    # Datetimes carry the actor's offset.
    assert logged["data"]["follow_up"]["due_at"].endswith("+08:00")
    assert [b["label"] for b in logged["buttons"][0]] == ["完成", "推迟1天", "推迟1周"]
    # Demo reminders are relative to now: some lists are empty, some overdue.
    assert set(today["data"]) == {"overdue", "today"}
    assert any(w in today["text"] for w in ("已逾期", "今天到期", "没有到期"))
    assert "撤销" in undone["text"]
    assert "无法识别时间" in bad["text"]


def test_an_english_session_in_plain_text_with_a_button_press(env: dict[str, str]) -> None:
    out = chat(env, "Tom Wu", [
        "/find jane smith",
        "/remind Jane Smith tomorrow 10am: send the quote",
        "1",
        "/help",
    ])
    blocks = out.strip().split("\n\n")
    assert "Jane Smith" in blocks[0]
    assert "Reminder set for" in blocks[1] and "[1] Done" in blocks[1]
    assert blocks[2].startswith("Done: reminder #")
    assert "Here is what I can do" in out


def test_an_unknown_staff_name_is_a_clear_error(env: dict[str, str]) -> None:
    result = subprocess.run([CRMBOT, "chat", "--as", "Nobody"], input="", text=True, env=env,
                            capture_output=True, timeout=60)
    assert result.returncode == 1
    assert "没有名为“Nobody”的员工" in result.stdout
