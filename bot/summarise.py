"""Feedback summaries: themes with counts, the sentiment split, 2-3 verbatim quotes per
theme, suggested actions; negative feedback becomes a care task for the customer's owner.

Scores and counts are always computed here, in SQL and Python. With a model, it names the
themes and picks quotes — over chunks of feedback when there is more than fits one prompt
(map), then merging the chunks' themes (reduce). Every quote is checked to be a verbatim
substring of real feedback in the set; any other is dropped. Without a model, or when its
answer is unusable: keyword themes (jieba for Chinese).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot import llm_calls
from bot.actions import action
from bot.context import Context
from bot.events import Reply
from bot.feedback_themes import Item, keyword_themes, lexicon_sentiment, sentence_with
from bot.i18n import format_day
from bot.llm import LlmUnavailable
from bot.nlu_views import renders
from bot.periods import Period, default_period, parse_period
from bot.sanitize import clean_model_text
from bot.templates import render as render_template
from crm_core import reminders
from crm_core.access import customer_scope, get_customer
from crm_core.clock import utcnow
from crm_core.models import Customer, Feedback, FeedbackKind, Reminder, ReminderSource
from crm_core.settings import get_settings

log = logging.getLogger(__name__)

MAX_ITEMS = 2000  # most recent feedback read per summary
MAX_CHUNKS = 8  # map calls per summary; beyond this the oldest items are left out
MAX_THEMES = 6
CARE_WINDOW = timedelta(days=30)  # negative feedback older than this gets no new care task


class SummaryArgs(BaseModel):
    customer_id: int | None = None
    product: str | None = Field(default=None, description="product word")
    period: str | None = Field(default=None, description="e.g. 本月, last month, 近30天")


class ThemeView(BaseModel):
    title: str
    count: int
    quotes: list[str]


class FeedbackSummary(BaseModel):
    customer_name: str | None
    product: str | None
    period_start: datetime
    period_end: datetime
    total: int  # feedback items in scope and period
    analysed: int  # of which read for themes (the most recent MAX_ITEMS)
    scored: int
    average: float | None
    promoters: int
    passives: int
    detractors: int
    nps: int | None
    positive: int
    neutral: int
    negative: int
    themes: list[ThemeView]
    actions: list[str]
    care_tasks: int
    method: str  # llm | keywords
    fallback_reason: str | None = None
    dropped_quotes: int = 0


@dataclass(frozen=True)
class Row:
    id: int
    customer_id: int
    customer_name: str
    owner_id: int | None
    kind: str
    score: int | None
    text: str
    resolved: bool
    created_at: datetime


# --- reading ---------------------------------------------------------------------------------


def _filters(ctx: Context, args: SummaryArgs, period: Period) -> list[Any]:
    conditions: list[Any] = [
        customer_scope(ctx.actor),
        col(Feedback.deleted_at).is_(None),
        Feedback.created_at >= period.start,
        Feedback.created_at < period.end,
    ]
    if args.customer_id is not None:
        conditions.append(Feedback.customer_id == args.customer_id)
    if args.product:
        conditions.append(func.lower(Feedback.text).contains(args.product.casefold()))
    return conditions


async def _load(ctx: Context, args: SummaryArgs, period: Period) -> tuple[int, list[Row]]:
    conditions = _filters(ctx, args, period)
    join = col(Customer.id) == col(Feedback.customer_id)
    async with ctx.transaction() as session:
        total = (
            await session.exec(
                select(func.count()).select_from(Feedback).join(Customer, join).where(*conditions)
            )
        ).one()
        rows = (
            await session.exec(
                select(Feedback, Customer.name, Customer.owner_id)
                .join(Customer, join)
                .where(*conditions)
                .order_by(col(Feedback.created_at).desc())
                .limit(MAX_ITEMS)
            )
        ).all()
    return total, [
        Row(
            id=f.id,
            customer_id=f.customer_id,
            customer_name=name,
            owner_id=owner,
            kind=f.kind.value,
            score=f.score,
            text=f.text,
            resolved=f.resolution is not None,
            created_at=f.created_at,
        )
        for f, name, owner in rows
        if f.id is not None
    ]


# --- the summary -----------------------------------------------------------------------------


@action("summarise_feedback", writes=False)
async def summarise_feedback(ctx: Context, args: SummaryArgs) -> FeedbackSummary:
    """Summarise customer feedback into themes and actions (default: last 30 days)."""
    period = (parse_period(args.period, ctx.now) if args.period else None) or default_period(
        ctx.now
    )
    customer_name = None
    if args.customer_id is not None:
        async with ctx.transaction() as session:
            customer_name = (await get_customer(session, ctx.actor, args.customer_id)).name
    total, rows = await _load(ctx, args, period)
    found = await _themes(ctx, rows)
    sentiment = {row.id: _sentiment(row, found.negative, found.positive) for row in rows}
    scores = [r.score for r in rows if r.score is not None]
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    negatives = [r for r in rows if sentiment[r.id] < 0]
    care = await create_care_tasks(ctx, negatives)
    return FeedbackSummary(
        customer_name=customer_name,
        product=args.product,
        period_start=period.start,
        period_end=period.end,
        total=total,
        analysed=found.analysed,
        scored=len(scores),
        average=round(sum(scores) / len(scores), 1) if scores else None,
        promoters=promoters,
        passives=len(scores) - promoters - detractors,
        detractors=detractors,
        nps=round(100 * (promoters - detractors) / len(scores)) if scores else None,
        positive=sum(v > 0 for v in sentiment.values()),
        neutral=sum(v == 0 for v in sentiment.values()),
        negative=len(negatives),
        themes=found.themes,
        actions=found.actions or _default_actions(ctx, rows, negatives),
        care_tasks=care,
        method=found.method,
        fallback_reason=found.reason,
        dropped_quotes=found.dropped,
    )


def _sentiment(row: Row, negative_ids: set[int], positive_ids: set[int]) -> int:
    """Scores decide (NPS buckets); then the kind; then the model's label or word list."""
    if row.score is not None:
        return 1 if row.score >= 9 else (0 if row.score >= 7 else -1)
    if row.kind in (FeedbackKind.COMPLAINT.value, FeedbackKind.RETURN.value):
        return -1
    if row.id in negative_ids:
        return -1
    if row.id in positive_ids:
        return 1
    return lexicon_sentiment(row.text)


