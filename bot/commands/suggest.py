"""`/suggest C` (/推荐): what to offer this customer next, and when they usually buy."""

from __future__ import annotations

from bot import report_actions
from bot.commands.errors import Usage
from bot.commands.handlers import command, customer_or_choice
from bot.context import Context
from bot.events import Reply
from bot.report_view import MONTHS_EN
from bot.views import data_of


def month_names(ctx: Context, months: list[int]) -> str:
    if ctx.lang == "zh":
        return "、".join(f"{m}月" for m in months)
    return ", ".join(MONTHS_EN[m - 1] for m in months)


@command("suggest")
async def suggest(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    if not rest and picked is None:
        raise Usage("suggest")
    cid = await customer_or_choice(ctx, command="suggest", ref=rest, rest=rest, picked=picked)
    if isinstance(cid, list):
        return cid
    products = await report_actions.next_best_products(
        ctx, report_actions.NextBestArgs(customer_id=cid)
    )
    ref = report_actions.CustomerRef(customer_id=cid)
    season = await report_actions.customer_seasonality(ctx, ref)
    lines = [ctx.t("suggest_header")]
    lines += [
        ctx.t(
            "suggest_line",
            product=r.product,
            because=r.because,
            confidence=f"{r.confidence * 100:.0f}%",
            lift=f"{r.lift:.1f}",
        )
        for r in products.products
    ] or [ctx.t("suggest_none")]
    if season.peak_months:
        lines.append(ctx.t("suggest_peak_months", months=month_names(ctx, season.peak_months)))
    data = {"products": data_of(products), "seasonality": data_of(season)}
    return [Reply(text="\n".join(lines), data=data, private=True)]
