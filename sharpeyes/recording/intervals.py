"""Interval arithmetic on half-open [start, end) pairs of epoch seconds, kept sorted and disjoint.

Recorders report files or segments; what counts is the union. Holes shorter than ``join`` seconds
between consecutive files are closed: recorders cut files at arbitrary points and may leave a second
between them, which is not a gap anybody could notice in playback.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

Interval = tuple[float, float]


def normalize(segments: Iterable[Interval], join: float = 0.0) -> tuple[list[Interval], Counter[str]]:
    """Sorted, merged intervals and what was wrong with the input.

    End before start is dropped (``end_before_start``, never turned into coverage); zero-length is
    dropped silently; overlapping or duplicate segments are merged and counted (``overlap``)."""
    problems: Counter[str] = Counter()
    ok: list[Interval] = []
    for start, end in segments:
        if end < start:
            problems["end_before_start"] += 1
        elif end > start:
            ok.append((start, end))
    ok.sort()
    out: list[Interval] = []
    for start, end in ok:
        if out and start < out[-1][1]:
            problems["overlap"] += 1
        if out and start <= out[-1][1] + join:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out, problems


def union(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    return normalize([*a, *b])[0]


def clip(intervals: Sequence[Interval], lo: float, hi: float) -> list[Interval]:
    return [(max(s, lo), min(e, hi)) for s, e in intervals if e > lo and s < hi]


def total(intervals: Iterable[Interval]) -> float:
    return sum(e - s for s, e in intervals)


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """``a`` minus ``b`` (both sorted and disjoint)."""
    out: list[Interval] = []
    j = 0
    for s, e in a:
        cur = s
        while j < len(b) and b[j][1] <= cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] < e:
            if b[k][0] > cur:
                out.append((cur, b[k][0]))
            cur = max(cur, b[k][1])
            k += 1
        if cur < e:
            out.append((cur, e))
    return out


def plan_intervals(windows: Sequence[tuple[int, int]], lo: float, hi: float, tz: str) -> list[Interval]:
    """The plan's daily windows (seconds of the local day) as absolute intervals within [lo, hi)."""
    if windows == ((0, 86400),) or list(windows) == [(0, 86400)]:
        return [(lo, hi)] if hi > lo else []
    zone = ZoneInfo(tz)
    day = dt.datetime.fromtimestamp(lo, zone).date() - dt.timedelta(days=1)
    last = dt.datetime.fromtimestamp(hi, zone).date()
    out: list[Interval] = []
    while day <= last:
        midnight = dt.datetime.combine(day, dt.time(), zone)
        for ws, we in windows:
            s = (midnight + dt.timedelta(seconds=ws)).timestamp()
            e = (midnight + dt.timedelta(seconds=we)).timestamp()
            out.append((s, e))
        day += dt.timedelta(days=1)
    return clip(normalize(out)[0], lo, hi)
