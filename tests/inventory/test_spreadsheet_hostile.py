# ruff: noqa: F811  (fixtures imported from test_spreadsheet are redefined as parameters)
"""Spreadsheets as hostile input and output: formula injection (OWASP CSV injection) is rejected
on import and made inert on export, in CSV and XLSX; oversized files and sheets are errors."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import openpyxl
import pytest

from sharpeyes.cli import UserError
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.spreadsheet import export_inventory, import_spreadsheet
from sharpeyes.inventory.writer import write_inventory
from tests.inventory.test_spreadsheet import HEADERS, _new_cam, _write_csv, inv_dir, mapping  # noqa: F401

PAYLOAD = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "cell", [PAYLOAD, "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
)
def test_formula_cells_are_rejected_on_import(inv_dir: Path, tmp_path: Path, mapping, cell: str) -> None:  # type: ignore[no-untyped-def]
    rows = [_new_cam(3), _new_cam(4, 设备名称=cell)]
    _, new, result, _, problems = import_spreadsheet(_write_csv(tmp_path / "a.csv", rows), inv_dir, mapping)
    assert result.imported == 1 and problems == []
    [failed] = result.failed
    assert failed.startswith("a.csv row 3: device cam-east-v1-004: 设备名称: ")
    assert "looks like a spreadsheet formula; not imported" in failed
    assert "cam-east-v1-004" not in new.devices


def test_negative_numbers_are_still_data(inv_dir: Path, tmp_path: Path, mapping) -> None:  # type: ignore[no-untyped-def]
    """A coordinate written -0.0 or +113.81 is a number, not a formula."""
    rows = [_new_cam(3, 经度="+113.81")]
    _, new, result, _, problems = import_spreadsheet(_write_csv(tmp_path / "a.csv", rows), inv_dir, mapping)
    assert result.failed == [] and problems == []
    assert new.sites["east-v1-s001"].lon == pytest.approx(113.81)


def _inventory_with_formula_name(inv_dir: Path) -> Path:
    inv = load_inventory(inv_dir)
    inv.devices["cam-east-v1-001"].name = PAYLOAD  # as a hand-edited YAML file may have it
    out = inv_dir.parent / "with-formula"
    write_inventory(inv, out)
    assert PAYLOAD in (out / "townships" / "east.yaml").read_text(encoding="utf-8")
    return out


def test_csv_export_makes_formulas_inert(inv_dir: Path, tmp_path: Path) -> None:
    inv = load_inventory(_inventory_with_formula_name(inv_dir))
    [devices, *_] = export_inventory(inv, tmp_path / "out.csv", "csv")
    with devices.open(encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert "'" + PAYLOAD in cells
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) or (c.startswith("-") and not c[1:2].isdigit())
                   for c in cells)


def test_xlsx_export_writes_text_cells_not_formulas(inv_dir: Path, tmp_path: Path) -> None:
    inv = load_inventory(_inventory_with_formula_name(inv_dir))
    [book_path] = export_inventory(inv, tmp_path / "out.xlsx", "xlsx")
    book = openpyxl.load_workbook(book_path)
    found = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == PAYLOAD]
    assert found and all(c.data_type == "s" and c.quotePrefix for c in found)
    with zipfile.ZipFile(book_path) as z:
        sheets = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in sheets  # no formula anywhere in the workbook


def test_a_sheet_with_too_many_rows_is_an_error(inv_dir: Path, tmp_path: Path, mapping, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sharpeyes.inventory.spreadsheet.reading.MAX_ROWS", 5)
    rows = [_new_cam(n) for n in range(3, 10)]
    with pytest.raises(UserError, match=r"a.csv: more than 5 rows"):
        import_spreadsheet(_write_csv(tmp_path / "a.csv", rows), inv_dir, mapping)


def test_an_oversized_file_is_an_error_before_it_is_read(inv_dir: Path, tmp_path: Path, mapping, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sharpeyes.inventory.spreadsheet.reading.MAX_FILE_BYTES", 1000)
    path = _write_csv(tmp_path / "a.csv", [_new_cam(n) for n in range(3, 30)])
    with pytest.raises(UserError, match=r"more than the 0 MiB a sheet may have"):
        import_spreadsheet(path, inv_dir, mapping)


def test_an_xlsx_that_unpacks_huge_is_an_error(inv_dir: Path, tmp_path: Path, mapping, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "设备"
    ws.append(HEADERS)
    for n in range(3, 200):
        ws.append([_new_cam(n).get(h, "") for h in HEADERS])
    path = tmp_path / "big.xlsx"
    book.save(path)
    monkeypatch.setattr("sharpeyes.inventory.spreadsheet.reading.MAX_FILE_BYTES", path.stat().st_size)
    with pytest.raises(UserError, match=r"big.xlsx: unpacks to"):
        import_spreadsheet(path, inv_dir, mapping)
