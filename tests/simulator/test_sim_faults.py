"""Every fault, seen from outside: ICMP (icmplib), SNMP (net-snmp), TCP connects, and the topology.

Each test injects a fault through the control API, checks what every protocol sees, clears it and
checks that everything is back. Readiness is polled, never slept for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sharpeyes.inventory.model import Device, Inventory
from tests.simulator.simnet import (
    ONVIF_PORT,
    RTSP_PORT,
    SnmpCreds,
    add_fault,
    answering,
    api,
    clear_fault,
    column,
    pings,
    snmpget,
    snmpget_error,
    snmpwalk,
    tcp_state,
    wait_for,
)
from tests.simulator.test_sim_snmp import FDB_PORT, HW_RX, IF_NAME, IF_OPER, SYS, creds, pick

UPTIME = f"{SYS}.3.0"


@pytest.fixture(autouse=True)
def clean(running_sim: Any) -> Iterator[None]:
    yield
    api("DELETE", "/api/faults")
    wait_for(lambda: api("GET", "/api/network")[1]["dead"] == [], what="all devices back")


def cam_creds(secrets: dict[str, Any], cam: Device) -> SnmpCreds:
    return creds(secrets, cam.auth)


def sw_creds(secrets: dict[str, Any], sw: Device) -> SnmpCreds:
    return creds(secrets, sw.auth)


def uptime_s(c: SnmpCreds, ip: str) -> float | None:
    got = snmpget(c, ip, UPTIME)
    return None if got is None else int(got[UPTIME][1].split(")")[0].strip("(")) / 100


def port_index(c: SnmpCreds, sw: Device, port: str) -> str:
    names = column(snmpwalk(c, sw.ip, IF_NAME), IF_NAME)
    return next(k for k, v in names.items() if v == port)


def oper(c: SnmpCreds, sw: Device, idx: str) -> str:
    got = snmpget(c, sw.ip, f"{IF_OPER}.{idx}")
    assert got is not None
    return got[f"{IF_OPER}.{idx}"][1]


def fdb_macs(c: SnmpCreds, sw: Device) -> dict[str, str]:
    """{mac aa:bb:..: bridge port} of a switch's forwarding table."""
    out = {}
    for k, v in column(snmpwalk(c, sw.ip, FDB_PORT), FDB_PORT).items():
        out[":".join(f"{int(x):02x}" for x in k.split("."))] = v
    return out


def snmp_answers(c: SnmpCreds, ip: str) -> bool:
    return snmpget(c, ip, UPTIME, timeout=0.5) is not None


def everything_answers(cam: Device, c: SnmpCreds) -> bool:
    return (
        pings(cam.ip)
        and snmp_answers(c, cam.ip)
        and tcp_state(cam.ip, RTSP_PORT) == "open"
        and tcp_state(cam.ip, ONVIF_PORT) == "open"
    )


def township_ips(inv: Inventory, township: str) -> dict[str, str]:
    return {d.ip: d.id for d in inv.active_devices() if d.township == township}


# ---------------------------------------------------------------- camera faults


def test_power_loss_silences_every_protocol_and_reboots_on_recovery(
    sim_inventory: Inventory, sim_secrets: dict[str, Any]
) -> None:
    cam = pick(sim_inventory, kind="camera", vendor="hikvision", auth="cams-v3")
    sw = sim_inventory.devices[cam.uplink.switch]  # type: ignore[union-attr]
    c, sc = cam_creds(sim_secrets, cam), sw_creds(sim_secrets, sw)
    idx = port_index(sc, sw, cam.uplink.port)  # type: ignore[union-attr]
    assert everything_answers(cam, c) and oper(sc, sw, idx) == "1"
    before = uptime_s(c, cam.ip)
    assert before is not None and before > 3600
    fid = add_fault("power_loss", cam.id)
    wait_for(lambda: not pings(cam.ip), what="no ping")
    assert not snmp_answers(c, cam.ip)
    assert tcp_state(cam.ip, RTSP_PORT) == "timeout" and tcp_state(cam.ip, ONVIF_PORT) == "timeout"
    assert oper(sc, sw, idx) == "2"  # its switch port went down
    assert cam.mac not in fdb_macs(sc, sw)
    clear_fault(fid)
    wait_for(lambda: everything_answers(cam, c), what="camera back")
    after = uptime_s(c, cam.ip)
    assert after is not None and after < 60  # it rebooted
    assert oper(sc, sw, idx) == "1" and cam.mac in fdb_macs(sc, sw)


