# Interval arithmetic deliberately separate from reports/availability.py: the report is checked against this.
"""``sharpeyes-sim history``: a month of realistic history as OpenMetrics, for promtool backfill.

The scenario (YAML, strict) describes what happened during the month: explicit outages (camera
power loss or hang, fiber cut, switch down, village power cut, a degrading fiber that finally loses
light), planned maintenance windows (which become report exclusions), monitoring gaps (no samples
at all), devices installed or decommissioned mid-month, and a seeded random background of short
camera outages. From it we write:

- ``history.om`` (or ``history-NN.om`` with ``--split-days``): the series as Prometheus holds them
  after scraping our exporter (``probe_success``, ``sharpeyes_optical_rx_power_dbm``,
  ``sharpeyes_device_info``, and the snapshot module's ``sharpeyes_vqd_image_intact`` /
  ``sharpeyes_vqd_check_fault``: one still per camera every 10 minutes while the camera answers,
  with seeded image faults on 12 % of the cameras aligned to that grid), for
  ``promtool tsdb create-blocks-from openmetrics``;
- ``ground-truth.csv``: exact seconds per device computed from the scenario's intervals (not from
  the samples), so that report figures can be checked; image-fault time is what the stills see
  (faulty stills × 10 minutes: a still stands for its interval, as the report counts it), and
  ``intact_s`` = online − image-fault time (完好);
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import yaml

from sharpeyes.cli import UserError, cli_main, epilog, setup_logging
from sharpeyes.cli import parser as cli_parser
from sharpeyes.contract import (
    DEVICE_INFO,
    JOB_INVENTORY,
    MODULES,
    OPTICAL_RX_POWER_DBM,
    PROBE_SUCCESS,
    SAMPLE_DISTRICT,
    default_address,
    job,
)
from sharpeyes.inventory import Device, Inventory, InventoryError, load_inventory
from sharpeyes.inventory.model import Source
from sharpeyes.output import add_quiet_flag, progress, quiet
from sharpeyes.yamlnodes import (
    FieldError,
    MappingReader,
    Problems,
    compose_file,
    one_of,
    to_bool,
    to_duration,
    to_float,
    to_int,
)

DEFAULT_SCENARIO = Path(__file__).parent / "scenarios" / "history-2026-10.yaml"
DEFAULT_INVENTORY = SAMPLE_DISTRICT

ICMP_MODULE = "icmp"  # a contract module name (job() raises KeyError if it is not)
ICMP_JOB = job(ICMP_MODULE)
SNMP_SWITCH_JOB = job("snmp_switch")
INVENTORY_JOB = JOB_INVENTORY
INVENTORY_INSTANCE = default_address("exporter")  # the exporter serves the inventory's _info series
SNAPSHOT_JOB = job("snapshot")
STILL_STEP = int(MODULES["snapshot"].interval)  # one still per camera every 10 minutes
IMAGE_FAULT_FRACTION = 0.12  # share of cameras with image faults (seeded, like background outages)
IMAGE_FAULTS = ("frozen", "defocus", "occluded", "color_cast", "snow", "stripes", "displaced", "too_dark",
                "overexposed", "video_loss")
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


def whole_seconds(text: str) -> int:
    """A positive duration in the one grammar (``90s``, ``5m``, ``1d12h``) → whole seconds."""
    seconds = to_duration(text)
    if seconds <= 0 or seconds != int(seconds):
        raise FieldError(f"{text!r} must be a positive whole number of seconds (e.g. 90s, 5m, 1d12h)")
    return int(seconds)


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
            dur = r.scalar("duration", whole_seconds)
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
        for key, conv in (("outages", to_int), ("duration", whole_seconds)):
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
    image_faults: list[Interval] = field(default_factory=list)  # picture faulty (on the still grid)


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


def background_image_faults(sc: Scenario, dev: Device, start: int, end: int) -> list[Interval]:
    """Seeded image faults of a camera (defocus, covered lens...), on the 10-minute still grid."""
    if dev.kind != "camera":
        return []
    rng = _rng(sc.seed, "image:" + dev.id)
    if rng.random() >= IMAGE_FAULT_FRACTION:
        return []
    slots = (end - start) // STILL_STEP
    out = []
    for _ in range(rng.randint(1, 2)):
        length = rng.randint(3, 6 * 48)  # 30 minutes to two days
        first = rng.randrange(0, max(1, slots - length))
        out.append((start + first * STILL_STEP, start + (first + length) * STILL_STEP))
    return merge(out)


def image_fault_type(seed: int, device: str) -> str:
    return IMAGE_FAULTS[_rng(seed, "image-type:" + device).randrange(len(IMAGE_FAULTS))]


def still_grid(m: Month, t: DeviceTruth) -> tuple[np.ndarray, np.ndarray]:
    """(times, faulty) of the stills the snapshot probe judges: camera up, active, monitored."""
    grid = _grid(m.start, m.end, STILL_STEP)
    keep = (grid >= t.active[0]) & (grid < t.active[1]) & ~_in(grid, m.gaps) & ~_in(grid, t.down)
    ts = grid[keep]
    return ts, _in(ts, t.image_faults)


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


@dataclass(slots=True)
class _MonthState:
    """What the events and maintenance windows of a month add up to, per device and per fiber link."""

    inv: Inventory
    sc: Scenario
    tz: zoneinfo.ZoneInfo
    start: int
    end: int
    selected: set[str]
    down: dict[str, list[Interval]]  # device -> outage intervals (background and events)
    excl: dict[str, list[Interval]]  # device -> declared exclusion intervals
    exclusions: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, LinkOptics] = field(default_factory=dict)

    def optics(self, link_id: str) -> LinkOptics:
        if link_id not in self.links:
            self.links[link_id] = LinkOptics(link_id, link_base(self.inv, link_id, self.sc.seed), [], [])
        return self.links[link_id]

    def hit(self, ids: Iterable[str], iv: Interval) -> None:
        for i in ids:
            if i in self.down:
                self.down[i].append(iv)


# An event's effect: the devices it takes down, and the event as it really happened (a degrading
# fiber is cut only when its power crosses the loss-of-signal level).
EventEffect = Callable[[_MonthState, Event, int], tuple[set[str], Event]]


def _device_down(st: _MonthState, ev: Event, ev_end: int) -> tuple[set[str], Event]:
    return {ev.target}, ev


def _switch_down(st: _MonthState, ev: Event, ev_end: int) -> tuple[set[str], Event]:
    return {ev.target} | st.inv.topology.downstream(ev.target), ev


def _village_power_cut(st: _MonthState, ev: Event, ev_end: int) -> tuple[set[str], Event]:
    affected = {d.id for d in st.inv.devices.values() if d.village == ev.target}
    for dev_id in list(affected):
        affected |= st.inv.topology.downstream(dev_id)
    return affected, ev


def _fiber_cut(st: _MonthState, ev: Event, ev_end: int) -> tuple[set[str], Event]:
    st.optics(ev.target).cut.append((ev.start, ev_end))
    return st.inv.topology.downstream(ev.target), ev


def _fiber_degrading(st: _MonthState, ev: Event, ev_end: int) -> tuple[set[str], Event]:
    lo = st.optics(ev.target)
    lo.degrade.append((ev.start, ev.rate_db_per_day))
    cut_at = degrade_cut_time(ev, min(lo.base_dbm))
    affected = st.inv.topology.downstream(ev.target) if cut_at < ev_end else set()
    if cut_at < ev_end:
        lo.cut.append((cut_at, ev_end))
    return affected, Event(ev.type, ev.target, cut_at, ev_end, ev.source, declared=ev.declared)


EVENT_EFFECTS: dict[str, EventEffect] = {
    "camera_power_loss": _device_down,
    "camera_hung": _device_down,
    "fiber_cut": _fiber_cut,
    "switch_down": _switch_down,
    "village_power_cut": _village_power_cut,
    "fiber_degrading": _fiber_degrading,
}


def _apply_event(st: _MonthState, n: int, ev: Event) -> None:
    ev_end = ev.end if ev.end is not None else st.end
    affected, ev = EVENT_EFFECTS[ev.type](st, ev, ev_end)
    iv = (ev.start, ev_end)
    st.hit(affected, iv)
    if ev.declared is not None and affected & st.selected:
        for i in affected & st.selected:
            st.excl[i].append(iv)
        st.exclusions.append(_exclusion(f"event-{n:03d}", ev.declared, iv, sorted(affected & st.selected), st.tz))


def _apply_maintenance(st: _MonthState, mw: Maintenance) -> None:
    ids = set(mw.devices)
    ids |= {d.id for d in st.inv.devices.values() if d.village in mw.villages or d.township in mw.townships}
    for link_id in mw.fiber_links:
        ids |= st.inv.topology.downstream(link_id)
    ids &= st.selected
    iv = (mw.start, mw.end)
    for i in ids:
        st.excl[i].append(iv)
        if mw.down:
            st.down[i].append(iv)
    if ids:
        st.exclusions.append(_exclusion(mw.id, mw.declared, iv, sorted(ids), st.tz))


def _truth(st: _MonthState, d: Device, gaps: list[Interval]) -> DeviceTruth:
    a = max(st.start, st.sc.installs.get(d.id, st.start))
    b = min(st.end, st.sc.decommissions.get(d.id, st.end))
    b = max(a, b)
    dn = merge(clip(st.down[d.id], a, b))
    ex = merge(clip(st.excl[d.id], a, b))
    unknown = subtract(clip(gaps, a, b), ex)
    offline = subtract(subtract(dn, ex), gaps)
    # image faults inside approved exclusions are not modelled (the report does not exclude them)
    images = subtract(clip(background_image_faults(st.sc, d, st.start, st.end), a, b), ex)
    return DeviceTruth(d.id, (a, b), dn, ex, unknown, offline, images)


def _steady_links(st: _MonthState) -> None:
    """Every selected link end gets optics, even if nothing happens to it."""
    for fl in st.inv.links.values():
        if fl.active and (fl.a.switch in st.selected or fl.b.switch in st.selected):
            st.optics(fl.id)


def build_month(inv: Inventory, sc: Scenario, month: str, devices: list[Device]) -> Month:
    tz = zoneinfo.ZoneInfo(inv.district.timezone)
    start, end = month_bounds(month, tz)
    st = _MonthState(
        inv, sc, tz, start, end, {d.id for d in devices},
        down={d.id: background_outages(sc, d, start, end) for d in devices},
        excl={d.id: [] for d in devices},
    )
    for n, ev in enumerate(sc.events, 1):
        _apply_event(st, n, ev)
    for mw in sc.maintenance:
        _apply_maintenance(st, mw)
    gaps = merge(clip(sc.gaps, start, end))
    truths = {d.id: _truth(st, d, gaps) for d in devices}
    _steady_links(st)
    return Month(
        inv,
        tz,
        start,
        end,
        devices,
        truths,
        gaps,
        sorted(st.links.values(), key=lambda x: x.link),
        st.exclusions,
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
    "image_fault_s",
    "image_judged_s",
    "intact_s",
    "image_fault",
)


def truth_rows(m: Month) -> Iterator[dict[str, Any]]:
    for d in m.devices:
        t = m.truths[d.id]
        active = t.active[1] - t.active[0]
        excluded, unknown, offline = total(t.excluded), total(t.unknown), total(t.offline)
        monitored = active - excluded - unknown
        ts, faulty = still_grid(m, t) if d.kind == "camera" else (np.zeros(0), np.zeros(0, bool))
        image_fault_s, judged_s = int(faulty.sum()) * STILL_STEP, len(ts) * STILL_STEP
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
            # what the stills (one per 10 minutes while the camera answers) show of the image faults
            "image_fault_s": image_fault_s,
            "image_judged_s": judged_s,
            "intact_s": monitored - offline - image_fault_s,
            "image_fault": image_fault_type(m.seed, d.id) if t.image_faults else "",
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
        self.tracker: Any = None  # progress: one step per device per file, plus optical and info

    def _step(self) -> None:
        if self.tracker is not None:
            self.tracker.advance()

    def write(self) -> list[Path]:
        many = len(self.parts) > 1
        if self.tracker is not None:
            self.tracker.total(len(self.parts) * (len(self.m.devices) + 2))
        for n, (lo, hi) in enumerate(self.parts, 1):
            path = self.out / (f"history-{n:02d}.om" if many else "history.om")
            with path.open("w", encoding="utf-8", newline="\n") as f:
                self.probe_success(f, lo, hi)
                self.image_intact(f, lo, hi)
                self.optical(f, lo, hi)
                self._step()
                self.info(f, lo, hi)
                self._step()
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
            f"# HELP {PROBE_SUCCESS} Displays whether or not the probe was a success\n"
            f"# TYPE {PROBE_SUCCESS} gauge\n"
        )
        grid = _grid(self.m.start, self.m.end, self.step)
        grid = grid[(grid >= lo) & (grid < hi)]
        gap = _in(grid, self.m.gaps)
        for d in self.m.devices:
            t = self.m.truths[d.id]
            keep = (grid >= t.active[0]) & (grid < t.active[1]) & ~gap
            ts = grid[keep]
            dn = _in(ts, t.down)
            labels = {"job": ICMP_JOB, "instance": d.id, "module": ICMP_MODULE, "device": d.id}
            prefix = f"{PROBE_SUCCESS}{{{_labels(labels)}}} "
            self._emit(f, prefix, ts, np.where(dn, "0", "1").tolist())
            self._step()

    def image_intact(self, f: IO[str], lo: int, hi: int) -> None:
        """sharpeyes_vqd_image_intact of every camera's stills, and sharpeyes_vqd_check_fault of the
        faulty check while a fault lasts (as the snapshot prober exposes them)."""
        f.write(
            "# HELP sharpeyes_vqd_image_intact 1 if no image check found a fault in the last still, else 0.\n"
            "# TYPE sharpeyes_vqd_image_intact gauge\n"
        )
        faults: list[tuple[str, np.ndarray]] = []
        for d in self.m.devices:
            if d.kind != "camera":
                continue
            ts, faulty = still_grid(self.m, self.m.truths[d.id])
            part = (ts >= lo) & (ts < hi)
            labels = {"job": SNAPSHOT_JOB, "instance": d.id, "module": "snapshot", "device": d.id}
            self._emit(f, f"sharpeyes_vqd_image_intact{{{_labels(labels)}}} ", ts[part],
                       np.where(faulty[part], "0", "1").tolist())
            if faulty.any():
                faults.append((d.id, ts[part & faulty]))
        f.write(
            "# HELP sharpeyes_vqd_check_fault 1 if the image check found its fault, 0 if not (absent: not judged).\n"
            "# TYPE sharpeyes_vqd_check_fault gauge\n"
        )
        for device, ts in faults:
            labels = {"job": SNAPSHOT_JOB, "instance": device, "module": "snapshot", "device": device,
                      "check": image_fault_type(self.m.seed, device)}
            self._emit(f, f"sharpeyes_vqd_check_fault{{{_labels(labels)}}} ", ts, ["1"] * len(ts))

    def optical(self, f: IO[str], lo: int, hi: int) -> None:
        f.write(
            f"# HELP {OPTICAL_RX_POWER_DBM} Optical receive power of a fiber port in dBm.\n"
            f"# TYPE {OPTICAL_RX_POWER_DBM} gauge\n"
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
                    f"{OPTICAL_RX_POWER_DBM}{{{_labels(labels)}}} ",
                    ts,
                    [f"{v:.2f}" for v in val.tolist()],
                )

    def info(self, f: IO[str], lo: int, hi: int) -> None:
        f.write(
            f"# HELP {DEVICE_INFO} Inventory record of an active device (value 1).\n"
            f"# TYPE {DEVICE_INFO} gauge\n"
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
            self._emit(f, f"{DEVICE_INFO}{{{_labels(labels)}}} ", ts, ["1"] * len(ts))


# --- CLI ------------------------------------------------------------------------------------------


HISTORY_EXAMPLES = (
    "sharpeyes-sim history --month 2026-10 --out var/history --split-days 8",
    "sharpeyes-sim history --month 2026-10 --township baodong --step 5m --out var/history",
)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``history`` sub-command to ``sharpeyes-sim``'s sub-parsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "history",
        help="write a month of history as OpenMetrics for promtool backfill",
        description="Write a month of realistic history (OpenMetrics) plus its ground truth.",
        epilog=epilog(HISTORY_EXAMPLES, exit_status=False),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(func=run_history)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--month", required=True, help="YYYY-MM (months start at local midnight)")
    p.add_argument(
        "--scenario", default=str(DEFAULT_SCENARIO), help="scenario YAML (default: the embedded one)"
    )
    p.add_argument("--inventory", "-i", default=str(DEFAULT_INVENTORY),
                   help="inventory directory (default: the embedded sample district)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--township", help="only devices of this township")
    p.add_argument("--limit", type=_positive, help="only the first N active devices (after --township)")
    p.add_argument("--step", type=_step, default=60, metavar="DURATION",
                   help=f"{PROBE_SUCCESS} sample step (default: 1m)")
    p.add_argument("--optical-step", type=_step, default=900, metavar="DURATION",
                   help="optical power step (default: 15m)")
    p.add_argument("--info-step", type=_step, default=3600, metavar="DURATION",
                   help=f"{DEVICE_INFO} step (default: 1h; its lines are long)")
    p.add_argument(
        "--split-days",
        type=_positive,
        default=0,
        help="write one file per N days (keeps each promtool input small)",
    )
    add_quiet_flag(p)


def _positive(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{v!r} is not an integer") from None
    if n <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return n


def _step(v: str) -> int:
    try:
        return whole_seconds(v)
    except FieldError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_history(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    try:
        inv = load_inventory(args.inventory)
    except InventoryError as exc:
        raise exc.user_error(args.inventory) from None
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
    with progress("history", args=args) as w.tracker:
        files = w.write()
    write_ground_truth(month, out)
    shutil.copyfile(args.scenario, out / "scenario.yaml")
    size = sum(f.stat().st_size for f in files)
    if not quiet(args):
        print(
            f"wrote {len(files)} file(s), {w.samples} samples, {size / 1e6:.1f} MB, {len(devices)} devices, "
            f"{len(month.exclusions)} exclusions in {time.monotonic() - t0:.1f} s to {out}",
            file=sys.stderr,
        )
    return 0


@cli_main("sharpeyes-sim history")
def main(argv: list[str] | None = None) -> int:
    p = cli_parser("sharpeyes-sim history", __doc__.splitlines()[0], examples=HISTORY_EXAMPLES)
    add_arguments(p)
    args = p.parse_args(argv)
    setup_logging(args)
    return run_history(args)


if __name__ == "__main__":
    sys.exit(main(None))
