"""The two-line narrative under a report, worded by the model when one is configured.

The template narrative (bot/report_view.py) is always computed and is what the person gets
unless the model's version passes a check: every number in it must appear in the data the
model was shown. A model that rounds, converts or invents a figure is not believed.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation

from bot import llm_calls
from bot.context import Context
from bot.events import Table
from bot.llm import LlmUnavailable
from bot.sanitize import clean_model_text
from bot.templates import render as render_template

log = logging.getLogger(__name__)

TABLE_ROWS = 15  # rows shown to the model; the head of a ranked list or a trend's
LIMIT = 400  # characters of narrative kept

_NUMBER = re.compile(r"\d(?:[\d,]*\d)?(?:\.\d+)?")


def numbers_in(text: str) -> set[Decimal]:
    found: set[Decimal] = set()
    for token in _NUMBER.findall(text):
        try:
            found.add(Decimal(token.replace(",", "")))
        except InvalidOperation:
            continue
    return found


def table_text(table: Table | None) -> str:
    if table is None:
        return ""
    lines = [" | ".join(table.columns)]
    lines += [" | ".join(row) for row in table.rows[:TABLE_ROWS]]
    if len(table.rows) > TABLE_ROWS:
        lines.append(f"(+{len(table.rows) - TABLE_ROWS})")
    return "\n".join(lines)


async def model_narrative(
    ctx: Context, *, question: str, draft: str, definition: str, table: Table | None
) -> str | None:
    """The model's narrative, or None (no model, model failed, or a number not in the data)."""
    if ctx.llm is None:
        return None
    prompt = render_template(
        "report_narrative",
        ctx.lang,
        question=question,
        definition=definition,
        table=table_text(table),
        draft=draft,
    )
    try:
        completion = await llm_calls.chat(ctx, [{"role": "user", "content": prompt}])
    except LlmUnavailable as exc:
        log.warning("report narrative: model failed: %s", exc)
        return None
    text = clean_model_text(completion.content, limit=LIMIT)
    if not text:
        return None
    invented = numbers_in(text) - numbers_in(prompt)
    if invented:
        log.info("report narrative from the model dropped: numbers not in the data %s", invented)
        return None
    return text
