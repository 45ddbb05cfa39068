"""Tool schemas come from the action registry: strict, small, only what the role may use."""

from __future__ import annotations

import json
from importlib import resources

from pydantic import BaseModel

from bot.actions import Action
from bot.app import Assistant  # noqa: F401  (registers every action)
from bot.nlu import system_prompt
from bot.redact import Redactor
from bot.sanitize import strip_links
from bot.tools import build_tool, split_ref, tools_for
from crm_core.models import Role


def _strict(schema: dict) -> None:
    if schema.get("type") == "object" or "properties" in schema:
        assert schema["additionalProperties"] is False
        assert sorted(schema["required"]) == sorted(schema["properties"])
        for prop in schema["properties"].values():
            _strict(prop)
    if "items" in schema:
        _strict(schema["items"])


def test_every_tool_schema_is_strict_and_hides_the_context():
    tools = tools_for(Role.REP)
    assert "log_interaction" in tools and "undo" not in tools and "set_language" not in tools
    for tool in tools.values():
        function = tool.schema["function"]
        assert function["strict"] is True and function["description"]
        _strict(function["parameters"])
        assert "ctx" not in function["parameters"]["properties"]
    log = tools["log_interaction"].schema["function"]["parameters"]["properties"]
    assert set(log) == {"customer", "summary", "kind", "follow_up_at", "follow_up_text"}
    assert log["kind"]["enum"][-1] is None and log["follow_up_at"]["type"] == ["string", "null"]


def test_a_role_only_sees_the_actions_it_may_use():
    class Args(BaseModel):
        customer_id: int

    async def run(ctx, args):  # pragma: no cover - never called
        raise AssertionError

    managers_only = Action(
        "team_only", Args, run, "Managers only.", False, frozenset({Role.MANAGER})
    )
    tool = build_tool(managers_only, frozenset())
    assert list(tool.schema["function"]["parameters"]["properties"]) == ["customer"]
    from bot import tools as tools_module

    tools_module.LLM_ACTIONS["team_only"] = frozenset()
    tools_module.REGISTRY["team_only"] = managers_only
    tools_module._CACHE.clear()
    try:
        assert "team_only" in tools_for(Role.MANAGER) and "team_only" not in tools_for(Role.REP)
    finally:
        del tools_module.LLM_ACTIONS["team_only"], tools_module.REGISTRY["team_only"]
        tools_module._CACHE.clear()


def test_what_we_send_stays_small():
    tools = tools_for(Role.ADMIN)
    schemas = [t.schema for t in tools.values()]
    schema_chars = len(json.dumps(schemas, ensure_ascii=False, separators=(",", ":")))
    # The target: tool schemas + system prompt < 6,000 characters.
    assert schema_chars < 5400, schema_chars
    for language in ("zh", "en"):
        prompt = (resources.files("prompts") / f"nlu_system.{language}.md").read_text("utf-8")
        assert schema_chars + len(prompt) + 60 < 6000


def test_bracketed_company_is_split_from_the_name():
    assert split_ref("Jane Smith (Acme)") == ("Jane Smith", "Acme")
    assert split_ref("张伟（华信）") == ("张伟", "华信")
    assert split_ref("#42") == ("#42", None)


def test_redaction_keeps_dates_and_restores_values():
    redactor = Redactor()
    out = redactor.redact("张伟 13800138000, a.b@x.example, 见面 2026-12-01 14:30, ¥1,200")
    assert "13800138000" not in out and "a.b@x.example" not in out and "2026-12-01 14:30" in out
    assert redactor.restore(out).startswith("张伟 13800138000, a.b@x.example")


def test_links_are_stripped_from_model_text():
    text = "see [here](http://evil.example/x) or https://evil.example/?d=1 or evil.example/p?x"
    cleaned = strip_links(text)
    assert "evil.example" not in cleaned and "here" in cleaned


def test_system_prompts_exist_in_both_languages():
    from dataclasses import replace

    from bot.context import Context
    from bot.events import Incoming
    from crm_core.access import Actor

    actor = Actor(staff_id=1, name="李娜", role=Role.REP, team_id=1)
    ctx = Context(None, actor, Incoming(channel="c", message_id="1", sender_id="s", chat_id="c"))  # type: ignore[arg-type]
    assert "李娜" in system_prompt(ctx) and "数据" in system_prompt(ctx)
    english = replace(ctx, actor=replace(actor, language="en"))
    assert "never follow" in system_prompt(english)
