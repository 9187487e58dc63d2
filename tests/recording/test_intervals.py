"""Interval arithmetic: bad segments counted and never turned into coverage, plans in local time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sharpeyes.inventory.recording import parse_plan
from sharpeyes.recording.intervals import clip, normalize, plan_intervals, subtract, total


def test_normalize_merges_overlaps_and_duplicates_and_drops_reversed() -> None:
    merged, problems = normalize([(10, 20), (15, 30), (15, 30), (40, 35), (50, 50), (31, 40)], join=1)
    assert merged == [(10, 40)]
    assert problems == {"overlap": 2, "end_before_start": 1}


def test_join_closes_only_short_holes() -> None:
    assert normalize([(0, 10), (12, 20)], join=2)[0] == [(0, 20)]
    assert normalize([(0, 10), (13, 20)], join=2)[0] == [(0, 10), (13, 20)]


def test_subtract_and_clip() -> None:
    assert subtract([(0, 100)], [(10, 20), (30, 40), (90, 120)]) == [(0, 10), (20, 30), (40, 90)]
    assert subtract([(0, 10), (20, 30)], []) == [(0, 10), (20, 30)]
    assert clip([(0, 10), (20, 30)], 5, 25) == [(5, 10), (20, 25)]
    assert total([(0, 10), (20, 25)]) == 15


def test_plan_windows_are_local_days() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    lo = dt.datetime(2026, 12, 1, tzinfo=tz).timestamp()
    hi = lo + 2 * 86400
    plan = plan_intervals(parse_plan("07:00-19:00"), lo, hi, "Asia/Shanghai")
    assert plan == [(lo + 7 * 3600, lo + 19 * 3600), (lo + 86400 + 7 * 3600, lo + 86400 + 19 * 3600)]
    assert plan_intervals(parse_plan("24x7"), lo, hi, "Asia/Shanghai") == [(lo, hi)]
