"""What a collection learns from one recorder: per channel the covered intervals, per disk its state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .intervals import Interval

# Disk states we report (sharpeyes_recorder_disk_state{state=…} is 1 for the current one).
DISK_STATES = ("ok", "failed", "unformatted", "sleeping", "other")
# Why a recorder (or one channel) could not be read: the reason label of the error counter.
ERROR_REASONS = ("timeout", "connect", "auth", "http", "malformed", "paging", "too_large")


class CollectError(Exception):
    """A recorder or channel could not be read; ``reason`` is one of ERROR_REASONS."""

    def __init__(self, reason: str, message: str) -> None:
        assert reason in ERROR_REASONS, reason
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class Disk:
    id: str
    state: str  # one of DISK_STATES
    raw: str  # what the recorder said, for the runbook
    capacity_bytes: float | None = None
    free_bytes: float | None = None


@dataclass(slots=True)
class Channel:
    channel: int
    covered: list[Interval] = field(default_factory=list)  # within the asked window, merged
    oldest: float | None = None  # earliest recording the recorder still holds (retention held)
    error: str = ""  # reason when this channel could not be read (its window is unknown)
    problems: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class RecorderResult:
    recorder: str
    dialect: str
    window: Interval
    up: bool = False
    error: str = ""  # reason (ERROR_REASONS) when the recorder could not be asked at all
    message: str = ""
    clock_offset: float | None = None  # recorder clock minus ours, seconds
    disks: list[Disk] = field(default_factory=list)
    channels: dict[int, Channel] = field(default_factory=dict)
    requests: int = 0
    duration: float = 0.0
