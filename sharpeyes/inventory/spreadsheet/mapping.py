"""The column-mapping file: which header is which model field, and label translations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sharpeyes.cli import UserError
from sharpeyes.yamlnodes import (
    MappingReader,
    Problems,
    compose_file,
    one_of,
    to_int,
    to_str,
)

from ..model import (
    AREAS,
    FUNDING,
    KINDS,
    ROLES,
    STATUSES,
)

DEFAULT_MAPPING = Path(__file__).parents[1] / "mappings" / "default-zh.yaml"

# the fields each sheet kind may map, in export column order
FIELDS: dict[str, tuple[str, ...]] = {
    "district": ("id", "name", "name_en", "timezone", "south", "north", "west", "east"),
    "contractors": ("id", "name", "name_en", "phone"),
    "townships": ("id", "name", "name_en", "area", "contractor", "platform"),
    "villages": ("id", "name", "name_en", "township", "contractor"),
    "sites": ("id", "name", "lon", "lat", "township", "village"),
    "devices": (
        "township",
        "village",
        "site",
        "site_name",
        "lon",
        "lat",
        "id",
        "name",
        "kind",
        "role",
        "ip",
        "mac",
        "vendor",
        "model",
        "serial",
        "firmware",
        "funding",
        "installed",
        "status",
        "contractor",
        "auth",
        "uplink_switch",
        "uplink_port",
        "bitrate_kbps",
        "rtsp_port",
        "onvif_port",
        "ports",
        "tags",
        "recorder",
        "recorder_channel",
        "recording_plan",
        "retention_days",
    ),
    "links": (
        "id",
        "township",
        "a_switch",
        "a_port",
        "b_switch",
        "b_port",
        "length_m",
        "cores",
        "budget_db",
        "rx_min_dbm",
        "status",
        "build",
        "contractor",
    ),
}
SHEET_KINDS = tuple(FIELDS)  # also the import order: contractors before townships before devices …
VALUE_FIELDS = {
    "kind": KINDS,
    "role": tuple(r for rs in ROLES.values() for r in rs),
    "funding": FUNDING,
    "status": STATUSES,
    "area": AREAS,
    "vendor": (),
    "build": (),
}  # () = free text
OBJ = {
    "district": "district",
    "contractors": "contractor",
    "townships": "township",
    "villages": "village",
    "sites": "site",
    "devices": "device",
    "links": "fiber link",
}
_SPLIT = re.compile(r"[,，;；\s]+")


# --- the mapping file ---------------------------------------------------------------------------


@dataclass
class SheetMap:
    kind: str
    sheet: str
    header_row: int
    columns: dict[str, str]  # header -> field

    def header(self, fld: str) -> str:
        """The first header mapped to a field (what export writes), or the field name."""
        return next((h for h, f in self.columns.items() if f == fld), fld)


@dataclass
class Mapping:
    sheets: dict[str, SheetMap]
    values: dict[str, dict[str, str]]  # field -> label -> code

    def code(self, fld: str, label: str) -> str:
        return self.values.get(fld, {}).get(label, label)

    def label(self, fld: str, code: str) -> str:
        for lab, c in self.values.get(fld, {}).items():
            if c == code:
                return lab
        return code


def load_mapping(path: str | Path) -> Mapping:
    """Read a column-mapping file strictly; UserError listing every problem with file:line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read mapping {path}: {exc.strerror}") from None
    problems = Problems()
    node = compose_file(str(path), text, problems)
    mapping = Mapping({}, {})
    if node is not None:
        root = MappingReader(str(path), node, "mapping", problems)
        root.reject_unknown({"sheets", "values"})
        sheets = root.mapping("sheets", "sheets", required=True)
        if sheets is not None:
            sheets.reject_unknown(set(FIELDS))
            for kind in FIELDS:
                s = sheets.mapping(kind, f"sheet {kind}")
                if s is not None:
                    mapping.sheets[kind] = _sheet_map(kind, s)
        values = root.mapping("values", "values")
        if values is not None:
            values.reject_unknown(set(VALUE_FIELDS))
            for fld, codes in VALUE_FIELDS.items():
                v = values.mapping(fld, f"values {fld}")
                if v is None:
                    continue
                table = mapping.values[fld] = {}
                for label in v.values:
                    code = v.scalar(label, one_of(*codes) if codes else to_str)
                    if code:
                        table[label] = code
    if problems:
        raise UserError(
            f"{path}: invalid column mapping",
            [str(p) for p in sorted(problems, key=lambda p: (p.line, p.obj, p.field))],
        )
    return mapping


def _sheet_map(kind: str, s: MappingReader) -> SheetMap:
    s.reject_unknown({"sheet", "header_row", "columns"})
    sm = SheetMap(kind, s.scalar("sheet") or kind, s.scalar("header_row", to_int, 1) or 1, {})
    cols = s.mapping("columns", f"sheet {kind} columns", required=True)
    if cols is not None:
        for header in cols.values:
            fld = cols.scalar(header, one_of(*FIELDS[kind]))
            if fld:
                sm.columns[header.strip()] = fld
        if "id" not in sm.columns.values() and kind != "district":
            s.error("columns", "no column is mapped to 'id'")
    return sm
