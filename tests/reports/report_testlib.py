"""Shared by the report tests: the slice, the step, generating and backfilling a month."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sharpeyes.simulator import history

MONTH = "2026-10"
STEP = 60
SLICE = ["--township", "baodong", "--limit", "38"]


@dataclass(frozen=True)
class Backfilled:
    history: Path  # the simulator's output directory
    url: str  # Prometheus base URL
    truth: pd.DataFrame  # ground-truth.csv, indexed by device


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling interval, not a fixed wait
    raise RuntimeError(f"prometheus not ready after {timeout} s: {log.read_text()[-2000:]}")


def generate(out: Path, *extra: str) -> Path:
    rc = history.main(["--month", MONTH, "--out", str(out), "--step", f"{STEP}s", *SLICE, *extra])
    assert rc == 0
    return out


def backfill(om_files: list[Path], tsdb: Path) -> None:
    for f in om_files:
        subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "--max-block-duration=1458h",
                "-q",
                str(f),
                str(tsdb),
            ],
            check=True,
            capture_output=True,
        )
