"""``sharpeyes-sim history``: a month of realistic history as OpenMetrics, for promtool backfill.

The scenario (YAML, strict) describes what happened during the month: explicit outages (camera
power loss or hang, fiber cut, switch down, village power cut, a degrading fiber that finally loses
light), planned maintenance windows (which become report exclusions), monitoring gaps (no samples
at all), devices installed or decommissioned mid-month, and a seeded random background of short
camera outages. From it we write:

- ``history.om`` (or ``history-NN.om`` with ``--split-days``): the series as Prometheus holds them
  after scraping our exporter (``probe_success``, ``sharpeyes_optical_rx_power_dbm``,
  ``sharpeyes_device_info``), for ``promtool tsdb create-blocks-from openmetrics``;
- ``ground-truth.csv``: exact seconds per device computed from the scenario's intervals (not from
  the samples), so that report figures can be checked;
- ``exclusions.yaml``: the maintenance windows (and declared events) in the report's format.

Time model: a probe at sample time ``t`` fails when ``t`` lies in a down interval ``[start, end)``;
each sample stands for one step, so with minute-aligned events and a 60 s step the sampled
figures equal the ground truth exactly.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import math
import random
import shutil
import sys
import time
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import yaml

from inventory import Device, Inventory, InventoryError, load_inventory
from inventory.console import UserError, cli_main
from inventory.model import Source
from inventory.yamlnodes import FieldError, MappingReader, Problems, compose_file, one_of, to_bool, to_float, to_int

DEFAULT_SCENARIO = Path(__file__).parent / "scenarios" / "history-2026-10.yaml"
DEFAULT_INVENTORY = Path(__file__).resolve().parent.parent / "inventory" / "sample" / "fengquan"

ICMP_JOB = "sharpeyes_icmp"
SNMP_SWITCH_JOB = "sharpeyes_snmp_switch"
INVENTORY_JOB = "sharpeyes_inventory"
INVENTORY_INSTANCE = "127.0.0.1:9430"
LOS_READING_DBM = -40.0  # what an SFP reports with no light
TX_POWER_DBM = -3.0

Interval = tuple[int, int]  # [start, end) in epoch seconds

EVENT_TYPES = (
    "camera_power_loss",
    "camera_hung",
    "fiber_cut",
    "switch_down",
    "village_power_cut",
    "fiber_degrading",
)
EXCLUSION_KINDS = ("maintenance", "power_cut", "force_majeure", "other")


# --- time helpers ---------------------------------------------------------------------------------


def month_bounds(month: str, tz: zoneinfo.ZoneInfo) -> tuple[int, int]:
    """Epoch seconds of local midnight starting ``month`` (YYYY-MM) and the next month."""
    try:
        first = dt.datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise UserError(f"--month {month!r} is not YYYY-MM", status=2) from None
    nxt = (first.replace(year=first.year + 1, month=1) if first.month == 12
           else first.replace(month=first.month + 1))
    return int(first.replace(tzinfo=tz).timestamp()), int(nxt.replace(tzinfo=tz).timestamp())


def parse_time(text: str, tz: zoneinfo.ZoneInfo) -> int:
    """``2026-10-05 14:00``, ``2026-10-05T14:00:00+08:00`` or a date → epoch seconds (local if naive)."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise FieldError(f"{text!r} is not a time (YYYY-MM-DD HH:MM[:SS][+08:00])") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return int(when.timestamp())


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """``90s``, ``5m``, ``1d12h`` or plain seconds → seconds."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    total, num = 0, ""
    for ch in text:
        if ch.isdigit():
            num += ch
        elif ch in _UNITS and num:
            total += int(num) * _UNITS[ch]
            num = ""
        else:
            raise FieldError(f"{text!r} is not a duration (e.g. 90s, 5m, 1d12h)")
    if num or total <= 0:
        raise FieldError(f"{text!r} is not a duration (e.g. 90s, 5m, 1d12h)")
    return total


def local_iso(ts: int, tz: zoneinfo.ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).isoformat()


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def clip(intervals: Iterable[Interval], lo: int, hi: int) -> list[Interval]:
    return [(max(s, lo), min(e, hi)) for s, e in intervals if min(e, hi) > max(s, lo)]


def subtract(base: list[Interval], minus: list[Interval]) -> list[Interval]:
    """``base`` minus ``minus``; both merged (sorted, disjoint)."""
    out: list[Interval] = []
    for s, e in base:
        cur = s
        for ms, me in minus:
            if me <= cur or ms >= e:
                continue
            if ms > cur:
                out.append((cur, ms))
            cur = max(cur, me)
            if cur >= e:
                break
        if cur < e:
            out.append((cur, e))
    return out


def total(intervals: Iterable[Interval]) -> int:
    return sum(e - s for s, e in intervals)


# --- the scenario ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Declared:
    """An event or window that the supervisor approved as an exclusion."""

    kind: str
    reason: str
    approver: str
    ref: str = ""


@dataclass(slots=True)
class Event:
    type: str
    target: str  # device, link or village id
    start: int
    end: int | None  # None: not repaired within the month
    source: Source
    rate_db_per_day: float = 0.0
    los_dbm: float = -27.0
    declared: Declared | None = None


@dataclass(slots=True)
class Maintenance:
    id: str
    start: int
    end: int
    devices: tuple[str, ...]
    villages: tuple[str, ...]
    townships: tuple[str, ...]
    fiber_links: tuple[str, ...]
    declared: Declared
    down: bool
    source: Source


@dataclass(slots=True)
class Background:
    camera_fraction: float = 0.03
    min_outages: int = 1
    max_outages: int = 3
    min_duration: int = 300
    max_duration: int = 30 * 3600


@dataclass(slots=True)
class Scenario:
    path: str
    seed: int = 1
    background: Background = field(default_factory=Background)
    events: list[Event] = field(default_factory=list)
    maintenance: list[Maintenance] = field(default_factory=list)
    gaps: list[Interval] = field(default_factory=list)
    installs: dict[str, int] = field(default_factory=dict)
    decommissions: dict[str, int] = field(default_factory=dict)


class _Reader:
    """Reads a scenario file strictly; every problem names file:line."""

    def __init__(self, path: str, inv: Inventory, tz: zoneinfo.ZoneInfo) -> None:
        self.path = path
        self.inv = inv
        self.tz = tz
        self.problems = Problems()

    def read(self, text: str) -> Scenario:
        sc = Scenario(self.path)
        node = compose_file(self.path, text, self.problems)
        if node is None:
            if not self.problems:
                self.problems.add(Source(self.path, 1), "", "", "the scenario file is empty")
            self.fail()
            raise AssertionError  # fail() raises
        root = MappingReader(self.path, node, "scenario", self.problems)
        root.reject_unknown(
            {
                "seed",
                "background",
                "events",
                "maintenance",
                "monitoring_gaps",
                "installs",
                "decommissions",
                "description",
            }
        )
        sc.seed = root.scalar("seed", to_int, 1)
        bg = root.mapping("background", "background")
        if bg is not None:
            sc.background = self.background(bg)
        sc.events = [e for n in root.seq("events") if (e := self.event(n)) is not None]
        sc.maintenance = [m for n in root.seq("maintenance") if (m := self.window(n)) is not None]
        for n in root.seq("monitoring_gaps"):
            r = MappingReader(self.path, n, "monitoring gap", self.problems)
            r.reject_unknown({"start", "end", "reason"})
            start, end = self.span(r)
            if start is not None and end is not None:
                sc.gaps.append((start, end))
        sc.installs = self.device_times(root, "installs")
        sc.decommissions = self.device_times(root, "decommissions")
        if self.problems:
            self.fail()
        return sc

    def fail(self) -> Any:
        items = list(self.problems)
        raise UserError(f"invalid scenario: {items[0]}", detail=[str(p) for p in items[1:]], status=2)

    def span(self, r: MappingReader) -> tuple[int | None, int | None]:
        tz = self.tz
        start = r.scalar("start", lambda v: parse_time(v, tz))
        end = r.scalar("end", lambda v: parse_time(v, tz), None)
        if "duration" in r.values:
            dur = r.scalar("duration", parse_duration)
            if end is not None:
                r.error("duration", "give either end or duration, not both")
            elif start is not None and dur is not None:
                end = start + dur
        elif end is None and r.obj in ("monitoring gap", "maintenance"):
            r.error("end", "required field is missing (or give duration)")
        if start is not None and end is not None and end <= start:
            r.error("end", "must be after start")
            return start, None
        return start, end

    def background(self, r: MappingReader) -> Background:
        r.reject_unknown({"camera_fraction", "outages", "duration"})
        bg = Background()
        frac = r.scalar("camera_fraction", to_float, bg.camera_fraction)
        if frac is not None and not 0 <= frac <= 1:
            r.error("camera_fraction", "must be between 0 and 1")
        bg.camera_fraction = frac if frac is not None else bg.camera_fraction
        for key, conv in (("outages", to_int), ("duration", parse_duration)):
            vals = r.str_list(key)
            if not vals:
                continue
            try:
                lo, hi = (conv(v) for v in vals) if len(vals) == 2 else (None, None)
            except FieldError as exc:
                r.error(key, str(exc))
                continue
            if lo is None or hi is None or lo > hi or lo < (0 if key == "outages" else 1):
                r.error(key, "expected [min, max] with 0 <= min <= max")
                continue
            if key == "outages":
                bg.min_outages, bg.max_outages = lo, hi
            else:
                bg.min_duration, bg.max_duration = lo, hi
        return bg

    def declared(self, r: MappingReader, key: str, default_kind: str) -> Declared | None:
        d = r.mapping(key, key)
        if d is None:
            return None
        d.reject_unknown({"kind", "reason", "approver", "ref"})
        kind = d.scalar("kind", one_of(*EXCLUSION_KINDS), default_kind)
        reason = d.scalar("reason")
        approver = d.scalar("approver")
        ref = d.scalar("ref", default="")
        if reason is None or approver is None or kind is None:
            return None
        return Declared(kind, reason, approver, ref)

    def event(self, node: yaml.Node) -> Event | None:
        r = MappingReader(self.path, node, "event", self.problems)
        etype = r.scalar("type", one_of(*EVENT_TYPES))
        allowed = {"type", "start", "end", "duration", "exclude", "note"}
        targets = {"fiber_cut": "link", "fiber_degrading": "link", "village_power_cut": "village"}
        key = targets.get(etype or "", "device")
        allowed.add(key)
        if etype == "fiber_degrading":
            allowed |= {"rate_db_per_day", "los_dbm"}
        r.reject_unknown(allowed)
        target = r.scalar(key)
        start, end = self.span(r)
        if etype is None or target is None or start is None:
            return None
        src = r.src(key)
        ok = self.check_target(r, key, etype, target)
        ev = Event(etype, target, start, end, src, declared=self.declared(r, "exclude", "power_cut"))
        if etype == "fiber_degrading":
            rate = r.scalar("rate_db_per_day", to_float)
            if rate is not None and rate <= 0:
                r.error("rate_db_per_day", "must be positive")
            ev.rate_db_per_day = rate or 0.0
            ev.los_dbm = r.scalar("los_dbm", to_float, -27.0)
        return ev if ok else None

    def check_target(self, r: MappingReader, key: str, etype: str, target: str) -> bool:
        inv = self.inv
        if key == "link":
            if target not in inv.links:
                r.error(key, f"unknown fiber link {target!r}")
                return False
        elif key == "village":
            if target not in inv.villages:
                r.error(key, f"unknown village {target!r}")
                return False
        else:
            dev = inv.devices.get(target)
            if dev is None:
                r.error(key, f"unknown device {target!r}")
                return False
            want = "switch" if etype == "switch_down" else "camera"
            if dev.kind != want:
                r.error(key, f"{target} is a {dev.kind}, {etype} needs a {want}")
                return False
        return True

    def window(self, node: yaml.Node) -> Maintenance | None:
        r = MappingReader(self.path, node, "maintenance", self.problems)
        r.reject_unknown(
            {
                "id",
                "start",
                "end",
                "duration",
                "devices",
                "villages",
                "townships",
                "fiber_links",
                "reason",
                "approver",
                "ref",
                "down",
            }
        )
        wid = r.scalar("id")
        start, end = self.span(r)
        scopes = {}
        for key, table in (
            ("devices", self.inv.devices),
            ("villages", self.inv.villages),
            ("townships", self.inv.townships),
            ("fiber_links", self.inv.links),
        ):
            ids = r.str_list(key)
            for i in ids:
                if i not in table:
                    r.error(key, f"unknown {key[:-1].replace('_', ' ')} {i!r}")
            scopes[key] = ids
        if not any(scopes.values()):
            r.error("devices", "a maintenance window needs devices, villages, townships or fiber_links")
        reason, approver = r.scalar("reason"), r.scalar("approver")
        ref = r.scalar("ref", default="")
        down = r.scalar("down", to_bool, True)
        if wid is None or start is None or end is None or reason is None or approver is None:
            return None
        return Maintenance(
            wid,
            start,
            end,
            scopes["devices"],
            scopes["villages"],
            scopes["townships"],
            scopes["fiber_links"],
            Declared("maintenance", reason, approver, ref),
            bool(down),
            r.source,
        )

    def device_times(self, root: MappingReader, key: str) -> dict[str, int]:
        out: dict[str, int] = {}
        tz = self.tz
        for n in root.seq(key):
            r = MappingReader(self.path, n, key[:-1], self.problems)
            r.reject_unknown({"device", "at"})
            dev = r.scalar("device")
            at = r.scalar("at", lambda v: parse_time(v, tz))
            if dev is not None and dev not in self.inv.devices:
                r.error("device", f"unknown device {dev!r}")
            elif dev is not None and at is not None:
                if dev in out:
                    r.error("device", f"{dev} listed twice")
                out[dev] = at
        return out



def load_scenario(path: str | Path, inv: Inventory) -> Scenario:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read scenario {p}: {exc.strerror}") from None
    tz = zoneinfo.ZoneInfo(inv.district.timezone)
    return _Reader(str(p), inv, tz).read(text)


# --- the month, device by device ------------------------------------------------------------------


@dataclass(slots=True)
class DeviceTruth:
    device: str
    active: Interval
    down: list[Interval]  # merged, within active
    excluded: list[Interval]  # merged, within active
    unknown: list[Interval]  # within active, not excluded
    offline: list[Interval]  # down ∩ monitored ∖ excluded


@dataclass(slots=True)
class LinkOptics:
    link: str
    base_dbm: tuple[float, float]  # a end, b end
    degrade: list[tuple[int, float]]  # (start, dB/day)
    cut: list[Interval]


@dataclass(slots=True)
class Month:
    inv: Inventory
    tz: zoneinfo.ZoneInfo
    start: int
    end: int
    devices: list[Device]
    truths: dict[str, DeviceTruth]
    gaps: list[Interval]
    links: list[LinkOptics]
    exclusions: list[dict[str, Any]]
    seed: int


def select_devices(inv: Inventory, township: str | None, limit: int | None) -> list[Device]:
    if township is not None and township not in inv.townships:
        raise UserError(
            f"--township {township!r} is not in the inventory (known: {', '.join(sorted(inv.townships))})",
            status=2,
        )
    devs = [d for d in inv.active_devices() if township is None or d.township == township]
    return devs[:limit] if limit is not None else devs


def _rng(seed: int, key: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big"))


def background_outages(sc: Scenario, dev: Device, start: int, end: int) -> list[Interval]:
    """Deterministic per device (not per slice): the same camera has the same outages in any run."""
    bg = sc.background
    if dev.kind != "camera" or bg.camera_fraction <= 0:
        return []
    rng = _rng(sc.seed, dev.id)
    if rng.random() >= bg.camera_fraction:
        return []
    out = []
    for _ in range(rng.randint(bg.min_outages, bg.max_outages)):
        lo, hi = math.log(bg.min_duration), math.log(bg.max_duration)
        dur = max(60, int(math.exp(rng.uniform(lo, hi))) // 60 * 60)
        begin = start + rng.randrange(0, max(1, (end - start - dur) // 60)) * 60
        out.append((begin, begin + dur))
    return out


def degrade_cut_time(ev: Event, base_dbm: float) -> int:
    """When a degrading fiber's Rx power falls below LOS (epoch seconds, on the minute)."""
    minutes = math.ceil((base_dbm - ev.los_dbm) / ev.rate_db_per_day * 1440)
    return ev.start + max(0, minutes) * 60


