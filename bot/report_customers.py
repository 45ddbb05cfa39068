"""A customer or company named in a report question ("张伟今年买了多少", "华信本季度销售额")
-> the customers the report is narrowed to, found within the asker's scope only: a customer
someone else owns is "not found", exactly like one that does not exist."""

from __future__ import annotations

from bot.commands.resolve import CONFIDENT_SCORE
from bot.context import Context
from bot.events import Button, Reply
from bot.views import hit_line
from crm_core.access import get_customer
from crm_core.errors import CrmError, NotFound
from crm_core.search import CompanyMatch, SearchHit, company_customers, search_customers

CANDIDATES = 5
PICK_VERB = "reportfor"
CALLBACK_LIMIT = 64  # bytes of Telegram's callback data


class AmbiguousCustomer(CrmError):
    """Several customers (or companies) fit the name. /report asks which, privately; other
    callers get a sentence that names none of them."""

    code = "report_customer_ambiguous"

    def __init__(
        self, ref: str, hits: list[SearchHit], companies: list[CompanyMatch] | None = None
    ) -> None:
        super().__init__(ref=ref)
        self.hits = hits
        self.companies = companies or []


async def customers_named(ctx: Context, ref: str) -> list[int]:
    """The ids `ref` names: one customer (an exact name, phone or e-mail wins), else every
    customer of the one company it names, else the one customer it partly matches.
    "#12" is customer 12, if the asker may see it."""
    number = ref.strip().removeprefix("#")
    if ref.strip().startswith("#") and number.isdigit():
        try:
            return await picked_customer(ctx, int(number))
        except NotFound:
            raise NotFound("report_unknown_customer", name=ref) from None
    async with ctx.reading() as session:
        hits = await search_customers(session=session, actor=ctx.actor, query=ref, limit=CANDIDATES)
        companies = await company_customers(session=session, actor=ctx.actor, query=ref)
    if (
        hits
        and hits[0].score >= CONFIDENT_SCORE
        and (len(hits) == 1 or hits[1].score < hits[0].score)
    ):
        return [hits[0].id]
    if len(companies) == 1:
        return companies[0].customer_ids
    if companies:
        raise AmbiguousCustomer(ref, [], companies)
    if len(hits) == 1:
        return [hits[0].id]
    if hits:
        raise AmbiguousCustomer(ref, hits)
    raise NotFound("report_unknown_customer", name=ref)


async def picked_customer(ctx: Context, customer_id: int) -> list[int]:
    """A customer chosen with a button: checked against the asker's scope again."""
    async with ctx.reading() as session:
        await get_customer(session, ctx.actor, customer_id)
    return [customer_id]


def which_customer(ctx: Context, ambiguous: AmbiguousCustomer) -> Reply:
    """ "Which 张伟?" with one button per customer (the payload names the question's
    message, so the answer works from the private chat too), or the companies that fit."""
    ref = ambiguous.params["ref"]
    if ambiguous.companies:
        sep = "、" if ctx.lang == "zh" else ", "
        names = sep.join(c.company for c in ambiguous.companies[:CANDIDATES])
        return Reply(text=ctx.t("report_company_ambiguous", ref=ref, companies=names), private=True)
    buttons = [
        [Button(label=hit_line(h)[:60], payload=f"{PICK_VERB}:{h.id}:{ctx.incoming.message_id}")]
        for h in ambiguous.hits
    ]
    if any(len(row[0].payload.encode()) > CALLBACK_LIMIT for row in buttons):
        buttons = []  # a platform message id too long for a button: the text still helps
    lines = [ctx.t("report_pick_customer", ref=ref)]
    if not buttons:
        lines += [f"• {hit_line(h)}" for h in ambiguous.hits]
    return Reply(text="\n".join(lines), buttons=buttons, private=True)