def _default_actions(ctx: Context, rows: list[Row], negatives: list[Row]) -> list[str]:
    open_negatives = [r for r in negatives if not r.resolved]
    out = []
    if open_negatives:
        out.append(ctx.t("summary_action_follow_up", count=len(open_negatives)))
    if any(r.score is not None and r.score >= 9 for r in rows):
        out.append(ctx.t("summary_action_promoters"))
    return out


@dataclass
class Found:
    themes: list[ThemeView]
    actions: list[str]
    negative: set[int]
    positive: set[int]
    method: str  # llm | keywords
    analysed: int
    reason: str | None = None  # why the model's themes were not used
    dropped: int = 0  # model quotes that were not verbatim feedback


async def _themes(ctx: Context, rows: list[Row]) -> Found:
    reason = None
    if ctx.llm is not None and rows:
        try:
            return await _llm_themes(ctx, rows)
        except LlmUnavailable as exc:
            reason = exc.reason
            log.warning("feedback summary fell back to keywords: %s", exc)
    found = keyword_themes([Item(r.id, r.text) for r in rows])
    themes = [ThemeView(title=t.term, count=len(t.ids), quotes=t.quotes) for t in found]
    return Found(themes, [], set(), set(), "keywords", len(rows), reason)


# --- the model path: map, reduce, verify -----------------------------------------------------


class _ThemeOut(BaseModel):
    title: str
    ids: list[int] = Field(default_factory=list)
    quotes: list[str] = Field(default_factory=list)


class _MapOut(BaseModel):
    themes: list[_ThemeOut] = Field(default_factory=list)
    negative_ids: list[int] = Field(default_factory=list)
    positive_ids: list[int] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)


class _ReducedTheme(BaseModel):
    title: str
    parts: list[int]


