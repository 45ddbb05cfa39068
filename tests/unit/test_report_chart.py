"""Charts draw Chinese: the font has every glyph the labels use, and matplotlib finds them."""

from __future__ import annotations

import re
import warnings

from fontTools.ttLib import TTFont

from bot.i18n import _catalogue
from bot.report_chart import ChartSpec, Series, cjk_font_family, cjk_font_path, render_chart

CHART_KEYS = re.compile(r"^(report_(metric|dim|period|compare)_|tier_[a-z_]+$|risk_)")
NAMES = "张伟王明英朱平李娜陈明华东销售上海杭州激光打印机复印纸人体工学椅办公家具软件订阅耗材"


def chart_text() -> str:
    zh = _catalogue("zh")
    labels = "".join(v for k, v in zh.items() if CHART_KEYS.match(k))
    return re.sub(r"\{[a-z_]+\}", "", labels) + NAMES + "年月日季度周"


def test_the_chart_font_has_every_chinese_glyph():
    path = cjk_font_path()
    assert path is not None, "no CJK font installed (mplfonts should bring Noto Sans CJK SC)"
    font = TTFont(str(path), fontNumber=0, lazy=True)
    cmap = font.getBestCmap()
    missing = {ch for ch in chart_text() if not ch.isspace() and ord(ch) not in cmap}
    assert missing == set()
    assert cjk_font_family() == "Noto Sans CJK SC"


def test_a_chinese_chart_renders_without_missing_glyphs():
    spec = ChartSpec(
        kind="line",
        title="近6个月NPS 净推荐值 · 华东销售",
        categories=["2026年6月", "7月", "8月", "9月", "10月", "11月"],
        series=[
            Series("NPS 净推荐值", [30, -10, 0, 20, 40, 35]),
            Series("去年同期", [10, 5, None, 0, 12, 3], dashed=True),
        ],
        value_label="分",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_chart(spec)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_bar_charts_in_both_directions():
    for kind in ("bar", "barh"):
        spec = ChartSpec(
            kind=kind,
            title="本季度销售额前10的客户",
            categories=["张伟", "王明英", "Jane Smith"],
            series=[Series("销售额", [64796, 64737, 1000])],
            value_label="CNY",
        )
        assert render_chart(spec).startswith(b"\x89PNG")