def link_base(inv: Inventory, link_id: str, seed: int) -> tuple[float, float]:
    link = inv.links[link_id]
    rng = _rng(seed, link_id)
    loss = link.budget_db * rng.uniform(0.8, 1.1)
    a = round(TX_POWER_DBM - loss + rng.uniform(-0.5, 0.5), 2)
    return a, round(TX_POWER_DBM - loss + rng.uniform(-0.5, 0.5), 2)


def build_month(inv: Inventory, sc: Scenario, month: str, devices: list[Device]) -> Month:
    tz = zoneinfo.ZoneInfo(inv.district.timezone)
    start, end = month_bounds(month, tz)
    topo = inv.topology
    selected = {d.id for d in devices}
    down: dict[str, list[Interval]] = {d.id: background_outages(sc, d, start, end) for d in devices}
    excl: dict[str, list[Interval]] = {d.id: [] for d in devices}
    exclusions: list[dict[str, Any]] = []
    links: dict[str, LinkOptics] = {}

    def optics(link_id: str) -> LinkOptics:
        if link_id not in links:
            links[link_id] = LinkOptics(link_id, link_base(inv, link_id, sc.seed), [], [])
        return links[link_id]

    def hit(ids: Iterable[str], iv: Interval) -> None:
        for i in ids:
            if i in down:
                down[i].append(iv)

    for n, ev in enumerate(sc.events, 1):
        ev_end = ev.end if ev.end is not None else end
        if ev.type in ("camera_power_loss", "camera_hung"):
            affected = {ev.target}
        elif ev.type == "switch_down":
            affected = {ev.target} | topo.downstream(ev.target)
        elif ev.type == "village_power_cut":
            affected = {d.id for d in inv.devices.values() if d.village == ev.target}
            for dev_id in list(affected):
                affected |= topo.downstream(dev_id)
        elif ev.type == "fiber_cut":
            affected = topo.downstream(ev.target)
            optics(ev.target).cut.append((ev.start, ev_end))
        else:  # fiber_degrading
            lo = optics(ev.target)
            lo.degrade.append((ev.start, ev.rate_db_per_day))
            cut_at = degrade_cut_time(ev, min(lo.base_dbm))
            affected = topo.downstream(ev.target) if cut_at < ev_end else set()
            if cut_at < ev_end:
                lo.cut.append((cut_at, ev_end))
            ev = Event(ev.type, ev.target, cut_at, ev_end, ev.source, declared=ev.declared)
        iv = (ev.start, ev_end)
        hit(affected, iv)
        if ev.declared is not None and affected & selected:
            for i in affected & selected:
                excl[i].append(iv)
            exclusions.append(_exclusion(f"event-{n:03d}", ev.declared, iv, sorted(affected & selected), tz))
    for mw in sc.maintenance:
        ids = set(mw.devices)
        ids |= {d.id for d in inv.devices.values() if d.village in mw.villages or d.township in mw.townships}
        for link_id in mw.fiber_links:
            ids |= topo.downstream(link_id)
        ids &= selected
        iv = (mw.start, mw.end)
        for i in ids:
            excl[i].append(iv)
            if mw.down:
                down[i].append(iv)
        if ids:
            exclusions.append(_exclusion(mw.id, mw.declared, iv, sorted(ids), tz))
    gaps = merge(clip(sc.gaps, start, end))
    truths = {}
    for d in devices:
        a = max(start, sc.installs.get(d.id, start))
        b = min(end, sc.decommissions.get(d.id, end))
        b = max(a, b)
        dn = merge(clip(down[d.id], a, b))
        ex = merge(clip(excl[d.id], a, b))
        unknown = subtract(clip(gaps, a, b), ex)
        offline = subtract(subtract(dn, ex), gaps)
        truths[d.id] = DeviceTruth(d.id, (a, b), dn, ex, unknown, offline)
    # every selected link end gets optics, even if nothing happens to it
    for fl in inv.links.values():
        if fl.active and (fl.a.switch in selected or fl.b.switch in selected):
            optics(fl.id)
    return Month(
        inv,
        tz,
        start,
        end,
        devices,
        truths,
        gaps,
        sorted(links.values(), key=lambda x: x.link),
        exclusions,
        sc.seed,
    )


