"""Report configuration and the reviewed exclusions file, both read strictly (file:line in errors).

``report.yaml`` (all keys optional)::

    targets:                 # online-rate targets (fractions)
      default: 0.95
      tags: {key_area: 0.98} # a camera carrying one of these inventory tags gets the strictest one
    exclusions: exclusions.yaml   # relative to this file
    scrape_interval: auto    # or 15s / 60: the probe_success sample interval
    worst: 20                # how many cameras the worst-N list shows
    sla_target: 0.90         # share of tickets repaired within the SLA for a contractor to comply
    image_job: sharpeyes_snapshot   # 完好率: the snapshot (video quality) job, and its still interval
    image_interval: 10m

``exclusions.yaml``::

    exclusions:
      - id: mw-2026-10-14
        kind: maintenance           # maintenance | power_cut | force_majeure | other
        start: 2026-10-14 01:00     # local time (district time zone) unless an offset is given
        end: 2026-10-14 05:00
        devices: [cam-a, cam-b]     # and/or villages: [...], townships: [...], all: true
        reason: 交换机固件升级
        approver: 李明
        ref: BG-2026-1014           # optional document number
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sharpeyes.cli import UserError
from sharpeyes.contract import MODULES
from sharpeyes.contract import job as module_job
from sharpeyes.inventory.model import Source
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

EXCLUSION_KINDS = ("maintenance", "power_cut", "force_majeure", "other")
KIND_ZH = {"maintenance": "计划检修", "power_cut": "停电", "force_majeure": "不可抗力", "other": "其他"}


@dataclass(slots=True)
class Config:
    default_target: float = 0.95
    tag_targets: dict[str, float] = field(default_factory=lambda: {"key_area": 0.98})
    exclusions: Path | None = None
    scrape_interval: float | None = None  # None: detect from the data
    worst: int = 20
    sla_target: float = 0.90
    job: str = module_job("icmp")  # the probe job whose probe_success the online rate is counted from
    # 完好率 (online and picture intact): the snapshot module's job and still interval (seconds);
    # the targets above apply to it as to the online rate (98 % key area, 95 % otherwise)
    image_job: str = MODULES["snapshot"].job
    image_interval: float = MODULES["snapshot"].interval

    def target_for(self, tags: tuple[str, ...] | list[str]) -> float:
        specific = [self.tag_targets[t] for t in tags if t in self.tag_targets]
        return max(specific) if specific else self.default_target


@dataclass(slots=True)
class Exclusion:
    id: str
    kind: str
    start: float  # epoch seconds
    end: float
    devices: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    townships: tuple[str, ...] = ()
    everything: bool = False
    reason: str = ""
    approver: str = ""
    ref: str = ""
    source: Source | None = None


def _read(path: Path, what: str) -> tuple[MappingReader, Problems]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror}") from None
    problems = Problems()
    node = compose_file(str(path), text, problems)
    if node is None:
        if not problems:
            problems.add(Source(str(path), 1), "", "", f"the {what} is empty")
        _fail(what, problems)
    assert node is not None
    return MappingReader(str(path), node, what, problems), problems


def _fail(what: str, problems: Problems) -> None:
    items = list(problems)
    raise UserError(f"invalid {what}: {items[0]}", detail=[str(p) for p in items[1:]], status=2)


def _fraction(v: str) -> float:
    x = to_float(v)
    if not 0 < x <= 1:
        raise FieldError(f"{v!r} is not a fraction between 0 and 1 (e.g. 0.95)")
    return x


def _positive_seconds(v: str) -> float:
    secs = _interval(v)
    if secs is None:
        raise FieldError("image_interval must be a duration (600, 10m), not auto")
    return secs


def _interval(v: str) -> float | None:
    if v == "auto":
        return None
    secs = to_duration(v)
    if secs <= 0:
        raise FieldError(f"{v!r} must be positive")
    return secs


def load_config(path: str | Path | None) -> Config:
    cfg = Config()
    if path is None:
        return cfg
    p = Path(path)
    r, problems = _read(p, "report config")
    r.reject_unknown({"targets", "exclusions", "scrape_interval", "worst", "sla_target", "job", "image_job",
                      "image_interval"})
    t = r.mapping("targets", "targets")
    if t is not None:
        t.reject_unknown({"default", "tags"})
        cfg.default_target = t.scalar("default", _fraction, cfg.default_target)
        tags = t.mapping("tags", "targets.tags")
        if tags is not None:
            cfg.tag_targets = {}
            for key in tags.values:
                val = tags.scalar(key, _fraction)
                if val is not None:
                    cfg.tag_targets[key] = val
    excl = r.scalar("exclusions", default=None)
    if excl:
        cfg.exclusions = (p.parent / excl).resolve()
    cfg.scrape_interval = r.scalar("scrape_interval", _interval, None)
    cfg.worst = r.scalar("worst", to_int, cfg.worst)
    cfg.sla_target = r.scalar("sla_target", _fraction, cfg.sla_target)
    cfg.job = r.scalar("job", default=cfg.job)
    cfg.image_job = r.scalar("image_job", default=cfg.image_job)
    cfg.image_interval = r.scalar("image_interval", _positive_seconds, cfg.image_interval)
    if problems:
        _fail("report config", problems)
    return cfg


def _time(tz: zoneinfo.ZoneInfo) -> Any:
    def conv(v: str) -> float:
        try:
            when = dt.datetime.fromisoformat(v.strip())
        except ValueError:
            raise FieldError(f"{v!r} is not a time (YYYY-MM-DD HH:MM[:SS][+08:00])") from None
        return (when if when.tzinfo else when.replace(tzinfo=tz)).timestamp()

    return conv


def load_exclusions(path: str | Path, tz: zoneinfo.ZoneInfo) -> list[Exclusion]:
    """Every exclusion must say why (reason) and who approved it (approver)."""
    p = Path(path)
    root, problems = _read(p, "exclusions file")
    root.reject_unknown({"exclusions", "district", "month"})
    out: list[Exclusion] = []
    seen: set[str] = set()
    for node in root.seq("exclusions"):
        r = MappingReader(str(p), node, "exclusion", problems)
        xid = r.scalar("id")
        if xid is not None:
            r.obj = f"exclusion {xid}"
            if xid in seen:
                r.error("id", f"exclusion {xid!r} given twice")
            seen.add(xid)
        r.reject_unknown(
            {
                "id",
                "kind",
                "start",
                "end",
                "devices",
                "villages",
                "townships",
                "all",
                "reason",
                "approver",
                "ref",
            }
        )
        kind = r.scalar("kind", one_of(*EXCLUSION_KINDS), "maintenance")
        start, end = r.scalar("start", _time(tz)), r.scalar("end", _time(tz))
        if start is not None and end is not None and end <= start:
            r.error("end", "must be after start")
        everything = r.scalar("all", to_bool, False)
        scope = {k: r.str_list(k) for k in ("devices", "villages", "townships")}
        if not everything and not any(scope.values()):
            r.error("devices", "an exclusion needs devices, villages, townships or all: true")
        reason, approver = r.scalar("reason"), r.scalar("approver")
        for key, val in (("reason", reason), ("approver", approver)):
            if val is not None and not val.strip():
                r.error(key, "must not be empty")
        ref = r.scalar("ref", default="")
        if None in (xid, kind, start, end, reason, approver) or (
            end is not None and start is not None and end <= start
        ):
            continue
        out.append(
            Exclusion(
                xid,
                kind,
                start,
                end,
                scope["devices"],
                scope["villages"],
                scope["townships"],
                bool(everything),
                reason,
                approver,
                ref,
                r.source,
            )
        )
    if problems:
        _fail("exclusions file", problems)
    return out

