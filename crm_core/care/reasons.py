"""The reason a rule-made reminder carries in its text, in the team's language.

crm_core knows nothing of the bot's catalogues, and the reason is stored with the reminder
(so /today and the digest show it as written), hence this small table of its own.
"""

from __future__ import annotations

from typing import Any

from crm_core.care.policy import CareKind

_REASONS: dict[str, dict[CareKind, str]] = {
    "zh": {
        CareKind.BIRTHDAY_EVE: "{name} 明天生日（{day}），准备祝福",
        CareKind.BIRTHDAY: "今天是 {name} 的生日，送上祝福",
        CareKind.ANNIVERSARY: "{name} 合作 {years} 周年纪念日",
        CareKind.CHECKIN: "{name} 首次购买已 {days} 天，回访使用情况",
        CareKind.SATISFACTION: "{name} 的订单 #{order} 已 {days} 天，做满意度回访",
        CareKind.WINBACK: "{name} 购买放缓：距上次下单 {since} 天（通常间隔 {usual} 天）",
        CareKind.COMPLAINT_FOLLOWUP: "{name} 的投诉 #{feedback} 已解决 {days} 天，回访确认满意",
        CareKind.ESCALATION: "升级：{name} 的投诉 #{feedback} 已 {days} 天未解决",
        CareKind.PAYMENT_OVERDUE: "{name} 的订单 #{order} 付款已逾期（应付日 {due}）",
        CareKind.STAY_IN_TOUCH: "与 {name} 保持联系：已 {since} 天没有联系（每 {every} 天一次）",
    },
    "en": {
        CareKind.BIRTHDAY_EVE: "{name}'s birthday is tomorrow ({day}): prepare a greeting",
        CareKind.BIRTHDAY: "It is {name}'s birthday today: send a greeting",
        CareKind.ANNIVERSARY: "{name}: {years}-year anniversary as a customer",
        CareKind.CHECKIN: "{name} bought for the first time {days} days ago: check in",
        CareKind.SATISFACTION: "{name}'s order #{order} was {days} days ago: satisfaction check",
        CareKind.WINBACK: (
            "{name}'s buying slowed down: {since} days since the last order "
            "(usually every {usual} days)"
        ),
        CareKind.COMPLAINT_FOLLOWUP: (
            "{name}'s complaint #{feedback} was resolved {days} days ago: check they are happy"
        ),
        CareKind.ESCALATION: "Escalation: {name}'s complaint #{feedback} open for {days} days",
        CareKind.PAYMENT_OVERDUE: "{name}'s order #{order} is overdue for payment (due {due})",
        CareKind.STAY_IN_TOUCH: (
            "Stay in touch with {name}: {since} days since the last contact (every {every} days)"
        ),
    },
}
_VIA = {"zh": "（首选渠道：{channel}）", "en": " (prefers {channel})"}


def reason(kind: CareKind, language: str, *, channel: str | None = None, **params: Any) -> str:
    lang = language if language in _REASONS else "en"
    text = _REASONS[lang][kind].format(**params)
    return text + _VIA[lang].format(channel=channel) if channel else text
