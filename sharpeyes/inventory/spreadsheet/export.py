"""Writing the inventory as a contractors' spreadsheet (XLSX or CSV)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sharpeyes.contract import RECORDING_PLAN_ALWAYS

from ..model import (
    Device,
    Inventory,
)
from ..writer import compress_ports
from .cells import csv_safe, formula_like
from .mapping import DEFAULT_MAPPING, FIELDS, SHEET_KINDS, Mapping, load_mapping
from .reading import csv_paths


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
        "recorder": dev.recording.recorder if dev.recording else "",
        "recorder_channel": dev.recording.channel if dev.recording else None,
        "recording_plan": dev.recording.plan if dev.recording and dev.recording.plan != RECORDING_PLAN_ALWAYS else "",
        "retention_days": dev.recording.retention_days if dev.recording and dev.recording.retention_days
        else None,
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
            ws.append([_xlsx_cell(ws, v) for v in row])
    book.save(path)


def _xlsx_cell(ws: Any, v: object) -> object:
    """openpyxl writes any str starting with = as a formula: such text becomes a string cell with
    Excel's quote prefix (shown and read back as typed, never evaluated)."""
    if v is None:
        return ""
    if isinstance(v, str) and formula_like(v):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=v)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return v


def _csv_cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.date):
        return v.isoformat()
    return csv_safe(str(v))


def write_csv(sheets: dict[str, tuple[list[str], list[list[object]]]], path: Path, mapping: Mapping) -> list[Path]:
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


def export_inventory(inv: Inventory, path: str | Path, fmt: str, mapping: Mapping | None = None) -> list[Path]:
    mapping = mapping or load_mapping(DEFAULT_MAPPING)
    path = Path(path)
    sheets = export_sheets(inv, mapping)
    if fmt == "xlsx":
        write_xlsx(sheets, path)
        return [path]
    return write_csv(sheets, path, mapping)