def test_hung_camera_pings_but_services_time_out(
    sim_inventory: Inventory, sim_secrets: dict[str, Any]
) -> None:
    cam = pick(sim_inventory, kind="camera", vendor="dahua")
    c = cam_creds(sim_secrets, cam)
    fid = add_fault("camera_hung", cam.id)
    wait_for(lambda: not snmp_answers(c, cam.ip), what="SNMP silent")
    assert pings(cam.ip)
    assert tcp_state(cam.ip, RTSP_PORT) == "timeout" and tcp_state(cam.ip, ONVIF_PORT) == "timeout"
    clear_fault(fid)
    wait_for(lambda: everything_answers(cam, c), what="camera back")


def _port_rate(sim: Any, cam: Device) -> float:
    world = sim.sim.world
    s = world.switches[cam.uplink.switch]  # type: ignore[union-attr]
    return s.by_name[cam.uplink.port].rx.rate(time.time())  # type: ignore[no-any-return,union-attr]


def _measured_rate(c: SnmpCreds, sw: Device, idx: str, seconds: float = 2.0) -> float:
    oid = f"1.3.6.1.2.1.31.1.1.1.6.{idx}"
    first = snmpget(c, sw.ip, oid)
    t0 = time.monotonic()
    assert first is not None

    def later() -> tuple[float, int] | None:
        got = snmpget(c, sw.ip, oid)
        t = time.monotonic()
        return (t, int(got[oid][1])) if got is not None and t - t0 >= seconds else None

    t1, v1 = wait_for(later, what="second read")  # type: ignore[misc]
    return (v1 - int(first[oid][1])) / (t1 - t0)


def test_encoder_stalled_answers_everything_but_sends_no_video(
    sim_inventory: Inventory, sim_secrets: dict[str, Any], running_sim: Any
) -> None:
    cam = pick(sim_inventory, kind="camera", vendor="uniview")
    sw = sim_inventory.devices[cam.uplink.switch]  # type: ignore[union-attr]
    c, sc = cam_creds(sim_secrets, cam), sw_creds(sim_secrets, sw)
    idx = port_index(sc, sw, cam.uplink.port)  # type: ignore[union-attr]
    normal = running_sim.sim.world.cameras[cam.id].expected_rate()
    fid = add_fault("encoder_stalled", cam.id)
    assert everything_answers(cam, c) and oper(sc, sw, idx) == "1"
    assert _measured_rate(sc, sw, idx) < 0.01 * normal
    clear_fault(fid)
    assert math.isclose(_measured_rate(sc, sw, idx), normal, rel_tol=0.10)


def test_reboot_and_reboot_loop_reset_uptime(
    sim_inventory: Inventory, sim_secrets: dict[str, Any]
) -> None:
    cam = pick(sim_inventory, kind="camera", vendor="hikvision", auth="cams-legacy")
    c = cam_creds(sim_secrets, cam)
    add_fault("reboot", cam.id, boot_s=2)
    wait_for(lambda: not pings(cam.ip), what="down while booting")
    wait_for(lambda: (u := uptime_s(c, cam.ip)) is not None and u < 30, what="back with a fresh uptime")
    assert api("GET", "/api/faults")[1] == []  # a reboot ends by itself
    fid = add_fault("reboot_loop", cam.id, boot_s=1, up_s=2)
    boots = set()

    def two_boots() -> bool:
        st = api("GET", f"/api/devices/{cam.id}")[1]
        boots.add(round(time.time() - st["uptime_s"]))
        return len({b for b in boots}) >= 2 and st["reachable"]

    wait_for(two_boots, timeout=20, interval=0.3, what="two reboots")
    clear_fault(fid)


