"""bench/bench_snmp_flood.py in its quick mode: the real exporter under a short spoofed flood keeps
its memory (the benchmark itself, 60 s, stays out of CI)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # the benchmark with real agents as subprocesses
def test_snmp_flood_benchmark_quick_mode() -> None:
    if os.geteuid() != 0:
        pytest.skip("binds a loopback address on udp/161")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_snmp_flood
    finally:
        sys.path.remove(str(ROOT / "bench"))
    r = bench_snmp_flood.main(["--quick"])
    assert r["alive"] == 1
    assert r["datagrams"] > 1000
    assert r["ratio"] <= 1.10
