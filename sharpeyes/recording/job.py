"""One recorder's collection job: which channels to ask about, over which window, within what limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    page_size: int = 50  # matches asked per search page
    max_pages: int = 200  # per channel and window: a recorder that pages forever is cut off here
    join_seconds: float = 2.0  # holes up to this between consecutive files are not gaps
    history_days: int = 400  # how far back the oldest-recording search looks


@dataclass(frozen=True, slots=True)
class Job:
    recorder: str
    dialect: str
    channels: tuple[int, ...]
    start: float  # our clock, epoch seconds
    end: float
    now: float  # our clock when the job started (clock offset reference)
    tz: str = "Asia/Shanghai"
    limits: Limits = Limits()


CLOCK_RESOLUTION = 2.0  # recorders report whole seconds and the request itself takes time


def clock_offset(device_now: float, now: float) -> float:
    """Recorder clock minus ours; under CLOCK_RESOLUTION it is reading noise, not drift (correcting
    for it would shift every segment by a fraction of a second and invent one-second gaps)."""
    off = device_now - now
    return 0.0 if abs(off) < CLOCK_RESOLUTION else off
