"""Customer analytics: KPIs, RFM tiers, churn risk, lead score, basket, seasonality, segments.

Every metric is defined once, here, and documented in docs/metrics.md."""
