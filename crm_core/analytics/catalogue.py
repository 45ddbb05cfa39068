"""The names a report can use: metrics, dimensions, tiers and risk levels."""

from __future__ import annotations

from enum import StrEnum


class Metric(StrEnum):
    REVENUE = "revenue"
    ORDERS = "orders"
    AOV = "aov"
    NEW_CUSTOMERS = "new_customers"
    ACTIVE_CUSTOMERS = "active_customers"
    RETENTION_RATE = "retention_rate"
    CHURN_RATE = "churn_rate"
    REPURCHASE_RATE = "repurchase_rate"
    NPS = "nps"
    CSAT = "csat"
    CLV_HISTORICAL = "clv_historical"
    CLV_PREDICTED = "clv_predicted"
    INTERACTIONS = "interactions"
    CUSTOMERS = "customers"
    DAYS_SINCE_LAST_ORDER = "days_since_last_order"
    LEAD_SCORE = "lead_score"
    SUPPORT = "support"
    CONFIDENCE = "confidence"
    LIFT = "lift"


class Dimension(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    MONTH_OF_YEAR = "month_of_year"
    REP = "rep"
    TEAM = "team"
    TIER = "tier"
    SOURCE = "source"
    CITY = "city"
    PRODUCT = "product"
    CATEGORY = "category"
    SEGMENT = "segment"
    CUSTOMER = "customer"
    PRODUCT_PAIR = "product_pair"


class Tier(StrEnum):
    """RFM tiers, stored on Customer.tier (see crm_core.analytics.tiers)."""

    HIGH_VALUE = "high_value"  # 高价值
    POTENTIAL = "potential"  # 潜力
    NEW = "new"  # 新客
    CHURN_RISK = "churn_risk"  # 流失风险
    DORMANT = "dormant"  # 沉睡
    REGULAR = "regular"  # 一般


class RiskLevel(StrEnum):
    """Churn risk, stored on Customer.risk (see crm_core.analytics.churn)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


TIME_DIMENSIONS = frozenset(
    {Dimension.DAY, Dimension.WEEK, Dimension.MONTH, Dimension.QUARTER, Dimension.MONTH_OF_YEAR}
)
ITEM_DIMENSIONS = frozenset({Dimension.PRODUCT, Dimension.CATEGORY})
MONEY_METRICS = frozenset({Metric.REVENUE, Metric.AOV, Metric.CLV_HISTORICAL, Metric.CLV_PREDICTED})
RATE_METRICS = frozenset(
    {Metric.RETENTION_RATE, Metric.CHURN_RATE, Metric.REPURCHASE_RATE, Metric.CSAT}
)
BASKET_METRICS = frozenset({Metric.SUPPORT, Metric.CONFIDENCE, Metric.LIFT})
# Measured at the period's end rather than summed over it.
STOCK_METRICS = frozenset(
    {
        Metric.CUSTOMERS,
        Metric.DAYS_SINCE_LAST_ORDER,
        Metric.CLV_HISTORICAL,
        Metric.CLV_PREDICTED,
        Metric.LEAD_SCORE,
    }
)
