"""The Prometheus exposition of the recording state, built fresh from the store on every scrape.

Cameras whose recorder or channel could not be asked carry ``channel_up 0`` and no ``present``:
unknown is never reported as "not recording". Gap and unknown seconds count only time inside the
camera's plan, since local midnight in the district's time zone.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from zoneinfo import ZoneInfo

from sharpeyes.contract import (
    RECORDER_CLOCK_OFFSET,
    RECORDER_DISK_CAPACITY,
    RECORDER_DISK_FREE,
    RECORDER_DISK_STATE,
    RECORDER_UP,
    RECORDING_CHANNEL_UP,
    RECORDING_GAP_TODAY,
    RECORDING_NOT_RECORDED,
    RECORDING_PRESENT,
    RECORDING_RETENTION,
    RECORDING_RETENTION_REQUIRED,
    RECORDING_UNKNOWN_TODAY,
)
from sharpeyes.inventory.model import Inventory
from sharpeyes.inventory.recording import parse_plan, required_retention_days

from .intervals import Interval, clip, normalize, plan_intervals, subtract, total
from .model import DISK_STATES
from .models import Asked, Covered
from .store import RecordingStore

HELP = {
    RECORDING_PRESENT: ("gauge", "1 if the camera was being recorded at the end of the last collection window"),
    RECORDING_CHANNEL_UP: ("gauge", "1 if the recorder answered for this camera's channel in the last collection"),
    RECORDING_NOT_RECORDED: ("gauge", "Seconds the camera had not been recorded at the end of the last window"),
    RECORDING_GAP_TODAY: ("gauge", "Planned seconds since local midnight the recorder answered for and did "
                                   "not hold video"),
    RECORDING_UNKNOWN_TODAY: ("gauge", "Planned seconds since local midnight the recorder could not be asked for"),
    RECORDING_RETENTION: ("gauge", "Age of the oldest recording the recorder holds for the camera"),
    RECORDING_RETENTION_REQUIRED: ("gauge", "Retention the camera's recordings must be kept for"),
    RECORDER_UP: ("gauge", "1 if the recorder answered the last collection"),
    RECORDER_DISK_STATE: ("gauge", "1 for the disk's current state"),
    RECORDER_CLOCK_OFFSET: ("gauge", "Recorder clock minus the collector's clock"),
    RECORDER_DISK_CAPACITY: ("gauge", "Disk capacity"),
    RECORDER_DISK_FREE: ("gauge", "Disk free space"),
    "sharpeyes_recorder_last_collection_timestamp_seconds": ("gauge", "End of the last collection window"),
    "sharpeyes_recorder_collection_duration_seconds": ("gauge", "Wall time of the recorder's last collection"),
    "sharpeyes_recorder_collection_errors_total": ("counter", "Collections of the recorder that failed, by reason"),
    "sharpeyes_recording_channel_errors_total": ("counter", "Channel reads that failed, by reason"),
    "sharpeyes_recording_segment_problems_total": ("counter", "Segments dropped or merged because they were "
                                                              "reversed or overlapping, by problem"),
}


def esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels(**kv: str) -> str:
    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in kv.items()) + "}"


class Counters:
    """Process-lifetime counters (``_total``) fed by every collection round."""

    def __init__(self) -> None:
        self.recorder_errors: Counter[tuple[str, str]] = Counter()
        self.channel_errors: Counter[tuple[str, str]] = Counter()
        self.problems: Counter[tuple[str, str]] = Counter()


def midnight(now: float, tz: str) -> float:
    local = dt.datetime.fromtimestamp(now, ZoneInfo(tz))
    return dt.datetime.combine(local.date(), dt.time(), ZoneInfo(tz)).timestamp()


def render(store: RecordingStore, inv: Inventory, counters: Counters, now: float | None = None,
           present_slack: float = 300.0) -> str:
    now = time.time() if now is None else now
    tz = inv.district.timezone
    day = midnight(now, tz)
    covered = store.intervals(Covered, day - 86400, now)
    asked = store.intervals(Asked, day, now)
    out: dict[str, list[str]] = {name: [] for name in HELP}
    for ch in store.channels():
        cam = inv.devices.get(ch.camera)
        if cam is None or cam.recording is None:
            continue
        lab = labels(device=ch.camera, recorder=ch.recorder)
        out[RECORDING_CHANNEL_UP].append(f"{RECORDING_CHANNEL_UP}{lab} {0 if ch.error else 1}")
        out[RECORDING_RETENTION_REQUIRED].append(
            f"{RECORDING_RETENTION_REQUIRED}{lab} {required_retention_days(inv, cam) * 86400}")
        if ch.oldest is not None:
            out[RECORDING_RETENTION].append(f"{RECORDING_RETENTION}{lab} {max(0.0, ch.updated - ch.oldest):.0f}")
        plan = plan_intervals(parse_plan(cam.recording.plan), day, now, tz)
        known = normalize(clip(asked.get(ch.camera, []), day, now))[0]
        cov = covered.get(ch.camera, [])
        gap = subtract(subtract(plan, cov), subtract(plan, known))
        out[RECORDING_GAP_TODAY].append(f"{RECORDING_GAP_TODAY}{lab} {total(gap):.0f}")
        out[RECORDING_UNKNOWN_TODAY].append(f"{RECORDING_UNKNOWN_TODAY}{lab} {total(subtract(plan, known)):.0f}")
        if not ch.error:
            nr = not_recorded(cov, ch.updated, day - 86400)
            out[RECORDING_NOT_RECORDED].append(f"{RECORDING_NOT_RECORDED}{lab} {nr:.0f}")
            out[RECORDING_PRESENT].append(f"{RECORDING_PRESENT}{lab} {1 if nr <= present_slack else 0}")
    for r in store.recorders():
        lab = labels(device=r.recorder)
        out[RECORDER_UP].append(f"{RECORDER_UP}{lab} {1 if r.up else 0}")
        out["sharpeyes_recorder_last_collection_timestamp_seconds"].append(
            f"sharpeyes_recorder_last_collection_timestamp_seconds{lab} {r.at:.0f}")
        out["sharpeyes_recorder_collection_duration_seconds"].append(
            f"sharpeyes_recorder_collection_duration_seconds{lab} {r.duration:.3f}")
        if r.clock_offset is not None:
            out[RECORDER_CLOCK_OFFSET].append(f"{RECORDER_CLOCK_OFFSET}{lab} {r.clock_offset:.0f}")
    for d in store.disks():
        for state in DISK_STATES:
            out[RECORDER_DISK_STATE].append(
                f"{RECORDER_DISK_STATE}{labels(device=d.recorder, disk=d.disk, state=state)} {int(d.state == state)}")
        for name, value in ((RECORDER_DISK_CAPACITY, d.capacity_bytes), (RECORDER_DISK_FREE, d.free_bytes)):
            if value is not None:
                out[name].append(f"{name}{labels(device=d.recorder, disk=d.disk)} {value:.0f}")
    for (rec, reason), n in sorted(counters.recorder_errors.items()):
        out["sharpeyes_recorder_collection_errors_total"].append(
            f"sharpeyes_recorder_collection_errors_total{labels(device=rec, reason=reason)} {n}")
    for (rec, reason), n in sorted(counters.channel_errors.items()):
        out["sharpeyes_recording_channel_errors_total"].append(
            f"sharpeyes_recording_channel_errors_total{labels(device=rec, reason=reason)} {n}")
    for (rec, problem), n in sorted(counters.problems.items()):
        out["sharpeyes_recording_segment_problems_total"].append(
            f"sharpeyes_recording_segment_problems_total{labels(device=rec, problem=problem)} {n}")
    lines: list[str] = []
    for name, (kind, text) in HELP.items():
        if out[name]:
            lines += [f"# HELP {name} {text}.", f"# TYPE {name} {kind}", *out[name]]
    return "\n".join(lines) + "\n"


def not_recorded(covered: list[Interval], at: float, since: float) -> float:
    """Seconds between the end of the last covered interval and ``at`` (0 when recording at ``at``);
    with nothing covered since ``since``, at least ``at - since``."""
    last = max((e for _, e in covered if e <= at + 1), default=since)
    return max(0.0, at - last)
