"""End to end over SSH: `sharpeyes-exporter discover` collects a share of a Huawei township's
switches with netmiko from the asyncssh VRP fake (real output formats), reconciles, and reports an
injected rogue MAC exactly once. Credentials come from a `cli:` auth section ({env:} secret)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharpeyes.exporters.discovery.run import _cli_chosen
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.model import Inventory
from tests.discovery.disc_helpers import ROOT, copy_inventory
from tests.discovery.vrp_fake import PASSWORD, USER, VrpFakeServer, VrpModel

TOWNSHIP = "baodong"  # Huawei S5720/S5731 switches
SHARE = 0.3
ROGUE = "02:5e:00:c0:ff:ee"


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Inventory, VrpFakeServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("vrp")
    inv_dir = copy_inventory(tmp / "inventory")
    inv = load_inventory(inv_dir)
    access = sorted(d.id for d in inv.active_devices() if d.kind == "switch" and d.township == TOWNSHIP
                    and d.role == "access" and _cli_chosen(d.id, SHARE))
    sw = inv.devices[access[0]]
    used = {d.uplink.port for d in inv.devices.values() if d.uplink and d.uplink.switch == sw.id}
    port = next(p.name for p in sw.ports if p.media == "copper" and p.name not in used)
    server = VrpFakeServer(VrpModel(inv, {(sw.id, port): [ROGUE]}))
    server.start()
    yield inv_dir, inv, server, {"switch": sw.id, "port": port}
    server.stop()


@pytest.mark.slow  # ~15 s: a discovery run over SSH against every switch of a township
def test_cli_discovery_finds_the_rogue_mac_once(fake: tuple[Path, Inventory, VrpFakeServer, dict[str, str]],
                                               tmp_path: Path) -> None:
    inv_dir, inv, server, rogue = fake
    config = tmp_path / "exporter.yml"
    config.write_text("modules:\n  icmp: {prober: icmp}\nauths:\n  switches-v3:\n    cli:\n"
                      f"      username: {USER}\n      password: {{env: SW_CLI_PASSWORD}}\n"
                      "      device_type: huawei\n")
    env = {**os.environ, "SW_CLI_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}
    state = tmp_path / "state"
    proc = subprocess.run(
        [sys.executable, "-m", "sharpeyes.exporters.cli", "discover", "--once", "--inventory", str(inv_dir),
         "--config.file", str(config), "--township", TOWNSHIP, "--no-onvif", "--cli-port", str(server.port),
         "--cli-share", str(SHARE), "--cli-threads", "8", "--state-dir", str(state)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stderr + proc.stdout
    obs = json.loads((state / "observations.json").read_text())
    chosen = {d.id for d in inv.active_devices() if d.kind == "switch" and _cli_chosen(d.id, SHARE)
              and (d.township == TOWNSHIP or d.id == "core-1")}
    polls = {p["device"]: p for p in obs["polls"]}
    assert set(polls) == {c for c in chosen if inv.devices[c].auth == "switches-v3"}
    assert [p for p in polls.values() if not (p["ok"] and p["protocol"] == "cli")] == []
    fdb = {(e["switch"], e["port"], e["mac"]) for e in obs["fdb"]}
    for d in inv.active_devices():
        if d.kind == "camera" and d.uplink and d.uplink.switch in polls:
            assert (d.uplink.switch, d.uplink.port, d.mac) in fdb, d.id
    assert any(p["rx_dbm"] is not None for p in obs["ports"])  # optics from display transceiver verbose
    idents = {i["device"]: i for i in obs["identities"]}
    assert all(idents[s]["firmware"] == inv.devices[s].firmware for s in polls)
    findings = json.loads((state / "findings.json").read_text())["findings"]
    assert [(f["type"], f["mac"], f["switch"], f["port"]) for f in findings] == [
        ("unknown_device", ROGUE, rogue["switch"], rogue["port"])]
    assert PASSWORD not in (state / "observations.json").read_text()
