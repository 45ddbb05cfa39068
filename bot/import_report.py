"""An ImportReport in words, in the reader's language: for the chat and for `crmbot import`."""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from crm_core.io.report import ImportReport, RowIssue

SHOWN = 10  # rows listed per section; --json gives every one


def reason_text(language: str, issue: RowIssue) -> str:
    return t(language, f"import_reason_{issue.reason}", **issue.params)


def _where(language: str, issue: Any, text: str) -> str:
    if issue.sheet:
        return t(language, "import_sheet_line", sheet=issue.sheet, line=issue.line, reason=text)
    return t(language, "import_line", line=issue.line, reason=text)


def _section(language: str, header: str, lines: list[str], shown: int) -> list[str]:
    if not lines:
        return []
    out = [header, *lines[:shown]]
    if len(lines) > shown:
        out.append(t(language, "import_more", count=len(lines) - shown))
    return out


def _company(value: str | None) -> str:
    return f" · {value}" if value else ""


def report_text(report: ImportReport, language: str, *, shown: int = SHOWN) -> str:
    lang = language
    title = "import_title_dry" if report.dry_run else "import_title_done"
    lines = [t(lang, title, file=report.file_name)]
    for table in report.tables:
        encoding = (
            t(lang, "import_table_encoding", encoding=table.encoding) if table.encoding else ""
        )
        lines.append(
            t(
                lang,
                "import_table",
                sheet=f"[{table.sheet}] " if table.sheet else "",
                kind=t(lang, f"import_kind_{table.kind}"),
                rows=table.rows,
                encoding=encoding,
            )
        )
        if table.custom_columns:
            lines.append(t(lang, "import_custom_columns", columns=", ".join(table.custom_columns)))
    counts = "import_counts_dry" if report.dry_run else "import_counts_done"
    lines.append(
        t(
            lang,
            counts,
            created=report.created,
            updated=report.updated,
            merged=report.merged,
            unchanged=report.unchanged,
            rejected=len(report.rejected),
        )
    )
    lines += _section(
        lang,
        t(lang, "import_rejected_header", count=len(report.rejected)),
        [_where(lang, r, reason_text(lang, r)) for r in report.rejected],
        shown,
    )
    duplicates = []
    for d in report.possible_duplicates:
        params = {
            "name": d.name,
            "company": _company(d.company),
            "other": d.similar_name,
            "other_company": _company(d.similar_company),
            "score": d.score,
        }
        if d.similar_id is not None:
            text = t(lang, "import_duplicate_existing", id=d.similar_id, **params)
        else:
            text = t(lang, "import_duplicate_line", other_line=d.similar_line, **params)
        duplicates.append(_where(lang, d, text))
    lines += _section(
        lang,
        t(lang, "import_duplicates_header", count=len(duplicates)),
        duplicates,
        shown,
    )
    conflicts = [
        _where(lang, c, t(lang, "import_conflict", field=c.field, kept=c.kept, other=c.other))
        for c in report.conflicts
    ]
    lines += _section(
        lang, t(lang, "import_conflicts_header", count=len(conflicts)), conflicts, shown
    )
    lines += _section(
        lang,
        t(lang, "import_warnings_header", count=len(report.warnings)),
        [_where(lang, w, reason_text(lang, w)) for w in report.warnings],
        shown,
    )
    return "\n".join(lines)


def report_json(report: ImportReport, language: str) -> dict[str, Any]:
    """The report as --json prints it: every row, each reason also worded."""
    body = report.model_dump(mode="json")
    for key in ("rejected", "warnings"):
        for issue, raw in zip(getattr(report, key), body[key], strict=True):
            raw["message"] = reason_text(language, issue)
    return body


def has_work(report: ImportReport) -> bool:
    """Whether importing for real would write anything."""
    return bool(report.created or report.updated or report.merged)
