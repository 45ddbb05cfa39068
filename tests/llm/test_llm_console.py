"""Plain language through the console front door: `crmbot chat` piped, the real openai
client in that process talking to the fake server in this one."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.app import Assistant
from crm_core.db import make_engine, make_session_factory
from crm_core.migrate import upgrade
from crm_core.models import Role
from crm_core.staff import add_staff
from tests.fakes.openai_server import FakeOpenAI, text, tool_calls
from tests.llm.conftest import say

CRMBOT = Path(sys.executable).with_name("crmbot")


async def _store(url: str) -> None:
    engine = make_engine(url)
    await upgrade(engine)
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        await add_staff(session, name="李娜", role=Role.REP, team="华东")
    await say(Assistant(sessions), "李娜", "/新建 张伟 13800138000 公司=华信科技")
    await engine.dispose()


async def test_crmbot_chat_piped_with_a_model(tmp_path: Path, fake: FakeOpenAI) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    await _store(url)
    fake.script(
        tool_calls(
            (
                "log_interaction",
                {
                    "customer": "张伟(华信)",
                    "summary": "拜访,对新报价满意",
                    "kind": "visit",
                    "follow_up_at": "下周三下午",
                    "follow_up_text": None,
                },
            )
        ),
        tool_calls(("find_customers", {"query": "张伟"})),
        text("张伟的电话是 +8613800138000。"),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.pop("OPENAI_API_KEY", None)
    env.update(
        CRM_DATABASE_URL=url,
        CRM_TIMEZONE="Asia/Shanghai",
        CRM_LLM_BASE_URL=fake.base_url,
        CRM_LLM_API_KEY="test-key",
        CRM_LLM_MODEL="fake-model",
    )
    lines = ["今天拜访了华信的张伟,对新报价满意,下周三下午再跟进", "张伟的电话?", "/用量"]
    process = await asyncio.create_subprocess_exec(
        str(CRMBOT), "chat", "--as", "李娜", "--json",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate("\n".join(lines).encode() + b"\n"), 120)
    assert process.returncode == 0, err.decode()
    logged, answer, usage = [json.loads(line) for line in out.decode().splitlines()]
    assert logged["data"]["customer_name"] == "张伟" and logged["data"]["follow_up"]
    assert [b["payload"] for b in logged["buttons"][-1]] == ["undo"]
    assert answer["text"] == "张伟的电话是 +8613800138000。"
    assert usage["data"]["calls"] == 3 and "今天的AI用量" in usage["text"]
    assert fake.chat_requests[0]["messages"][1]["content"] == lines[0]
