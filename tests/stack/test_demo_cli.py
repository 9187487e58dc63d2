"""sharpeyes-demo's command line: the house dialect, and bad input refused before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sharpeyes.stack.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=60, check=False)


def test_help_speaks_the_shared_dialect(tmp_path: Path) -> None:
    proc = _demo("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for flag in ("--log.level", "--township", "--port-offset", "--exit-after-scenario", "--hold-down"):
        assert flag in proc.stdout
    assert "usage: sharpeyes-demo" in proc.stdout


def test_a_bad_duration_is_refused_before_anything_starts(tmp_path: Path) -> None:
    proc = _demo("--hold-down", "10", "--workdir", str(tmp_path / "w"), cwd=tmp_path)
    assert proc.returncode == 2 and "--hold-down" in proc.stderr and "not a duration" in proc.stderr
    assert not (tmp_path / "w").exists()

