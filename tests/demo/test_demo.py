"""The README's first command: the demo brings the stack up, plays its scenario, and stops cleanly."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "sharpeyes-sim"
ARGS = ["demo", "--township", "luwangfen", "--port-offset", "30000", "--interval-scale", "0.2",
        "--hold-down", "10s"]


def _need_root() -> None:
    if os.geteuid() != 0 or shutil.which("nft") is None or shutil.which("prometheus") is None:
        pytest.fail("the demo needs root, nftables and prometheus (scripts/setup.sh installs them)")


def test_ports_in_use_give_a_clear_message(tmp_path: Path) -> None:
    _need_root()
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 9090 + 30000))
        busy.listen()
        proc = subprocess.run([str(BIN), *ARGS, "--workdir", str(tmp_path), "--exit-after-scenario"],
                              capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert "port 39090 (Prometheus) already in use" in proc.stderr or "39090 (Prometheus)" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_demo_opens_and_resolves_one_ticket_per_fault_and_runs_twice(tmp_path: Path) -> None:
    _need_root()
    proc = subprocess.run([str(BIN), *ARGS, "--workdir", str(tmp_path), "--exit-after-scenario"],
                          capture_output=True, text=True, timeout=900, check=False)
    out = proc.stdout
    assert proc.returncode == 0, f"{proc.stderr[-2000:]}\n{out[-2000:]}"
    opened = re.findall(r"ticket opened: #\d+", out)
    resolved = re.findall(r"ticket resolved: #\d+", out)
    assert len(opened) == 3 and len(resolved) == 3, out
    assert "其他工单 other tickets: 0" in out, out
    assert "http://127.0.0.1:39090" in out and "已停止 / stopped." in out
    assert "Traceback" not in proc.stderr
    # a second run on the same work directory comes up again (fresh TSDB and tickets) and stops cleanly
    again = subprocess.run([str(BIN), *ARGS, "--workdir", str(tmp_path), "--no-scenario", "--exit-after-scenario"],
                           capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "active devices in luwangfen" in again.stdout and "已停止 / stopped." in again.stdout
    # nothing left behind: no process on the demo's ports, no nftables table
    for port in (39090, 39093, 39180, 39430, 39440):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open after the demo"
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False).stdout
    assert "sharpeyes_demo" not in tables
