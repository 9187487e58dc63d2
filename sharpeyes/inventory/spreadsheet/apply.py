"""Import into an inventory directory: merge, validate with the normal loader, write atomically."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from sharpeyes.cli import UserError

from ..loader import InventoryError, load_inventory
from ..model import (
    BBox,
    District,
    Inventory,
)
from ..writer import render_files
from .convert import ImportResult, merge_tables
from .mapping import Mapping
from .reading import read_tables


def _base_inventory(directory: Path) -> Inventory:
    if (directory / "district.yaml").is_file():
        try:
            return load_inventory(directory)
        except InventoryError as exc:  # fix the inventory before importing into it
            raise exc.user_error(directory) from None
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory} is not a directory")
    return Inventory(District("", "", "", "Asia/Shanghai", BBox(0.0, 0.0, 0.0, 0.0)))


_SECTIONS = {
    "device": "devices",
    "site": "sites",
    "fiber link": "links",
    "township": "townships",
    "village": "villages",
    "contractor": "contractors",
}
_REF = re.compile(r"\(([^()\s]+:\d+)\)")


def _origin(inv: Inventory, result: ImportResult, obj: str) -> str:
    """Where a person finds ``obj`` ("device cam-1"): its spreadsheet row, else its original file:line."""
    if obj in result.rows:
        return result.rows[obj]
    kind, _, oid = obj.rpartition(" ")
    found = getattr(inv, _SECTIONS.get(kind, ""), {}).get(oid)
    return str(found.source) if found is not None and found.source else ""


def validate_merged(inv: Inventory, result: ImportResult) -> tuple[dict[str, str], list[str]]:
    """Write the merged inventory to a scratch directory and load it with the normal loader.

    Returns (rendered files, problems). Problems name the spreadsheet row of an imported object and
    the original file:line of any other, never the scratch files.
    """
    files = render_files(inv)
    with tempfile.TemporaryDirectory(prefix="sharpeyes-import-") as tmp:
        for rel, text in files.items():
            dest = Path(tmp) / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        try:
            load_inventory(tmp)
            return files, []
        except InventoryError as exc:
            problems = exc.problems
        scratch: dict[str, str] = {}  # scratch "file:line" of an object -> where a person finds it
        try:
            merged = load_inventory(tmp, validate=False)
            for kind, attr in _SECTIONS.items():
                for oid, obj in getattr(merged, attr).items():
                    scratch[str(obj.source)] = _origin(inv, result, f"{kind} {oid}")
        except InventoryError:
            pass
    lines = []
    for p in problems:
        where = _origin(inv, result, p.obj) or f"(merged) {p.file}:{p.line}"
        fld = f" field '{p.field}':" if p.field else ""
        message = _REF.sub(lambda m: f"({scratch.get(m.group(1)) or m.group(1)})", p.message)
        lines.append(f"{where}: {p.obj}:{fld} {message}" if p.obj else f"{where}: {message}")
    return files, lines


def import_spreadsheet(
    path: str | Path,
    directory: str | Path,
    mapping: Mapping,
    step: Callable[[str], None] = lambda _: None,
) -> tuple[Inventory, Inventory, ImportResult, dict[str, str], list[str]]:
    """(old, merged, result, rendered files, validation problems); nothing is written.
    ``step`` hears the name of each step as it starts (progress)."""
    directory = Path(directory)
    step("read")
    tables = read_tables(Path(path), mapping)
    step("load")
    old = _base_inventory(directory)
    new = _base_inventory(directory)  # a second copy to merge into: the old one stays for the diff
    step("merge")
    result = merge_tables(new, tables, mapping)
    if not new.district.id:
        sheet = mapping.sheets["district"].sheet if "district" in mapping.sheets else "district"
        raise UserError(f"{directory} has no district.yaml and {Path(path).name} has no {sheet} sheet to make one")
    step("validate")
    files, problems = validate_merged(new, result)
    return old, new, result, files, problems


def write_files(files: dict[str, str], directory: Path) -> None:
    """Replace the inventory files: write all beside the target first, then move them in."""
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=directory))
    try:
        for rel, text in files.items():
            p = staging / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        for rel in files:
            (directory / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).replace(directory / rel)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
