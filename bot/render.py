"""Reply -> plain text, for the console and as every adapter's fallback."""

from __future__ import annotations

from unicodedata import east_asian_width

from bot.events import Reply, Table


def display_width(text: str) -> int:
    """Columns a terminal needs: CJK characters take two."""
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def render_table(table: Table) -> str:
    widths = [
        max(display_width(row[i]) for row in [table.columns, *table.rows])
        for i in range(len(table.columns))
    ]
    lines = ["  ".join(_pad(c, w) for c, w in zip(table.columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("─" * w for w in widths))
    lines += [
        "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in table.rows
    ]
    return "\n".join(lines)


def render_buttons(reply: Reply) -> str:
    """Numbered buttons; the console presses one when the person types its number."""
    labels = [b.label for row in reply.buttons for b in row]
    return "  ".join(f"[{i}] {label}" for i, label in enumerate(labels, 1))


def render_text(reply: Reply) -> str:
    parts = [reply.text]
    if reply.table is not None:
        parts.append(render_table(reply.table))
    if reply.buttons:
        parts.append(render_buttons(reply))
    return "\n".join(parts)
