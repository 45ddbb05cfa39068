"""What an import did, row by row where it matters: the report people read and --json prints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# Outcomes a row can have; the report counts them per kind.
OUTCOMES = ("created", "updated", "merged", "unchanged", "rejected")


class RowIssue(BaseModel):
    """A rejected row (or a warning about one): where it is and why, as a reason code."""

    line: int
    sheet: str | None = None
    reason: str
    params: dict[str, str] = Field(default_factory=dict)


class PossibleDuplicate(BaseModel):
    """A new customer that looks like another by name and company: a person decides."""

    line: int
    sheet: str | None = None
    name: str
    company: str | None = None
    customer_id: int | None = None  # the customer this row created (None in a dry run)
    similar_id: int | None = None  # an existing customer it resembles …
    similar_line: int | None = None  # … or an earlier row of the same file
    similar_name: str
    similar_company: str | None = None
    score: int


class FieldConflict(BaseModel):
    """A row said something else than the customer it merged into: kept, and logged."""

    line: int
    sheet: str | None = None
    customer_id: int | None = None
    field: str
    kept: str
    other: str


class TableSummary(BaseModel):
    sheet: str | None = None
    kind: str
    rows: int
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)  # header -> field
    custom_columns: list[str] = Field(default_factory=list)


class ImportReport(BaseModel):
    file_name: str
    dry_run: bool
    tables: list[TableSummary] = Field(default_factory=list)
    created: int = 0
    updated: int = 0
    merged: int = 0
    unchanged: int = 0
    possible_duplicates: list[PossibleDuplicate] = Field(default_factory=list)
    rejected: list[RowIssue] = Field(default_factory=list)
    warnings: list[RowIssue] = Field(default_factory=list)
    conflicts: list[FieldConflict] = Field(default_factory=list)
    by_kind: dict[str, dict[str, int]] = Field(default_factory=dict)

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        counts = self.by_kind.setdefault(kind, dict.fromkeys(OUTCOMES, 0))
        counts[outcome] += n
        if outcome != "rejected":
            setattr(self, outcome, getattr(self, outcome) + n)

    def reject(self, line: int, sheet: str | None, kind: str, reason: str, **params: Any) -> None:
        self.rejected.append(
            RowIssue(
                line=line, sheet=sheet, reason=reason, params={k: str(v) for k, v in params.items()}
            )
        )
        self.count(kind, "rejected")

    def warn(self, line: int, sheet: str | None, reason: str, **params: Any) -> None:
        self.warnings.append(
            RowIssue(
                line=line, sheet=sheet, reason=reason, params={k: str(v) for k, v in params.items()}
            )
        )
