"""Helpers for the discovery tests: a private copy of the sample district on this run's loopback
block, the simulator as a subprocess (``sharpeyes-sim run``), and its control API.

The copy's device addresses move into the run's block (tests/runnet.py), so that a simulator another
run or a benchmark serves at the same time (same inventory, its own nftables table dropping *its*
dead devices' addresses) cannot touch ours.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from sharpeyes.contract import SAMPLE_DISTRICT
from tests import runnet
from tests.runnet import free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = SAMPLE_DISTRICT
TOWNSHIP = "luwangfen"  # H3C switches, Hikvision/Dahua/Uniview cameras, 395 devices with its path to core
T = TypeVar("T")
_SIMS = itertools.count()


def copy_inventory(dest: Path, edit: Callable[[str, str], str] | None = None) -> Path:
    """The sample district on this run's addresses (``edit(relpath, text)`` may change more)."""
    return runnet.current().copy_sample(dest, edit=edit)


def write_secrets(path: Path, *, platforms_community: str = "", legacy_onvif_password: str = "") -> Path:
    """Demo secrets; optionally the v2c `platforms` community and `cams-legacy` ONVIF password."""
    from sharpeyes.simulator.secrets import demo_document

    doc = demo_document()
    if platforms_community:
        doc["auths"]["platforms"]["snmp"]["community"] = platforms_community
    if legacy_onvif_password:
        # demo_document() shares one ONVIF dict between cams-v3 and cams-legacy: copy before editing
        doc["auths"]["cams-legacy"]["onvif"] = {**doc["auths"]["cams-legacy"]["onvif"],
                                                "password": legacy_onvif_password}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    path.chmod(0o600)
    return path


def wait_for(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.2, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(interval)


class Sim:
    """``sharpeyes-sim run`` in a subprocess on private ports and its own nftables table."""

    def __init__(self, inventory: Path, secrets: Path, township: str = TOWNSHIP) -> None:
        self.inventory = inventory
        self.control = free_port()
        self.snmp_port = free_port(socket.SOCK_DGRAM)
        self.onvif_port = free_port()
        self.rtsp_port = free_port()
        self.table = runnet.current().table(f"disc{next(_SIMS)}")
        self.log = inventory.parent / "sim.log"
        where = ["--township", township] if township else []  # "" = the whole district
        cmd = [sys.executable, "-m", "sharpeyes.simulator.cli", "run", "--inventory", str(inventory),
               *where, "--web.listen-address", f"127.0.0.1:{self.control}",
               "--snmp-port", str(self.snmp_port), "--onvif-port", str(self.onvif_port),
               "--rtsp-port", str(self.rtsp_port), "--nft-table", self.table, "--secrets", str(secrets),
               "--log.level", "warn"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=self.log.open("w"), start_new_session=True)
        try:
            wait_for(self._ready, 60, what="simulator control API ready")
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"simulator exited: {self.log.read_text()[-2000:]}")
        try:
            return bool(self.api("GET", "/api/health")[1].get("ready"))
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.control}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def fault(self, type_: str, target: str, **params: Any) -> dict[str, Any]:
        status, reply = self.api("POST", "/api/faults", {"type": type_, "target": target, "params": params})
        assert status == 201, reply
        return dict(reply)

    def clear(self) -> None:
        status, reply = self.api("DELETE", "/api/faults")
        assert status == 200, reply

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class SimEnv:
    sim: Sim
    inventory: Path
    secrets: Path
    tmp: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "SHARPEYES_SECRETS": str(self.secrets), "PYTHONPATH": str(ROOT)}

    def exporter(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        """``sharpeyes-exporter ARGS`` (the installed entry point's module) against this simulator."""
        proc = subprocess.run([sys.executable, "-m", "sharpeyes.exporters.cli", *args], cwd=ROOT, env=self.env(),
                              capture_output=True, text=True, timeout=600, check=False)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    def discover(self, state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.exporter("discover", "--once", "--inventory", str(self.inventory), "--township", TOWNSHIP,
                             "--snmp-port", str(self.sim.snmp_port), "--onvif-port", str(self.sim.onvif_port),
                             "--timeout", "10s", "--state-dir", str(state), *extra, check=True)
