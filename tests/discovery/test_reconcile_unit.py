"""reconcile() on hand-made observations of the sample district (no network): transit dedupe,
serial-only replacement, a dead switch reported once (not its cameras), the `cli:` auth section,
and the exporter serving the cached metrics file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.exporters.discovery.model import FdbEntry, Identity, Observations, PollResult, PortState
from sharpeyes.exporters.discovery.reconcile import reconcile, transit_ports
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.model import Inventory

SAMPLE = SAMPLE_DISTRICT
TOWNSHIP = "luwangfen"


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(SAMPLE)


def healthy(inv: Inventory) -> Observations:
    """What a perfect network shows: each device on its port, and every MAC in transit upstream."""
    from sharpeyes.exporters.discovery.reconcile import scope_devices

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


def test_inventory_ports_the_switch_lacks_are_one_finding(inv: Inventory) -> None:
    obs = healthy(inv)
    sw = next(d for d in inv.active_devices() if d.kind == "switch" and d.role == "access"
              and d.township == TOWNSHIP)
    assert len(sw.ports) >= 3
    kept, gone = sw.ports[:-1], sw.ports[-1]
    # the switch reports its interfaces; one in upper case, as some agents do: still the same port
    obs.ports = [PortState(sw.id, p.name.upper() if i == 0 else p.name, i + 1, True) for i, p in enumerate(kept)]
    found = reconcile(inv, obs)
    assert [(f.type, f.device, f.port, f.severity) for f in found] == [
        ("unresolved_port", sw.id, gone.name, "warning")]
    assert found[0].detail == f"1 inventory port(s) not on the switch: {gone.name}"
    obs.polls = [p if p.device != sw.id else PollResult(sw.id, "snmp", False, "timeout") for p in obs.polls]
    assert "unresolved_port" not in [f.type for f in reconcile(inv, obs)]  # not judged unless polled


def test_cli_auth_section_in_the_exporter_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from sharpeyes.exporters.config import ConfigError, parse_config
    from sharpeyes.exporters.discovery.auth import register_auth_section

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
    from sharpeyes.exporters.app import Exporter
    from sharpeyes.simulator.secrets import write_demo

    write_demo(tmp_path / "secrets.yaml")  # the embedded config reads its secrets from this file
    monkeypatch.setenv("SHARPEYES_SECRETS", str(tmp_path / "secrets.yaml"))

    async def go() -> None:
        exp = Exporter(None, SAMPLE, poll_interval=0, discovery_metrics=tmp_path / "metrics.prom")
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


def test_reconcile_prints_findings_in_three_shapes(inv: Inventory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """``reconcile --output json`` parses, ``csv`` reads back to the same findings, the table lines up
    with the village's Chinese name; exit 1 only with --fail-on-findings."""
    import csv
    import io
    import json

    from sharpeyes.exporters.cli import main
    from sharpeyes.exporters.discovery.cli import COLUMNS
    from sharpeyes.exporters.discovery.run import save_observations
    from sharpeyes.simulator.secrets import write_demo

    write_demo(tmp_path / "secrets.yaml")  # the embedded exporter config names its credentials
    monkeypatch.setenv("SHARPEYES_SECRETS", str(tmp_path / "secrets.yaml"))
    obs = healthy(inv)
    cam = next(d for d in inv.active_devices() if d.kind == "camera" and d.township == TOWNSHIP)
    assert cam.uplink is not None
    obs.fdb.append(FdbEntry(cam.uplink.switch, "GigabitEthernet1/0/7", "02:00:00:00:00:99"))
    path = save_observations(tmp_path, obs)
    argv = ["reconcile", "--observations", str(path), "--state-dir", str(tmp_path), "--township", TOWNSHIP]
    assert main([*argv, "--output", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["type"] for r in records] == ["unknown_device"]
    assert main([*argv, "--output", "csv", "--fail-on-findings"]) == 1
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == list(COLUMNS)
    assert [{k: r[k] for k in COLUMNS} for r in rows] == \
        [{k: "" if rec.get(k) is None else str(rec[k]) for k in COLUMNS} for rec in records]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    village = records[0]["village"]
    assert lines[0].startswith("SEVERITY") and village in lines[1]
    from wcwidth import wcswidth

    header_at = wcswidth(lines[0][:lines[0].index("DETAIL")])
    assert wcswidth(lines[1][:lines[1].index(records[0]["detail"])]) == header_at
