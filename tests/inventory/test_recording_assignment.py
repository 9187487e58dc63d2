"""Recording assignments: the plan grammar, required retention by tag/area, and the sample district's
recorders (every active camera on exactly one channel of a recorder of its own township)."""

from __future__ import annotations

from collections import Counter

import pytest

from sharpeyes.contract import canonical_vendor
from sharpeyes.inventory.recording import parse_plan, recorded_cameras, required_retention_days


def test_plan_grammar() -> None:
    assert parse_plan("24x7") == ((0, 86400),)
    assert parse_plan("07:00-19:00,20:00-24:00") == ((25200, 68400), (72000, 86400))
    for bad in ("19:00-07:00", "7:00-19:00", "07:00-19:00,18:00-20:00", "always", "00:00-24:01"):
        with pytest.raises(ValueError):
            parse_plan(bad)


def test_retention_defaults_by_tag_and_explicit(sample_inventory) -> None:
    cams = [d for d in sample_inventory.devices.values() if d.kind == "camera"]
    key = next(d for d in cams if "key_area" in d.tags)
    plain = next(d for d in cams if not d.tags)
    assert required_retention_days(sample_inventory, key) == 90
    assert required_retention_days(sample_inventory, plain) == 30


def test_every_sample_camera_is_recorded_once_in_its_township(sample_inventory) -> None:
    inv = sample_inventory
    cams = [d for d in inv.devices.values() if d.kind == "camera"]
    assert len(cams) == 2240 and all(d.recording for d in cams)
    slots = Counter((d.recording.recorder, d.recording.channel) for d in cams)
    assert max(slots.values()) == 1
    for d in cams:
        assert inv.devices[d.recording.recorder].township == d.township
    recorders = {d.recording.recorder for d in cams}
    assert len(recorders) == 16
    dialects = Counter(canonical_vendor(inv.devices[r].vendor) for r in recorders)
    assert dialects == {"hikvision": 5, "dahua": 7, "uniview": 4}
    assert [c.recording.channel for c in recorded_cameras(inv, "nvr-luwangfen-2")][:3] == [1, 2, 3]