def test_clock_drift_shows_in_onvif(sim_inventory: Inventory) -> None:
    import urllib.request

    cam = pick(sim_inventory, kind="camera", vendor="hikvision")
    body = (
        b'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        b'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body><tds:GetSystemDateAndTime/>'
        b"</s:Body></s:Envelope>"
    )

    def camera_year() -> str:
        req = urllib.request.Request(
            f"http://{cam.ip}:{ONVIF_PORT}/onvif/device_service",
            data=body,
            headers={"Content-Type": "application/soap+xml"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            text = resp.read().decode()
        return text.split("UTCDateTime>")[1].split("<tt:Year>")[1].split("<")[0]

    now_year = camera_year()
    fid = add_fault("clock_drift", cam.id, seconds=3 * 365 * 86400)
    assert int(camera_year()) >= int(now_year) + 2
    assert api("GET", f"/api/devices/{cam.id}")[1]["clock_offset_s"] == 3 * 365 * 86400
    clear_fault(fid)
    assert camera_year() == now_year


def test_wrong_credentials_fail_snmp_v3_and_v2c(
    sim_inventory: Inventory, sim_secrets: dict[str, Any]
) -> None:
    v3 = pick(sim_inventory, kind="camera", auth="cams-v3")
    v2 = pick(sim_inventory, kind="camera", auth="cams-legacy")
    ids = [add_fault("wrong_credentials", v3.id), add_fault("wrong_credentials", v2.id)]
    assert "Authentication failure" in snmpget_error(cam_creds(sim_secrets, v3), v3.ip)
    assert "Timeout" in snmpget_error(cam_creds(sim_secrets, v2), v2.ip)
    assert pings(v3.ip) and tcp_state(v3.ip, RTSP_PORT) == "open"
    for fid in ids:
        clear_fault(fid)
    assert snmp_answers(cam_creds(sim_secrets, v3), v3.ip) and snmp_answers(cam_creds(sim_secrets, v2), v2.ip)


# ---------------------------------------------------------------- network faults vs the topology


def _unreachable_after(
    inv: Inventory, township: str, fault: str, target: str, **params: Any
) -> tuple[str, set[str]]:
    ips = township_ips(inv, township)
    assert answering(ips) == set(ips), "township not healthy before the fault"
    fid = add_fault(fault, target, **params)
    dead = {ips[a] for a in set(ips) - answering(ips)}
    return fid, dead


def _active(inv: Inventory) -> set[str]:
    return {d.id for d in inv.active_devices()}


def _fiber_link(inv: Inventory, township: str, min_down: int = 3) -> str:
    for link_id, link in sorted(inv.links.items()):
        if (
            link.township == township
            and link.active
            and min_down <= len(inv.topology.downstream(link_id)) <= 40
        ):
            return link_id
    raise LookupError(township)


def test_fiber_cut_makes_exactly_the_downstream_devices_unreachable(
    sim_inventory: Inventory, sim_secrets: dict[str, Any], running_sim: Any
) -> None:
    inv = sim_inventory
    link_id = _fiber_link(inv, "baodong")
    link = inv.links[link_id]
    expected = inv.topology.downstream(link_id) & _active(inv)
    fid, dead = _unreachable_after(inv, "baodong", "fiber_cut", link_id)
    assert dead == expected
    # the upstream end of the link: port down, Rx at LOS (0 µW on Huawei)
    child = inv.topology.link_child[link_id]
    up_end = link.b if link.a.switch == child else link.a
    up_sw = inv.devices[up_end.switch]
    sc = sw_creds(sim_secrets, up_sw)
    idx = port_index(sc, up_sw, up_end.port)
    assert oper(sc, up_sw, idx) == "2"
    world = running_sim.sim.world
    s = world.switches[up_sw.id]
    assert world.rx_power_dbm(s, s.by_name[up_end.port]) == -40.0
    if up_sw.vendor == "huawei":
        ent = s.by_name[up_end.port].ent_index
        assert snmpget(sc, up_sw.ip, f"{HW_RX}.{ent}") == {f"{HW_RX}.{ent}": ("INTEGER", "0")}
    clear_fault(fid)
    ips = township_ips(inv, "baodong")
    wait_for(lambda: answering(ips) == set(ips), what="all back after the repair")
    assert oper(sc, up_sw, idx) == "1"


def test_switch_down_takes_everything_behind_it(sim_inventory: Inventory) -> None:
    inv = sim_inventory
    sw = pick(inv, kind="switch", role="access", vendor="h3c", township="genghuang")
    fid, dead = _unreachable_after(inv, "genghuang", "switch_down", sw.id)
    assert dead == ({sw.id} | inv.topology.downstream(sw.id)) & _active(inv)
    clear_fault(fid)


def test_port_down_cuts_the_camera_on_it(sim_inventory: Inventory, sim_secrets: dict[str, Any]) -> None:
    inv = sim_inventory
    cam = pick(inv, kind="camera", vendor="hikvision", auth="cams-v3")
    sw = inv.devices[cam.uplink.switch]  # type: ignore[union-attr]
    fid, dead = _unreachable_after(inv, "baodong", "port_down", f"{sw.id}:{cam.uplink.port}")  # type: ignore[union-attr]
    assert dead == {cam.id}
    sc = sw_creds(sim_secrets, sw)
    assert oper(sc, sw, port_index(sc, sw, cam.uplink.port)) == "2"  # type: ignore[union-attr]
    clear_fault(fid)


def test_village_power_cut(sim_inventory: Inventory) -> None:
    inv = sim_inventory
    village = next(
        d.village
        for d in inv.active_devices()
        if d.township == "baodong" and d.kind == "switch" and d.village
    )
    in_village = {d.id for d in inv.active_devices() if d.village == village}
    expected = set(in_village)
    for d in in_village:
        expected |= inv.topology.downstream(d)
    fid, dead = _unreachable_after(inv, "baodong", "village_power_cut", village)
    assert dead == expected & _active(inv)
    clear_fault(fid)


def test_fiber_degrading_lowers_rx_power(
    sim_inventory: Inventory, sim_secrets: dict[str, Any], running_sim: Any
) -> None:
    inv = sim_inventory
    link_id = _fiber_link(inv, "baodong")
    link = inv.links[link_id]
    end = link.a
    sw = inv.devices[end.switch]
    sc = sw_creds(sim_secrets, sw)
    ent = running_sim.sim.world.switches[sw.id].by_name[end.port].ent_index

    def rx_uw() -> int:
        got = snmpget(sc, sw.ip, f"{HW_RX}.{ent}")
        assert got is not None
        return int(got[f"{HW_RX}.{ent}"][1])

    before = rx_uw()
    fid = add_fault("fiber_degrading", link_id, db_per_day=86400 * 2)  # 2 dB per second, to see it now
    wait_for(lambda: rx_uw() < before * 0.5, what="Rx power halves (-3 dB)")
    clear_fault(fid)
    wait_for(lambda: abs(rx_uw() - before) <= before * 0.05, what="Rx power restored")


def test_packet_loss_on_a_township(sim_inventory: Inventory) -> None:
    inv = sim_inventory
    cam = pick(inv, kind="camera", township="genghuang")
    other = pick(inv, kind="camera", township="baodong")
    fid = add_fault("packet_loss", "genghuang", percent=50)
    import icmplib

    host = icmplib.ping(cam.ip, count=40, interval=0.01, timeout=0.3, privileged=True)
    assert 0.2 <= host.packet_loss <= 0.8, host.packet_loss
    assert icmplib.ping(other.ip, count=20, interval=0.01, timeout=0.3, privileged=True).packet_loss == 0
    clear_fault(fid)
    assert icmplib.ping(cam.ip, count=20, interval=0.01, timeout=0.3, privileged=True).packet_loss == 0


def test_flapping_port_goes_down_and_up(sim_inventory: Inventory, sim_secrets: dict[str, Any]) -> None:
    inv = sim_inventory
    cam = pick(inv, kind="camera", vendor="hikvision", auth="cams-v3")
    sw = inv.devices[cam.uplink.switch]  # type: ignore[union-attr]
    sc = sw_creds(sim_secrets, sw)
    idx = port_index(sc, sw, cam.uplink.port)  # type: ignore[union-attr]
    add_fault("flapping", f"{sw.id}:{cam.uplink.port}", up_s=1, down_s=1)  # type: ignore[union-attr]
    seen: set[str] = set()

    def both() -> bool:
        seen.add(oper(sc, sw, idx))
        return seen == {"1", "2"}

    wait_for(both, interval=0.1, what="both states")


# ---------------------------------------------------------------- discovery faults


def test_camera_replaced_moved_and_rogue_show_in_fdb_and_lldp(
    sim_inventory: Inventory, sim_secrets: dict[str, Any]
) -> None:
    inv = sim_inventory
    cam = pick(inv, kind="camera", vendor="hikvision", auth="cams-v3")
    sw = inv.devices[cam.uplink.switch]  # type: ignore[union-attr]
    sc = sw_creds(sim_secrets, sw)
    c = cam_creds(sim_secrets, cam)
    new_mac = "02:5e:aa:bb:cc:01"
    fid = add_fault("camera_replaced", cam.id, mac=new_mac, serial="NEWSERIAL1")
    fdb = fdb_macs(sc, sw)
    assert new_mac in fdb and cam.mac not in fdb
    detail = api("GET", f"/api/devices/{cam.id}")[1]
    assert (detail["mac"], detail["serial"]) == (new_mac, "NEWSERIAL1")
    u = wait_for(lambda: uptime_s(c, cam.ip), what="replaced camera answers")  # new engine ID: rediscovered
    assert u is not None and u < 60
    clear_fault(fid)
    wait_for(lambda: cam.mac in fdb_macs(sc, sw), what="original MAC back")

    used = {d.uplink.port for d in inv.active_devices() if d.uplink and d.uplink.switch == sw.id}
    free = next(p.name for p in sw.ports if p.media == "copper" and p.name not in used)
    fid = add_fault("camera_moved", cam.id, port=free)
    base = column(snmpwalk(sc, sw.ip, "1.3.6.1.2.1.17.1.4.1.2"), "1.3.6.1.2.1.17.1.4.1.2")
    fdb = fdb_macs(sc, sw)
    assert base[fdb[cam.mac]] == port_index(sc, sw, free)
    assert oper(sc, sw, port_index(sc, sw, cam.uplink.port)) == "2"  # type: ignore[union-attr]
    assert pings(cam.ip)
    clear_fault(fid)

    rogue = "02:66:66:66:66:66"
    fid = add_fault("rogue_device", f"{sw.id}:{free}", mac=rogue)
    assert rogue in fdb_macs(sc, sw)
    clear_fault(fid)
    assert rogue not in fdb_macs(sc, sw)


# ---------------------------------------------------------------- API and scenario


def test_api_rejects_bad_input_naming_the_field(sim_inventory: Inventory) -> None:
    cases = [
        ({"type": "nope", "target": "x"}, "type"),
        ({"type": "fiber_cut"}, "target"),
        ({"type": "fiber_cut", "target": "fl-none"}, "target"),
        ({"type": "switch_down", "target": pick(sim_inventory, kind="camera").id}, "target"),
        ({"type": "packet_loss", "target": "baodong"}, "params.percent"),
        ({"type": "packet_loss", "target": "baodong", "params": {"percent": 500}}, "params.percent"),
        (
            {"type": "power_loss", "target": pick(sim_inventory, kind="camera").id, "duration": "soon"},
            "duration",
        ),
        ({"type": "power_loss", "target": "x", "colour": 1}, "colour"),
    ]
    for body, field in cases:
        status, reply = api("POST", "/api/faults", body)
        assert status == 400 and reply["field"] == field, (body, reply)
    assert api("DELETE", "/api/faults/f999")[0] == 404


def test_duration_expires_a_fault(sim_inventory: Inventory) -> None:
    cam = pick(sim_inventory, kind="camera", vendor="dahua")
    add_fault("power_loss", cam.id, duration="1s")
    wait_for(lambda: api("GET", "/api/faults")[1] == [] and pings(cam.ip), what="fault expired")


def test_cli_fault_commands(sim_inventory: Inventory, capsys: pytest.CaptureFixture[str]) -> None:
    from sharpeyes.simulator.cli import main
    from tests.simulator.simnet import CONTROL_HOST, CONTROL_PORT

    cam = pick(sim_inventory, kind="camera", vendor="uniview")
    ctl = ["fault", "--sim.url", f"http://{CONTROL_HOST}:{CONTROL_PORT}"]
    assert main([*ctl, "add", "power_loss", cam.id, "--duration", "5m"]) == 0
    fid = capsys.readouterr().out.split()[0]
    assert main([*ctl, "list"]) == 0 and cam.id in capsys.readouterr().out
    assert main([*ctl, "add", "packet_loss", "baodong", "--param", "percent=900"]) == 1
    assert "params.percent" in capsys.readouterr().err
    assert main([*ctl, "clear", fid]) == 0
    assert main([*ctl, "clear", "--all"]) == 0
    assert main(["fault", "--sim.url", "http://127.0.0.1:1", "list"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def test_cli_fault_list_and_types_in_three_shapes(sim_inventory: Inventory,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """JSON parses, CSV reads back to the same faults, the table has one row per fault."""
    import csv
    import io
    import json

    from sharpeyes.simulator.cli import FAULT_FIELDS, TYPE_FIELDS, main
    from tests.simulator.simnet import CONTROL_HOST, CONTROL_PORT

    ctl = ["fault", "--sim.url", f"http://{CONTROL_HOST}:{CONTROL_PORT}"]
    cam = pick(sim_inventory, kind="camera", vendor="uniview")
    assert main([*ctl, "add", "power_loss", cam.id, "--duration", "5m"]) == 0
    assert main([*ctl, "add", "packet_loss", "baodong", "--param", "percent=30"]) == 0
    capsys.readouterr()
    assert main([*ctl, "list", "--output", "json"]) == 0
    faults = json.loads(capsys.readouterr().out)
    assert sorted(f["target"] for f in faults) == sorted([cam.id, "baodong"])
    by_target = {f["target"]: f for f in faults}
    assert 0 < by_target[cam.id]["expires_in_s"] <= 300 and by_target["baodong"]["expires_in_s"] is None
    assert by_target["baodong"]["params"]["percent"] == 30
    assert main([*ctl, "list", "-o", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == list(FAULT_FIELDS)
    assert [(r["id"], r["type"], r["target"]) for r in rows] == [(f["id"], f["type"], f["target"]) for f in faults]
    assert {r["target"]: r["params"] for r in rows}["baodong"] == "percent=30"
    assert main([*ctl, "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [f.upper() for f in FAULT_FIELDS] and len(lines) == 3
    assert main([*ctl, "types", "-o", "json"]) == 0
    types = json.loads(capsys.readouterr().out)
    assert {"fiber_cut", "power_loss"} <= {t["type"] for t in types}
    assert main([*ctl, "types", "-o", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == list(TYPE_FIELDS) and [r["type"] for r in rows] == [t["type"] for t in types]


def test_scenario_runs_steps_in_time(sim_inventory: Inventory, running_sim: Any) -> None:
    from sharpeyes.simulator.scenario import ScenarioError, parse_scenario, run_scenario

    engine = running_sim.sim.engine
    cam = pick(sim_inventory, kind="camera", vendor="dahua")
    doc = [{"at": "0s", "fault": "power_loss", "target": cam.id, "name": "off"}, {"at": "1s", "clear": "off"}]
    steps = parse_scenario(doc, engine)
    for bad, msg in [
        ([{"at": "1s", "fault": "nope", "target": cam.id}], "step 1.fault"),
        ([{"fault": "power_loss", "target": cam.id}], "step 1.at"),
        ([{"at": "1s", "fault": "power_loss", "target": cam.id, "when": 1}], "unknown key"),
        ([{"at": "1s", "clear": "ghost"}], "step 1.clear"),
    ]:
        with pytest.raises(ScenarioError, match=msg.replace(".", r"\.")):
            parse_scenario(bad, engine)
    fut = running_sim.call(lambda: _spawn(run_scenario(steps, engine)))
    wait_for(lambda: not pings(cam.ip), what="scenario fault applied")
    wait_for(lambda: pings(cam.ip), what="scenario cleared it")
    del fut


async def _spawn(coro: Any) -> Any:
    import asyncio

    return asyncio.get_running_loop().create_task(coro)
