"""The README's first command: the demo brings the stack up, plays its scenario, and stops cleanly.

Run on this run's copy of the sample district (its own addresses, tests/runnet.py), its own nftables
table and a port offset whose five ports were free, so that two runs' demos never meet."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runnet import RunNet, free_port_base

BIN = Path(sys.executable).parent / "sharpeyes-demo"
PORTS = {"Prometheus": 9090, "Alertmanager": 9093, "simulator control API": 9180, "exporter": 9430,
         "ticket service": 9440, "recording collector": 9450}


def _need_root() -> None:
    if os.geteuid() != 0 or shutil.which("nft") is None or shutil.which("prometheus") is None:
        pytest.fail("the demo needs root, nftables and prometheus (scripts/setup.sh installs them)")


@pytest.fixture(scope="module")
def inventory(run_sample_dir: Path) -> Path:
    return run_sample_dir


def _args(run_net: RunNet, inventory: Path, offset: int) -> list[str]:
    return ["--inventory", str(inventory), "--township", "luwangfen", "--port-offset", str(offset),
            "--nft-table", run_net.table("demo"), "--interval-scale", "0.2", "--hold-down", "10s",
            "--snapshot-interval", "40s"]


def _run_group(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """The demo in its own process group: on a timeout the whole group is killed, not only the demo's
    own process (its Prometheus, simulator and exporter would run on and load the next tests)."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise AssertionError(f"the demo did not end within {timeout:g} s:\n{err[-2000:]}\n{out[-3000:]}") from None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _demo(run_net: RunNet, inventory: Path, workdir: Path, *extra: str, offset: int | None = None,
          timeout: float = 900) -> tuple[int, subprocess.CompletedProcess[str]]:
    """The demo on a free port offset (a fresh one when a port was taken between the check and the start)."""
    for attempt in range(3):
        off = offset if offset is not None else free_port_base(PORTS.values())
        proc = _run_group([str(BIN), *_args(run_net, inventory, off), "--workdir", str(workdir), *extra], timeout)
        if offset is not None or attempt == 2 or "already in use" not in proc.stderr:
            return off, proc
    raise AssertionError("unreachable")


def test_ports_in_use_give_a_clear_message(tmp_path: Path, run_net: RunNet, inventory: Path) -> None:
    _need_root()
    offset = free_port_base(PORTS.values())
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 9090 + offset))
        busy.listen()
        proc = subprocess.run([str(BIN), *_args(run_net, inventory, offset), "--workdir", str(tmp_path),
                               "--exit-after-scenario"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    port = 9090 + offset
    assert f"port {port} (Prometheus) already in use" in proc.stderr or f"{port} (Prometheus)" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.timeout(1500)  # two demo runs of up to 900 s and 600 s (the suite default is 600 s)
def test_demo_opens_and_resolves_one_ticket_per_fault_and_runs_twice(tmp_path: Path, run_net: RunNet,
                                                                     inventory: Path) -> None:
    _need_root()
    offset, proc = _demo(run_net, inventory, tmp_path, "--exit-after-scenario")
    out = proc.stdout
    assert proc.returncode == 0, f"{proc.stderr[-2000:]}\n{out[-2000:]}"
    opened = re.findall(r"ticket opened: #\d+", out)
    resolved = re.findall(r"ticket resolved: #\d+", out)
    assert len(opened) == 5 and len(resolved) == 5, out
    assert "其他工单 other tickets: 0" in out, out
    # the recorder's disk failure: its own ticket, then the recording gap it left, with where to see it
    disk = re.search(r"fault injected: 录像机 (nvr-[a-z0-9-]+) 硬盘故障", out)
    assert disk and re.search(rf"ticket opened: #\d+ .*{disk[1]}", out), out
    gap = re.search(r"recording gap: (\d+) 台摄像机 cameras of (\S+) 今日缺录 missed video today, "
                    r"最长 longest (\S+) (\d+) s", out)
    assert gap and gap[2] == disk[1] and int(gap[1]) >= 1 and int(gap[4]) > 0, out
    assert f"http://127.0.0.1:{9090 + offset}/graph?g0.expr=sharpeyes_recording_gap_today_seconds" in out
    assert f"http://127.0.0.1:{9450 + offset}/metrics" in out
    # the image fault: a frozen picture's ticket, its page in the web app, and both stills fetched as JPEGs
    frozen = re.search(r"ticket opened: #(\d+) [^\n]*\n\s+维保工单页面 ticket page: (\S+)", out)
    assert frozen and frozen.group(2) == f"http://127.0.0.1:{9440 + offset}/app/t/{frozen.group(1)}", out
    exporter = f"http://127.0.0.1:{9430 + offset}/vqd/cam-"
    for what, name in (("最新抓图 last still", "last.jpg"), ("参考画面 reference still", "reference.jpg")):
        assert re.search(rf"{what}\s+{re.escape(exporter)}\S+/{name}  \(fault=frozen, \d+ KiB JPEG\)", out), out
    assert f"http://127.0.0.1:{9090 + offset}" in out and "已停止 / stopped." in out
    # the web app's address and a login per role; the passwords stay in a 0600 file, not on the terminal
    assert f"http://127.0.0.1:{9440 + offset}/app/" in out, out
    logins = tmp_path / "web-logins.txt"
    assert logins.stat().st_mode & 0o077 == 0
    rows = [ln.split("\t") for ln in logins.read_text().splitlines() if not ln.startswith("#")]
    assert {r[0] for r in rows} == {"admin", "supervisor", "manager", "technician"}
    assert all(r[1] in out and r[2] not in out for r in rows)
    assert "Traceback" not in proc.stderr
    # not a terminal: the waiting line is one line per change, never rewritten with \r nor repeated
    seen = [ln for ln in out.splitlines() if "devices seen up" in ln]
    assert seen and "\r" not in out and len(seen) == len(set(seen)), seen
    # a second run on the same work directory comes up again (fresh TSDB and tickets) and stops cleanly
    _, again = _demo(run_net, inventory, tmp_path, "--no-scenario", "--exit-after-scenario", offset=offset,
                     timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "active devices in luwangfen" in again.stdout and "已停止 / stopped." in again.stdout
    # nothing left behind: no process on the demo's ports, no nftables table
    for port in PORTS.values():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port + offset)) != 0, f"port {port + offset} still open after the demo"
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False).stdout
    assert run_net.table("demo") not in tables
