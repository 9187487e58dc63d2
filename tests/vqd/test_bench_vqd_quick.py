"""bench/bench_vqd.py --quick runs and prints its confusion matrix, rates and cost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # the benchmark as a subprocess on real photographs: ~40 s
def test_bench_vqd_quick_prints_its_figures() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_vqd.py"), "--quick"], env=env,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert "Confusion matrix" in out
    for fault in ("video_loss", "frozen", "defocus", "occluded", "displaced", "color_cast", "snow", "stripes"):
        assert f"\n{fault:>13} " in out
    assert "false alarms" in out and "cost: decode + all checks per 1920x1080 JPEG" in out
