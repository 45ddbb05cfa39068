"""Reading a CSV or XLSX file into tables of cells, each row with its line number.

CSV: the encoding is detected (encoding.py) and the delimiter is the one that splits the
first lines into the most columns consistently. XLSX: every sheet with data, cell values as
Excel stores them (dates as datetimes, numbers as numbers), read with openpyxl.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from crm_core.io.encoding import decode_text
from crm_core.io.errors import UnreadableFile

CSV_DELIMITERS = (",", ";", "\t", "|")
SNIFF_LINES = 30
# A title line above the header ("客户列表 2026") has one filled cell; the header has more.
HEADER_SEARCH_ROWS = 10
XLSX_SUFFIXES = (".xlsx", ".xlsm")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", *XLSX_SUFFIXES)

Cell = str | int | float | date | datetime | time | None


@dataclass
class SourceRow:
    line: int  # the CSV line or Excel row a person sees when they open the file
    cells: list[Cell]


@dataclass
class SourceTable:
    sheet: str | None
    headers: list[str]
    rows: list[SourceRow] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None


def is_table_file(file_name: str | None, mime_type: str | None = None) -> bool:
    """Whether a chat attachment looks like something we can import."""
    name = (file_name or "").lower()
    mime = (mime_type or "").lower()
    return name.endswith(TABLE_SUFFIXES) or mime in (
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def read_tables(data: bytes, file_name: str) -> list[SourceTable]:
    """The tables in `data`: one for a CSV file, one per non-empty sheet for XLSX."""
    name = file_name.lower()
    if data[:4] == b"PK\x03\x04" or name.endswith(XLSX_SUFFIXES):
        return _read_xlsx(data)
    if name.endswith(".xls") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UnreadableFile("import_old_excel")
    return [_read_csv(data)]


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _split_header(
    raw_rows: list[tuple[int, list[Cell]]],
) -> tuple[list[str], list[SourceRow]]:
    """Find the header row, name every column, and keep the non-empty rows under it."""
    filled = [(line, cells) for line, cells in raw_rows if not all(_blank(c) for c in cells)]
    if not filled:
        raise UnreadableFile("import_empty_file")
    at = next(
        (
            i
            for i, (_, cells) in enumerate(filled[:HEADER_SEARCH_ROWS])
            if sum(not _blank(c) for c in cells) >= 2
        ),
        0,
    )
    width = max(len(cells) for _, cells in filled[at:])
    headers = [str(c).strip() if not _blank(c) else "" for c in filled[at][1]]
    headers += [""] * (width - len(headers))
    # A column without a header still keeps its values, under a name a person can find.
    headers = [h or f"column {i + 1}" for i, h in enumerate(headers)]
    rows = [
        SourceRow(line, [*cells, *([None] * (width - len(cells)))])
        for line, cells in filled[at + 1 :]
    ]
    return headers, rows


def _pick_delimiter(text: str) -> str:
    sample = text.splitlines()[:SNIFF_LINES]
    best, best_score = ",", -1
    for delimiter in CSV_DELIMITERS:
        counts = [len(r) for r in csv.reader(sample, delimiter=delimiter) if r]
        if not counts or counts[0] < 2:
            continue
        # Columns in the header line, if most lines agree with it.
        agree = sum(c == counts[0] for c in counts) / len(counts)
        score = counts[0] if agree >= 0.6 else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(data: bytes) -> SourceTable:
    text, encoding = decode_text(data)
    delimiter = _pick_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    raw: list[tuple[int, list[Cell]]] = []
    try:
        previous_end = 0
        for record in reader:
            raw.append((previous_end + 1, [c.strip() for c in record]))
            previous_end = reader.line_num
    except csv.Error as exc:
        raise UnreadableFile("import_bad_csv", line=reader.line_num) from exc
    headers, rows = _split_header(raw)
    return SourceTable(None, headers, rows, encoding=encoding, delimiter=delimiter)


def _xlsx_cell(value: Any) -> Cell:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)  # 13800138000.0 is a phone number, not a float
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, int | float | date | datetime | time):
        return value
    return str(value)


def _read_xlsx(data: bytes) -> list[SourceTable]:
    from openpyxl import load_workbook  # imported here: it takes a while to load

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile("import_bad_xlsx") from exc
    tables = []
    try:
        for sheet in book.worksheets:
            raw = [
                (line, [_xlsx_cell(v) for v in values])
                for line, values in enumerate(sheet.iter_rows(values_only=True), 1)
            ]
            try:
                headers, rows = _split_header(raw)
            except UnreadableFile:
                continue  # an empty sheet
            tables.append(SourceTable(sheet.title, headers, rows))
    finally:
        book.close()
    if not tables:
        raise UnreadableFile("import_empty_file")
    return tables
