"""Against the simulated recorders over real HTTP with Digest auth: a fiber cut of N minutes is a gap of
exactly N minutes for every camera behind it and for no other, in each of the three dialects, with
a recorder clock hours off; what the collector stores and exposes matches the simulator's truth."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from sharpeyes.inventory import load_inventory
from sharpeyes.recording.collector import collect_all, targets
from sharpeyes.recording.intervals import subtract, total
from sharpeyes.recording.job import Limits
from sharpeyes.recording.metrics import Counters, render
from sharpeyes.recording.models import Asked, Covered
from sharpeyes.recording.store import RecordingStore
from sharpeyes.recording.transport import HttpTransport
from sharpeyes.simulator.faults import FaultEngine
from sharpeyes.simulator.network import World
from sharpeyes.simulator.recorders.server import RecorderServers
from sharpeyes.simulator.recorders.truth import RecorderTruth
from sharpeyes.simulator.runner import initial_state
from sharpeyes.simulator.state import Credentials
from tests.runnet import free_port

CUT_MINUTES = 20
PW = "recorder-test-pw"


@pytest.fixture(scope="module")
def run_inventory(run_sample_dir):  # type: ignore[no-untyped-def]
    return load_inventory(run_sample_dir)  # the recorders bind this run's addresses (tests/runnet.py)


@pytest.fixture
async def sim(run_inventory):  # type: ignore[no-untyped-def]
    inv = run_inventory
    states = {d.id: initial_state(d, time.monotonic()) for d in inv.active_devices()}
    world = World(inv, states)
    now = time.time()
    truth = RecorderTruth(world, now - 7200)
    port = free_port()
    servers = RecorderServers(world, truth, {"platforms": Credentials("admin", PW)}, port=port)
    await servers.start()
    yield inv, world, truth, servers, FaultEngine(world), now
    await servers.close()


def pole_link(inv, truth, recorder: str) -> str:  # type: ignore[no-untyped-def]
    cams = set(truth.channels[recorder].values())
    for lid, _link in sorted(inv.links.items()):
        below = inv.topology.downstream(lid)
        if below & cams and {d for d in below if d.startswith("cam-")} <= cams:
            return lid
    raise AssertionError(recorder)


async def test_fiber_cut_is_an_exact_gap_in_every_dialect(sim, tmp_path) -> None:  # type: ignore[no-untyped-def]
    inv, _world, truth, servers, engine, now = sim
    recs = ["nvr-luwangfen", "nvr-luwangfen-2", "nvr-baodong-3"]  # ISAPI, Dahua, ONVIF Profile G
    links = [pole_link(inv, truth, r) for r in recs]
    behind = {c for lid in links for c in inv.topology.downstream(lid) if c.startswith("cam-")}
    assert len(behind) >= 3
    # the cut happened an hour ago and lasted CUT_MINUTES (the truth takes the times we give it)
    await engine.add({"type": "clock_drift", "target": "nvr-luwangfen-2", "params": {"seconds": 3 * 3600}})
    cut = [await engine.add({"type": "fiber_cut", "target": lid}) for lid in links]
    truth.update(now - 3600)
    for f in cut:
        await engine.clear(f.id)
    truth.update(now - 3600 + CUT_MINUTES * 60)

    tgts = [t for t in targets(inv, servers.port) if t.recorder in recs]

    def transport(tg):  # type: ignore[no-untyped-def]
        return HttpTransport(f"http://{tg.address}", "admin", PW, request_timeout=10)

    results = await collect_all(tgts, transport, now - 7200, now, limits=Limits(), deadline=60)  # clock: ours now
    assert [(r.recorder, r.up, r.error) for r in results] == [(r, True, "") for r in sorted(recs)]
    offsets = {r.recorder: r.clock_offset for r in results}
    assert abs(offsets["nvr-luwangfen-2"] - 3 * 3600) <= 2  # flagged, and corrected for below

    store = RecordingStore(f"sqlite:///{tmp_path / 'rec.db'}")
    store.migrate()
    store.record(results, {t.recorder: t for t in tgts})
    cov, asked = store.intervals(Covered, 0, now + 1), store.intervals(Asked, 0, now + 1)
    for tg in tgts:
        for cam in tg.channels.values():
            gap = total(subtract(asked[cam], cov.get(cam, [])))
            want = CUT_MINUTES * 60 if cam in behind else 0
            assert abs(gap - want) <= 2, (tg.recorder, cam, gap, want)
            truth_gap = 7200 - total(truth.timelines[cam].intervals(now - 7200, now))
            assert abs(gap - truth_gap) <= 2

    text = render(store, inv, Counters(), now=now)
    midnight = dt.datetime.fromtimestamp(now, ZoneInfo("Asia/Shanghai")).replace(hour=0, minute=0, second=0)
    cut_today = max(0.0, min(now - 3600 + CUT_MINUTES * 60, now) - max(now - 3600, midnight.timestamp()))
    cam = sorted(behind)[0]
    rec = inv.devices[cam].recording.recorder
    line = f'sharpeyes_recording_gap_today_seconds{{device="{cam}",recorder="{rec}"}} '
    value = float(next(x for x in text.splitlines() if x.startswith(line)).rsplit(" ", 1)[1])
    assert abs(value - cut_today) <= 2
    store.dispose()


async def test_recorder_faults_seen_over_http(sim) -> None:  # type: ignore[no-untyped-def]
    inv, _world, truth, servers, engine, now = sim
    await engine.add({"type": "disk_failed", "target": "nvr-baoxi-2"})
    await engine.add({"type": "recorder_down", "target": "nvr-baoxi-3"})
    await engine.add({"type": "retention_short", "target": "nvr-baoxi", "params": {"days": 0.01}})
    truth.update(now - 600)
    tgts = [t for t in targets(inv, servers.port) if t.recorder in ("nvr-baoxi", "nvr-baoxi-2", "nvr-baoxi-3")]

    def transport(tg):  # type: ignore[no-untyped-def]
        return HttpTransport(f"http://{tg.address}", "admin", PW, request_timeout=3)

    t0 = time.monotonic()
    # the round's deadline leaves room for the healthy recorders on a loaded machine; the hung one
    # fails on its first request's timeout and holds up nobody
    results = {r.recorder: r for r in await collect_all(tgts, transport, now - 1800, now, deadline=30)}
    assert time.monotonic() - t0 < 30
    assert results["nvr-baoxi-3"].error == "timeout" and not results["nvr-baoxi-3"].up
    assert [d.state for d in results["nvr-baoxi-2"].disks] == ["failed"]
    ch = results["nvr-baoxi-2"].channels[1]
    assert ch.covered and ch.covered[-1][1] <= now - 600 + 2  # stopped recording when the disks failed
    oldest = results["nvr-baoxi"].channels[1].oldest
    assert oldest is not None and abs((now - oldest) - 0.01 * 86400) < 120


async def test_wrong_password_is_refused_with_401(sim) -> None:  # type: ignore[no-untyped-def]
    inv, _world, _truth, servers, _engine, now = sim
    tgts = [t for t in targets(inv, servers.port) if t.recorder == "nvr-luwangfen"]
    results = await collect_all(tgts, lambda tg: HttpTransport(f"http://{tg.address}", "admin", "wrong"),
                                now - 600, now, now=now, deadline=10)
    assert (results[0].up, results[0].error) == (False, "auth")
    assert "wrong" not in results[0].message
