"""A question about the numbers -> ReportQuery: the model's tool call when a model is
configured, else (or when it cannot) the deterministic parser. Either way a customer or
company the question names is found within the asker's scope (bot/report_customers). Also
the `ask_report` action, the one-field tool through which a plain-language turn hands such
a question over."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot import report_actions, report_llm
from bot.actions import action
from bot.context import Context
from bot.report_customers import customers_named, picked_customer
from bot.report_parser import read_question
from crm_core.errors import InvalidInput
from crm_core.reports import ReportQuery, ReportResult


async def question_to_query(
    ctx: Context, question: str, *, picked: int | None = None
) -> ReportQuery | None:
    """The deterministic reading of `question`, narrowed to the customer or company it names
    (NotFound when that name matches no one the asker may see; AmbiguousCustomer when
    several, unless `picked` says which); None when the parser cannot read it."""
    async with ctx.transaction() as session:
        vocab = await report_actions.load_vocabulary(session, ctx.actor)
    parsed = read_question(question, vocab)
    if parsed is None or parsed.customer_ref is None:
        return parsed.query if parsed is not None else None
    ids = (
        await picked_customer(ctx, picked)
        if picked is not None
        else await customers_named(ctx, parsed.customer_ref)
    )
    filters = parsed.query.filters.model_copy(update={"customer_ids": ids})
    return parsed.query.model_copy(update={"filters": filters})


async def understand(
    ctx: Context, question: str, *, picked: int | None = None
) -> ReportQuery | None:
    if ctx.llm is not None:
        read = await report_llm.read_question(ctx, question, picked=picked)
        if read is not None:
            return read
    return await question_to_query(ctx, question, picked=picked)


class QuestionArgs(BaseModel):
    question: str = Field(min_length=1, max_length=500, description="in the person's words")


@action("ask_report", writes=False)
async def ask_report(ctx: Context, args: QuestionArgs) -> ReportResult:
    """Numbers: revenue, rates, NPS, CLV, rankings, trends, churn-risk or lead lists."""
    query = await understand(ctx, args.question)
    if query is None:
        raise InvalidInput("report_not_understood")
    return await report_actions.run_report(ctx, query)
