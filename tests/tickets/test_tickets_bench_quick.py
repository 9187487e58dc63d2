"""The web app benchmark's quick mode runs and prints its figures (the benchmark itself stays out of CI)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_bench_tickets_web_quick(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_tickets_web
    finally:
        sys.path.remove(str(ROOT / "bench"))
    assert bench_tickets_web.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for key in ("tech_list", "tech_ticket", "sup_list", "sup_ticket"):
        m = re.search(rf"{key}\s+server p50\s+([\d.]+) ms\s+p95\s+([\d.]+) ms\s+weight\s+([\d.]+) KB", out)
        assert m and float(m.group(3)) > 1, out
