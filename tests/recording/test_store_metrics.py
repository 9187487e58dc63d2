"""The recording store keeps coverage as seen (roll-off and restarts lose nothing), keeps unknown
apart from gaps, and /metrics passes promtool and says what the store holds."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest

from sharpeyes.recording.collector import targets
from sharpeyes.recording.metrics import Counters, render
from sharpeyes.recording.model import Channel, Disk, RecorderResult
from sharpeyes.recording.models import Asked, Covered
from sharpeyes.recording.store import RecordingStore

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 12, 7, tzinfo=TZ).timestamp()


def result(rec: str, lo: float, hi: float, chans: dict[int, Channel], up: bool = True) -> RecorderResult:
    return RecorderResult(rec, "isapi", (lo, hi), up=up, error="" if up else "timeout", channels=chans,
                          clock_offset=0.0 if up else None,
                          disks=[Disk("1", "ok", "ok", 2e12, 1e12)] if up else [])


@pytest.fixture
def setup(sample_inventory, db_url):  # type: ignore[no-untyped-def]
    store = RecordingStore(db_url)
    assert store.migrate() == "0001"
    tg = {t.recorder: t for t in targets(sample_inventory)}
    yield store, tg, sample_inventory
    store.dispose()


def test_coverage_survives_roll_off_and_restart(setup, db_url) -> None:  # type: ignore[no-untyped-def]
    store, tg, _ = setup
    nvr = tg["nvr-luwangfen-2"]
    cam1, cam2 = nvr.channels[1], nvr.channels[2]
    h = 3600
    store.record([result(nvr.recorder, DAY, DAY + h, {
        1: Channel(1, [(DAY, DAY + 1000), (DAY + 1600, DAY + h)], oldest=DAY - 30 * 86400),
        2: Channel(2, error="malformed")})], tg)
    store.record([result(nvr.recorder, DAY + h, DAY + 2 * h, {1: Channel(1, [(DAY + h, DAY + 2 * h)]),
                                                            2: Channel(2, [(DAY + h, DAY + 2 * h)])})], tg)
    # a backfill after the recorder overwrote its oldest hour: what was seen stays
    store.record([result(nvr.recorder, DAY, DAY + 2 * h, {1: Channel(1, [(DAY + 5000, DAY + 2 * h)]),
                                                        2: Channel(2, [(DAY + 5000, DAY + 2 * h)])})], tg)
    store.dispose()
    again = RecordingStore(db_url)  # a restart
    cov = again.intervals(Covered, DAY - 86400, DAY + 3 * h)
    asked = again.intervals(Asked, DAY - 86400, DAY + 3 * h)
    assert cov[cam1] == [(DAY, DAY + 1000), (DAY + 1600, DAY + 2 * h)]
    assert cov[cam2] == [(DAY + h, DAY + 2 * h)]
    assert asked[cam1] == [(DAY, DAY + 2 * h)] and asked[cam2] == [(DAY, DAY + 2 * h)]
    again.dispose()


def test_metrics_gap_unknown_and_present(setup) -> None:  # type: ignore[no-untyped-def]
    store, tg, inv = setup
    nvr, down = tg["nvr-luwangfen-2"], tg["nvr-dakuai-2"]
    now = DAY + 2 * 3600
    store.record([
        result(nvr.recorder, DAY, now, {1: Channel(1, [(DAY, DAY + 600), (DAY + 1200, now)], oldest=DAY - 10 * 86400),
                                        2: Channel(2, [(DAY, now - 900)], oldest=DAY - 40 * 86400),
                                        3: Channel(3, error="malformed")}),
        result(down.recorder, DAY, now, {}, up=False),
    ], tg)
    text = render(store, inv, Counters(), now=now)
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))

    def v(name: str, cam: str, rec: str) -> float:
        return float(lines[f'{name}{{device="{cam}",recorder="{rec}"}}'])

    c1, c2, c3 = (nvr.channels[i] for i in (1, 2, 3))
    r = nvr.recorder
    assert v("sharpeyes_recording_gap_today_seconds", c1, r) == 600
    assert v("sharpeyes_recording_present", c1, r) == 1 and v("sharpeyes_recording_present", c2, r) == 0
    assert v("sharpeyes_recording_not_recorded_seconds", c2, r) == 900
    assert v("sharpeyes_recording_retention_seconds", c2, r) == 40 * 86400 + 7200
    assert v("sharpeyes_recording_retention_required_seconds", c2, r) in (30 * 86400, 90 * 86400)
    # a channel that could not be read: unknown for the whole day so far, no gap, no "present"
    assert v("sharpeyes_recording_channel_up", c3, r) == 0
    assert v("sharpeyes_recording_unknown_today_seconds", c3, r) == 7200
    assert v("sharpeyes_recording_gap_today_seconds", c3, r) == 0
    assert f'sharpeyes_recording_present{{device="{c3}",recorder="{r}"}}' not in lines
    cam_down = down.channels[1]
    assert v("sharpeyes_recording_channel_up", cam_down, down.recorder) == 0
    assert lines[f'sharpeyes_recorder_up{{device="{down.recorder}"}}'] == "0"
    assert lines[f'sharpeyes_recorder_disk_state{{device="{r}",disk="1",state="ok"}}'] == "1"
    promtool = shutil.which("promtool")
    assert promtool, "promtool is a test dependency"
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