def _exclusion(
    xid: str, d: Declared, iv: Interval, devices: list[str], tz: zoneinfo.ZoneInfo
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": xid,
        "kind": d.kind,
        "start": local_iso(iv[0], tz),
        "end": local_iso(iv[1], tz),
        "devices": devices,
        "reason": d.reason,
        "approver": d.approver,
    }
    if d.ref:
        out["ref"] = d.ref
    return out


# --- ground truth ---------------------------------------------------------------------------------

GROUND_TRUTH_COLUMNS = (
    "device",
    "monitored_s",
    "online_s",
    "offline_s",
    "unknown_s",
    "excluded_s",
    "outages",
    "longest_outage_s",
    "active_from",
    "active_to",
)


def truth_rows(m: Month) -> Iterator[dict[str, Any]]:
    for d in m.devices:
        t = m.truths[d.id]
        active = t.active[1] - t.active[0]
        excluded, unknown, offline = total(t.excluded), total(t.unknown), total(t.offline)
        monitored = active - excluded - unknown
        yield {
            "device": d.id,
            "monitored_s": monitored,
            "online_s": monitored - offline,
            "offline_s": offline,
            "unknown_s": unknown,
            "excluded_s": excluded,
            "outages": len(t.offline),
            "longest_outage_s": max((e - s for s, e in t.offline), default=0),
            "active_from": local_iso(t.active[0], m.tz),
            "active_to": local_iso(t.active[1], m.tz),
        }


