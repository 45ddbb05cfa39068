"""Our own cost per plain-language message, with a fake model that answers at once, and the
size of what every turn sends (system prompt + tool schemas).

Run: CRM_BENCH_DIR=/tmp/crm-bench-me .venv/bin/python benchmarks/llm_overhead.py \
         [--customers 10000] [--messages 300]

Overhead = time in Assistant.handle minus time inside the model call (the openai client's
HTTP round trip to the local fake). It covers storing the message, building the prompt and
tools, validating the arguments, resolving the customer, the write with its audit and
tool-call log, usage accounting, and wording the reply.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._data import demo_store, percentile  # noqa: E402
from bot.app import Assistant  # noqa: E402
from bot.context import Context  # noqa: E402
from bot.events import Incoming  # noqa: E402
from bot.llm import Llm, estimate_tokens  # noqa: E402
from bot.report_llm import report_tool  # noqa: E402
from bot.report_llm import system_prompt as report_system_prompt  # noqa: E402
from crm_core.access import Actor  # noqa: E402
from crm_core.db import make_session_factory  # noqa: E402
from crm_core.models import Customer, Role, Staff  # noqa: E402
from crm_core.settings import Settings, override_settings  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, _completion, dynamic  # noqa: E402


def fake_model(request: dict) -> dict:
    """Log the call the message describes; answer a question after one lookup."""
    messages = request["messages"]
    user = messages[1]["content"]
    if messages[-1]["role"] == "tool":
        return _completion(
            {"role": "assistant", "content": "电话是 " + user[:11]}, "stop", (900, 20)
        )
    phone = user.split()[0]
    if user.endswith("?"):
        call = {"name": "find_customers", "arguments": json.dumps({"query": phone})}
    else:
        args = {
            "customer": phone,
            "summary": "电话沟通新报价,客户比较满意",
            "kind": "call",
            "follow_up_at": "下周三下午",
            "follow_up_text": None,
        }
        call = {"name": "log_interaction", "arguments": json.dumps(args, ensure_ascii=False)}
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function", "function": call}
        ],
    }
    return _completion(message, "tool_calls", (900, 40))


class TimedLlm(Llm):
    """The real client, with the time spent waiting for the model added up."""

    waited = 0.0

    async def complete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return await super().complete(*args, **kwargs)
        finally:
            TimedLlm.waited += time.perf_counter() - started


async def run(assistant: Assistant, sender: str, texts: list[str]) -> list[tuple[float, float]]:
    """(total ms, overhead ms) per message."""
    out = []
    for text in texts:
        incoming = Incoming(
            channel="console", message_id=uuid.uuid4().hex, sender_id=sender, chat_id="bench",
            text=text,
        )  # fmt: skip
        TimedLlm.waited = 0.0
        started = time.perf_counter()
        replies = await assistant.handle(incoming)
        total = time.perf_counter() - started
        assert replies and "llm_error" not in (replies[0].data or {}), replies[0].text
        out.append((total * 1000, (total - TimedLlm.waited) * 1000))
    return out


def report(label: str, rows: list[tuple[float, float]]) -> None:
    totals, overheads = [r[0] for r in rows], [r[1] for r in rows]
    figures = [percentile(totals, 50), *(percentile(overheads, p) for p in (50, 90, 99))]
    print(f"{label:<22} {len(rows):>6} " + " ".join(f"{f:>9.2f}" for f in figures))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    engine, _ = await demo_store(args.customers)
    sessions = make_session_factory(engine)
    async with sessions() as session:
        rep = (await session.exec(select(Staff).where(Staff.role == Role.REP))).scalars().first()
        rep.llm_daily_tokens = 0  # no budget limit for the run
        session.add(rep)
        await session.commit()
        phones = [
            p[0]
            for (p,) in (
                await session.exec(
                    select(Customer.phones).where(Customer.owner_id == rep.id).limit(3000)
                )
            ).all()
            if p
        ]
    fake = FakeOpenAI()
    await fake.start()
    fake.script(*[dynamic(fake_model) for _ in range(args.messages * 4 + 200)])
    settings = Settings(_env_file=None, llm_base_url=fake.base_url, llm_api_key="bench")
    override_settings(settings)
    llm = TimedLlm(
        base_url=fake.base_url, api_key="bench", model="fake", transcribe_model="whisper-1",
        timeout=30, max_retries=2,
    )  # fmt: skip
    assistant = Assistant(sessions, llm=llm)
    rng = random.Random(5)
    logs = [f"{rng.choice(phones)} 打了电话,聊新报价,下周三下午跟进" for _ in range(args.messages)]
    asks = [f"{rng.choice(phones)} 的电话?" for _ in range(args.messages)]
    commands = [f"/log {rng.choice(phones)}: 电话沟通新报价,客户比较满意,下周三下午跟进"
                for _ in range(args.messages)]  # fmt: skip
    await run(assistant, rep.name, logs[:30])  # warm-up
    print(f"LLM overhead over {args.customers:,} customers (SQLite), rep {rep.name}, fake model")
    print(f"{'turn':<22} {'msgs':>6} {'p50 ms':>9} {'ovh p50':>9} {'ovh p90':>9} {'ovh p99':>9}")
    report("write (1 model call)", await run(assistant, rep.name, logs))
    report("question (2 calls)", await run(assistant, rep.name, asks))
    command_rows = await run(assistant, rep.name, commands)
    report("/log command (no LLM)", [(t, t) for t, _ in command_rows])
    requests = fake.chat_requests
    first = requests[-1] if requests else {}
    tools_json = json.dumps(first.get("tools", []), ensure_ascii=False, separators=(",", ":"))
    print()
    print(f"{'what every turn sends':<34} {'chars':>7} {'~tokens':>8}")
    for language in ("zh", "en"):
        from bot.templates import render

        prompt = render(
            "nlu_system", language, name=rep.name, role="rep", now="11月24日 周二 10:00 2026-11-24",
            timezone="Asia/Shanghai",
        )  # fmt: skip
        label = f"system prompt ({language})"
        print(f"{label:<34} {len(prompt):>7} {estimate_tokens(prompt):>8}")
    label = f"tool schemas (rep, {len(first.get('tools', []))} tools)"
    print(f"{label:<34} {len(tools_json):>7} {estimate_tokens(tools_json):>8}")
    print(
        f"{'system (en) + tools':<34} {len(tools_json) + len(prompt):>7}"
        f" {estimate_tokens(tools_json + prompt):>8}"
    )
    await report_request_size(sessions)
    await llm.aclose()
    await fake.stop()
    await engine.dispose()


async def report_request_size(sessions) -> None:  # type: ignore[no-untyped-def]
    """The numbers question's own request (bot/report_llm): system prompt with the names a
    manager's filters may use in this store, and the run_report tool."""
    async with sessions() as session:
        stmt = select(Staff).where(Staff.role == Role.MANAGER)
        manager = (await session.exec(stmt)).scalars().first()
    tool = json.dumps(report_tool(), ensure_ascii=False, separators=(",", ":"))
    for language in ("zh", "en"):
        actor = replace(Actor.from_staff(manager), language=language)
        asked = Incoming(channel="console", message_id="b", sender_id="b", chat_id="b")
        prompt = await report_system_prompt(Context(sessions, actor, asked))
        label = f"report request ({language}): system"
        print(f"{label:<34} {len(prompt):>7} {estimate_tokens(prompt):>8}")
    print(f"{'report request: run_report tool':<34} {len(tool):>7} {estimate_tokens(tool):>8}")
    print(f"{'report request (en) in all':<34} {len(tool) + len(prompt):>7}")


if __name__ == "__main__":
    asyncio.run(main())
