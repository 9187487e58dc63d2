"""The simulator's SNMP agent, read with the net-snmp command-line tools (an independent implementation)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sharpeyes.inventory.model import Device, Inventory
from tests.simulator.simnet import SnmpCreds, column, counter, snmpget, snmpget_error, snmpwalk, wait_for

SYS = "1.3.6.1.2.1.1"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT = "1.3.6.1.2.1.31.1.1.1.10"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"
IF_OPER = "1.3.6.1.2.1.2.2.1.8"
LLDP_REM_CHASSIS = "1.0.8802.1.1.2.1.4.1.1.5"
LLDP_REM_SYSNAME = "1.0.8802.1.1.2.1.4.1.1.9"
FDB_PORT = "1.3.6.1.2.1.17.4.3.1.2"
BASE_PORT_IFINDEX = "1.3.6.1.2.1.17.1.4.1.2"
ENT_ALIAS = "1.3.6.1.2.1.47.1.3.2.1.2"
HW_RX = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1.8"
HW_TX = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1.9"
H3C_TX = "1.3.6.1.4.1.25506.2.70.1.1.1.9"
H3C_RX = "1.3.6.1.4.1.25506.2.70.1.1.1.12"

pytestmark = pytest.mark.usefixtures("running_sim")


def creds(secrets: dict[str, Any], profile: str) -> SnmpCreds:
    s = secrets["auths"][profile]["snmp"]
    if s["version"] == 2:
        return SnmpCreds(2, community=s["community"])
    return SnmpCreds(3, user=s["username"], auth=s["auth_password"], priv=s["priv_password"])


def pick(inv: Inventory, **want: str) -> Device:
    township = want.pop("township", "baodong")
    for d in inv.active_devices():
        if d.township == township and all(getattr(d, k) == v for k, v in want.items()):
            return d
    raise LookupError(want)


def mac_hex(mac: str) -> str:
    return mac.replace(":", " ").upper()


def test_camera_v3_authpriv_system_group_and_hikvision_objects(
    sim_inventory: Inventory, sim_secrets: dict[str, Any]
) -> None:
    cam = pick(sim_inventory, kind="camera", vendor="hikvision", auth="cams-v3")
    c = creds(sim_secrets, "cams-v3")
    got = snmpget(
        c,
        cam.ip,
        f"{SYS}.1.0",
        f"{SYS}.2.0",
        f"{SYS}.3.0",
        f"{SYS}.5.0",
        "1.3.6.1.4.1.39165.1.1.0",
        "1.3.6.1.4.1.39165.1.3.0",
    )
    assert got is not None
    assert got[f"{SYS}.1.0"] == ("STRING", "Hikvision company products")
    assert got[f"{SYS}.2.0"][0] == "OID" and got[f"{SYS}.2.0"][1].startswith(".1.3.6.1.4.1.39165")
    assert got[f"{SYS}.5.0"] == ("STRING", cam.id)
    assert got["1.3.6.1.4.1.39165.1.1.0"] == ("STRING", cam.model)
    assert got["1.3.6.1.4.1.39165.1.3.0"] == ("STRING", cam.firmware)
    assert got[f"{SYS}.3.0"][0] == "Timeticks"
    # sysUpTime grows
    first = int(got[f"{SYS}.3.0"][1].split(")")[0].strip("("))
    later = wait_for(lambda: _ticks(c, cam.ip) > first and _ticks(c, cam.ip), what="uptime grows")
    assert later > first
    # its one interface, with its own MAC
    walk = snmpwalk(c, cam.ip, "1.3.6.1.2.1.2.2.1")
    assert column(walk, "1.3.6.1.2.1.2.2.1.2") == {"1": "eth0"}
    assert column(walk, "1.3.6.1.2.1.2.2.1.6")["1"].upper().strip() == mac_hex(cam.mac)


def _ticks(c: SnmpCreds, ip: str) -> int:
    got = snmpget(c, ip, f"{SYS}.3.0")
    assert got is not None
    return int(got[f"{SYS}.3.0"][1].split(")")[0].strip("("))


@pytest.mark.parametrize("vendor", ["hikvision", "dahua", "uniview"])
def test_legacy_cameras_answer_v2c(
    vendor: str, sim_inventory: Inventory, sim_secrets: dict[str, Any]
) -> None:
    cam = pick(sim_inventory, kind="camera", vendor=vendor, auth="cams-legacy")
    got = snmpget(creds(sim_secrets, "cams-legacy"), cam.ip, f"{SYS}.1.0", f"{SYS}.3.0", f"{SYS}.5.0")
    assert got is not None and got[f"{SYS}.5.0"] == ("STRING", cam.id)
    if vendor == "dahua":
        extra = snmpget(creds(sim_secrets, "cams-legacy"), cam.ip, "1.3.6.1.4.1.1004849.2.1.2.4.0")
        assert extra == {"1.3.6.1.4.1.1004849.2.1.2.4.0": ("STRING", cam.serial)}


def test_wrong_credentials_are_refused(sim_inventory: Inventory, sim_secrets: dict[str, Any]) -> None:
    cam = pick(sim_inventory, kind="camera", auth="cams-v3")
    good = creds(sim_secrets, "cams-v3")
    bad_key = SnmpCreds(3, user=good.user, auth=good.auth + "x", priv=good.priv)
    assert "Authentication failure" in snmpget_error(bad_key, cam.ip)
    unknown_user = SnmpCreds(3, user="nobody", auth=good.auth, priv=good.priv)
    assert "Unknown user name" in snmpget_error(unknown_user, cam.ip)
    legacy = pick(sim_inventory, kind="camera", auth="cams-legacy")
    assert "Timeout" in snmpget_error(SnmpCreds(2, community="public"), legacy.ip)
    # a v2c request to a v3-only device is dropped too
    assert "Timeout" in snmpget_error(creds(sim_secrets, "cams-legacy"), cam.ip)


def _switch_checks(sw: Device, c: SnmpCreds, inv: Inventory) -> dict[str, str]:
    names = column(snmpwalk(c, sw.ip, IF_NAME), IF_NAME)
    by_name = {v: k for k, v in names.items()}
    assert {p.name for p in sw.ports} <= set(by_name)
    oper = column(snmpwalk(c, sw.ip, IF_OPER), IF_OPER)
    speed = column(snmpwalk(c, sw.ip, IF_HIGH_SPEED), IF_HIGH_SPEED)
    cams = [d for d in inv.active_devices() if d.uplink and d.uplink.switch == sw.id]
    assert cams
    for cam in cams:
        idx = by_name[cam.uplink.port]  # type: ignore[union-attr]
        assert oper[idx] == "1", cam.id
        assert speed[idx] in ("100", "1000")
    # LLDP neighbours and FDB hold the cameras' MACs
    chassis = column(snmpwalk(c, sw.ip, LLDP_REM_CHASSIS), LLDP_REM_CHASSIS)
    assert {mac_hex(cam.mac) for cam in cams} <= {v.upper().strip() for v in chassis.values()}
    sysnames = set(column(snmpwalk(c, sw.ip, LLDP_REM_SYSNAME), LLDP_REM_SYSNAME).values())
    assert {cam.id for cam in cams} <= sysnames
    fdb = column(snmpwalk(c, sw.ip, FDB_PORT), FDB_PORT)
    base = column(snmpwalk(c, sw.ip, BASE_PORT_IFINDEX), BASE_PORT_IFINDEX)
    for cam in cams:
        key = ".".join(str(int(x, 16)) for x in cam.mac.split(":"))
        assert base[fdb[key]] == by_name[cam.uplink.port]  # type: ignore[union-attr]
    return by_name


def _uplink(inv: Inventory, sw: Device) -> tuple[str, Any]:
    link = inv.links[inv.topology.uplink_link[sw.id]]
    own = link.a if link.a.switch == sw.id else link.b
    return own.port, link


def _model_rx(sim: Any, switch: str, port: str) -> float:
    world = sim.sim.world
    s = world.switches[switch]
    return world.rx_power_dbm(s, s.by_name[port])  # type: ignore[no-any-return]


def test_huawei_switch_v3_interfaces_lldp_fdb_and_optics(
    sim_inventory: Inventory, sim_secrets: dict[str, Any], running_sim: Any
) -> None:
    sw = pick(sim_inventory, kind="switch", role="access", vendor="huawei")
    c = creds(sim_secrets, "switches-v3")
    by_name = _switch_checks(sw, c, sim_inventory)
    port, _link = _uplink(sim_inventory, sw)
    alias = column(snmpwalk(c, sw.ip, ENT_ALIAS), ENT_ALIAS)
    ent = next(
        k.split(".")[0] for k, v in alias.items() if v.endswith(f".1.3.6.1.2.1.2.2.1.1.{by_name[port]}")
    )
    got = snmpget(c, sw.ip, f"{HW_RX}.{ent}", f"{HW_TX}.{ent}")
    assert got is not None
    rx_uw = int(got[f"{HW_RX}.{ent}"][1])
    model = _model_rx(running_sim, sw.id, port)
    assert rx_uw > 0 and math.isclose(10 * math.log10(rx_uw / 1000), model, abs_tol=0.2)
    assert int(got[f"{HW_TX}.{ent}"][1]) > 0
    # a copper port's entity reads -1 (no module), as on the real S5720
    copper = next(p.name for p in sw.ports if p.media == "copper")
    cent = next(k.split(".")[0] for k, v in alias.items() if v.endswith(f".2.2.1.1.{by_name[copper]}"))
    assert snmpget(c, sw.ip, f"{HW_RX}.{cent}") == {f"{HW_RX}.{cent}": ("INTEGER", "-1")}


def test_h3c_switch_v2c_interfaces_lldp_fdb_and_optics(
    sim_inventory: Inventory, sim_secrets: dict[str, Any], running_sim: Any
) -> None:
    sw = pick(sim_inventory, kind="switch", role="access", vendor="h3c", township="genghuang")
    c = creds(sim_secrets, "switches-v2c")
    by_name = _switch_checks(sw, c, sim_inventory)
    port, _link = _uplink(sim_inventory, sw)
    idx = by_name[port]
    got = snmpget(c, sw.ip, f"{H3C_RX}.{idx}", f"{H3C_TX}.{idx}")
    assert got is not None
    assert math.isclose(
        int(got[f"{H3C_RX}.{idx}"][1]) / 100, _model_rx(running_sim, sw.id, port), abs_tol=0.2
    )
    assert -1000 < int(got[f"{H3C_TX}.{idx}"][1]) < 0
    unused = [p.name for p in sw.ports if p.media == "fiber" and p.name != port]
    if unused:
        empty = snmpget(c, sw.ip, f"{H3C_RX}.{by_name[unused[0]]}")
        assert empty == {f"{H3C_RX}.{by_name[unused[0]]}": ("INTEGER", "2147483647")}


@pytest.mark.parametrize(
    "vendor,profile,township", [("huawei", "switches-v3", "baodong"), ("h3c", "switches-v2c", "genghuang")]
)
def test_port_counters_grow_at_the_camera_bitrate(
    vendor: str,
    profile: str,
    township: str,
    sim_inventory: Inventory,
    sim_secrets: dict[str, Any],
    running_sim: Any,
) -> None:
    sw = pick(sim_inventory, kind="switch", role="access", vendor=vendor, township=township)
    c = creds(sim_secrets, profile)
    names = column(snmpwalk(c, sw.ip, IF_NAME), IF_NAME)
    cam = next(d for d in sim_inventory.active_devices() if d.uplink and d.uplink.switch == sw.id)
    idx = next(k for k, v in names.items() if v == cam.uplink.port)  # type: ignore[union-attr]
    oid = f"{IF_HC_IN}.{idx}"
    t0, v0 = counter(c, sw.ip, oid)

    def later() -> tuple[float, int] | None:
        r = counter(c, sw.ip, oid)
        return r if r[0] - t0 >= 3.0 else None

    t1, v1 = wait_for(later, what="3 s later")  # type: ignore[misc]
    rate = (v1 - v0) / (t1 - t0)
    model = running_sim.sim.world.cameras[cam.id].expected_rate()
    assert model > (cam.bitrate_kbps + 512) * 125 * 0.6
    assert math.isclose(rate, model, rel_tol=0.10), (rate, model)