def write_ground_truth(m: Month, out: Path) -> None:
    with (out / "ground-truth.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=GROUND_TRUTH_COLUMNS)
        w.writeheader()
        w.writerows(truth_rows(m))
    doc = {
        "district": m.inv.district.id,
        "month": dt.datetime.fromtimestamp(m.start, m.tz).strftime("%Y-%m"),
        "exclusions": m.exclusions,
    }
    header = (
        "# Exclusions generated by sharpeyes-sim history from the scenario's maintenance windows and\n"
        "# declared events. Review and approve before use in a report.\n"
    )
    (out / "exclusions.yaml").write_text(
        header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8"
    )


# --- OpenMetrics ----------------------------------------------------------------------------------


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(d: dict[str, str]) -> str:
    return ",".join(f'{k}="{_esc(v)}"' for k, v in d.items())


def _grid(start: int, end: int, step: int) -> np.ndarray:
    return np.arange(start, end, step, dtype=np.int64)


def _in(ts: np.ndarray, intervals: list[Interval]) -> np.ndarray:
    """Boolean mask: ts within any of the merged intervals [s, e)."""
    mask = np.zeros(ts.shape, dtype=bool)
    for s, e in intervals:
        mask[np.searchsorted(ts, s) : np.searchsorted(ts, e)] = True
    return mask


class Writer:
    """Writes families one after the other; each series contiguous and in time order."""

    def __init__(
        self, m: Month, out: Path, step: int, optical_step: int, info_step: int, split_days: int
    ) -> None:
        self.m = m
        self.out = out
        self.step = step
        self.optical_step = optical_step
        self.info_step = info_step
        span = split_days * 86400 if split_days else m.end - m.start
        self.parts = [(s, min(s + span, m.end)) for s in range(m.start, m.end, span)]
        self.samples = 0
        self.files: list[Path] = []

    def write(self) -> list[Path]:
        many = len(self.parts) > 1
        for n, (lo, hi) in enumerate(self.parts, 1):
            path = self.out / (f"history-{n:02d}.om" if many else "history.om")
            with path.open("w", encoding="utf-8", newline="\n") as f:
                self.probe_success(f, lo, hi)
                self.optical(f, lo, hi)
                self.info(f, lo, hi)
                f.write("# EOF\n")
            self.files.append(path)
        return self.files

    def _emit(self, f: IO[str], prefix: str, ts: np.ndarray, values: list[str]) -> None:
        if not len(ts):
            return
        lines = [v + " " + str(t) for v, t in zip(values, ts.tolist(), strict=True)]
        f.write(prefix)
        f.write(("\n" + prefix).join(lines))
        f.write("\n")
        self.samples += len(lines)

    def probe_success(self, f: IO[str], lo: int, hi: int) -> None:
        f.write(
            "# HELP probe_success Displays whether or not the probe was a success\n"
            "# TYPE probe_success gauge\n"
        )
        grid = _grid(self.m.start, self.m.end, self.step)
        grid = grid[(grid >= lo) & (grid < hi)]
        gap = _in(grid, self.m.gaps)
        for d in self.m.devices:
            t = self.m.truths[d.id]
            keep = (grid >= t.active[0]) & (grid < t.active[1]) & ~gap
            ts = grid[keep]
            dn = _in(ts, t.down)
            labels = {"job": ICMP_JOB, "instance": d.id, "module": "icmp", "device": d.id}
            prefix = f"probe_success{{{_labels(labels)}}} "
            self._emit(f, prefix, ts, np.where(dn, "0", "1").tolist())

    def optical(self, f: IO[str], lo: int, hi: int) -> None:
        f.write(
            "# HELP sharpeyes_optical_rx_power_dbm Optical receive power of a fiber port in dBm.\n"
            "# TYPE sharpeyes_optical_rx_power_dbm gauge\n"
        )
        m = self.m
        grid = _grid(m.start, m.end, self.optical_step)
        grid = grid[(grid >= lo) & (grid < hi)]
        gap = _in(grid, m.gaps)
        for lo_ in m.links:
            link = m.inv.links[lo_.link]
            for end_no, ref in enumerate((link.a, link.b)):
                t = m.truths.get(ref.switch)
                if t is None:
                    continue
                reachable = (grid >= t.active[0]) & (grid < t.active[1]) & ~gap & ~_in(grid, t.down)
                ts = grid[reachable]
                if not len(ts):
                    continue
                rng = np.random.default_rng(_rng(m.seed, f"{lo_.link}:{end_no}").randrange(2**32))
                val = lo_.base_dbm[end_no] + rng.normal(0, 0.05, len(ts))
                for start, rate in lo_.degrade:
                    val -= np.clip((ts - start) / 86400.0, 0, None) * rate
                val = np.where(_in(ts, merge(lo_.cut)), LOS_READING_DBM, np.maximum(val, LOS_READING_DBM))
                labels = {
                    "job": SNMP_SWITCH_JOB,
                    "instance": ref.switch,
                    "device": ref.switch,
                    "port": ref.port,
                    "port_link": link.id,
                }
                self._emit(
                    f,
                    f"sharpeyes_optical_rx_power_dbm{{{_labels(labels)}}} ",
                    ts,
                    [f"{v:.2f}" for v in val.tolist()],
                )

    def info(self, f: IO[str], lo: int, hi: int) -> None:
        f.write(
            "# HELP sharpeyes_device_info Inventory record of an active device (value 1).\n"
            "# TYPE sharpeyes_device_info gauge\n"
        )
        m = self.m
        grid = _grid(m.start, m.end, self.info_step)
        grid = grid[(grid >= lo) & (grid < hi)]
        gap = _in(grid, m.gaps)
        for d in m.devices:
            t = m.truths[d.id]
            ts = grid[(grid >= t.active[0]) & (grid < t.active[1]) & ~gap]
            labels = {"job": INVENTORY_JOB, "instance": INVENTORY_INSTANCE, **m.inv.target_labels(d.id)}
            site = m.inv.sites.get(d.site)
            labels["lat"] = f"{site.lat:.6f}" if site else ""
            labels["lon"] = f"{site.lon:.6f}" if site else ""
            labels["name"] = d.name
            self._emit(f, f"sharpeyes_device_info{{{_labels(labels)}}} ", ts, ["1"] * len(ts))


# --- CLI ------------------------------------------------------------------------------------------


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``history`` sub-command to ``sharpeyes-sim``'s sub-parsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "history",
        help="write a month of history as OpenMetrics for promtool backfill",
        description="Write a month of realistic history (OpenMetrics) plus its ground truth.",
    )
    add_arguments(p)
    p.set_defaults(func=run_history)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--month", required=True, help="YYYY-MM (months start at local midnight)")
    p.add_argument(
        "--scenario", default=str(DEFAULT_SCENARIO), help="scenario YAML (default: the embedded one)"
    )
    p.add_argument("--inventory", default=str(DEFAULT_INVENTORY), help="inventory directory")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--township", help="only devices of this township")
    p.add_argument("--limit", type=_positive, help="only the first N active devices (after --township)")
    p.add_argument("--step", type=_positive, default=60, help="probe_success sample step in seconds (60)")
    p.add_argument("--optical-step", type=_positive, default=900, help="optical power step in seconds (900)")
    p.add_argument(
        "--info-step",
        type=_positive,
        default=3600,
        help="sharpeyes_device_info step in seconds (3600; its lines are long)",
    )
    p.add_argument(
        "--split-days",
        type=_positive,
        default=0,
        help="write one file per N days (keeps each promtool input small)",
    )


