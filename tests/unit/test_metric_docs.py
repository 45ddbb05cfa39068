"""Every metric is documented in docs/metrics.md and defined in both languages."""

from __future__ import annotations

from pathlib import Path

from bot.i18n import _catalogue
from crm_core.analytics.catalogue import Dimension, Metric

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_every_metric_is_documented_and_worded():
    text = DOCS.read_text("utf-8")
    for metric in Metric:
        if metric.value not in ("lead_score", "support", "confidence", "lift"):
            assert f"`{metric.value}`" in text, metric
        for language in ("zh", "en"):
            catalogue = _catalogue(language)
            assert f"report_metric_{metric.value}" in catalogue
            assert f"report_def_{metric.value}" in catalogue
    for dim in Dimension:
        assert f"report_dim_{dim.value}" in _catalogue("zh")
