"""录像完整率 and 存储天数达标率 from the recording store, read through SQL (the report does not import
the recording component; the tables are documented in sharpeyes/recording/models.py).

Per camera over the month, inside its plan (24×7 or the inventory's daily windows):
- known     = planned time the recorder answered for (``recording_asked``);
- recorded  = known time it held video (``recording_covered``);
- gap       = known − recorded (charged);
- unknown   = planned − known: the recorder could not be asked; shown apart, never charged.
录像完整率 = recorded / known. 存储天数达标率 = cameras whose oldest held recording (at their last
collection) is at least the required retention / cameras with a known retention.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from sharpeyes.cli import db_url
from sharpeyes.inventory import Inventory
from sharpeyes.inventory.recording import parse_plan, required_retention_days

from .availability import Interval, merge, subtract

MAX_GAPS = 5000  # rows of the gaps list (longest first)


@dataclass(slots=True)
class RecordingResult:
    cameras: pd.DataFrame  # one row per camera
    gaps: pd.DataFrame  # camera, recorder, start, end, seconds
    notes: list[str] = field(default_factory=list)


def _plan(windows: tuple[tuple[int, int], ...], start: float, end: float, tz: zoneinfo.ZoneInfo) -> list[Interval]:
    if windows == ((0, 86400),):
        return [(start, end)]
    out: list[Interval] = []
    day = dt.datetime.fromtimestamp(start, tz).date() - dt.timedelta(days=1)
    last = dt.datetime.fromtimestamp(end, tz).date()
    while day <= last:
        midnight = dt.datetime.combine(day, dt.time(), tz)
        for ws, we in windows:
            s = (midnight + dt.timedelta(seconds=ws)).timestamp()
            e = (midnight + dt.timedelta(seconds=we)).timestamp()
            if e > start and s < end:
                out.append((max(s, start), min(e, end)))
        day += dt.timedelta(days=1)
    return merge(out)


def _total(ivs: list[Interval]) -> float:
    return sum(e - s for s, e in ivs)


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    return subtract(a, subtract(a, b))


def read_recording(url: str, inv: Inventory, start: float, end: float) -> RecordingResult:
    """Every active camera with a recording assignment; raises OSError-like ValueError on a bad DB."""
    tz = zoneinfo.ZoneInfo(inv.district.timezone)
    try:
        engine = create_engine(db_url(url))
        with engine.connect() as conn:
            rows = {
                table: conn.execute(text(f'SELECT camera, start, "end" FROM {table} WHERE "end" > :s AND start < :e '
                                         "ORDER BY camera, start"), {"s": start, "e": end}).all()
                for table in ("recording_covered", "recording_asked")
            }
            chans = {r[0]: r for r in conn.execute(text(
                "SELECT camera, recorder, channel, oldest, updated FROM recording_channels")).all()}
        engine.dispose()
    except SQLAlchemyError as e:
        raise ValueError(f"recording database: {e.__class__.__name__}") from None
    by: dict[str, dict[str, list[Interval]]] = {"recording_covered": {}, "recording_asked": {}}
    for table, rs in rows.items():
        for camera, a, b in rs:
            by[table].setdefault(camera, []).append((max(a, start), min(b, end)))
    out, gaps = [], []
    for dev in inv.active_devices():
        if dev.kind != "camera" or dev.recording is None:
            continue
        plan = _plan(parse_plan(dev.recording.plan), start, end, tz)
        known = _intersect(plan, merge(by["recording_asked"].get(dev.id, [])))
        recorded = _intersect(known, merge(by["recording_covered"].get(dev.id, [])))
        missing = subtract(known, recorded)
        ch = chans.get(dev.id)
        held = (ch[4] - ch[3]) / 86400 if ch is not None and ch[3] is not None else None
        required = required_retention_days(inv, dev)
        out.append({
            "device": dev.id, "recorder": dev.recording.recorder, "channel": dev.recording.channel,
            "township": dev.township, "village": dev.village, "contractor": dev.contractor,
            "key_area": "key_area" in dev.tags, "planned_s": _total(plan), "known_s": _total(known),
            "recorded_s": _total(recorded), "gap_s": _total(missing), "unknown_s": _total(plan) - _total(known),
            "held_days": held, "required_days": float(required),
            "retention_ok": None if held is None else held + 1e-6 >= required,
        })
        gaps += [{"device": dev.id, "recorder": dev.recording.recorder, "start": s, "end": e, "seconds": e - s}
                 for s, e in missing]
    cams = pd.DataFrame(out)
    if len(cams):
        cams["rate"] = cams["recorded_s"] / cams["known_s"].where(cams["known_s"] > 0)
    gp = pd.DataFrame(gaps, columns=["device", "recorder", "start", "end", "seconds"])
    gp = gp.sort_values("seconds", ascending=False).head(MAX_GAPS)
    notes = [] if len(gaps) <= MAX_GAPS else [f"录像缺失明细仅列最长的 {MAX_GAPS} 段（共 {len(gaps)} 段）"]
    return RecordingResult(cams, gp, notes)


def by_group(cams: pd.DataFrame, key: str | list[str]) -> pd.DataFrame:
    g = cams.groupby(key).agg(cameras=("device", "count"), known_s=("known_s", "sum"),
                              recorded_s=("recorded_s", "sum"), gap_s=("gap_s", "sum"), unknown_s=("unknown_s", "sum"),
                              retention_ok=("retention_ok", lambda s: s.dropna().astype(bool).sum()),
                              retention_known=("retention_ok", lambda s: s.notna().sum()))
    g["rate"] = g["recorded_s"] / g["known_s"].where(g["known_s"] > 0)
    g["retention_rate"] = g["retention_ok"] / g["retention_known"].where(g["retention_known"] > 0)
    return g.reset_index()
