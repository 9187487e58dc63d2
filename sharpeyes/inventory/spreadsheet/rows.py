"""Header mapping: a table row as cells by model field, with the header each came from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sharpeyes.cli import UserError
from sharpeyes.yamlnodes import (
    FieldError,
    to_str,
)

from .cells import formula_like
from .mapping import Mapping, SheetMap
from .reading import Table


@dataclass
class Row:
    """One row's cells by field, with the header each came from (for messages)."""

    where: str
    number: int
    cells: dict[str, str]  # field -> non-empty text
    headers: dict[str, str]  # field -> header present in the sheet
    default_headers: SheetMap
    errors: list[str] = field(default_factory=list)

    def has(self, fld: str) -> bool:
        return fld in self.cells

    def name(self, fld: str) -> str:
        return self.headers.get(fld) or self.default_headers.header(fld)

    def get(self, fld: str, conv: Callable[[str], Any] = to_str) -> Any:
        """The converted cell, or None when blank (or invalid: the error is recorded)."""
        text = self.cells.get(fld)
        if text is None:
            return None
        try:
            return conv(text)
        except FieldError as exc:
            self.errors.append(f"{self.name(fld)}: {exc}")
            return None

    def need(self, fld: str, what: str) -> None:
        if fld in self.cells:
            return
        if fld in self.headers:
            self.errors.append(f"{self.name(fld)}: required for a new {what}, but empty")
        else:
            self.errors.append(f"{self.name(fld)}: column missing (required for a new {what})")


def _rows(table: Table, sm: SheetMap, mapping: Mapping, report: list[str]) -> Iterator[Row]:
    index: dict[str, tuple[int, str]] = {}  # field -> (column, header); the first present alias wins
    for col, header in enumerate(table.headers):
        fld = sm.columns.get(header)
        if fld is None:
            if header:
                report.append(f"{table.where}: column {header!r} is not in the mapping; ignored")
            continue
        index.setdefault(fld, (col, header))
    if "id" not in index and sm.kind != "district":
        n = len(table.rows)
        raise UserError(f"{table.where}: no {sm.header('id')} column (id): none of its {n} rows can be imported")
    headers = {fld: h for fld, (_, h) in index.items()}
    for number, texts in table.rows:
        cells = {}
        formulas = []
        for fld, (col, header) in index.items():
            text = texts[col] if col < len(texts) else ""
            if formula_like(text):
                formulas.append(f"{header}: {text[:40]!r} looks like a spreadsheet formula; not imported")
            elif text:
                cells[fld] = mapping.code(fld, text)
        yield Row(table.where, number, cells, headers, sm, formulas)