class _ReduceOut(BaseModel):
    themes: list[_ReducedTheme]
    actions: list[str] = Field(default_factory=list)


def _line(row: Row) -> str:
    score = f"{row.score}/10, " if row.score is not None else ""
    text = " ".join(row.text.split()).replace("</", "<\\/")  # cannot close the data block
    return f"[F{row.id}] ({score}{row.kind}) {text}"


def chunks(rows: list[Row], budget: int) -> list[list[Row]]:
    out: list[list[Row]] = [[]]
    size = 0
    for row in rows:
        length = len(_line(row)) + 1
        if out[-1] and size + length > budget:
            out.append([])
            size = 0
        out[-1].append(row)
        size += length
    return out


async def _ask_json(ctx: Context, prompt: str, model: type[BaseModel]) -> Any:
    completion = await llm_calls.chat(
        ctx,
        [{"role": "user", "content": prompt}],
        json_mode=True,
        redactor=llm_calls.new_redactor(ctx),
    )
    raw = (completion.content or "").strip()
    if raw.startswith("```"):
        raw = raw.strip("`").removeprefix("json").strip()
    try:
        return model.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise LlmUnavailable("bad_response", str(exc)[:200]) from exc


async def _llm_themes(ctx: Context, rows: list[Row]) -> Found:
    parts = chunks(rows, get_settings().llm_context_chars)[:MAX_CHUNKS]
    mapped: list[tuple[list[Row], _MapOut]] = []
    for part in parts:
        prompt = render_template("summary_map", ctx.lang, items="\n".join(_line(r) for r in part))
        mapped.append((part, await _ask_json(ctx, prompt, _MapOut)))
    by_id = {r.id: r for part in parts for r in part}
    negative = {i for _, out in mapped for i in out.negative_ids if i in by_id}
    positive = {i for _, out in mapped for i in out.positive_ids if i in by_id}
    partial = [theme for _, out in mapped for theme in out.themes]
    actions_ = [a for _, out in mapped for a in out.actions]
    if len(mapped) > 1:
        partial, actions_ = await _reduce(ctx, partial, by_id)
    themes, dropped = verify(partial, by_id)
    cleaned = [a for a in (clean_model_text(x, limit=200) for x in actions_) if a]
    return Found(themes, cleaned[:5], negative, positive, "llm", len(by_id), None, dropped)


async def _reduce(
    ctx: Context, partial: list[_ThemeOut], by_id: dict[int, Row]
) -> tuple[list[_ThemeOut], list[str]]:
    lines = []
    for n, theme in enumerate(partial, 1):
        count = len({i for i in theme.ids if i in by_id})
        quotes = " | ".join(q.replace("</", "<\\/") for q in theme.quotes[:2])
        lines.append(f"[T{n}] {theme.title} ({count}) — {quotes}")
    prompt = render_template("summary_reduce", ctx.lang, items="\n".join(lines))
    out: _ReduceOut = await _ask_json(ctx, prompt, _ReduceOut)
    merged = []
    for theme in out.themes:
        members = [partial[n - 1] for n in theme.parts if 1 <= n <= len(partial)]
        merged.append(
            _ThemeOut(
                title=theme.title,
                ids=[i for m in members for i in m.ids],
                quotes=[q for m in members for q in m.quotes],
            )
        )
    return merged, out.actions


def _bare(quote: str) -> str:
    return quote.strip().strip("\"'“”‘’「」『』").strip()


def verify(themes: list[_ThemeOut], by_id: dict[int, Row]) -> tuple[list[ThemeView], int]:
    """Counts from real ids; quotes only if they are verbatim substrings of real feedback.
    A theme short of two quotes gets sentences from its own items (verbatim by construction)."""
    dropped = 0
    out: list[ThemeView] = []
    for theme in themes:
        ids = list(dict.fromkeys(i for i in theme.ids if i in by_id))
        quotes: list[str] = []
        for quote in (_bare(q) for q in theme.quotes):
            if quote and any(quote in row.text for row in by_id.values()):
                if quote not in quotes:
                    quotes.append(quote)
            else:
                dropped += 1
        if not ids:
            ids = [r.id for r in by_id.values() if any(q in r.text for q in quotes)]
        if not ids:
            continue
        for i in ids:
            if len(quotes) >= 2:
                break
            sample = sentence_with(by_id[i].text, "") if by_id[i].text else ""
            if sample and sample not in quotes:
                quotes.append(sample)
        title = clean_model_text(theme.title, limit=80)
        out.append(ThemeView(title=title or "—", count=len(ids), quotes=quotes[:3]))
    out.sort(key=lambda t: -t.count)
    return out[:MAX_THEMES], dropped


