"""RFM tiers and churn risk, known answers from hand-made order histories.

Now: 24 November 2026 02:00 UTC. Customers with orders in the last 12 months (CNY), their
12-month revenue sorted: 200 (regular), 300 (new), 500 (one order), 4000 (churn), 6000
(potential), 40000 (high) -> six customers; 40000 is in the top 1/6 ≈ 17% (≤ 20%),
6000 in the top 2/6 ≈ 33% (≤ 50%).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from crm_core.analytics.catalogue import RiskLevel, Tier
from crm_core.analytics.churn import rhythm, risk_level
from crm_core.analytics.tiers import CustomerHistory, TierReason, assess_all

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def history(days_ago: list[int], amount: int, currency: str = "CNY") -> CustomerHistory:
    times = [NOW - timedelta(days=d) for d in sorted(days_ago, reverse=True)]
    return CustomerHistory(times, [Decimal(amount)] * len(times), currency)


HISTORIES = {
    "dormant": history([684, 541], 900),  # last order 541 days ago
    "new": history([30], 300),  # first order 30 days ago
    "churn": history([200, 170, 140, 110], 1000),  # every 30 days, silent for 110
    "high": history([150, 100, 50, 10], 10000),
    "potential": history([120, 60, 5], 2000),
    "regular": history([300, 20], 100),
    "one_order": history([200], 500),  # no rhythm of its own: the store's usual gap
    "usd_big": history([200, 100, 20], 900, "USD"),
    "usd_small": history([200, 100, 20], 100, "USD"),
}


def test_each_rule_decides_the_tier():
    assessed = assess_all(HISTORIES, NOW)
    tiers = {name: a.tier for name, a in assessed.items()}
    assert tiers == {
        "dormant": Tier.DORMANT,
        "new": Tier.NEW,
        "churn": Tier.CHURN_RISK,
        "high": Tier.HIGH_VALUE,
        "potential": Tier.POTENTIAL,
        "regular": Tier.REGULAR,
        # The usual gap of repeat buyers is the median of their own rhythms:
        # dormant 143, churn 30, high 50, potential 57.5, regular 280, usd 90 and 90 -> 90;
        # 200 days / 90 = 2.2 >= 2: high risk.
        "one_order": Tier.CHURN_RISK,
        # Ranked within USD only: $900 x 3 is the top half of two, $100 x 3 is not.
        "usd_big": Tier.POTENTIAL,
        "usd_small": Tier.REGULAR,
    }


def test_reasons_carry_the_figures():
    assessed = assess_all(HISTORIES, NOW)
    high = assessed["high"].reason
    assert high == TierReason(
        tier=Tier.HIGH_VALUE,
        days_since_last_order=10,
        orders_12m=4,
        revenue_12m=Decimal(40000),
        currency="CNY",
        top_pct=17,
        usual_gap_days=50,
        own_rhythm=True,
        first_order_days=150,
    )
    churn = assessed["churn"].reason
    assert (churn.days_since_last_order, churn.usual_gap_days) == (110, 30)
    lone = assessed["one_order"].reason
    assert lone.own_rhythm is False and lone.usual_gap_days == 90
    assert TierReason.parse(high.model_dump_json()) == high
    assert TierReason.parse("not json") is None


def test_churn_risk_against_own_rhythm():
    monthly = [NOW - timedelta(days=d) for d in (90, 60, 30)]
    assert rhythm(monthly, 999).usual_gap_days == 30
    assert risk_level(29, 30) is RiskLevel.LOW
    assert risk_level(45, 30) is RiskLevel.MEDIUM
    assert risk_level(60, 30) is RiskLevel.HIGH
    # A slow buyer is not at risk after the same 60 days.
    assert risk_level(60, 91) is RiskLevel.LOW
