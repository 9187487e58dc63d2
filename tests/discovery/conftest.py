"""Fixtures: the simulator serving one township of a private copy of the sample district."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from disc_helpers import ROOT, TOWNSHIP, Sim, copy_inventory, write_secrets


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
        proc = subprocess.run([sys.executable, "-m", "exporters.cli", *args], cwd=ROOT, env=self.env(),
                              capture_output=True, text=True, timeout=600, check=False)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    def discover(self, state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.exporter("discover", "--once", "--inventory", str(self.inventory), "--township", TOWNSHIP,
                             "--snmp-port", str(self.sim.snmp_port), "--onvif-port", str(self.sim.onvif_port),
                             "--timeout", "10s", "--state-dir", str(state), *extra, check=True)


@pytest.fixture(scope="session")
def sim_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimEnv]:
    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.skip("the simulator needs root and nftables")
    tmp = tmp_path_factory.mktemp("discovery-sim")
    inv = copy_inventory(tmp / "inventory")
    secrets = write_secrets(tmp / "secrets.yaml", platforms_community="public", legacy_onvif_password="12345")
    sim = Sim(inv, secrets)
    try:
        yield SimEnv(sim, inv, secrets, tmp)
    finally:
        sim.stop()
