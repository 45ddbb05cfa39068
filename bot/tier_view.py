"""A customer's tier and the reason for it, worded for the card."""

from __future__ import annotations

from bot.i18n import format_money, t
from crm_core.analytics.catalogue import Tier
from crm_core.analytics.tiers import TierReason


def describe_tier(lang: str, tier: str | None, reason_json: str | None) -> str | None:
    """ "高价值（近12个月 ¥52,000.00（前 8%），12 单）"; None when the customer has no tier."""
    if not tier:
        return None
    name = t(lang, f"tier_{tier}") if tier in set(Tier) else tier
    reason = TierReason.parse(reason_json)
    if reason is None:
        return f"{name} ({reason_json})" if reason_json else name
    params = {
        "days": reason.days_since_last_order,
        "first": reason.first_order_days,
        "gap": reason.usual_gap_days,
        "orders": reason.orders_12m,
        "revenue": format_money(reason.revenue_12m, reason.currency, lang),
        "top": reason.top_pct,
    }
    key = f"tier_reason_{reason.tier.value}"
    if reason.tier is Tier.CHURN_RISK and not reason.own_rhythm:
        key += "_store"
    why = t(lang, key, **params)
    return f"{name}（{why}）" if lang == "zh" else f"{name} ({why})"