def _positive(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{v!r} is not an integer") from None
    if n <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return n


def run_history(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    try:
        inv = load_inventory(args.inventory)
    except InventoryError as exc:
        first = exc.problems[0] if exc.problems else exc
        raise UserError(f"invalid inventory {args.inventory}: {first}") from None
    except OSError as exc:
        raise UserError(f"cannot read inventory {args.inventory}: {exc}") from None
    sc = load_scenario(args.scenario, inv)
    devices = select_devices(inv, args.township, args.limit)
    if not devices:
        raise UserError("no active devices selected")
    month = build_month(inv, sc, args.month, devices)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {out}: {exc.strerror}") from None
    w = Writer(month, out, args.step, args.optical_step, args.info_step, args.split_days)
    files = w.write()
    write_ground_truth(month, out)
    shutil.copyfile(args.scenario, out / "scenario.yaml")
    size = sum(f.stat().st_size for f in files)
    print(
        f"wrote {len(files)} file(s), {w.samples} samples, {size / 1e6:.1f} MB, {len(devices)} devices, "
        f"{len(month.exclusions)} exclusions in {time.monotonic() - t0:.1f} s to {out}",
        file=sys.stderr,
    )
    return 0


@cli_main("sharpeyes-sim history")
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="sharpeyes-sim history", description=__doc__.splitlines()[0])
    add_arguments(p)
    return run_history(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(None))
