"""The running simulator (nftables, control API) records through its recorders: a real fiber cut of
6 seconds, made and ended by the fault engine, is a gap of that length for every camera behind it,
read over HTTP Digest by the recording collector, equal to the simulator's own timeline."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sharpeyes.inventory import Inventory
from sharpeyes.recording.collector import collect_all, targets
from sharpeyes.recording.intervals import subtract, total
from sharpeyes.recording.transport import HttpTransport
from tests.simulator.simnet import ONVIF_PORT, add_fault, api, wait_for


def test_fiber_cut_is_a_recording_gap(sim_inventory: Inventory, sim_secrets: dict[str, Any],
                                      running_sim: Any) -> None:
    inv = sim_inventory  # the running simulator serves this run's addresses
    truth = running_sim.sim.recorders.truth
    link = next(lid for lid, lk in sorted(inv.links.items()) if lk.township == "baodong" and lk.build == "sharp_eyes")
    behind = {c for c in inv.topology.downstream(link) if c in truth.timelines}
    recorders = {inv.devices[c].recording.recorder for c in behind}
    assert behind and len(recorders) == 1
    # the window starts clear of faults an earlier test on this simulator left behind: in CI a camera
    # fault of ~2 s had ended inside a window that reached 5 s into the past
    wait_for(lambda: not api("GET", "/api/faults")[1], what="no fault left by an earlier test")
    t0 = time.time() + 3  # a reboot fault leaves the list at once; its camera boots for up to 2 s more
    wait_for(lambda: time.time() >= t0 + 2, what="two seconds of recording before the cut")
    # long enough that the hole stays well above what the collector joins (Limits.join_seconds, with
    # whole-second recorder times): a 3 s cut could read as a 2 s hole and be joined away
    add_fault("fiber_cut", link, duration="6s")
    wait_for(lambda: not api("GET", "/api/faults")[1], what="the cut expired")
    end = time.time() + 1
    wait_for(lambda: time.time() >= end, what="a second of recording after the repair")
    web = sim_secrets["auths"]["platforms"]["onvif"]
    tgts = [t for t in targets(inv, ONVIF_PORT) if t.recorder in recorders]
    results = asyncio.run(collect_all(
        tgts, lambda tg: HttpTransport(f"http://{tg.address}", web["username"], web["password"]), t0, end, now=end))
    [res] = results
    assert res.up, res.message
    for ch, cam in tgts[0].channels.items():
        if cam not in truth.timelines:
            continue
        gap = total(subtract([(t0, end)], res.channels[ch].covered))
        true_gap = (end - t0) - total(truth.timelines[cam].intervals(t0, end))
        assert abs(gap - true_gap) <= 1.5, (cam, gap, true_gap)
        if cam in behind:
            assert 4.0 <= gap <= 8.0, (cam, gap)  # the 6 s cut
        else:
            assert gap <= 1.5, (cam, gap)
