"""A question about the numbers -> ReportQuery: the model's tool call when a model is
configured, else (or when it cannot) the deterministic parser. Also the `ask_report` action,
the one-field tool through which a plain-language turn hands such a question over."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot import report_actions, report_llm
from bot.actions import action
from bot.context import Context
from bot.report_llm import Ambiguous
from bot.report_parser import parse_question
from crm_core.errors import InvalidInput
from crm_core.reports import ReportQuery, ReportResult


async def question_to_query(ctx: Context, question: str) -> ReportQuery | None:
    """The deterministic reading of `question`, or None."""
    async with ctx.transaction() as session:
        vocab = await report_actions.load_vocabulary(session, ctx.actor)
    return parse_question(question, vocab)


async def understand(ctx: Context, question: str) -> ReportQuery | Ambiguous | None:
    if ctx.llm is not None:
        read = await report_llm.read_question(ctx, question)
        if read is not None:
            return read
    return await question_to_query(ctx, question)


class QuestionArgs(BaseModel):
    question: str = Field(min_length=1, max_length=500, description="in the person's words")


@action("ask_report", writes=False)
async def ask_report(ctx: Context, args: QuestionArgs) -> ReportResult:
    """Numbers: revenue, rates, NPS, CLV, rankings, trends, churn-risk or lead lists."""
    query = await understand(ctx, args.question)
    if isinstance(query, Ambiguous):
        code = "report_customer_pick" if query.hits else "report_customer_unknown"
        raise InvalidInput(code, ref=query.ref, choices=ambiguous_choices(query))
    if query is None:
        raise InvalidInput("report_not_understood")
    return await report_actions.run_report(ctx, query)


def ambiguous_choices(found: Ambiguous) -> str:
    return "\n".join(
        f"#{h.id} {h.name}" + (f" ({h.company})" if h.company else "") for h in found.hits[:5]
    )
