"""Writing the files import tests read: CSV in any encoding and delimiter, XLSX sheets."""

from __future__ import annotations

import csv
import io
from typing import Any


def csv_bytes(rows: list[list[Any]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(
    sheets: dict[str, list[list[Any]]], *, number_formats: dict[str, str] | None = None
) -> bytes:
    """A workbook with one sheet per entry; `number_formats` maps a cell ("B2") to a format."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cell, fmt in (number_formats or {}).items():
            sheet[cell].number_format = fmt
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
