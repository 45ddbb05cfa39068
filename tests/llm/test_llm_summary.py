"""Feedback summaries: keyword themes without a model, map-reduce with one, quotes checked,
care tasks made once, scope kept."""

from __future__ import annotations

import json
import re

from sqlmodel import select

from bot.app import Assistant
from crm_core.models import Reminder
from tests.fakes.openai_server import dynamic
from tests.llm.conftest import count, say

FEEDBACK = [
    ("张伟", "2", "送货太慢了,等了一个星期。"),
    ("张伟", "3", "送货延迟,包装也破了。"),
    ("王芳", "9", "服务很专业,送货及时。"),
    ("王芳", "10", "发票开得很快,非常满意。"),
    ("刘强", "6", "发票抬头开错了,重新开了两次。"),
]


async def _feedback(bot: Assistant) -> None:
    await say(bot, "李娜", "/新建 张伟 13800138000")
    await say(bot, "李娜", "/新建 王芳 13912345678")
    await say(bot, "李娜", "/新建 刘强 13711112222")
    for name, score, words in FEEDBACK:
        await say(bot, "李娜", f"/反馈 {name} {score}: {words}")


async def test_keyword_summary_without_a_model(sessions, staffing):
    bot = Assistant(sessions)
    await _feedback(bot)
    [summary] = await say(bot, "李娜", "总结本月反馈")
    data = summary.data
    assert data["total"] == 5 and data["method"] == "keywords"
    assert (data["promoters"], data["passives"], data["detractors"]) == (2, 0, 3)
    assert data["nps"] == -20 and data["negative"] == 3
    themes = {t["title"]: t for t in data["themes"]}
    assert themes["送货"]["count"] == 3 and themes["发票"]["count"] == 2
    for theme in data["themes"]:
        for quote in theme["quotes"]:
            assert any(quote in words for _, _, words in FEEDBACK)
    assert "NPS -20" in summary.text and "关键词主题" in summary.text
    # Three negative, unresolved items: a care task each for the owner, once.
    assert data["care_tasks"] == 3
    [again] = await say(bot, "李娜", "/总结 本月")
    assert again.data["care_tasks"] == 0
    async with sessions() as session:
        care = (await session.exec(select(Reminder).where(Reminder.kind == "care"))).all()
    assert len(care) == 3 and {r.owner_id for r in care} == {staffing.lina.staff_id}


async def test_summary_filters_by_customer_and_product_and_keeps_scope(sessions, staffing):
    bot = Assistant(sessions)
    await _feedback(bot)
    await say(bot, "陈明", "/新建 赵六 13600001111")
    await say(bot, "陈明", "/反馈 赵六 1: 送货太慢,非常失望")
    [one] = await say(bot, "李娜", "/总结 张伟")
    assert one.data["customer_name"] == "张伟" and one.data["total"] == 2
    [product] = await say(bot, "李娜", "/summary product=发票 this month")
    assert product.data["total"] == 2 and product.data["product"] == "发票"
    [mine] = await say(bot, "李娜", "/总结")
    assert mine.data["total"] == 5  # 陈明's customer is not hers
    [team] = await say(bot, "王经理", "/总结")
    assert team.data["total"] == 6
    [none] = await say(bot, "李娜", "/总结 上个月")
    assert none.data["total"] == 0 and "没有反馈" in none.text


async def test_map_reduce_when_feedback_does_not_fit_one_prompt(
    configure, sessions, fake, staffing
):
    configure(llm_context_chars=120)  # about two feedback lines per prompt
    bot = Assistant(sessions)
    await _feedback(bot)
    texts = {}

    def map_step(request):
        prompt = request["messages"][0]["content"]
        found = re.findall(r"\[F(\d+)\] \([^)]*\) (.+)", prompt)
        for i, words in found:
            texts[int(i)] = words
        delivery = [int(i) for i, w in found if "送货" in w]
        invoice = [int(i) for i, w in found if "发票" in w]
        themes = []
        if delivery:
            quote = texts[delivery[0]].split(",")[0]
            themes.append({"title": "Delivery", "ids": delivery, "quotes": [quote, "编造的话"]})
        if invoice:
            themes.append({"title": "Invoices", "ids": invoice, "quotes": []})
        negative = [int(i) for i, w in found if "慢" in w or "错" in w]
        return _json(
            {
                "themes": themes,
                "negative_ids": negative,
                "positive_ids": [],
                "actions": ["提醒仓库加快发货"],
            }
        )

    def reduce_step(request):
        prompt = request["messages"][0]["content"]
        lines = re.findall(r"\[T(\d+)\] (\w+)", prompt)
        merged: dict[str, list[int]] = {}
        for n, title in lines:
            merged.setdefault(title, []).append(int(n))
        themes = [{"title": f"{t} (merged)", "parts": parts} for t, parts in merged.items()]
        return _json({"themes": themes, "actions": ["提醒仓库加快发货", "统一发票模板"]})

    def route(request):
        return (reduce_step if "<themes>\n[T" in _prompt(request) else map_step)(request)

    fake.script(*[dynamic(route) for _ in range(6)])
    [summary] = await say(bot, "李娜", "/总结")
    data = summary.data
    prompts = [r["messages"][0]["content"] for r in fake.chat_requests]
    maps = [p for p in prompts if "\n<feedback>\n" in p]
    assert data["method"] == "llm" and len(maps) >= 2 and len(prompts) == len(maps) + 1
    assert "\n<themes>\n" in prompts[-1]
    themes = {t["title"]: t for t in data["themes"]}
    assert themes["Delivery (merged)"]["count"] == 3
    assert themes["Invoices (merged)"]["count"] == 2
    # Made-up quotes are dropped; themes without one get real sentences of their own items.
    assert data["dropped_quotes"] >= 1
    for theme in data["themes"]:
        assert 2 <= len(theme["quotes"]) <= 3
        for quote in theme["quotes"]:
            assert any(quote in words for _, _, words in FEEDBACK)
    assert data["actions"] == ["提醒仓库加快发货", "统一发票模板"]
    # json_mode asked for a JSON object; every map prompt stayed within the budget.
    assert all(r["response_format"] == {"type": "json_object"} for r in fake.chat_requests)
    await bot.llm.aclose()


async def test_an_unusable_summary_answer_falls_back_to_keywords(
    assistant, fake, sessions, staffing
):
    await _feedback(assistant)
    fake.script(dynamic(lambda request: _json_text("not json at all")))
    [summary] = await say(assistant, "李娜", "/总结")
    assert summary.data["method"] == "keywords" and summary.data["fallback_reason"]
    assert "AI模型暂时不可用" in summary.text


def _prompt(request: dict) -> str:
    return request["messages"][0]["content"]


def _json(body: dict) -> dict:
    return _json_text(json.dumps(body, ensure_ascii=False))


def _json_text(content: str) -> dict:
    return {
        "id": "chatcmpl-s",
        "object": "chat.completion",
        "created": 1_790_000_000,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 80, "completion_tokens": 40, "total_tokens": 120},
    }


async def test_care_tasks_are_counted(sessions, staffing):
    bot = Assistant(sessions)
    await _feedback(bot)
    await say(bot, "李娜", "/总结")
    assert await count(sessions, Reminder) == 3
