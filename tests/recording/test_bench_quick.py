"""bench/bench_recording.py --quick runs (recorder simulator for one township in its own process, one
collection over HTTP Digest into SQLite) and reports its figures and no failed channel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runnet import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a benchmark's quick mode: real processes for tens of seconds
def test_bench_quick_mode(run_sample_dir: Path) -> None:  # the recorders bind this run's addresses
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_recording.py"), "--quick",
                           "--inventory", str(run_sample_dir), "--port", str(free_port())],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "recorders=2 channels=318 failed=0" in proc.stdout
    assert "wall_s=" in proc.stdout and "cpu_s=" in proc.stdout and proc.stdout.rstrip().endswith("OK")
