"""Replies for segments put to work: reminders created for a segment, drafts written for one."""

from __future__ import annotations

from bot import drafting, views
from bot.context import Context
from bot.events import Reply
from bot.nlu_views import renders
from bot.segment_actions import SegmentDrafts, SegmentReminders

# Members named in a reply; the rest are counted.
NAMED = 5


def _names(ctx: Context, names: list[str]) -> str:
    shown = ", ".join(names[:NAMED])
    more = len(names) - NAMED
    return shown + (ctx.t("segment_use_more", count=more) if more > 0 else "")


@renders("remind_segment")
def reminders_reply(ctx: Context, result: SegmentReminders) -> Reply:
    if not result.reminders:
        return Reply(
            text=ctx.t("segment_use_empty", name=result.segment), data=views.data_of(result)
        )
    lines = [
        ctx.t(
            "segment_reminders_created",
            count=len(result.reminders),
            name=result.segment,
            when=ctx.when(result.due_at),
        ),
        ctx.t(
            "segment_reminders_who",
            names=_names(ctx, [r.customer_name or "" for r in result.reminders]),
        ),
    ]
    if result.text:
        lines.insert(1, f"· {result.text}")
    if result.do_not_contact:
        lines.append(
            "⛔ "
            + ctx.t(
                "segment_reminders_dnc",
                count=len(result.do_not_contact),
                names=_names(ctx, result.do_not_contact),
            )
        )
    return Reply(
        text="\n".join(lines),
        buttons=views.undo_button(ctx),
        data=views.data_of(result),
        private=True,  # customers' names
    )


def drafts_summary(ctx: Context, result: SegmentDrafts) -> Reply:
    if result.members == 0:
        return Reply(
            text=ctx.t("segment_use_empty", name=result.segment), data=views.data_of(result)
        )
    lines = [
        ctx.t(
            "segment_drafts_summary",
            name=result.segment,
            drafted=len(result.drafts),
            held=len(result.held),
            members=result.members,
        )
    ]
    lines += [f"· {ctx.t(h.code, **h.params)}" for h in result.held]
    if result.already_drafted:
        lines.append(ctx.t("segment_drafts_waiting", count=result.already_drafted))
    if result.beyond_cap > 0:
        lines.append(ctx.t("segment_drafts_beyond_cap", count=result.beyond_cap, cap=result.cap))
    return Reply(text="\n".join(lines), data=views.data_of(result), private=True)


def drafts_replies(ctx: Context, result: SegmentDrafts) -> list[Reply]:
    """The summary, then each draft with its own Send / Edit / Discard buttons."""
    return [drafts_summary(ctx, result), *(drafting.draft_reply(ctx, d) for d in result.drafts)]
