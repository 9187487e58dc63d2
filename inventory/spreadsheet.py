"""Contractors' spreadsheets (台账, XLSX or CSV with Chinese headers) in and out of the inventory.

A strict column-mapping file (``mappings/default-zh.yaml``) says which header is which model field
and how labels such as 枪机 or 在用 translate to codes. A workbook has one sheet per object kind
(区县, 运维单位, 乡镇, 行政村, 点位, 设备, 光纤链路; each optional). As CSV, the devices sheet is the
named file and the others sit beside it as ``<stem>-<sheet>.csv``.

Import merges rows into an inventory directory: new objects are added, existing ones (same id)
updated with the non-empty cells of the row. Every row that cannot be imported is reported, one
line each with its row number; the merged result is then written to a scratch directory and
loaded with the normal loader, so the usual validation applies before anything is replaced.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .console import UserError
from .loader import InventoryError, expand_ports, load_inventory
from .model import (
    AREAS,
    FUNDING,
    KINDS,
    ROLES,
    STATUSES,
    BBox,
    Contractor,
    Device,
    District,
    FiberLink,
    Inventory,
    Port,
    PortRef,
    Site,
    Township,
    Village,
)
from .writer import compress_ports, render_files
from .yamlnodes import (
    FieldError,
    MappingReader,
    Problems,
    compose_file,
    one_of,
    to_date,
    to_float,
    to_id,
    to_int,
    to_ipv4,
    to_mac,
    to_str,
)

DEFAULT_MAPPING = Path(__file__).parent / "mappings" / "default-zh.yaml"

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


# --- reading sheets -----------------------------------------------------------------------------


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
            rows.append((n, texts))
    return Table(where, headers, rows)


def read_xlsx(path: Path, mapping: Mapping) -> dict[str, Table]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise UserError(f"{path}: not a readable XLSX workbook ({exc})") from None
    tables = {}
    try:
        for kind, sm in mapping.sheets.items():
            if sm.sheet in book.sheetnames:
                ws = book[sm.sheet]
                tables[kind] = _table(
                    f"{path.name}[{sm.sheet}]", ws.iter_rows(values_only=True), sm.header_row
                )
    finally:
        book.close()
    if not tables:
        names = ", ".join(sm.sheet for sm in mapping.sheets.values())
        raise UserError(f"{path}: none of the mapped sheets ({names}) is in the workbook")
    return tables


def _read_csv_text(path: Path) -> str:
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


# --- rows → model -------------------------------------------------------------------------------


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
        raise UserError(
            f"{table.where}: no {sm.header('id')} column (id): none of its {n} rows can be imported"
        )
    headers = {fld: h for fld, (_, h) in index.items()}
    for number, texts in table.rows:
        cells = {}
        for fld, (col, _) in index.items():
            text = texts[col] if col < len(texts) else ""
            if text:
                cells[fld] = mapping.code(fld, text)
        yield Row(table.where, number, cells, headers, sm)


@dataclass
class ImportResult:
    inv: Inventory
    failed: list[str] = field(default_factory=list)  # one line per row that cannot be imported
    notes: list[str] = field(default_factory=list)  # ignored columns etc.
    rows: dict[str, str] = field(default_factory=dict)  # "device cam-1" -> "book.xlsx[设备] row 5"
    imported: int = 0


class Importer:
    def __init__(self, inv: Inventory, mapping: Mapping) -> None:
        self.inv = inv
        self.mapping = mapping
        self.result = ImportResult(inv)
        self.seen: dict[tuple[str, str], str] = {}  # (kind, id) -> row label within this import
        self.site_rows: dict[str, tuple[str, tuple[Any, ...]]] = {}  # site id -> (row label, site values)

    # lookups by id or (Chinese) name ------------------------------------------------------------
    def contractor(self, text: str) -> str:
        if text in self.inv.contractors:
            return text
        for c in self.inv.contractors.values():
            if c.name == text:
                return c.id
        raise FieldError(f"unknown contractor {text!r}")

    def township(self, text: str) -> str:
        if text in self.inv.townships:
            return text
        for t in self.inv.townships.values():
            if t.name == text:
                return t.id
        raise FieldError(f"unknown township {text!r}")

    def village(self, text: str, township: str) -> str:
        v = self.inv.villages.get(text)
        if v is not None and (not township or v.township == township):
            return text
        found = [
            v.id
            for v in self.inv.villages.values()
            if v.name == text and (not township or v.township == township)
        ]
        if len(found) == 1:
            return found[0]
        if found:
            raise FieldError(f"village {text!r} is ambiguous ({', '.join(found)})")
        raise FieldError(f"unknown village {text!r}" + (f" in township {township}" if township else ""))

    # one row ----------------------------------------------------------------------------------------
    def row(self, kind: str, r: Row) -> None:
        label = f"{r.where} row {r.number}"
        what = OBJ[kind]
        oid = r.get("id", to_id)
        if kind == "district" and not r.has("id"):
            oid = self.inv.district.id
        if oid:
            first = self.seen.get((kind, oid))
            if first is not None:
                r.errors.append(f"{what} {oid} is already in {first}")
        elif not r.has("id"):
            r.errors.append(f"{r.name('id')}: empty")
        if not r.errors:
            getattr(self, f"_{kind}")(r, oid)
        who = f"{what} {oid}: " if oid else ""
        if r.errors:
            self.result.failed.append(f"{label}: {who}{'; '.join(r.errors)}")
            return
        self.seen[(kind, oid)] = label
        self.result.rows[f"{what} {oid}"] = label
        self.result.imported += 1

    @staticmethod
    def _convert(r: Row, convs: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
        return {fld: r.get(fld, conv) for fld, conv in convs.items() if r.has(fld)}

    def _set(self, obj: Any, r: Row, convs: dict[str, Callable[[str], Any]]) -> None:
        values = self._convert(r, convs)
        if r.errors:
            return
        for fld, value in values.items():
            setattr(obj, fld, value)

    def _district(self, r: Row, did: str) -> None:
        d = self.inv.district
        values = {k: r.get(k, to_float) for k in ("south", "north", "west", "east") if r.has(k)}
        name = {k: r.get(k) for k in ("name", "name_en", "timezone") if r.has(k)}
        if not d.id:
            r.need("name", "district")
            for k in ("south", "north", "west", "east"):
                r.need(k, "district")
        if r.errors:
            return
        d.id = did
        for k, v in name.items():
            setattr(d, k, v)
        for k, v in values.items():
            setattr(d.bbox, k, v)

    def _contractors(self, r: Row, cid: str) -> None:
        c = self.inv.contractors.get(cid)
        if c is None:
            r.need("name", "contractor")
            c = Contractor(cid, "")
        self._set(c, r, {"name": to_str, "name_en": to_str, "phone": to_str})
        if not r.errors:
            self.inv.contractors.setdefault(cid, c)

    def _townships(self, r: Row, tid: str) -> None:
        t = self.inv.townships.get(tid)
        if t is None:
            r.need("name", "township")
            r.need("area", "township")
            r.need("contractor", "township")
            t = Township(tid, "", "", "rural", "")
        self._set(
            t,
            r,
            {
                "name": to_str,
                "name_en": to_str,
                "area": one_of(*AREAS),
                "contractor": self.contractor,
                "platform": to_id,
            },
        )
        if not r.errors:
            self.inv.townships.setdefault(tid, t)

    def _villages(self, r: Row, vid: str) -> None:
        v = self.inv.villages.get(vid)
        township = r.get("township", self.township)
        if v is None:
            r.need("name", "village")
            r.need("township", "village")
            v = Village(vid, "", "", township or "")
        elif township and township != v.township:
            r.errors.append(
                f"{r.name('township')}: village {vid} is in township {v.township}, not {township}"
            )
        self._set(v, r, {"name": to_str, "name_en": to_str, "contractor": self.contractor})
        if not r.errors:
            self.inv.villages.setdefault(vid, v)

    def _site(self, r: Row, sid: str, name_field: str, label: str) -> Site | None:
        """Create or update a site from a sites row or the site columns of a devices row."""
        township = r.get("township", self.township) or ""
        village = r.get("village", lambda text: self.village(text, township)) if r.has("village") else ""
        if village and not township:
            township = self.inv.villages[village].township
        lat, lon = r.get("lat", to_float), r.get("lon", to_float)
        name = r.get(name_field)
        site = self.inv.sites.get(sid)
        if site is None:
            r.need(name_field, "site")
            r.need("lat", "site")
            r.need("lon", "site")
            if r.errors:
                return None
            site = Site(sid, name, lat, lon, township, village)
        elif (r.has("township") or r.has("village")) and (township, village) != (site.township, site.village):
            where = "/".join(x for x in (site.township, site.village) if x) or "the district centre"
            r.errors.append(f"site {sid} is in {where}, not {'/'.join(x for x in (township, village) if x)}")
        values = (name or site.name, site.lat if lat is None else lat, site.lon if lon is None else lon)
        earlier = self.site_rows.get(sid)
        if earlier is not None and earlier[1] != values:
            r.errors.append(f"site {sid}: name/coordinates differ from {earlier[0]}")
        if r.errors:
            return None
        self.site_rows[sid] = (label, values)
        site.name, site.lat, site.lon = values
        self.inv.sites.setdefault(sid, site)
        return site

    def _sites(self, r: Row, sid: str) -> None:
        self._site(r, sid, "name", f"{r.where} row {r.number}")

    def _devices(self, r: Row, did: str) -> None:
        dev = self.inv.devices.get(did)
        if dev is None:
            for fld in ("kind", "role", "name", "ip", "site"):
                r.need(fld, "device")
        kind = r.get("kind", one_of(*KINDS)) or (dev.kind if dev else None)
        values = self._convert(
            r,
            {
                "role": one_of(*ROLES[kind]) if kind in ROLES else to_str,
                "name": to_str,
                "ip": to_ipv4,
                "mac": to_mac,
                "vendor": to_str,
                "model": to_str,
                "serial": to_str,
                "firmware": to_str,
                "funding": one_of(*FUNDING),
                "installed": to_date,
                "status": one_of(*STATUSES),
                "contractor": self.contractor,
                "auth": to_id,
                "bitrate_kbps": to_int,
                "rtsp_port": to_int,
                "onvif_port": to_int,
                "ports": _ports,
                "tags": _tags,
            },
        )
        if r.has("uplink_switch") != r.has("uplink_port"):
            r.errors.append(f"{r.name('uplink_switch')} and {r.name('uplink_port')} go together")
        elif r.has("uplink_switch"):
            sw = r.get("uplink_switch", to_id)
            if sw:
                values["uplink"] = PortRef(sw, r.cells["uplink_port"])
        sid = r.get("site", to_id)
        site = self._site(r, sid, "site_name", f"{r.where} row {r.number}") if sid else None
        if r.errors:
            return
        if dev is None:
            assert site is not None and kind is not None
            dev = Device(did, kind, values["role"], "", site.id, "")
        dev.kind = kind or dev.kind
        for fld, value in values.items():
            setattr(dev, fld, value)
        if site is not None:
            dev.site, dev.township, dev.village = site.id, site.township, site.village
        self.inv.devices.setdefault(did, dev)

    def _links(self, r: Row, lid: str) -> None:
        link = self.inv.links.get(lid)
        if link is None:
            for fld in ("a_switch", "a_port", "b_switch", "b_port", "length_m", "budget_db"):
                r.need(fld, "fiber link")
            link = FiberLink(lid, PortRef("", ""), PortRef("", ""), 0, 2, 0.0)
        ends = {k: r.get(k, to_id) for k in ("a_switch", "b_switch") if r.has(k)}
        self._set(
            link,
            r,
            {
                "length_m": to_int,
                "cores": to_int,
                "budget_db": to_float,
                "rx_min_dbm": to_float,
                "status": one_of(*STATUSES),
                "build": to_str,
                "contractor": self.contractor,
                "township": self.township,
            },
        )
        if r.errors:
            return
        link.a = PortRef(ends.get("a_switch", link.a.switch), r.cells.get("a_port", link.a.port))
        link.b = PortRef(ends.get("b_switch", link.b.switch), r.cells.get("b_port", link.b.port))
        self.inv.links.setdefault(lid, link)


def _ports(text: str) -> tuple[Port, ...]:
    try:
        return tuple(p for spec in _SPLIT.split(text) if spec for p in expand_ports(spec))
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def _tags(text: str) -> tuple[str, ...]:
    return tuple(t for t in _SPLIT.split(text) if t)


def merge_tables(inv: Inventory, tables: dict[str, Table], mapping: Mapping) -> ImportResult:
    """Apply the rows to ``inv`` (mutated); rows that fail are listed and leave ``inv`` untouched."""
    imp = Importer(inv, mapping)
    for kind in SHEET_KINDS:
        table = tables.get(kind)
        if table is None:
            continue
        for r in _rows(table, mapping.sheets[kind], mapping, imp.result.notes):
            imp.row(kind, r)
    return imp.result


# --- export -------------------------------------------------------------------------------------


def _export_values(inv: Inventory, kind: str, obj: Any, mapping: Mapping) -> dict[str, object]:
    """Field -> cell value (numbers stay numbers, codes become labels, ids of places become names)."""
    towns, villages, contractors = inv.townships, inv.villages, inv.contractors

    def tname(tid: str) -> str:
        return towns[tid].name if tid in towns else tid

    def cname(cid: str) -> str:
        return contractors[cid].name if cid in contractors else cid

    if kind == "district":
        b = obj.bbox
        return {
            "id": obj.id,
            "name": obj.name,
            "name_en": obj.name_en,
            "timezone": obj.timezone,
            "south": b.south,
            "north": b.north,
            "west": b.west,
            "east": b.east,
        }
    if kind == "contractors":
        return {"id": obj.id, "name": obj.name, "name_en": obj.name_en, "phone": obj.phone}
    if kind == "townships":
        return {
            "id": obj.id,
            "name": obj.name,
            "name_en": obj.name_en,
            "area": mapping.label("area", obj.area),
            "contractor": cname(obj.contractor),
            "platform": obj.platform,
        }
    if kind == "villages":
        return {
            "id": obj.id,
            "name": obj.name,
            "name_en": obj.name_en,
            "township": tname(obj.township),
            "contractor": cname(obj.contractor),
        }
    if kind == "sites":
        return {
            "id": obj.id,
            "name": obj.name,
            "lon": obj.lon,
            "lat": obj.lat,
            "township": tname(obj.township),
            "village": villages[obj.village].name if obj.village in villages else obj.village,
        }
    if kind == "links":
        return {
            "id": obj.id,
            "township": tname(obj.township),
            "a_switch": obj.a.switch,
            "a_port": obj.a.port,
            "b_switch": obj.b.switch,
            "b_port": obj.b.port,
            "length_m": obj.length_m,
            "cores": obj.cores,
            "budget_db": obj.budget_db,
            "rx_min_dbm": obj.rx_min_dbm,
            "status": mapping.label("status", obj.status),
            "build": mapping.label("build", obj.build),
            "contractor": cname(obj.contractor),
        }
    dev: Device = obj
    site = inv.sites[dev.site]
    return {
        "township": tname(dev.township),
        "village": villages[dev.village].name if dev.village in villages else "",
        "site": dev.site,
        "site_name": site.name,
        "lon": site.lon,
        "lat": site.lat,
        "id": dev.id,
        "name": dev.name,
        "kind": mapping.label("kind", dev.kind),
        "role": mapping.label("role", dev.role),
        "ip": dev.ip,
        "mac": dev.mac,
        "vendor": mapping.label("vendor", dev.vendor),
        "model": dev.model,
        "serial": dev.serial,
        "firmware": dev.firmware,
        "funding": mapping.label("funding", dev.funding),
        "installed": dev.installed,
        "status": mapping.label("status", dev.status),
        "contractor": cname(dev.contractor),
        "auth": dev.auth,
        "uplink_switch": dev.uplink.switch if dev.uplink else "",
        "uplink_port": dev.uplink.port if dev.uplink else "",
        "bitrate_kbps": dev.bitrate_kbps if dev.kind == "camera" else None,
        "rtsp_port": dev.rtsp_port if dev.kind == "camera" else None,
        "onvif_port": dev.onvif_port if dev.kind == "camera" else None,
        "ports": ", ".join(compress_ports(dev.ports)),
        "tags": ", ".join(dev.tags),
    }


def export_sheets(inv: Inventory, mapping: Mapping) -> dict[str, tuple[list[str], list[list[object]]]]:
    """Sheet name -> (headers, rows) for every kind the mapping names."""
    objects: dict[str, Iterable[Any]] = {
        "district": [inv.district],
        "contractors": inv.contractors.values(),
        "townships": inv.townships.values(),
        "villages": inv.villages.values(),
        "sites": inv.sites.values(),
        "devices": inv.devices.values(),
        "links": inv.links.values(),
    }
    out = {}
    for kind in SHEET_KINDS:
        sm = mapping.sheets.get(kind)
        if sm is None:
            continue
        fields = [f for f in FIELDS[kind] if f in sm.columns.values()]
        rows = []
        for obj in objects[kind]:
            values = _export_values(inv, kind, obj, mapping)
            rows.append([values[f] for f in fields])
        out[sm.sheet] = ([sm.header(f) for f in fields], rows)
    return out


def write_xlsx(sheets: dict[str, tuple[list[str], list[list[object]]]], path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for name, (headers, rows) in sheets.items():
        ws = book.create_sheet(name)
        ws.append(headers)
        for row in rows:
            ws.append(["" if v is None else v for v in row])
    book.save(path)


def _csv_cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def write_csv(
    sheets: dict[str, tuple[list[str], list[list[object]]]], path: Path, mapping: Mapping
) -> list[Path]:
    paths = csv_paths(path, mapping)
    by_sheet = {mapping.sheets[k].sheet: p for k, p in paths.items()}
    written = []
    for name, (headers, rows) in sheets.items():
        p = by_sheet[name]
        with p.open("w", encoding="utf-8-sig", newline="") as fh:  # the BOM makes Excel read UTF-8
            w = csv.writer(fh)
            w.writerow(headers)
            w.writerows([_csv_cell(v) for v in row] for row in rows)
        written.append(p)
    return sorted(written, key=lambda p: p != path)  # the devices file first


def export_inventory(
    inv: Inventory, path: str | Path, fmt: str, mapping: Mapping | None = None
) -> list[Path]:
    mapping = mapping or load_mapping(DEFAULT_MAPPING)
    path = Path(path)
    sheets = export_sheets(inv, mapping)
    if fmt == "xlsx":
        write_xlsx(sheets, path)
        return [path]
    return write_csv(sheets, path, mapping)


# --- import into a directory ----------------------------------------------------------------------


def _base_inventory(directory: Path) -> Inventory:
    if (directory / "district.yaml").is_file():
        try:
            return load_inventory(directory)
        except InventoryError as exc:
            raise UserError(
                f"{directory}: the inventory to import into is invalid; fix it first",
                [str(p) for p in exc.problems],
            ) from None
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
) -> tuple[Inventory, Inventory, ImportResult, dict[str, str], list[str]]:
    """(old, merged, result, rendered files, validation problems); nothing is written."""
    directory = Path(directory)
    tables = read_tables(Path(path), mapping)
    old = _base_inventory(directory)
    new = _base_inventory(directory)  # a second copy to merge into: the old one stays for the diff
    result = merge_tables(new, tables, mapping)
    if not new.district.id:
        sheet = mapping.sheets["district"].sheet if "district" in mapping.sheets else "district"
        raise UserError(
            f"{directory} has no district.yaml and {Path(path).name} has no {sheet} sheet to make one"
        )
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


# --- CLI ----------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from .cli import _load

    inv = _load(args.inventory)
    mapping = load_mapping(args.mapping)
    fmt = args.format or ("csv" if args.out.lower().endswith(".csv") else "xlsx")
    paths = export_inventory(inv, args.out, fmt, mapping)
    print(
        f"wrote {', '.join(map(str, paths))}: {len(inv.devices)} devices, {len(inv.links)} fiber links, "
        f"{len(inv.sites)} sites"
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .diff import diff_inventories, format_diff

    mapping = load_mapping(args.mapping)
    old, new, result, files, problems = import_spreadsheet(args.file, args.into, mapping)
    for note in result.notes:
        print(f"note: {note}")
    print(format_diff(diff_inventories(old, new)))
    n = len(result.failed)
    if result.failed and not args.allow_partial:
        raise UserError(
            f"{args.file}: {n} row{'s' if n != 1 else ''} cannot be imported; nothing written "
            "(--allow-partial imports the others)",
            result.failed,
        )
    if problems:
        raise UserError(f"{args.file}: the merged inventory is invalid; nothing written", problems)
    skipped = f", {n} row{'s' if n != 1 else ''} skipped" if n else ""
    if args.dry_run:
        for line in result.failed:
            print(f"skipped: {line}")
        print(f"dry run: {result.imported} rows would be imported{skipped}; nothing written")
        return 0
    write_files(files, Path(args.into))
    for line in result.failed:
        print(f"skipped: {line}")
    print(f"imported {result.imported} rows into {args.into}{skipped}")
    return 0


def register(sub: Any) -> None:
    sp = sub.add_parser("export", help="write the inventory as a contractors' spreadsheet (XLSX or CSV)")
    sp.add_argument(
        "--inventory", "-i", metavar="DIR", help="inventory directory (default: the embedded sample district)"
    )
    sp.add_argument("--format", choices=("xlsx", "csv"), help="default: from the --out suffix")
    sp.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="the workbook, or the devices CSV (other sheets go beside it as <stem>-<sheet>.csv)",
    )
    sp.add_argument("--mapping", default=str(DEFAULT_MAPPING), metavar="YAML", help="column mapping file")
    sp.set_defaults(fn=cmd_export)
    sp = sub.add_parser("import", help="merge a contractors' spreadsheet (XLSX or CSV) into an inventory")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--mapping", default=str(DEFAULT_MAPPING), metavar="YAML", help="column mapping file")
    sp.add_argument("--into", required=True, metavar="DIR", help="inventory directory to merge into")
    sp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    sp.add_argument(
        "--allow-partial",
        action="store_true",
        help="import the good rows even when some rows cannot be imported",
    )
    sp.set_defaults(fn=cmd_import)
