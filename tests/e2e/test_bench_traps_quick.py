"""bench/bench_traps.py --quick runs end to end and prints its row (the benchmark's figures
themselves are not asserted: timing targets live in benchmarks, not in tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .stack import _require_root_and_tools

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(780)  # the bench's own waits (quick: 300 + 150 + 150 s) end first, with its state
def test_bench_traps_quick(run_sample_dir: Path) -> None:
    _require_root_and_tools()
    # the run's own copy of the sample (its own loopback addresses): two suites at once never meet
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_traps.py"), "--quick",
                           "--inventory", str(run_sample_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=760, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith("fiber_cut")]
    assert len(rows) == 1 and len(rows[0]) == 6, proc.stdout
    assert float(rows[0][1]) > 0 and rows[0][4] in ("trap", "rule")
