"""`/draft C birthday|followup|winback|thanks [notes]` (/草拟), also for a whole segment
(`/draft segment=NAME winback`), and the draft's buttons."""

from __future__ import annotations

from bot import drafting, segment_actions, segment_views
from bot.commands.errors import Usage
from bot.commands.grammar import join_segment_key, segment_ref
from bot.commands.handlers import button, command, customer_or_choice
from bot.context import Context
from bot.events import Reply


@command("draft")
async def draft(ctx: Context, rest: str, picked: int | None) -> list[Reply]:
    words = join_segment_key(rest).split()
    for i, word in enumerate(words):
        kind = drafting.KIND_WORDS.get(word.casefold())
        if kind is not None and (i >= 1 or picked is not None):
            break
    else:
        raise Usage("draft")
    ref, notes = " ".join(words[:i]), " ".join(words[i + 1 :])
    if picked is None and (segment := segment_ref(ref)) is not None:
        result = await segment_actions.draft_segment(
            ctx,
            segment_actions.DraftSegmentArgs(segment=segment, kind=kind, notes=notes or None),
        )
        return segment_views.drafts_replies(ctx, result)
    cid = await customer_or_choice(ctx, command="draft", ref=ref, rest=rest, picked=picked)
    if isinstance(cid, list):
        return cid
    result = await drafting.draft_message(
        ctx, drafting.DraftArgs(customer_id=cid, kind=kind, notes=notes or None)
    )
    return [drafting.draft_reply(ctx, result)]


def _draft_id(arg: str) -> int | None:
    return int(arg) if arg.isdigit() else None


@button("draft_send")
async def press_send(ctx: Context, arg: str) -> list[Reply]:
    draft_id = _draft_id(arg)
    return [await drafting.send(ctx, draft_id)] if draft_id else [Reply(text=ctx.t("pick_expired"))]


@button("draft_edit")
async def press_edit(ctx: Context, arg: str) -> list[Reply]:
    draft_id = _draft_id(arg)
    if draft_id is None:
        return [Reply(text=ctx.t("pick_expired"))]
    return [await drafting.start_edit(ctx, draft_id)]


@button("draft_discard")
async def press_discard(ctx: Context, arg: str) -> list[Reply]:
    draft_id = _draft_id(arg)
    if draft_id is None:
        return [Reply(text=ctx.t("pick_expired"))]
    return [await drafting.discard(ctx, draft_id)]
