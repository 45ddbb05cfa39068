"""Results of actions, worded for people: text, tables and buttons, in the actor's language."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from bot.actions import FindResult, LogResult, ReminderView, TodayResult, UndoResult
from bot.context import Context
from bot.events import Button, Reply, Table
from bot.i18n import format_day, format_money
from bot.tier_view import describe_tier
from crm_core.card import CustomerCard
from crm_core.search import SearchHit
from crm_core.settings import get_settings


def data_of(result: BaseModel) -> dict[str, object]:
    return result.model_dump(mode="python")


def reminder_buttons(ctx: Context, reminder_id: int, *, undo: bool = False) -> list[list[Button]]:
    row = [
        Button(label=ctx.t("btn_done"), payload=f"done:{reminder_id}"),
        Button(label=ctx.t("btn_snooze_1d"), payload=f"snooze:{reminder_id}:1d"),
        Button(label=ctx.t("btn_snooze_1w"), payload=f"snooze:{reminder_id}:1w"),
    ]
    return [row, [Button(label=ctx.t("btn_undo"), payload="undo")]] if undo else [row]


def undo_button(ctx: Context) -> list[list[Button]]:
    return [[Button(label=ctx.t("btn_undo"), payload="undo")]]


# Undone entries listed one by one up to this many of a kind; more are counted.
UNDO_LISTED = 5


def undone_what(ctx: Context, result: UndoResult) -> str:
    """ "reminder #3, order #7", or "200 × reminder" when one request changed many."""
    by_entity: dict[str, list[int]] = {}
    for _, entity, eid in result.undone:
        by_entity.setdefault(entity, []).append(eid)
    parts = []
    for entity, ids in by_entity.items():
        name = ctx.t("entity_" + entity)
        if len(ids) > UNDO_LISTED:
            parts.append(f"{len(ids)} × {name}")
        else:
            parts += [f"{name} #{eid}" for eid in ids]
    return ", ".join(parts)


def hit_line(hit: SearchHit) -> str:
    extra = " · ".join(x for x in (hit.company, hit.phone, hit.city) if x)
    return f"#{hit.id} {hit.name}" + (f" ({extra})" if extra else "")


def pick_buttons(hits: list[SearchHit]) -> list[list[Button]]:
    return [[Button(label=hit_line(h)[:60], payload=f"pick:{h.id}")] for h in hits]


def find_reply(ctx: Context, result: FindResult) -> Reply:
    if not result.hits:
        return Reply(text=ctx.t("find_none", ref=result.query), data=data_of(result))
    table = Table(
        columns=[ctx.t("col_id"), ctx.t("col_name"), ctx.t("col_company"), ctx.t("col_phone")],
        rows=[[f"#{h.id}", h.name, h.company or "", h.phone or ""] for h in result.hits],
    )
    buttons = [[Button(label=h.name[:40], payload=f"card:{h.id}")] for h in result.hits[:5]]
    return Reply(
        text=ctx.t("find_header", count=len(result.hits), ref=result.query),
        table=table,
        buttons=buttons,
        data=data_of(result),
        private=True,
    )


def card_reply(ctx: Context, card: CustomerCard) -> Reply:
    lines = [f"👤 {card.name}" + (f" · {card.company}" if card.company else "") + f"  #{card.id}"]

    def add(key: str, value: object) -> None:
        if value not in (None, "", []):
            lines.append(f"{ctx.t(key)}: {value}")

    add("card_title", card.title)
    add("card_phone", ", ".join(card.phones))
    add("card_email", ", ".join(card.emails))
    add("card_wechat", card.wechat_id)
    add("card_channel", card.preferred_channel)
    add("card_contact_time", card.preferred_contact_time)
    add("card_birthday", format_day(card.birthday, ctx.lang) if card.birthday else None)
    add("card_city", " ".join(x for x in (card.region, card.city) if x))
    add("card_source", card.source)
    add("card_tags", ", ".join(card.tags))
    add("card_hobbies", ", ".join(card.hobbies))
    add("card_owner", card.owner)
    add("card_stage", ctx.t(f"stage_{card.stage}"))
    add("card_tier", describe_tier(ctx.lang, card.tier, card.tier_reason))
    add("card_risk", ctx.t(f"risk_{card.risk}") if card.risk else None)
    if card.do_not_contact:
        lines.append("⛔ " + ctx.t("card_dnc"))
    totals = [format_money(t.total, t.currency, ctx.lang) for t in card.order_totals]
    lines.append(
        ctx.t(
            "card_orders",
            count=card.order_count,
            # One sum per currency: ¥ and $ are never added together.
            total=" + ".join(totals)
            or format_money(Decimal(0), get_settings().default_currency, ctx.lang),
        )
        + (
            f" · {ctx.t('card_last_order')} {ctx.when(card.last_ordered_at)}"
            if card.last_ordered_at
            else ""
        )
    )
    for order in card.recent_orders:
        lines.append(
            f"  · {ctx.when(order.ordered_at)} "
            f"{format_money(order.amount, order.currency, ctx.lang)} "
            f"{ctx.t('pay_' + order.payment_status)}"
        )
    if card.recent_interactions:
        lines.append(ctx.t("card_interactions"))
        lines += [
            f"  · {ctx.when(i.occurred_at)} [{ctx.t('kind_' + i.kind)}] {i.summary}"
            for i in card.recent_interactions
        ]
    if card.open_reminders:
        lines.append(ctx.t("card_reminders"))
        lines += [f"  · #{r.id} {ctx.when(r.due_at)} {r.text}" for r in card.open_reminders]
    if card.recent_feedback:
        lines.append(ctx.t("card_feedback"))
        lines += [
            f"  · {ctx.when(f.created_at)} [{ctx.t('fb_' + f.kind)}"
            + (f" {f.score}/10" if f.score is not None else "")
            + f"] {f.text}"
            for f in card.recent_feedback
        ]
    return Reply(text="\n".join(lines), data=data_of(card), private=True)


def reminder_line(ctx: Context, view: ReminderView) -> str:
    who = f"{view.customer_name} — " if view.customer_name else ""
    return f"#{view.id} {ctx.when(view.due_at)} · {who}{view.text}"


def log_reply(ctx: Context, result: LogResult) -> Reply:
    text = ctx.t("logged", kind=ctx.t("kind_" + result.kind), name=result.customer_name)
    if result.follow_up is None:
        return Reply(text=text, buttons=undo_button(ctx), data=data_of(result))
    text += "\n" + ctx.t("followup_created", when=ctx.when(result.follow_up.due_at))
    return Reply(
        text=text,
        buttons=reminder_buttons(ctx, result.follow_up.id, undo=True),
        data=data_of(result),
    )


def today_reply(ctx: Context, result: TodayResult) -> Reply:
    if not result.overdue and not result.today:
        return Reply(text=ctx.t("today_empty"), data=data_of(result))
    lines: list[str] = []
    if result.overdue:
        lines.append(ctx.t("today_overdue", count=len(result.overdue)))
        lines += [reminder_line(ctx, v) for v in result.overdue]
    if result.today:
        lines.append(ctx.t("today_due", count=len(result.today)))
        lines += [reminder_line(ctx, v) for v in result.today]
    first = (result.overdue + result.today)[:5]
    buttons = [
        [
            Button(label=f"✓ #{v.id}", payload=f"done:{v.id}"),
            Button(label=f"⏰ #{v.id} {ctx.t('btn_snooze_1d')}", payload=f"snooze:{v.id}:1d"),
        ]
        for v in first
    ]
    return Reply(text="\n".join(lines), buttons=buttons, data=data_of(result), private=True)
