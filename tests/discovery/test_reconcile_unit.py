"""reconcile() on hand-made observations of the sample district (no network): transit dedupe,
serial-only replacement, a dead switch reported once (not its cameras), the `cli:` auth section,
and the exporter serving the cached metrics file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from exporters.discovery.model import FdbEntry, Identity, Observations, PollResult
from exporters.discovery.reconcile import reconcile, transit_ports
from inventory import load_inventory
from inventory.model import Inventory

SAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "sample" / "fengquan"
TOWNSHIP = "luwangfen"


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(SAMPLE)


def healthy(inv: Inventory) -> Observations:
    """What a perfect network shows: each device on its port, and every MAC in transit upstream."""
    from exporters.discovery.reconcile import scope_devices

    devs = scope_devices(inv, [TOWNSHIP])
    obs = Observations(started=1.0, finished=2.0, scope=[TOWNSHIP])
    for d in devs:
        if d.kind == "switch":
            obs.polls.append(PollResult(d.id, "snmp", True))
        if d.uplink is None:
            continue
        obs.fdb.append(FdbEntry(d.uplink.switch, d.uplink.port, d.mac))
        for hop in inv.topology.path_to_core(d.uplink.switch)[1:]:  # transit: every upstream switch
            up = inv.devices.get(hop)
            if up is not None and up.kind == "switch":
                link = next(lk for lk in inv.links.values() if up.id in (lk.a.switch, lk.b.switch))
                end = link.a if link.a.switch == up.id else link.b
                obs.fdb.append(FdbEntry(up.id, end.port, d.mac))
    return obs


def test_healthy_gives_nothing(inv: Inventory) -> None:
    assert reconcile(inv, healthy(inv)) == []


def test_rogue_in_transit_everywhere_is_one_finding(inv: Inventory) -> None:
    obs = healthy(inv)
    cam = next(d for d in inv.active_devices() if d.kind == "camera" and d.township == TOWNSHIP)
    assert cam.uplink is not None
    access = inv.devices[cam.uplink.switch]
    assert access.uplink is not None
    rogue = "02:00:00:00:00:99"
    obs.fdb.append(FdbEntry(access.id, "GigabitEthernet1/0/7", rogue))
    obs.fdb.append(FdbEntry(access.uplink.switch, access.uplink.port, rogue))  # aggregation: transit
    assert (access.uplink.switch, access.uplink.port) in transit_ports(inv, obs)
    found = reconcile(inv, obs)
    assert [(f.type, f.mac, f.switch, f.port, f.village) for f in found] == [
        ("unknown_device", rogue, access.id, "GigabitEthernet1/0/7", access.village)]


def test_serial_change_alone_is_a_replacement(inv: Inventory) -> None:
    obs = healthy(inv)
    cam = next(d for d in inv.active_devices() if d.kind == "camera" and d.township == TOWNSHIP)
    obs.identities.append(Identity(cam.id, serial="NEW123", firmware=cam.firmware, source="onvif"))
    found = reconcile(inv, obs)
    assert [(f.type, f.device, f.observed) for f in found] == [("replaced_device", cam.id, {"serial": "NEW123"})]


def test_dead_access_switch_is_one_missing_finding(inv: Inventory) -> None:
    obs = healthy(inv)
    sw = next(d for d in inv.active_devices() if d.kind == "switch" and d.role == "access"
              and d.township == TOWNSHIP)
    below = {d.id for d in inv.devices.values() if d.uplink and d.uplink.switch == sw.id}
    below_macs = {inv.devices[d].mac for d in below} | {sw.mac}
    obs.fdb = [e for e in obs.fdb if e.mac not in below_macs]
    obs.polls = [p if p.device != sw.id else PollResult(sw.id, "snmp", False, "timeout") for p in obs.polls]
    found = reconcile(inv, obs)
    assert [(f.type, f.device) for f in found] == [("missing_device", sw.id)]


def test_firmware_baseline_per_model(inv: Inventory) -> None:
    obs = healthy(inv)
    cam = next(d for d in inv.active_devices() if d.kind == "camera" and d.township == TOWNSHIP)
    obs.identities.append(Identity(cam.id, serial=cam.serial, firmware=cam.firmware, source="onvif"))
    assert reconcile(inv, obs, {cam.model: cam.firmware}) == []
    found = reconcile(inv, obs, {cam.model: "V9"})
    assert [(f.type, f.device, f.expected) for f in found] == [("firmware_drift", cam.id, {"firmware": "V9"})]


def test_cli_auth_section_in_the_exporter_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from exporters.config import ConfigError, parse_config
    from exporters.discovery.auth import register_auth_section

    register_auth_section()
    monkeypatch.setenv("SW_PW", "s3cret-Pw")
    cfg = parse_config("modules:\n  icmp: {prober: icmp}\nauths:\n  sw:\n    cli:\n      username: ops\n"
                       "      password: {env: SW_PW}\n      device_type: hp_comware\n")
    cli = cfg.auths["sw"].section("cli")
    assert (cli.username, cli.password, cli.platform) == ("ops", "s3cret-Pw", "hp_comware")
    assert "s3cret" not in cfg.dump() and "s3cret" not in repr(cli)
    with pytest.raises(ConfigError, match="literal secret"):
        parse_config("modules:\n  icmp: {prober: icmp}\nauths:\n  sw:\n    cli:\n      username: ops\n"
                     "      password: plain\n")
    with pytest.raises(ConfigError, match="device_type"):
        parse_config("modules:\n  icmp: {prober: icmp}\nauths:\n  sw:\n    cli:\n      username: ops\n"
                     "      password: {env: SW_PW}\n      device_type: junos\n")


def test_exporter_serves_the_discovery_metrics_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from exporters.app import Exporter
    from simulator.secrets import write_demo

    write_demo(tmp_path / "secrets.yaml")  # the embedded config reads its secrets from this file
    monkeypatch.setenv("SHARPEYES_SECRETS", str(tmp_path / "secrets.yaml"))

    async def go() -> None:
        exp = Exporter(None, SAMPLE, poll_interval=0)
        exp.discovery_metrics = tmp_path / "metrics.prom"
        client = TestClient(TestServer(exp.make_app()))
        await client.start_server()
        try:
            resp = await client.get("/discovery/metrics")
            assert resp.status == 200 and "no discovery results yet" in await resp.text()
            exp.discovery_metrics.write_text('sharpeyes_discovery_duration_seconds 1.5\n')
            resp = await client.get("/discovery/metrics")
            assert await resp.text() == "sharpeyes_discovery_duration_seconds 1.5\n"
        finally:
            await client.close()

    asyncio.run(go())
