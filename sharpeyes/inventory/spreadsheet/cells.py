"""Spreadsheet cells as hostile input and output (OWASP "CSV injection").

A cell whose text starts with = + - @ (or a tab or carriage return) is a formula to Excel and
LibreOffice: ``=cmd|' /C calc'!A0`` from a contractor's sheet, exported again, runs on the next
reader's machine. Import rejects the row naming the cell (a plain number such as -3.5 is data);
export writes such text inert: CSV with a leading apostrophe, XLSX as a string cell with Excel's
quote prefix. Files and sheets are capped so that a huge upload is an error, not gigabytes of RAM.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
MAX_FILE_BYTES = 32 << 20  # per CSV file, and per XLSX workbook uncompressed
MAX_ROWS = 50_000  # per sheet: a district is ~3,000 devices; a prefecture imports per district


def formula_like(text: str) -> bool:
    """Whether a spreadsheet program would evaluate this cell text as a formula."""
    return text.startswith(FORMULA_START) and not _NUMBER.match(text)


def csv_safe(text: str) -> str:
    """Text for a CSV cell: formula-like text gets a leading apostrophe."""
    return "'" + text if formula_like(text) else text
