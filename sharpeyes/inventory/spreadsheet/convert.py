"""Rows to model objects, merged into an inventory: new ids added, existing ones updated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sharpeyes.contract import RECORDING_PLAN_ALWAYS
from sharpeyes.yamlnodes import (
    MISSING,
    FieldError,
    one_of,
    to_date,
    to_float,
    to_id,
    to_int,
    to_ipv4,
    to_mac,
    to_str,
)

from ..loader import expand_ports
from ..model import (
    AREAS,
    FUNDING,
    KINDS,
    ROLES,
    STATUSES,
    Contractor,
    Device,
    FiberLink,
    Inventory,
    Port,
    PortRef,
    Recording,
    Site,
    Township,
    Village,
)
from ..recording import to_plan
from .mapping import _SPLIT, OBJ, SHEET_KINDS, Mapping
from .reading import Table
from .rows import Row, _rows


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
            v.id for v in self.inv.villages.values() if v.name == text and (not township or v.township == township)
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
            r.errors.append(f"{r.name('township')}: village {vid} is in township {v.township}, not {township}")
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
        rec = self._recording(r)
        sid = r.get("site", to_id)
        site = self._site(r, sid, "site_name", f"{r.where} row {r.number}") if sid else None
        if r.errors:
            return
        if rec is not MISSING:
            values["recording"] = rec
        if dev is None:
            assert site is not None and kind is not None
            dev = Device(did, kind, values["role"], "", site.id, "")
        dev.kind = kind or dev.kind
        for fld, value in values.items():
            setattr(dev, fld, value)
        if site is not None:
            dev.site, dev.township, dev.village = site.id, site.township, site.village
        self.inv.devices.setdefault(did, dev)

    def _recording(self, r: Row) -> Any:
        """Recording columns: a recorder and channel together, plan and retention optional; MISSING
        when the sheet says nothing (an update keeps the camera's assignment)."""
        keys = ("recorder", "recorder_channel", "recording_plan", "retention_days")
        if not any(r.has(k) for k in keys):
            return MISSING
        if not (r.has("recorder") and r.has("recorder_channel")):
            if r.has("recorder") or r.has("recorder_channel"):
                r.errors.append(f"{r.name('recorder')} and {r.name('recorder_channel')} go together")
            return None
        recorder, channel = r.get("recorder", to_id), r.get("recorder_channel", to_int)
        plan = r.get("recording_plan", to_plan) if r.has("recording_plan") else RECORDING_PLAN_ALWAYS
        days = r.get("retention_days", to_int) if r.has("retention_days") else 0
        if recorder is None or channel is None or plan is None or days is None:
            return None
        return Recording(recorder, channel, plan, days)

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
