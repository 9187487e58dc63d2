"""The workbook: one sheet per table, a title row, bold frozen headings, real numbers with formats."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .tables import Table

NUMBER_FORMATS = {
    "pct": "0.00%",
    "pp": "+0.00;-0.00;0.00",
    "h": "0.00",
    "dbm": "0.00",
    "int": "0",
    "dt": "yyyy-mm-dd hh:mm",
}
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def _cell(v: Any, fmt: str) -> Any:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating) and math.isnan(v):
        return None
    if fmt == "pp" and isinstance(v, float | np.floating):
        return float(v) * 100
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime().replace(tzinfo=None)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def write_sheet(wb: Workbook, table: Table) -> None:
    ws = wb.create_sheet(table.sheet[:31])
    ws.append([table.title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([c[0] for c in table.columns])
    for i in range(1, len(table.columns) + 1):
        cell = ws.cell(row=2, column=i)
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.freeze_panes = "A3"
    df = table.data
    if not len(df):
        ws.append([table.empty_text])
    else:
        keys = [c[1] for c in table.columns]
        cols = [df[k].tolist() if k in df else [None] * len(df) for k in keys]
        fmts = [c[2] for c in table.columns]
        row_fmt = df["fmt"].tolist() if "fmt" in df else None
        for r in range(len(df)):
            vals = []
            for c, fmt in enumerate(fmts):
                f = row_fmt[r] if fmt == "mixed" and row_fmt else fmt
                vals.append(_cell(cols[c][r], f))
            ws.append(vals)
            for c, fmt in enumerate(fmts):
                f = row_fmt[r] if fmt == "mixed" and row_fmt else fmt
                if f in NUMBER_FORMATS:
                    ws.cell(row=r + 3, column=c + 1).number_format = NUMBER_FORMATS[f]
    for i, (head, _, fmt) in enumerate(table.columns, 1):
        width = max(8, min(40, len(head) * 2 + 2))
        if fmt in ("text", "mixed"):
            width = 28 if i <= 3 else 18
        if fmt == "dt":
            width = 17
        ws.column_dimensions[get_column_letter(i)].width = width


def write_workbook(tables: list[Table], path: Path) -> Path:
    wb = Workbook()
    default = wb.active
    for t in tables:
        write_sheet(wb, t)
    if default is not None:
        wb.remove(default)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path
