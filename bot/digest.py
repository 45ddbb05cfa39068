"""A team's daily follow-up list and the manager's end-of-day summary: gathered with a few
set-based queries, worded in the team's language, split into Replies that fit Telegram
(4096 characters) and Slack (3000 characters a section, 50 blocks a message)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import and_, case, extract, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import Button, Reply
from bot.i18n import format_day, t
from crm_core.care.policy import CareKind, CarePolicy, policy_of
from crm_core.feedback import CHURN_RISK
from crm_core.models import (
    Customer,
    DeliveryState,
    Feedback,
    FeedbackKind,
    Reminder,
    ReminderStatus,
    Staff,
    Team,
)

ITEMS_PER_REP = 5
LIST_LIMIT = 10
# Under Slack's 3000-character section and Telegram's 4096-character message.
TEXT_LIMIT = 2800
# Rows of buttons per message: Slack allows 50 blocks, Telegram ~100 buttons.
BUTTON_ROWS = 10
_ACTIVE = (ReminderStatus.OPEN, ReminderStatus.SNOOZED)


class Item(BaseModel):
    id: int
    text: str
    due_at: datetime
    overdue: bool = False
    note: str | None = None


class RepLoad(BaseModel):
    staff_id: int
    name: str
    overdue: int = 0
    due_today: int = 0
    done_today: int = 0
    items: list[Item] = []


class Mention(BaseModel):
    text: str
    customer_id: int | None = None


class TeamDigest(BaseModel):
    team: str
    language: str
    timezone: str
    day: date
    reps: list[RepLoad]
    birthdays: list[Mention]
    churn_risk: list[Mention]
    negative_feedback: list[Mention]
    held: list[Item]
    failed: list[Item]


def _local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)


async def build_digest(session: AsyncSession, team: Team, now: datetime) -> TeamDigest:
    """Everything the team should look at today (its local day)."""
    policy = policy_of(team)
    day = now.astimezone(ZoneInfo(team.timezone)).date()
    start, end = _local_day_bounds(day, team.timezone)
    staff = (
        await session.exec(
            select(Staff).where(Staff.team_id == team.id, col(Staff.active)).order_by(col(Staff.id))
        )
    ).all()
    reps = {s.id: RepLoad(staff_id=s.id, name=s.name) for s in staff if s.id is not None}
    members = list(reps)
    mine = col(Reminder.owner_id).in_(members)

    counts = select(
        Reminder.owner_id,
        func.sum(case((Reminder.due_at < start, 1), else_=0)),
        func.sum(case((Reminder.due_at >= start, 1), else_=0)),
    ).where(mine, col(Reminder.status).in_(_ACTIVE), Reminder.due_at < end)
    for owner, overdue, due in (await session.exec(counts.group_by(Reminder.owner_id))).all():
        reps[owner].overdue, reps[owner].due_today = int(overdue or 0), int(due or 0)
    done = select(Reminder.owner_id, func.count()).where(
        mine, Reminder.status == ReminderStatus.DONE, Reminder.done_at >= start
    )
    for owner, n in (await session.exec(done.group_by(Reminder.owner_id))).all():
        reps[owner].done_today = int(n)

    # The first few items of each rep, oldest first (one query, a window function).
    rank = (
        func.row_number()
        .over(partition_by=Reminder.owner_id, order_by=(col(Reminder.due_at), col(Reminder.id)))
        .label("rank")
    )
    ranked = (
        select(Reminder.id, Reminder.owner_id, Reminder.text, Reminder.due_at, rank)
        .where(mine, col(Reminder.status).in_(_ACTIVE), Reminder.due_at < end)
        .subquery()
    )
    firsts = select(*ranked.c).where(ranked.c.rank <= ITEMS_PER_REP).order_by(ranked.c.due_at)
    for rid, owner, text, due_at, _ in (await session.exec(firsts)).all():  # type: ignore[call-overload]
        reps[owner].items.append(Item(id=rid, text=text, due_at=due_at, overdue=due_at < start))

    return TeamDigest(
        team=team.name,
        language=team.language,
        timezone=team.timezone,
        day=day,
        reps=[r for r in reps.values() if r.overdue or r.due_today or r.done_today],
        birthdays=await _birthdays(session, team, day),
        churn_risk=await _churn_risk(session, mine, team),
        negative_feedback=await _negative_feedback(session, team, now),
        held=await _flagged(session, mine, Reminder.status == ReminderStatus.HELD, now, policy),
        failed=await _flagged(
            session,
            mine,
            and_(Reminder.delivery == DeliveryState.FAILED, col(Reminder.status).in_(_ACTIVE)),
            now,
            policy,
        ),
    )


async def _birthdays(session: AsyncSession, team: Team, day: date) -> list[Mention]:
    week = [day + timedelta(days=i) for i in range(7)]
    on_day = or_(
        *(
            and_(
                extract("month", Customer.birthday) == d.month,
                extract("day", Customer.birthday) == d.day,
            )
            for d in week
        )
    )
    stmt = select(Customer.id, Customer.name, Customer.birthday).where(
        Customer.team_id == team.id, col(Customer.deleted_at).is_(None), on_day
    )
    rows = (await session.exec(stmt)).all()
    order = {(d.month, d.day): i for i, d in enumerate(week)}
    rows = sorted(rows, key=lambda r: order.get((r[2].month, r[2].day), 99))
    return [
        Mention(
            text=f"{name} · {format_day(week[order[(b.month, b.day)]], team.language)}",
            customer_id=cid,
        )
        for cid, name, b in rows[: LIST_LIMIT * 2]
    ]


async def _churn_risk(session: AsyncSession, mine: object, team: Team) -> list[Mention]:
    """Customers marked at churn risk by negative feedback (with the latest of it as the
    reason), then open win-back reminders: the customers whose buying slowed down."""
    flagged = (
        select(Customer.id, Customer.name)
        .where(
            Customer.team_id == team.id,
            Customer.risk == CHURN_RISK,
            col(Customer.deleted_at).is_(None),
        )
        .order_by(col(Customer.updated_at).desc())
        .limit(LIST_LIMIT)
    )
    names = dict((await session.exec(flagged)).all())
    reasons: dict[int, str] = {}
    if names:
        feedback = (
            select(Feedback.customer_id, Feedback.score, Feedback.text)
            .where(col(Feedback.customer_id).in_(names), col(Feedback.deleted_at).is_(None))
            .order_by(col(Feedback.created_at).desc())
        )
        for cid, score, text in (await session.exec(feedback)).all():
            if cid not in reasons:  # the latest is the reason
                reasons[cid] = (f"({score}/10) " if score is not None else "") + text[:60]
    found = {
        cid: Mention(text=f"{name}: {reasons[cid]}" if cid in reasons else name, customer_id=cid)
        for cid, name in names.items()
    }
    stmt = (
        select(Reminder.customer_id, Reminder.text)
        .where(mine, Reminder.kind == CareKind.WINBACK.value, col(Reminder.status).in_(_ACTIVE))
        .order_by(col(Reminder.due_at).desc())
        .limit(LIST_LIMIT)
    )
    for cid, text in (await session.exec(stmt)).all():
        if cid not in found:
            found[cid] = Mention(text=text, customer_id=cid)
    return list(found.values())[:LIST_LIMIT]


async def _negative_feedback(session: AsyncSession, team: Team, now: datetime) -> list[Mention]:
    stmt = (
        select(Feedback.customer_id, Customer.name, Feedback.score, Feedback.text)
        .join(Customer, col(Customer.id) == col(Feedback.customer_id))
        .where(
            Customer.team_id == team.id,
            Feedback.created_at >= now - timedelta(days=1),
            col(Feedback.deleted_at).is_(None),
            or_(
                col(Feedback.kind).in_([FeedbackKind.COMPLAINT, FeedbackKind.RETURN]),
                col(Feedback.score) <= 6,
            ),
        )
        .order_by(col(Feedback.created_at).desc())
        .limit(LIST_LIMIT)
    )
    return [
        Mention(
            text=f"{name}" + (f" ({score}/10)" if score is not None else "") + f": {text[:80]}",
            customer_id=cid,
        )
        for cid, name, score, text in (await session.exec(stmt)).all()
    ]


async def _flagged(
    session: AsyncSession, mine: object, condition: object, now: datetime, policy: CarePolicy
) -> list[Item]:
    """Held touches of the last day, or reminders that could not be delivered."""
    stmt = (
        select(Reminder)
        .where(mine, condition, Reminder.created_at >= now - timedelta(days=7))
        .order_by(col(Reminder.due_at).desc())
        .limit(LIST_LIMIT)
    )
    return [
        Item(
            id=r.id,
            text=r.text,
            due_at=r.due_at,
            note=r.held_reason or r.last_error,
        )
        for r in (await session.exec(stmt)).all()
        if r.id is not None
    ]


# --- rendering -----------------------------------------------------------------------------


class _Pager:
    """Lines and button rows packed into as few Replies as the platforms allow."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.lines: list[str] = []
        self.rows: list[list[Button]] = []

    def add(self, line: str, row: list[Button] | None = None) -> None:
        size = sum(len(x) + 1 for x in self.lines) + len(line)
        if self.lines and (size > TEXT_LIMIT or (row and len(self.rows) >= BUTTON_ROWS)):
            self.flush()
        self.lines.append(line[:TEXT_LIMIT])
        if row:
            self.rows.append(row)

    def flush(self) -> None:
        if self.lines:
            self.replies.append(Reply(text="\n".join(self.lines), buttons=self.rows))
        self.lines, self.rows = [], []

    def done(self, lang: str) -> list[Reply]:
        self.flush()
        if len(self.replies) > 1:
            for i, reply in enumerate(self.replies, 1):
                reply.text += "\n" + t(lang, "digest_part", part=i, parts=len(self.replies))
        return self.replies


