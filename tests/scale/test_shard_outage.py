"""A shard's samples survive an outage of the global store: vmagent (Debian ``victoria-metrics``)
scrapes on at its interval while ``victoria-metrics`` is down, queues what it cannot send on disk
(-remoteWrite.tmpDataPath), is itself restarted during the outage, and delivers everything once
the store is back: the store holds every scrape of the outage, no gap. A real gap (the shard itself
down, nothing scraped) stays a gap — no sample is invented, so the report can only call it unknown.

The outage is short here (seconds, at a 1 s scrape interval); the mechanism — the on-disk queue —
is the one a 10-minute outage at production intervals uses (docs/deployment.md, "Scaling out").
"""

from __future__ import annotations

import itertools
import json
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharpeyes.stack.stack import Process
from tests.runnet import free_port

OUTAGE_S = 12.0
SHARD_DOWN_S = 6.0

pytestmark = pytest.mark.slow  # a real victoria-metrics and vmagent, ~40 s


def wait_for(what: str, cond, timeout: float = 60):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := cond():
            return value
        time.sleep(0.2)  # polling a condition
    pytest.fail(f"timed out waiting for {what}")


class Shard:
    def __init__(self, tmp: Path) -> None:
        vm, agent = shutil.which("victoria-metrics"), shutil.which("vmagent")
        if vm is None or agent is None:
            pytest.fail("victoria-metrics/vmagent not found (scripts/setup.sh installs victoria-metrics)")
        self.tmp = tmp
        self.vm_port, self.agent_port = free_port(), free_port()
        self.vm_url = f"http://127.0.0.1:{self.vm_port}"
        (tmp / "scrape.yml").write_text(
            "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: shard\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{self.agent_port}']}}]\n")
        self.vm = Process("victoria-metrics", [vm, f"-storageDataPath={tmp / 'vm'}",
                                               f"-httpListenAddr=127.0.0.1:{self.vm_port}",
                                               "-search.latencyOffset=0s", "-search.disableCache"],
                          f"{self.vm_url}/health", tmp / "vm.log")
        self.agent = Process("vmagent", [agent, f"-promscrape.config={tmp / 'scrape.yml'}",
                                         f"-httpListenAddr=127.0.0.1:{self.agent_port}",
                                         f"-remoteWrite.url={self.vm_url}/api/v1/write",
                                         f"-remoteWrite.tmpDataPath={tmp / 'queue'}",
                                         "-remoteWrite.flushInterval=200ms"],
                             f"http://127.0.0.1:{self.agent_port}/health", tmp / "vmagent.log")

    def timestamps(self, start: float, end: float) -> list[float]:
        """Every stored sample of the shard's ``up`` series (raw export, no lookback)."""
        qs = urllib.parse.urlencode({"match[]": 'up{job="shard"}', "start": f"{start:.3f}", "end": f"{end:.3f}"})
        with urllib.request.urlopen(f"{self.vm_url}/api/v1/export?{qs}", timeout=30) as r:
            lines = [json.loads(ln) for ln in r.read().decode().splitlines() if ln.strip()]
        return sorted(t / 1000 for ln in lines for t in ln["timestamps"])


@pytest.fixture
def shard(tmp_path: Path) -> Iterator[Shard]:
    s = Shard(tmp_path)
    try:
        for p in (s.vm, s.agent):
            p.start(tmp_path)
            p.wait_ready(60)
        yield s
    finally:
        s.agent.stop()
        s.vm.stop()


def _gaps(ts: list[float], limit: float) -> list[tuple[float, float]]:
    return [(a, b) for a, b in itertools.pairwise(ts) if b - a > limit]


def test_store_outage_loses_no_sample_and_shard_outage_stays_a_gap(shard: Shard) -> None:
    t0 = time.time()
    wait_for("samples reaching the store", lambda: len(shard.timestamps(t0 - 5, time.time())) >= 3)
    # the global store goes away; the shard scrapes on and queues on disk; the shard's agent is
    # itself restarted mid-outage (the queue is on disk, not in memory)
    shard.vm.stop()
    down = time.time()
    time.sleep(OUTAGE_S / 2)  # the outage is a span of time, not a condition
    r0 = time.time()
    shard.agent.stop()
    shard.agent.start(shard.tmp)
    shard.agent.wait_ready(60)
    r1 = time.time()
    time.sleep(OUTAGE_S / 2)
    shard.vm.start(shard.tmp)
    shard.vm.wait_ready(60)
    up = time.time()

    def outage_samples() -> list[float] | None:
        ts = shard.timestamps(down, up)
        return ts if len(ts) >= OUTAGE_S - 2 - (r1 - r0) else None

    stored = wait_for("the queued samples of the outage", outage_samples, 60)
    # every scrape of the outage arrived: the only hole is the agent's own restart
    holes = [(a, b) for a, b in _gaps(stored, 2.5) if not (a >= r0 - 1.5 and b <= r1 + 1.5)]
    assert holes == [], (holes, (r0, r1), stored)
    assert stored[0] - down < 1.5 and up - stored[-1] < 1.5, (down, up, stored)
    # now the shard itself goes down: nothing is scraped, nothing is invented
    shard.agent.stop()
    gap_start = time.time()
    time.sleep(SHARD_DOWN_S)  # the shard outage is a span of time
    shard.agent.start(shard.tmp)
    shard.agent.wait_ready(60)
    wait_for("samples after the shard is back",
             lambda: any(t > gap_start + SHARD_DOWN_S for t in shard.timestamps(gap_start, time.time())))
    after = shard.timestamps(gap_start - 3, time.time())
    holes = _gaps(after, 2.5)
    assert holes and max(b - a for a, b in holes) >= SHARD_DOWN_S - 1, holes
    assert not [t for t in after if gap_start + 0.5 < t < gap_start + SHARD_DOWN_S - 0.5]
