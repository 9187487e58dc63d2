"""SNMP (+ ONVIF) discovery and reconciliation against the RUNNING simulator (one township).

Every finding type is injected through the simulator's fault API (missing: power loss; firmware
drift: the inventory expects another version than the camera runs) and must be reported EXACTLY
once, with nothing else reported; the healthy network must give no finding at all.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.model import Device, Inventory
from tests.discovery.disc_helpers import SAMPLE, TOWNSHIP, SimEnv, copy_inventory

ROGUE_MAC = "02:5e:de:ad:be:ef"
NEW_FIRMWARE_EXPECTED = "V9.9.9 build 991231"


def _free_copper_port(inv: Inventory, sw: Device) -> str:
    used = {d.uplink.port for d in inv.devices.values() if d.uplink and d.uplink.switch == sw.id}
    used |= {lk.a.port for lk in inv.links.values() if lk.a.switch == sw.id}
    used |= {lk.b.port for lk in inv.links.values() if lk.b.switch == sw.id}
    return next(p.name for p in sw.ports if p.media == "copper" and p.name not in used)


def _pick(inv: Inventory) -> dict[str, str]:
    """Five cameras on five different access switches of the township, plus free ports."""
    cams = sorted((d for d in inv.active_devices() if d.kind == "camera" and d.township == TOWNSHIP
                   and d.uplink and inv.devices[d.uplink.switch].role == "access"), key=lambda d: d.id)
    chosen: list[Device] = []
    for c in cams:
        assert c.uplink is not None
        if all(c.uplink.switch != o.uplink.switch for o in chosen if o.uplink):
            chosen.append(c)
        if len(chosen) == 5:
            break
    replaced, moved, missing, drift, rogue_neighbour = chosen
    assert moved.uplink is not None and rogue_neighbour.uplink is not None
    moved_sw = inv.devices[moved.uplink.switch]
    rogue_sw = inv.devices[rogue_neighbour.uplink.switch]
    return {"replaced": replaced.id, "moved": moved.id, "moved_to": _free_copper_port(inv, moved_sw),
            "moved_switch": moved_sw.id, "missing": missing.id, "drift": drift.id,
            "rogue_switch": rogue_sw.id, "rogue_port": _free_copper_port(inv, rogue_sw)}


def _findings(state: Path) -> list[dict[str, str]]:
    return list(json.loads((state / "findings.json").read_text())["findings"])


def _tree_hash(d: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(d)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def healthy(sim_env: SimEnv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim_env.sim.clear()
    state = tmp_path_factory.mktemp("healthy")
    sim_env.discover(state)
    return state


def test_healthy_network_has_no_findings(healthy: Path) -> None:
    obs = json.loads((healthy / "observations.json").read_text())
    polls = Counter((p["protocol"], p["ok"]) for p in obs["polls"])
    assert polls[("snmp", False)] == 0, [p for p in obs["polls"] if not p["ok"]]
    assert polls[("snmp", True)] == 75  # the township's 74 switches and the core above them
    assert polls[("onvif", True)] == 318
    assert _findings(healthy) == []
    # every camera of the township is learnt on its own edge port
    inv = load_inventory(SAMPLE)  # MACs and ports as in the sample (only the copy's addresses differ)
    edge = {(e["switch"], e["port"], e["mac"]) for e in obs["fdb"]}
    for d in inv.active_devices():
        if d.kind == "camera" and d.township == TOWNSHIP and d.uplink:
            assert (d.uplink.switch, d.uplink.port, d.mac) in edge, d.id


@pytest.fixture(scope="module")
def faulted(sim_env: SimEnv, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """All finding types at once; discovery once; reconcile against an inventory expecting new firmware."""
    inv = load_inventory(sim_env.inventory)
    pick = _pick(inv)
    sim = sim_env.sim
    sim.clear()
    replaced = sim.fault("camera_replaced", pick["replaced"])
    sim.fault("camera_moved", pick["moved"], port=pick["moved_to"])
    sim.fault("rogue_device", f"{pick['rogue_switch']}:{pick['rogue_port']}", mac=ROGUE_MAC)
    sim.fault("power_loss", pick["missing"])
    pick["new_mac"] = replaced["params"]["mac"]
    pick["new_serial"] = replaced["params"]["serial"]
    state = tmp_path_factory.mktemp("faulted")
    try:
        sim_env.discover(state)
    finally:
        sim.clear()
    drift_dev = inv.devices[pick["drift"]]
    pick["drift_firmware"] = drift_dev.firmware

    def expect_new_firmware(rel: str, text: str) -> str:  # the inventory now expects another version
        marker = f"id: {drift_dev.id}\n"
        head, _, tail = text.partition(marker)
        if not tail:
            return text
        return head + marker + tail.replace(f"firmware: {drift_dev.firmware}",
                                             f"firmware: {NEW_FIRMWARE_EXPECTED}", 1)

    expecting = copy_inventory(state / "inventory-expecting", expect_new_firmware)
    assert load_inventory(expecting).devices[drift_dev.id].firmware == NEW_FIRMWARE_EXPECTED
    return state, pick, expecting


def _reconcile(sim_env: SimEnv, state: Path, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return sim_env.exporter("reconcile", "--inventory", str(inventory), "--state-dir", str(state), *args)


def test_each_injected_finding_reported_exactly_once(
        sim_env: SimEnv, faulted: tuple[Path, dict[str, str], Path]) -> None:
    state, pick, expecting = faulted
    proc = _reconcile(sim_env, state, expecting, "--format", "json", "--fail-on-findings")
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)
    got = Counter((f["type"], f["device"] or f["mac"]) for f in findings)
    assert got == Counter({
        ("replaced_device", pick["replaced"]): 1,
        ("moved_device", pick["moved"]): 1,
        ("unknown_device", ROGUE_MAC): 1,
        ("missing_device", pick["missing"]): 1,
        ("firmware_drift", pick["drift"]): 1,
    }), findings
    by_type = {f["type"]: f for f in findings}
    rogue = by_type["unknown_device"]
    assert (rogue["switch"], rogue["port"], rogue["severity"]) == (pick["rogue_switch"], pick["rogue_port"],
                                                                   "critical")
    assert rogue["township"] == TOWNSHIP and rogue["village"] and rogue["contractor"]
    rep = by_type["replaced_device"]
    assert rep["observed"] == {"mac": pick["new_mac"], "serial": pick["new_serial"]}
    mv = by_type["moved_device"]
    assert (mv["switch"], mv["port"]) == (pick["moved_switch"], pick["moved_to"])
    assert by_type["firmware_drift"]["observed"] == {"firmware": pick["drift_firmware"]}


def test_reconcile_formats_and_reports(sim_env: SimEnv, faulted: tuple[Path, dict[str, str], Path]) -> None:
    state, pick, expecting = faulted
    table = _reconcile(sim_env, state, expecting, "--report", "township", "--report", "contractor")
    assert table.returncode == 0, table.stderr  # no --fail-on-findings: findings are not an error
    assert "unknown_device" in table.stdout and ROGUE_MAC in table.stdout
    assert f"  {TOWNSHIP}: " in table.stdout and "findings per contractor:" in table.stdout
    csv = _reconcile(sim_env, state, expecting, "--format", "csv")
    lines = csv.stdout.strip().splitlines()
    assert lines[0].startswith("severity,type,device,switch,port,mac") and len(lines) == 6
    metrics = (state / "metrics.prom").read_text()
    assert metrics.count("sharpeyes_discovery_finding_info{") == 5
    assert (f'sharpeyes_discovery_finding_info{{type="unknown_device",device="",switch="{pick["rogue_switch"]}",'
            f'port="{pick["rogue_port"]}"') in metrics
    assert "sharpeyes_discovery_last_run_timestamp_seconds " in metrics
    assert "sharpeyes_discovery_duration_seconds " in metrics
    secrets = (sim_env.secrets).read_text()
    assert "12345" not in metrics and "public" not in metrics and len(secrets) > 0


def test_apply_writes_a_reviewable_patch_and_leaves_the_inventory_alone(
        sim_env: SimEnv, faulted: tuple[Path, dict[str, str], Path], tmp_path: Path) -> None:
    state, pick, expecting = faulted
    before = _tree_hash(expecting)
    out = tmp_path / "proposal.patch"
    proc = _reconcile(sim_env, state, expecting, "--apply", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert _tree_hash(expecting) == before, "reconcile --apply must not modify the inventory"
    patch = out.read_text()
    assert f"--- a/townships/{TOWNSHIP}.yaml" in patch and "# note: unknown MAC" in patch
    assert f"+            mac: {pick['new_mac']}" in patch
    assert f"+            serial: {pick['new_serial']}" in patch
    assert "+            status: offline" in patch
    # the patch applies to a copy and the result is a valid inventory with the proposed changes
    work = tmp_path / "applied"
    shutil.copytree(expecting, work)
    subprocess.run(["patch", "-p1", "-d", str(work), "-i", str(out)], check=True, capture_output=True)
    new = load_inventory(work)
    assert new.devices[pick["replaced"]].mac == pick["new_mac"]
    assert new.devices[pick["missing"]].status == "offline"
    moved = new.devices[pick["moved"]].uplink
    assert moved is not None and (moved.switch, moved.port) == (pick["moved_switch"], pick["moved_to"])