def _item_buttons(lang: str, item: Item) -> list[Button]:
    return [
        Button(label=f"{t(lang, 'care_btn_claim')} #{item.id}", payload=f"claim:{item.id}"),
        Button(label=t(lang, "btn_done"), payload=f"done:{item.id}"),
        Button(label=t(lang, "btn_snooze_1d"), payload=f"snooze:{item.id}:1d"),
    ]


def render_digest(digest: TeamDigest, policy: CarePolicy | None = None) -> list[Reply]:
    lang, zone = digest.language, ZoneInfo(digest.timezone)
    cap = (policy or CarePolicy()).touch_cap
    page = _Pager()
    page.add(t(lang, "digest_title", team=digest.team, day=format_day(digest.day, lang)))
    if not digest.reps:
        page.add(t(lang, "digest_nothing"))
    for rep in digest.reps:
        page.add("")
        page.add(t(lang, "digest_rep", name=rep.name, overdue=rep.overdue, due=rep.due_today))
        for item in rep.items:
            when = item.due_at.astimezone(zone).strftime("%m-%d %H:%M")
            flag = f" ({t(lang, 'digest_overdue')})" if item.overdue else ""
            page.add(f"  #{item.id} {when}{flag} {item.text}", _item_buttons(lang, item))
        hidden = rep.overdue + rep.due_today - len(rep.items)
        if hidden > 0:
            page.add("  " + t(lang, "digest_more", count=hidden))
    for key, mentions in (
        ("digest_birthdays", digest.birthdays),
        ("digest_churn", digest.churn_risk),
        ("digest_feedback", digest.negative_feedback),
    ):
        if mentions:
            page.add("")
            page.add(t(lang, key))
            for m in mentions:
                page.add(f"  • {m.text}" + (f" #{m.customer_id}" if m.customer_id else ""))
    for key, items in (("digest_held", digest.held), ("digest_failed", digest.failed)):
        if items:
            page.add("")
            page.add(t(lang, key))
            for item in items:
                note = item.note or ""
                if note in ("touch_cap", "do_not_contact"):
                    note = t(lang, f"digest_held_{note}", cap=cap)
                page.add(f"  #{item.id} {item.text} — {note}", _item_buttons(lang, item))
    return page.done(lang)


async def build_summary(session: AsyncSession, team: Team, now: datetime) -> list[Reply]:
    """End of the day, for the manager: done, slipped, who is overloaded."""
    policy = policy_of(team)
    digest = await build_digest(session, team, now)
    lang = team.language
    page = _Pager()
    page.add(t(lang, "summary_title", team=team.name, day=format_day(digest.day, lang)))
    staff = (
        await session.exec(select(Staff).where(Staff.team_id == team.id, col(Staff.active)))
    ).all()
    loads = {r.staff_id: r for r in digest.reps}
    for member in staff:
        load = loads.get(member.id) or RepLoad(staff_id=member.id or 0, name=member.name)
        if not (load.done_today or load.overdue or load.due_today):
            continue
        page.add(
            t(
                lang,
                "summary_rep",
                name=member.name,
                done=load.done_today,
                slipped=load.overdue + load.due_today,
            )
        )
    overloaded = [r.name for r in digest.reps if r.overdue > policy.overloaded_at]
    if overloaded:
        page.add(
            t(lang, "summary_overloaded", limit=policy.overloaded_at, names=", ".join(overloaded))
        )
    else:
        page.add(t(lang, "summary_nobody_overloaded"))
    return page.done(lang)
