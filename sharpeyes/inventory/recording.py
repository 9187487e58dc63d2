"""Recording assignments: plan grammar, required retention, and the cross-object checks.

A camera's ``recording`` names its recorder (an ``nvr`` or ``platform`` device) and channel. The plan
is ``24x7`` or daily windows in the district's local time; what the monthly report charges as a gap
is only time inside the plan.
"""

from __future__ import annotations

import re

from sharpeyes.contract import (
    RECORDING_PLAN_ALWAYS,
    RETENTION_DAYS_BY_AREA,
    RETENTION_DAYS_BY_TAG,
    RETENTION_DAYS_DEFAULT,
)
from sharpeyes.yamlnodes import FieldError, Problems

from .model import Device, Inventory

RECORDER_KINDS = ("nvr", "platform")
MAX_CHANNEL = 4096
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def parse_plan(text: str) -> tuple[tuple[int, int], ...]:
    """``24x7`` → ((0, 86400),); ``07:00-19:00,20:00-22:00`` → second-of-day windows.

    Windows must be ascending, non-empty and non-overlapping; ``24:00`` is allowed as an end.
    A window crossing midnight is written as two (``22:00-24:00,00:00-06:00``)."""
    if text == RECORDING_PLAN_ALWAYS:
        return ((0, 86400),)
    out: list[tuple[int, int]] = []
    for part in text.split(","):
        m = _WINDOW.match(part.strip())
        if not m:
            raise ValueError(f"{text!r} is not 24x7 or HH:MM-HH:MM[,HH:MM-HH:MM]")
        start = int(m[1]) * 3600 + int(m[2]) * 60
        end = int(m[3]) * 3600 + int(m[4]) * 60
        if end > 86400 or end <= start:
            raise ValueError(f"window {part.strip()!r} is empty or ends after 24:00 (split a night window in two)")
        if out and start < out[-1][1]:
            raise ValueError(f"window {part.strip()!r} overlaps or precedes the one before it")
        out.append((start, end))
    return tuple(sorted(out))


def to_plan(text: str) -> str:
    """A YAML field converter: validates and returns the plan text unchanged."""
    try:
        parse_plan(text)
    except ValueError as exc:
        raise FieldError(str(exc)) from None
    return text


def required_retention_days(inv: Inventory, dev: Device) -> int:
    """Explicit days, else the largest tag default, else the township area's, else the district's."""
    if dev.recording is not None and dev.recording.retention_days:
        return dev.recording.retention_days
    by_tag = [RETENTION_DAYS_BY_TAG[t] for t in dev.tags if t in RETENTION_DAYS_BY_TAG]
    if by_tag:
        return max(by_tag)
    township = inv.townships.get(dev.township)
    if township is not None and township.area in RETENTION_DAYS_BY_AREA:
        return RETENTION_DAYS_BY_AREA[township.area]
    return RETENTION_DAYS_DEFAULT


def recorded_cameras(inv: Inventory, recorder: str) -> list[Device]:
    """The active cameras a recorder records, by channel."""
    cams = [d for d in inv.active_devices() if d.recording is not None and d.recording.recorder == recorder]
    return sorted(cams, key=lambda d: d.recording.channel if d.recording else 0)


def validate_recording(inv: Inventory, p: Problems) -> None:
    """A recorder that does not exist or is not a recorder; a channel assigned twice."""
    seen: dict[tuple[str, int], Device] = {}
    for dev in inv.devices.values():
        rec = dev.recording
        if rec is None:
            continue
        obj = f"device {dev.id}"
        src = rec.source or dev.source
        target = inv.devices.get(rec.recorder)
        if target is None:
            p.add(src, obj, "recording.recorder", f"recorder {rec.recorder!r} does not exist")
            continue
        if target.kind not in RECORDER_KINDS:
            p.add(src, obj, "recording.recorder",
                  f"{rec.recorder!r} is a {target.kind}, not a recorder ({', '.join(RECORDER_KINDS)})")
            continue
        if not 1 <= rec.channel <= MAX_CHANNEL:
            p.add(src, obj, "recording.channel", f"channel {rec.channel} is outside 1..{MAX_CHANNEL}")
            continue
        if dev.status == "decommissioning":
            continue  # its channel may already be reused by the replacement
        other = seen.get((rec.recorder, rec.channel))
        if other is not None:
            p.add(src, obj, "recording.channel",
                  f"{rec.recorder} channel {rec.channel} is also assigned to device {other.id} "
                  f"({other.recording.source if other.recording else other.source})")
        else:
            seen[(rec.recorder, rec.channel)] = dev
