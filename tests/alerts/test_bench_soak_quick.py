"""bench/bench_soak.py --quick: 2 h of one township through promtool with lossy devices, flapping
ports, a switch reboot and five real faults — the rules raise every fault, exactly one flapping
alert per flapping port, and nothing else (a fixed seed: the run is deterministic)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.alerts.alerts_testlib import require

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a benchmark's quick mode: real processes for tens of seconds
def test_soak_quick_has_no_false_tickets() -> None:
    require("promtool")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_soak.py"), "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "tickets by kind: fault 5/5, flapping 3/3" in out, out
    assert "false tickets: 0" in out, out
