"""Personalised drafts: birthday, follow-up, win-back and thank-you messages in the customer's
language and their channel's style, built only from facts on the customer's card.

With a model: it writes the text from those facts (delimited as data), and the result is
checked — no link, no number that is not among the facts, SMS short enough — or the
template is used instead. Without one: the template in prompts/ with merge fields.
Do-not-contact and the weekly contact cap are checked before a draft is offered and again
when it is sent.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import chat_state, llm_calls
from bot.actions import action
from bot.context import Context
from bot.events import Button, Reply
from bot.i18n import format_day, t
from bot.llm import LlmUnavailable
from bot.nlu_views import renders
from bot.sanitize import clean_model_text
from bot.templates import render as render_template
from crm_core import drafts
from crm_core.access import get_customer
from crm_core.clock import utcnow
from crm_core.errors import InvalidInput
from crm_core.models import Customer, MessageDraft, Order, OrderItem, Staff
from crm_core.normalize import has_cjk
from crm_core.settings import get_settings

log = logging.getLogger(__name__)

DraftKind = Literal["birthday", "followup", "winback", "thanks"]
KIND_WORDS: dict[str, DraftKind] = {
    "birthday": "birthday",
    "生日": "birthday",
    "followup": "followup",
    "follow-up": "followup",
    "跟进": "followup",
    "回访": "followup",
    "winback": "winback",
    "win-back": "winback",
    "挽回": "winback",
    "召回": "winback",
    "thanks": "thanks",
    "thank-you": "thanks",
    "感谢": "thanks",
    "致谢": "thanks",
}
SMS_LIMIT = {"zh": 70, "en": 160}
EDIT_KEY = "draft_edit"
EDIT_WINDOW = timedelta(minutes=30)
_NUMBER = re.compile(r"\d+")


class DraftArgs(BaseModel):
    customer_id: int
    kind: DraftKind
    notes: str | None = Field(default=None, max_length=500, description="what to mention")


class DraftResult(BaseModel):
    draft_id: int
    customer_id: int
    customer_name: str
    kind: str
    channel: str
    language: str
    text: str
    method: str  # llm | template
    discount_code: str | None = None
    template_reason: str | None = None  # why the model's text was not used


class Facts(BaseModel):
    """Everything a draft may say about the customer: name, last purchase, interests."""

    name: str
    first_name: str
    company: str | None
    language: str
    channel: str
    last_product: str | None
    last_purchase_day: str | None
    interests: list[str]
    birthday: str | None
    sender: str
    discount_code: str | None = None
    discount_percent: str | None = None
    discount_until: str | None = None


def customer_language(customer: Customer) -> str:
    if customer.language in ("zh", "en"):
        return customer.language
    return "zh" if has_cjk(customer.name) else "en"


async def _last_purchase(session: AsyncSession, customer_id: int) -> tuple[str | None, Any]:
    order = (
        await session.exec(
            select(Order)
            .where(Order.customer_id == customer_id, col(Order.deleted_at).is_(None))
            .order_by(col(Order.ordered_at).desc())
            .limit(1)
        )
    ).first()
    if order is None:
        return None, None
    item = (
        await session.exec(select(OrderItem).where(OrderItem.order_id == order.id).limit(1))
    ).first()
    return (item.description if item else None), order.ordered_at


async def _facts(session: AsyncSession, ctx: Context, customer: Customer) -> Facts:
    assert customer.id is not None
    language = customer_language(customer)
    product, when = await _last_purchase(session, customer.id)
    sender = await session.get(Staff, ctx.actor.staff_id)
    first = customer.name if has_cjk(customer.name) else customer.name.split()[0]
    return Facts(
        name=customer.name,
        first_name=first,
        company=customer.company,
        language=language,
        channel=customer.preferred_channel or ("wechat" if language == "zh" else "email"),
        last_product=product,
        last_purchase_day=format_day(when.date(), language) if when else None,
        interests=list(customer.hobbies),
        birthday=format_day(customer.birthday, language) if customer.birthday else None,
        sender=sender.name if sender else ctx.actor.name,
    )


@action("draft_message", writes=True)
async def draft_message(ctx: Context, args: DraftArgs) -> DraftResult:
    """Draft a message to a customer for the rep to review and send."""
    async with ctx.transaction() as session:
        customer = await get_customer(session, ctx.actor, args.customer_id)
        block = await drafts.contact_block(session, customer)
        if block is not None:
            raise InvalidInput(block.code, **block.params)
        facts = await _facts(session, ctx, customer)
        code_id = None
        if args.kind == "winback":
            settings = get_settings()
            code = await drafts.create_discount_code(
                session,
                ctx.actor,
                args.customer_id,
                percent=Decimal(settings.winback_discount_percent),
                days=settings.winback_discount_days,
            )
            code_id = code.id
            facts.discount_code = code.code
            facts.discount_percent = str(settings.winback_discount_percent)
            facts.discount_until = format_day(code.expires_at.date(), facts.language)
    text, method, reason = await _write(ctx, args, facts)
    async with ctx.transaction() as session:
        draft = await drafts.save_draft(
            session,
            ctx.actor,
            MessageDraft(
                customer_id=args.customer_id,
                staff_id=ctx.actor.staff_id,
                kind=args.kind,
                channel=facts.channel,
                language=facts.language,
                text=text,
                method=method,
                discount_code_id=code_id,
            ),
        )
    assert draft.id is not None
    return DraftResult(
        draft_id=draft.id,
        customer_id=args.customer_id,
        customer_name=facts.name,
        kind=args.kind,
        channel=facts.channel,
        language=facts.language,
        text=text,
        method=method,
        discount_code=facts.discount_code,
        template_reason=reason,
    )


def template_text(kind: str, facts: Facts) -> str:
    return render_template(f"draft_{kind}", facts.language, **facts.model_dump())


async def _write(ctx: Context, args: DraftArgs, facts: Facts) -> tuple[str, str, str | None]:
    """(text, method, why the template was used) — the model's text only if it passes."""
    if ctx.llm is None:
        return template_text(args.kind, facts), "template", None
    prompt = render_template(
        "draft",
        ctx.lang,
        kind=args.kind,
        language=facts.language,
        channel=facts.channel,
        sms_limit=SMS_LIMIT[facts.language],
        facts=_data(facts.model_dump(exclude_none=True)),
        notes=_data(args.notes or ""),
        code=facts.discount_code,
    )
    try:
        completion = await llm_calls.chat(
            ctx, [{"role": "user", "content": prompt}], redactor=llm_calls.new_redactor(ctx)
        )
    except LlmUnavailable as exc:
        return template_text(args.kind, facts), "template", exc.reason
    text = clean_model_text(completion.content, limit=2000)
    if text and facts.discount_code and facts.discount_code not in text:
        text += "\n" + template_line_for_code(facts)  # the code exactly as stored
    problem = check_draft(text, facts, args.notes)
    if problem is not None:
        log.info("model draft rejected: %s", problem)
        return template_text(args.kind, facts), "template", problem
    return text, "llm", None


