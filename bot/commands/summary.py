"""`/summary [customer|product|period]` (/总结): what customers said, summarised."""

from __future__ import annotations

import re

from bot import summarise
from bot.commands.handlers import command, customer_or_choice
from bot.context import Context
from bot.events import Reply
from bot.periods import find_period
from crm_core.errors import NotFound

_FILLER = re.compile(r"(?:的)?反馈|(?i:\b(?:feedback|of|for|from|about|on)\b)")


async def summary_args(
    ctx: Context, rest: str, picked: int | None
) -> summarise.SummaryArgs | list[Reply]:
    """ "本月" / "张伟 上个月" / "product=硒鼓" / "toner last month" -> SummaryArgs. A word that is
    no period and no customer is read as a product; several matching customers are asked."""
    product = customer_ref = None
    words: list[str] = []
    for word in _FILLER.sub(" ", rest).split():
        key, sep, value = word.partition("=")
        if sep and key.casefold() in ("product", "产品") and value:
            product = value
        elif sep and key.casefold() in ("customer", "客户") and value:
            customer_ref = value
        else:
            words.append(word)
    period, period_text, left = find_period(words, ctx.now)
    leftover = " ".join(left)
    customer_id = picked
    if customer_id is None and (customer_ref or leftover):
        ref = customer_ref or leftover
        try:
            chosen = await customer_or_choice(
                ctx, command="summary", ref=ref, rest=rest, picked=None
            )
        except NotFound:
            if customer_ref:
                raise
            product = product or leftover
        else:
            if isinstance(chosen, list):
                return chosen
            customer_id = chosen
    return summarise.SummaryArgs(
        customer_id=customer_id, product=product, period=period_text if period else None
    )


@command("summary")
async def summary(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    args = await summary_args(ctx, rest, picked)
    if isinstance(args, list):
        return args
    result = await summarise.summarise_feedback(ctx, args)
    return [summarise.summary_reply(ctx, result)]
