"""The county benchmark's quick mode runs end to end and prints every figure it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_county_quick() -> None:
    if os.geteuid() != 0:
        pytest.fail("the benchmark runs the simulator, which needs root for its nftables table")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_county.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(proc.stdout)  # the figures, for `pytest -s`
    res = json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("JSON "))[5:])
    assert res["scale"] == 500 and res["devices"] >= 500
    for name in ("exporter", "prometheus", "simulator"):
        assert res["cpu_cores"][name] > 0 and res["rss_mb"][name] > 0
    assert res["active_series"] > 500 and res["samples_per_s"] > 0
    # the fast jobs scraped every target of the window, with sane durations
    icmp = res["scrapes"]["sharpeyes_icmp"]
    assert icmp["targets"] >= 400 and icmp["scrapes"] >= icmp["targets"]
    assert 0 < icmp["p50_s"] <= icmp["p99_s"] <= icmp["max_s"] < 10
    assert "limits first:" in proc.stdout
