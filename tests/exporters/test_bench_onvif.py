"""bench/bench_onvif.py in its quick mode: both transports probe a replaying real-capture camera
successfully, and the lean transport keeps less per camera than zeep (the CPU figures are the
benchmark's to print, never a test's to time)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # the benchmark with the simulator as a subprocess
def test_onvif_benchmark_quick_mode() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_onvif.py"), "--quick"],
                         capture_output=True, text=True, timeout=240, check=True).stdout
    rows = {m[1]: (float(m[2]), float(m[3])) for m in re.finditer(r"^  (zeep|lean) +([\d.]+) +([\d.]+)", out, re.M)}
    assert set(rows) == {"zeep", "lean"}, out
    assert rows["lean"][1] < rows["zeep"][1], out  # kept kB per camera
    assert "target: ONVIF <= 3 ms CPU per probe" in out