def _data(value: Any) -> str:
    """Data for a prompt: JSON, with the closing tag defused so it cannot end the block."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.replace("</", "<\\/")


def template_line_for_code(facts: Facts) -> str:
    return t(
        facts.language,
        "draft_code_line",
        code=facts.discount_code,
        percent=facts.discount_percent,
        until=facts.discount_until,
    )


def check_draft(text: str, facts: Facts, notes: str | None) -> str | None:
    """Why the model's draft cannot be offered, or None. Numbers are where invention shows
    (prices, dates, percentages): each one must come from the facts or the rep's notes."""
    if not text:
        return "empty"
    known = set(_NUMBER.findall(json.dumps(facts.model_dump(), ensure_ascii=False)))
    known |= set(_NUMBER.findall(notes or ""))
    invented = [n for n in _NUMBER.findall(text) if n not in known]
    if invented:
        return "invented_numbers"
    if facts.channel == "sms" and len(text) > SMS_LIMIT[facts.language]:
        return "too_long"
    return None


# --- the reply and its buttons ---------------------------------------------------------------


def draft_buttons(ctx: Context, draft_id: int) -> list[list[Button]]:
    return [
        [
            Button(label=ctx.t("draft_btn_send"), payload=f"draft_send:{draft_id}"),
            Button(label=ctx.t("draft_btn_edit"), payload=f"draft_edit:{draft_id}"),
            Button(label=ctx.t("draft_btn_discard"), payload=f"draft_discard:{draft_id}"),
        ]
    ]


@renders("draft_message")
def draft_reply(ctx: Context, result: DraftResult) -> Reply:
    head = ctx.t(
        "draft_header",
        kind=ctx.t(f"draft_kind_{result.kind}"),
        name=result.customer_name,
        channel=result.channel,
    )
    lines = [head, "", result.text]
    if result.method == "template" and result.template_reason:
        lines += ["", ctx.t("draft_template_used")]
    return Reply(
        text="\n".join(lines),
        buttons=draft_buttons(ctx, result.draft_id),
        data=result.model_dump(mode="python"),
        private=True,
    )


async def send(ctx: Context, draft_id: int) -> Reply:
    async with ctx.transaction() as session:
        draft = await drafts.mark_sent(session, ctx.actor, draft_id)
        customer = await get_customer(session, ctx.actor, draft.customer_id)
    return Reply(text=ctx.t("draft_sent", name=customer.name, channel=draft.channel))


async def discard(ctx: Context, draft_id: int) -> Reply:
    async with ctx.transaction() as session:
        draft = await drafts.discard(session, ctx.actor, draft_id)
    key = "draft_discarded_code" if draft.discount_code_id else "draft_discarded"
    return Reply(text=ctx.t(key))


async def start_edit(ctx: Context, draft_id: int) -> Reply:
    async with ctx.transaction() as session:
        await drafts.get_draft(session, ctx.actor, draft_id)  # still open and in scope
    await chat_state.save(ctx, EDIT_KEY, {"id": draft_id, "at": utcnow().isoformat()})
    return Reply(text=ctx.t("draft_edit_prompt"))


async def take_edit(ctx: Context) -> list[Reply] | None:
    """If this chat is waiting for a draft's new text, this message is it."""
    waiting = await chat_state.peek(ctx, EDIT_KEY)
    if not waiting:
        return None
    await chat_state.pop(ctx, EDIT_KEY)
    if utcnow() - datetime.fromisoformat(waiting["at"]) > EDIT_WINDOW:
        return None
    text = (ctx.incoming.text or "").strip()
    async with ctx.transaction() as session:
        draft = await drafts.replace_text(session, ctx.actor, int(waiting["id"]), text)
        customer = await get_customer(session, ctx.actor, draft.customer_id)
        block = await drafts.contact_block(session, customer)
    assert draft.id is not None
    result = DraftResult(
        draft_id=draft.id,
        customer_id=draft.customer_id,
        customer_name=customer.name,
        kind=draft.kind,
        channel=draft.channel,
        language=draft.language,
        text=draft.text,
        method=draft.method,
    )
    reply = draft_reply(ctx, result)
    if block is not None:
        reply = reply.model_copy(
            update={"text": reply.text + "\n" + ctx.t(block.code, **block.params)}
        )
    return [reply]
