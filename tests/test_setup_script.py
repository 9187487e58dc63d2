"""scripts/setup.sh must never stop an SNMP agent it did not start (it used to `pkill -x snmpd`).

Run in its own PID namespace (unshare): the script can only see the snmpd started here, so the
test can neither hit nor be fooled by other agents on the machine. The checkout is copied so that
setup.sh finds everything installed and does nothing else."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_setup_leaves_a_running_snmpd_alone(tmp_path: Path) -> None:
    unshare, snmpd = shutil.which("unshare"), shutil.which("snmpd") or "/usr/sbin/snmpd"
    if unshare is None or not Path(snmpd).exists() or os.geteuid() != 0:
        pytest.skip("needs root, unshare and net-snmp snmpd")
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    shutil.copytree(ROOT / "sharpeyes", repo / "sharpeyes", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    (repo / "var").mkdir()
    (repo / "var" / ".pip-installed").touch()  # newer than pyproject.toml: no pip install
    conf = tmp_path / "snmpd.conf"
    conf.write_text("agentAddress udp:127.78.6.1:16161\nrocommunity users-own-agent 127.0.0.0/8\n")
    script = textwrap.dedent(f"""\
        set -e
        MIBS= SNMPCONFPATH={tmp_path} SNMP_PERSISTENT_DIR={tmp_path} {snmpd} -f -Lf {tmp_path}/snmpd.log -C -c {conf} &
        agent=$!
        sleep 0.5
        kill -0 $agent
        bash {repo}/scripts/setup.sh
        sleep 0.2
        if kill -0 $agent 2>/dev/null; then echo AGENT-ALIVE; kill $agent; else echo AGENT-KILLED; fi
        wait $agent 2>/dev/null || true
    """)
    env = dict(os.environ, PYTHONPATH=str(repo))
    run = subprocess.run([unshare, "--pid", "--fork", "--mount-proc", "bash", "-c", script],
                         capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "AGENT-ALIVE", run.stdout + run.stderr
    assert "pip install" not in run.stderr  # it really found everything installed


def test_setup_kills_nothing_by_name() -> None:
    text = (ROOT / "scripts" / "setup.sh").read_text()
    for word in ("pkill", "killall"):
        assert word not in text