# --- care tasks ------------------------------------------------------------------------------


def care_key(feedback_id: int) -> str:
    return f"feedback-care:{feedback_id}"


async def create_care_tasks(ctx: Context, negatives: list[Row]) -> int:
    """One care task per recent, unresolved negative feedback, for the customer's owner;
    never twice for the same feedback (the reminder's cause key is unique)."""
    recent = [
        r
        for r in negatives
        if not r.resolved and r.owner_id is not None and r.created_at >= utcnow() - CARE_WINDOW
    ]
    if not recent:
        return 0
    due = (ctx.now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    try:
        async with ctx.transaction() as session:
            keys = [care_key(r.id) for r in recent]
            existing = set(
                (
                    await session.exec(
                        select(Reminder.cause_key).where(col(Reminder.cause_key).in_(keys))
                    )
                ).all()
            )
            created = 0
            for row in recent:
                if care_key(row.id) in existing:
                    continue
                reminder = await reminders.create_reminder(
                    session=session,
                    actor=ctx.actor,
                    data=reminders.ReminderCreate(
                        due_at=due,
                        text=ctx.t("summary_care_task", name=row.customer_name, text=row.text[:80]),
                        kind="care",
                        customer_id=row.customer_id,
                        source=ReminderSource.RULE,
                    ),
                    owner_id=row.owner_id,
                )
                reminder.cause_key = care_key(row.id)
                session.add(reminder)
                created += 1
    except IntegrityError:  # another summary made them at the same moment
        return 0
    return created


# --- the reply -------------------------------------------------------------------------------


@renders("summarise_feedback")
def summary_reply(ctx: Context, s: FeedbackSummary) -> Reply:
    zone_start = s.period_start.astimezone(ctx.now.tzinfo).date()
    zone_end = (s.period_end - timedelta(microseconds=1)).astimezone(ctx.now.tzinfo).date()
    scope = s.customer_name or ctx.t("summary_scope_all")
    if s.product:
        scope += f" · {s.product}"
    period = f"{format_day(zone_start, ctx.lang)} – {format_day(zone_end, ctx.lang)}"
    lines = [ctx.t("summary_header", scope=scope, period=period, count=s.total)]
    if s.total == 0:
        return Reply(text=lines[0] + "\n" + ctx.t("summary_empty"), data=s.model_dump())
    if s.scored:
        lines.append(
            ctx.t(
                "summary_scores",
                average=s.average,
                nps=f"{s.nps:+d}",
                promoters=s.promoters,
                passives=s.passives,
                detractors=s.detractors,
            )
        )
    lines.append(
        ctx.t("summary_sentiment", positive=s.positive, neutral=s.neutral, negative=s.negative)
    )
    if s.themes:
        lines.append(ctx.t("summary_themes"))
        for n, theme in enumerate(s.themes, 1):
            lines.append(f"{n}. {theme.title} ({theme.count})")
            lines += [f"   “{q}”" for q in theme.quotes]
    if s.actions:
        lines.append(ctx.t("summary_actions"))
        lines += [f"• {a}" for a in s.actions]
    if s.care_tasks:
        lines.append(ctx.t("summary_care_created", count=s.care_tasks))
    if s.analysed < s.total:
        lines.append(ctx.t("summary_partial", analysed=s.analysed))
    if s.method == "keywords":
        key = "summary_keywords_fallback" if s.fallback_reason else "summary_keywords"
        lines.append(ctx.t(key))
    return Reply(text="\n".join(lines), data=s.model_dump(), private=True)
