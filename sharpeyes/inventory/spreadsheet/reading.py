"""Reading sheets: XLSX workbooks and CSV files (UTF-8 or GB18030) into plain text tables."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sharpeyes.cli import UserError

from .cells import MAX_FILE_BYTES, MAX_ROWS
from .mapping import Mapping


@dataclass
class Table:
    where: str  # "book.xlsx[设备]" or "devices.csv"
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based row number, cells)


def cell_text(v: object) -> str:
    """A cell as the text a person typed: dates ISO, 4096.0 → 4096, surrounding blanks dropped."""
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v).strip()


def _table(where: str, raw: Iterable[Iterable[object]], header_row: int) -> Table:
    headers: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    for n, cells in enumerate(raw, 1):
        texts = [cell_text(c) for c in cells]
        if n < header_row:
            continue
        if n == header_row:
            headers = texts
        elif any(texts):
            if len(rows) >= MAX_ROWS:
                raise UserError(f"{where}: more than {MAX_ROWS} rows; split the sheet (one file per district)")
            rows.append((n, texts))
    return Table(where, headers, rows)


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError(f"{path}: {size >> 20} MiB is more than the {MAX_FILE_BYTES >> 20} MiB a sheet may have")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                unpacked = sum(i.file_size for i in z.infolist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise UserError(f"{path}: not a readable XLSX workbook ({exc})") from None
        if unpacked > MAX_FILE_BYTES * 8:
            raise UserError(f"{path}: unpacks to {unpacked >> 20} MiB, more than {MAX_FILE_BYTES * 8 >> 20} MiB")


def read_xlsx(path: Path, mapping: Mapping) -> dict[str, Table]:
    import openpyxl

    _check_size(path)

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise UserError(f"{path}: not a readable XLSX workbook ({exc})") from None
    tables = {}
    try:
        for kind, sm in mapping.sheets.items():
            if sm.sheet in book.sheetnames:
                ws = book[sm.sheet]
                tables[kind] = _table(f"{path.name}[{sm.sheet}]", ws.iter_rows(values_only=True), sm.header_row)
    finally:
        book.close()
    if not tables:
        names = ", ".join(sm.sheet for sm in mapping.sheets.values())
        raise UserError(f"{path}: none of the mapped sheets ({names}) is in the workbook")
    return tables


def _read_csv_text(path: Path) -> str:
    _check_size(path)
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UserError(f"{path}: neither UTF-8 nor GB18030 text")


def csv_paths(path: Path, mapping: Mapping) -> dict[str, Path]:
    """The devices sheet is the file itself; the others are ``<stem>-<sheet>.csv`` beside it."""
    out = {}
    for kind, sm in mapping.sheets.items():
        out[kind] = path if kind == "devices" else path.with_name(f"{path.stem}-{sm.sheet}{path.suffix}")
    return out


def read_csv(path: Path, mapping: Mapping) -> dict[str, Table]:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    tables = {}
    for kind, p in csv_paths(path, mapping).items():
        if p.is_file():
            rows = csv.reader(io.StringIO(_read_csv_text(p), newline=""))
            tables[kind] = _table(p.name, rows, mapping.sheets[kind].header_row)
    return tables


def read_tables(path: Path, mapping: Mapping) -> dict[str, Table]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(path, mapping)
    if path.suffix.lower() == ".csv":
        return read_csv(path, mapping)
    raise UserError(f"{path}: unknown spreadsheet type (expected .xlsx or .csv)")
