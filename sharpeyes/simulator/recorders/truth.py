"""What every simulated recorder actually holds: per camera, the times recording started and stopped.

``update()`` runs after every change of the world (the fault engine's on_change) and appends a
transition for each camera whose recorded state changed; queries cut the timeline into files.
This timeline is also the ground truth the recording tests and the benchmark compare against.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from sharpeyes.simulator.network import World

RETENTION_DAYS = 30


@dataclass(slots=True)
class Timeline:
    times: list[float] = field(default_factory=list)  # ascending
    states: list[bool] = field(default_factory=list)

    def set(self, t: float, recorded: bool) -> None:
        if self.states and self.states[-1] == recorded:
            return
        if self.times and t < self.times[-1]:
            t = self.times[-1]
        self.times.append(t)
        self.states.append(recorded)

    def intervals(self, lo: float, hi: float) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        if hi <= lo or not self.times:
            return out
        i = max(0, bisect.bisect_right(self.times, lo) - 1)
        while i < len(self.times):
            start = self.times[i]
            end = self.times[i + 1] if i + 1 < len(self.times) else hi
            if start >= hi:
                break
            if self.states[i]:
                s, e = max(start, lo), min(end, hi)
                if e > s:
                    out.append((s, e))
            i += 1
        return out


def _chain(world: World, dev_id: str) -> list[tuple[str, bool]]:
    """[(node, every hop from dev_id up to node works)] from the device up to the core."""
    ok = world.devices[dev_id].state.powered
    out = [(dev_id, ok)]
    for s, down, up in world.path(dev_id):
        ok = ok and down.up and s.state.powered
        out.append((s.dev.id, ok))
        ok = ok and (up is None or up.up)
    return out


def connected(world: World, a: str, b: str) -> bool:
    """True when a and b can talk: both climb, hop by working hop, to a common switch."""
    up_a = dict(_chain(world, a))
    return any(node in up_a and ok and up_a[node] for node, ok in _chain(world, b))


class RecorderTruth:
    def __init__(self, world: World, history_start: float, retention_days: float = RETENTION_DAYS) -> None:
        self.world = world
        self.history_start = history_start
        self.retention_days = retention_days
        self.channels: dict[str, dict[int, str]] = {}
        for d, rt in world.devices.items():
            rec = rt.dev.recording
            if rt.kind == "camera" and rec is not None and rec.recorder in world.devices:
                self.channels.setdefault(rec.recorder, {})[rec.channel] = d
        self.timelines = {c: Timeline() for chans in self.channels.values() for c in chans.values()}
        self.update(history_start)

    def faults(self, kind: str) -> dict[str, float]:
        return self.world.levels.recorder.get(kind, {})

    def recorder_works(self, rec: str) -> bool:
        st = self.world.devices[rec].state
        return st.powered and not st.hung and rec not in self.faults("recorder_down") \
            and rec not in self.faults("disk_failed")

    def recorded(self, rec: str, cam: str) -> bool:
        st = self.world.devices[cam].state
        return (self.recorder_works(rec) and st.powered and not st.hung and not st.encoder_stalled
                and cam not in self.faults("channel_not_recording") and connected(self.world, cam, rec))

    def update(self, now: float) -> None:
        for rec, chans in self.channels.items():
            works = self.recorder_works(rec)
            for cam in chans.values():
                self.timelines[cam].set(now, works and self.recorded(rec, cam))

    def oldest(self, rec: str, now: float) -> float:
        days = self.faults("retention_short").get(rec, self.retention_days)
        return max(self.history_start, now - days * 86400)

    def held(self, rec: str, cam: str, lo: float, hi: float, now: float) -> list[tuple[float, float]]:
        """What the recorder still holds for the camera within [lo, hi) at ``now`` (true time)."""
        return self.timelines[cam].intervals(max(lo, self.oldest(rec, now)), min(hi, now))


class Files:
    """:func:`files` made only for the slice asked: a recorder holding 90 days has 4 320 files a
    channel, and a search for the oldest one reads only the first page (building the whole list
    cost ~6 ms a channel, seconds a round for the district)."""

    def __init__(self, intervals: list[tuple[float, float]], file_seconds: float) -> None:
        self.intervals, self.fs = intervals, file_seconds
        self.first: list[int] = []  # index of each interval's first file
        n = 0
        for s, e in intervals:
            self.first.append(n)
            n += 1 + max(0, math.ceil(e / file_seconds) - int(s // file_seconds) - 1) if e > s else 0
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, which: slice) -> list[tuple[float, float]]:
        lo, hi, _ = which.indices(self.n)
        out: list[tuple[float, float]] = []
        k = max(0, bisect.bisect_right(self.first, lo) - 1)
        while k < len(self.intervals) and len(out) < hi - lo:
            s, e = self.intervals[k]
            j = max(0, lo + len(out) - self.first[k])  # file index within this interval
            base = s // self.fs
            while len(out) < hi - lo:
                start = s if j == 0 else (base + j) * self.fs
                if start >= e:
                    break
                out.append((start, min(e, (start // self.fs + 1) * self.fs)))
                j += 1
            k += 1
        return out


def files(intervals: list[tuple[float, float]], file_seconds: float) -> list[tuple[float, float]]:
    """Recorded intervals cut at every multiple of ``file_seconds`` (recorders write fixed-size files)."""
    out: list[tuple[float, float]] = []
    for s, e in intervals:
        cur = s
        while cur < e:
            nxt = min(e, (cur // file_seconds + 1) * file_seconds)
            out.append((cur, nxt))
            cur = nxt
    return out
