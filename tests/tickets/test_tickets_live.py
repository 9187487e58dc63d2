"""The ticket page's live device state, asked of a real Prometheus (scraping probe_success series
served here under the probe jobs' names); and a Prometheus that does not answer in time."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from sharpeyes.contract import job
from sharpeyes.tickets.web import live
from tests.tickets.test_tickets_crash import free_port

pytestmark = pytest.mark.slow  # a real Prometheus

PROMETHEUS = shutil.which("prometheus")
SERIES = {  # module -> device -> probe_success
    "icmp": {"cam-1": 1, "cam-2": 0, "sw-1": 1},
    "rtsp": {"cam-1": 0, "cam-2": 0},
}


async def exposition(request: web.Request) -> web.Response:
    module = request.match_info["module"]
    lines = ["# TYPE probe_success gauge"]
    lines += [f'probe_success{{device="{d}"}} {v}' for d, v in SERIES[module].items()]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(3)
    return web.json_response({})


@pytest.fixture
async def targets() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/{module}/metrics", exposition)
    app.router.add_get("/api/v1/query", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"127.0.0.1:{port}"
    await runner.cleanup()


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (scripts/setup.sh)")
async def test_live_state_from_real_prometheus(targets: str, tmp_path: Path) -> None:
    assert PROMETHEUS is not None
    port = free_port()
    jobs = "".join(f"""
  - job_name: {job(m)}
    scrape_interval: 1s
    metrics_path: /{m}/metrics
    static_configs: [{{targets: ["{targets}"]}}]""" for m in SERIES)
    (tmp_path / "prometheus.yml").write_text(f"global: {{scrape_interval: 1s}}\nscrape_configs:{jobs}\n")
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen([PROMETHEUS, "--config.file", str(tmp_path / "prometheus.yml"),
                             "--storage.tsdb.path", str(tmp_path / "tsdb"), "--web.listen-address",
                             f"127.0.0.1:{port}", "--log.level", "warn"], stdout=log, stderr=subprocess.STDOUT)
    try:
        devices = ["cam-1", "cam-2", "sw-1", "cam-9", 'cam"}) or vector(1']
        end = time.monotonic() + 60
        async with aiohttp.ClientSession() as s:
            while True:
                assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()
                state = await live.query(s, f"http://127.0.0.1:{port}", devices, 2.0)
                # both jobs scraped at least once: every served series is in the answer
                seen = {(d, m) for d, probes in state.probes.items() for m in probes}
                if state.ok and seen >= {(d, m) for m, series in SERIES.items() for d in series}:
                    break
                assert time.monotonic() < end, f"no series after 60 s: {state}"
                await asyncio.sleep(0.3)
        assert state.state("cam-1") == "stream_down"  # reachable, no video
        assert state.state("cam-2") == "down"
        assert state.state("sw-1") == "up"
        assert state.state("cam-9") == "unknown"  # nothing known about it
        assert 'cam"}) or vector(1' not in live.promql(devices)  # not a device id: never in the query
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


async def test_slow_prometheus_is_unknown_within_the_timeout(targets: str) -> None:
    async with aiohttp.ClientSession() as s:
        t0 = time.monotonic()
        state = await live.query(s, f"http://{targets}", ["cam-1"], 0.3)
        assert time.monotonic() - t0 < 2
    assert not state.ok and state.state("cam-1") == "unknown"
