"""Chart PNGs for reports, drawn by matplotlib with a CJK font so Chinese labels never turn
into empty boxes. Drawing is blocking work: call `chart_png` (it runs on a worker thread).

matplotlib is imported on the first chart, not at start-up: it costs ~30 MB and a third of
a second, which a bot that is never asked for a report should not pay."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Noto Sans CJK SC ships in the mplfonts wheel (a declared dependency); Debian's font
# packages are the fallback on machines that have them.
BUNDLED_FONT = ("fonts", "NotoSansCJKsc-Regular.otf")
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
PALETTE = ("#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2")
# matplotlib's global state (rcParams, font cache) is not thread-safe: one chart at a time.
_DRAWING = threading.Lock()


@cache
def cjk_font_path() -> Path | None:
    """The CJK font file charts use (found without importing mplfonts, which would import
    pyplot), or None when no CJK font is installed."""
    spec = find_spec("mplfonts")
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))).joinpath(*BUNDLED_FONT)
        if bundled.exists():
            return bundled
    for candidate in SYSTEM_FONTS:
        if Path(candidate).exists():
            return Path(candidate)
    log.warning("no CJK font found: Chinese chart labels will not render")
    return None


@cache
def cjk_font_family() -> str | None:
    from matplotlib import font_manager

    path = cjk_font_path()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


@dataclass
class Series:
    name: str
    values: list[float | None]
    dashed: bool = False


@dataclass
class ChartSpec:
    """What to draw, already worded in the reader's language."""

    kind: str  # line | bar | barh
    title: str
    categories: list[str]
    series: list[Series] = field(default_factory=list)
    value_label: str = ""
    percent: bool = False


def render_chart(spec: ChartSpec) -> bytes:
    """The chart as PNG bytes (blocking)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = cjk_font_family()
    rc = {"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"]}
    rc["axes.unicode_minus"] = False  # type: ignore[assignment]
    with _DRAWING, matplotlib.rc_context(rc):
        height = 4.5 if spec.kind != "barh" else max(3.0, 0.45 * len(spec.categories) + 1.5)
        figure = Figure(figsize=(8, height), dpi=110)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        _draw(axes, spec)
        axes.set_title(spec.title, fontsize=13)
        axes.spines[["top", "right"]].set_visible(False)
        value_axis = axes.xaxis if spec.kind == "barh" else axes.yaxis
        biggest = max((abs(v) for s in spec.series for v in s.values if v is not None), default=0)
        if spec.percent:
            value_axis.set_major_formatter("{x:.0%}")
        elif biggest >= 100:
            value_axis.set_major_formatter("{x:,.0f}")  # 1,200,000 rather than "1.2 1e6"
        if len(spec.series) > 1:
            axes.legend(frameon=False)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
    return out.getvalue()


def _draw(axes: Any, spec: ChartSpec) -> None:
    positions = list(range(len(spec.categories)))
    if spec.kind == "line":
        for i, s in enumerate(spec.series):
            values = [float("nan") if v is None else v for v in s.values]
            axes.plot(
                positions,
                values,
                marker="o",
                label=s.name,
                color=PALETTE[i % len(PALETTE)],
                linestyle="--" if s.dashed else "-",
            )
        axes.set_xticks(positions, spec.categories, rotation=30 if len(positions) > 8 else 0)
        axes.set_ylabel(spec.value_label)
        axes.grid(axis="y", alpha=0.3)
        return
    width = 0.8 / max(1, len(spec.series))
    for i, s in enumerate(spec.series):
        offsets = [p + (i - (len(spec.series) - 1) / 2) * width for p in positions]
        values = [0.0 if v is None else v for v in s.values]
        color = PALETTE[i % len(PALETTE)]
        alpha = 0.45 if s.dashed else 1.0
        if spec.kind == "barh":
            axes.barh(offsets, values, height=width, label=s.name, color=color, alpha=alpha)
        else:
            axes.bar(offsets, values, width=width, label=s.name, color=color, alpha=alpha)
    if spec.kind == "barh":
        axes.set_yticks(positions, spec.categories)
        axes.invert_yaxis()  # the biggest on top
        axes.set_xlabel(spec.value_label)
        axes.grid(axis="x", alpha=0.3)
    else:
        axes.set_xticks(positions, spec.categories, rotation=30 if len(positions) > 8 else 0)
        axes.set_ylabel(spec.value_label)
        axes.grid(axis="y", alpha=0.3)


async def chart_png(spec: ChartSpec) -> bytes:
    """Draw on a worker thread, so the event loop keeps serving other chats."""
    return await asyncio.to_thread(render_chart, spec)
