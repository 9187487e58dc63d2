"""MIB templates per device kind and vendor, in the shape of the real captures (shared/fixtures/snmp).

The STRUCTURE (OIDs, types, index schemes, units) follows the captures; values come from the live
network state (simulator.network). Shapes, by capture:
- Huawei S5720 (VRP): ifIndex 1–5 are InLoopBack0, NULL0, Console9/0/0, MEth0/0/1, Vlanif1, ports
  from 6; port entities 67436622 + 64·k (a second port type +32768), contained in board 67108873;
  entAliasMappingIdentifier.{ent}.1 -> ifIndex; hwOpticalModuleInfoTable (…2011.5.25.31.1.1.3.1)
  by entity: Rx/Tx power (.8/.9) in µW as the S5720 capture reports, thresholds in 0.01 dBm, -1 for
  ports without a module; LLDP local ports numbered 1..n; dot1dTpFdb.
- H3C Comware: ifIndex 1..n, hh3cTransceiverInfoTable (…25506.2.70.1.1.1) by ifIndex, powers in
  0.01 dBm, 2147483647 = no reading; entAliasMappingIdentifier.{ent}.0; dot1qTpFdb (VLAN 1).
- Hikvision camera: the vendor scalars 39165.1.{1,3,7,8,9,10,11,21,22} as strings.
- Dahua (NVR capture): 1004849.2.1.1.1.0 software version, .2.1.2.4.0 serial, .2.1.2.6.0 model.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..network import LOS_DBM, CameraRt, DeviceRt, PortRt, SwitchRt, mac_bytes
from ..traffic import Counter
from .ber import (
    COUNTER32,
    COUNTER64,
    GAUGE32,
    INTEGER,
    OBJECT_ID,
    OCTET_STRING,
    TIMETICKS,
    Value,
)
from .mib import MibTemplate, Node, Scalars, Table
from .usm import engine_id_for

MIB2 = (1, 3, 6, 1, 2, 1)
IF_INDEX_OID = (*MIB2, 2, 2, 1, 1)
PKT_SIZE = 1200  # average frame size of a video stream
H3C_ABSENT = 2147483647
HW_ABSENT = -1


def s(text: str) -> Value:
    return (OCTET_STRING, text.encode())


def i(n: int) -> Value:
    return (INTEGER, n)


def ticks(rt: DeviceRt) -> int:
    return int(rt.state.uptime_s() * 100) & 0xFFFFFFFF


def uptime_of(rt: DeviceRt, mono: float) -> int:
    """TimeTicks of sysUpTime at a monotonic instant (0 if before the last boot)."""
    return max(0, int((mono - rt.state.boot_monotonic) * 100)) & 0xFFFFFFFF


# ---------------------------------------------------------------- vendor identity

ENTERPRISE = {"huawei": 2011, "h3c": 25506, "hikvision": 39165, "dahua": 1004849, "uniview": 25506}


def engine_id(rt: DeviceRt) -> bytes:
    """snmpEngineID: format 3 (MAC) under the vendor's enterprise; a replaced device gets a new one."""
    return engine_id_for(ENTERPRISE.get(rt.dev.vendor, 8072), rt.state.mac)


def sys_descr(rt: DeviceRt) -> str:
    d = rt.dev
    if d.vendor == "huawei" and d.kind == "switch":
        return (
            f"{d.model}\nHuawei Versatile Routing Platform Software \r\n VRP (R) software,Version 5.170 "
            f"({d.model.split('-')[0]} {d.firmware}) \r\n Copyright (C) 2000-2021 HUAWEI TECH Co., Ltd."
        )
    if d.vendor == "h3c" and d.kind == "switch":
        return (
            f"H3C Comware Platform Software, Software Version 7.1.070, Release {d.firmware or '6327'}\r\n"
            f"H3C {d.model}\r\nCopyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved."
        )
    if d.vendor == "hikvision":
        return "Hikvision company products"
    if d.kind == "platform":
        return f"Linux {d.id} 4.19.90-2102.2.0.0062.oe1.x86_64 #1 SMP x86_64"
    return d.model


def sys_object_id(rt: DeviceRt) -> tuple[int, ...]:
    d = rt.dev
    ent = ENTERPRISE.get(d.vendor, 8072)
    model_no = sum(d.model.encode()) % 500 + 100
    if d.kind == "switch" and d.vendor == "huawei":
        return (1, 3, 6, 1, 4, 1, 2011, 2, 23, model_no)
    if d.kind == "switch":
        return (1, 3, 6, 1, 4, 1, 25506, 11, 1, model_no)
    if d.vendor == "hikvision":
        return (1, 3, 6, 1, 4, 1, 39165, 1)
    if d.vendor == "dahua":
        return (1, 3, 6, 1, 4, 1, 1004849, 3, 1, model_no)
    if d.kind == "platform" or ent == 8072:
        return (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)
    return (1, 3, 6, 1, 4, 1, ent, 1, model_no)


def system_nodes() -> list[Node]:
    return [
        Scalars(
            (*MIB2, 1),
            {
                (1, 0): lambda rt: s(sys_descr(rt)),
                (2, 0): lambda rt: (OBJECT_ID, sys_object_id(rt)),
                (3, 0): lambda rt: (TIMETICKS, ticks(rt)),
                (4, 0): lambda rt: s("sharpeyes-sim"),
                (5, 0): lambda rt: s(rt.dev.id),
                (6, 0): lambda rt: s(rt.dev.site),
                (7, 0): lambda rt: i(2 if rt.kind == "switch" else 72),
            },
        ),
        Scalars(
            (1, 3, 6, 1, 6, 3, 10, 2, 1),
            {  # SNMP-FRAMEWORK-MIB snmpEngine
                (1, 0): lambda rt: (OCTET_STRING, engine_id(rt)),
                (2, 0): lambda rt: i(rt.engine_boots()),
                (3, 0): lambda rt: i(int(rt.state.uptime_s())),
                (4, 0): lambda rt: i(65507),
            },
        ),
    ]


# ---------------------------------------------------------------- IF-MIB, generic over "interfaces"


class Iface:
    """What an ifTable row shows: a switch port, a virtual interface, or a camera's eth0."""

    __slots__ = ("admin_up", "if_type", "last_change", "mac", "name", "rx", "speed_mbps", "tx", "up")

    def __init__(
        self,
        name: str,
        if_type: int,
        speed_mbps: int,
        mac: bytes,
        rx: Counter | None,
        tx: Counter | None,
        up: bool = True,
    ) -> None:
        self.name = name
        self.if_type = if_type
        self.speed_mbps = speed_mbps
        self.mac = mac
        self.rx = rx
        self.tx = tx
        self.up = up
        self.admin_up = True
        self.last_change = 0.0


def _virtual(sw: SwitchRt) -> dict[int, Iface]:
    cached = getattr(sw, "_virtual", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    mac = mac_bytes(sw.dev.mac)
    out: dict[int, Iface] = {}
    if sw.dev.vendor == "huawei":
        for n, (name, t) in enumerate(
            (("InLoopBack0", 24), ("NULL0", 1), ("Console9/0/0", 1), ("MEth0/0/1", 6), ("Vlanif1", 136)), 1
        ):
            out[n] = Iface(
                name,
                t,
                0 if t != 6 else 100,
                mac if t in (6, 136) else b"",
                None,
                None,
                up=name != "MEth0/0/1",
            )
    else:
        n = len(sw.ports)
        for k, (name, t) in enumerate((("NULL0", 1), ("InLoopBack0", 24), ("Vlan-interface1", 136)), 1):
            out[n + k] = Iface(name, t, 0, mac if t == 136 else b"", None, None)
    sw._virtual = out  # type: ignore[attr-defined]
    sw._if_rows = sorted([*sw.if_rows, *((k,) for k in out)])  # type: ignore[attr-defined]
    return out


def _if_rows(rt: DeviceRt) -> list[tuple[int, ...]]:
    if isinstance(rt, SwitchRt):
        _virtual(rt)
        return rt._if_rows  # type: ignore[attr-defined,no-any-return]
    return [(1,)]


def _iface(rt: DeviceRt, idx: tuple[int, ...]) -> Iface | PortRt | None:
    if isinstance(rt, SwitchRt):
        p = rt.by_ifindex.get(idx[0])
        return p if p is not None else _virtual(rt).get(idx[0])
    if idx[0] != 1:
        return None
    return _camera_eth(rt)


def _camera_eth(rt: DeviceRt) -> Iface:
    eth = getattr(rt, "_eth", None)
    if eth is None:
        if isinstance(rt, CameraRt):
            eth = Iface("eth0", 6, 100, b"", rt.eth_rx, rt.eth_tx)
        else:
            eth = Iface("eth0", 6, 1000, b"", None, None)
        rt._eth = eth  # type: ignore[attr-defined]
    eth.mac = mac_bytes(rt.state.mac)
    eth.last_change = rt.state.boot_monotonic + 5
    return eth  # type: ignore[no-any-return]


def _octets(c: Counter | None, now: float) -> int:
    return c.value(now) if c is not None else 0


def _cell(
    fn: Callable[[DeviceRt, Iface | PortRt, float], Value],
) -> Callable[[DeviceRt, tuple[int, ...]], Value | None]:
    def get(rt: DeviceRt, idx: tuple[int, ...]) -> Value | None:
        f = _iface(rt, idx)
        return None if f is None else fn(rt, f, time.time())

    return get


def _type(f: Iface | PortRt) -> int:
    return f.if_type if isinstance(f, Iface) else 6


def _admin(f: Iface | PortRt) -> int:
    return 1 if isinstance(f, PortRt) or f.admin_up else 2


def _speed(f: Iface | PortRt) -> int:
    return f.speed_mbps


def if_nodes() -> list[Node]:
    c32 = 0xFFFFFFFF
    if_table: dict[int, Callable[[DeviceRt, tuple[int, ...]], Value | None]] = {
        1: lambda rt, idx: i(idx[0]) if _iface(rt, idx) else None,
        2: _cell(lambda rt, f, t: s(f.name)),
        3: _cell(lambda rt, f, t: i(_type(f))),
        4: _cell(lambda rt, f, t: i(1500)),
        5: _cell(lambda rt, f, t: (GAUGE32, min(_speed(f) * 1_000_000, c32))),
        6: _cell(lambda rt, f, t: (OCTET_STRING, f.mac)),
        7: _cell(lambda rt, f, t: i(_admin(f))),
        8: _cell(lambda rt, f, t: i(1 if f.up else 2)),
        9: _cell(lambda rt, f, t: (TIMETICKS, uptime_of(rt, f.last_change))),
        10: _cell(lambda rt, f, t: (COUNTER32, _octets(f.rx, t) & c32)),
        11: _cell(lambda rt, f, t: (COUNTER32, (_octets(f.rx, t) // PKT_SIZE) & c32)),
        13: _cell(lambda rt, f, t: (COUNTER32, 0)),
        14: _cell(lambda rt, f, t: (COUNTER32, 0)),
        16: _cell(lambda rt, f, t: (COUNTER32, _octets(f.tx, t) & c32)),
        17: _cell(lambda rt, f, t: (COUNTER32, (_octets(f.tx, t) // PKT_SIZE) & c32)),
        19: _cell(lambda rt, f, t: (COUNTER32, 0)),
        20: _cell(lambda rt, f, t: (COUNTER32, 0)),
    }
    if_x: dict[int, Callable[[DeviceRt, tuple[int, ...]], Value | None]] = {
        1: _cell(lambda rt, f, t: s(f.name)),
        2: _cell(lambda rt, f, t: (COUNTER32, 0)),
        3: _cell(lambda rt, f, t: (COUNTER32, 0)),
        4: _cell(lambda rt, f, t: (COUNTER32, 0)),
        5: _cell(lambda rt, f, t: (COUNTER32, 0)),
        6: _cell(lambda rt, f, t: (COUNTER64, _octets(f.rx, t))),
        7: _cell(lambda rt, f, t: (COUNTER64, _octets(f.rx, t) // PKT_SIZE)),
        8: _cell(lambda rt, f, t: (COUNTER64, 0)),
        9: _cell(lambda rt, f, t: (COUNTER64, 0)),
        10: _cell(lambda rt, f, t: (COUNTER64, _octets(f.tx, t))),
        11: _cell(lambda rt, f, t: (COUNTER64, _octets(f.tx, t) // PKT_SIZE)),
        12: _cell(lambda rt, f, t: (COUNTER64, 0)),
        13: _cell(lambda rt, f, t: (COUNTER64, 0)),
        14: _cell(lambda rt, f, t: i(1)),
        15: _cell(lambda rt, f, t: (GAUGE32, _speed(f))),
        16: _cell(lambda rt, f, t: i(2)),
        17: _cell(lambda rt, f, t: i(1 if _type(f) == 6 else 2)),
        18: _cell(lambda rt, f, t: s("")),
        19: _cell(lambda rt, f, t: (TIMETICKS, 0)),
    }
    return [
        Scalars((*MIB2, 2, 1), {(0,): lambda rt: i(len(_if_rows(rt)))}),
        Table((*MIB2, 2, 2, 1), _if_rows, if_table),
        Table((*MIB2, 31, 1, 1, 1), _if_rows, if_x),
    ]


# ---------------------------------------------------------------- ENTITY-MIB


def _entities(sw: SwitchRt) -> dict[int, tuple[str, int, int, int, str]]:
    """entPhysicalIndex -> (descr, containedIn, class, parentRelPos, name)."""
    cached = getattr(sw, "_entities", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    d = sw.dev
    if d.vendor == "huawei":
        chassis, board = 67108867, 67108873
    else:
        chassis, board = 1, 2
    out = {
        chassis: (f"{d.vendor.upper()} {d.model} Switch", 0, 3, -1, d.model),
        board: (f"{d.model} board", chassis, 9, 1, "Board 0"),
    }
    for n, p in enumerate(sw.ports, 1):
        out[p.ent_index] = ("Port", board, 10, n, p.name)
    sw._entities = out  # type: ignore[attr-defined]
    sw._ent_rows = sorted((k,) for k in out)  # type: ignore[attr-defined]
    logical = 1 if d.vendor == "huawei" else 0  # as in the captures: {ent}.1 (VRP), {ent}.0 (Comware)
    sw._alias_rows = sorted(  # type: ignore[attr-defined]
        (p.ent_index, logical) for p in sw.ports
    )
    return out


def _ent_rows(rt: SwitchRt) -> list[tuple[int, ...]]:
    _entities(rt)
    return rt._ent_rows  # type: ignore[attr-defined,no-any-return]


def _alias_rows(rt: SwitchRt) -> list[tuple[int, ...]]:
    _entities(rt)
    return rt._alias_rows  # type: ignore[attr-defined,no-any-return]


def _ent(
    col: Callable[[SwitchRt, int, tuple[str, int, int, int, str]], Value],
) -> Callable[[SwitchRt, tuple[int, ...]], Value | None]:
    def get(sw: SwitchRt, idx: tuple[int, ...]) -> Value | None:
        e = _entities(sw).get(idx[0])
        return None if e is None else col(sw, idx[0], e)

    return get


def entity_nodes() -> list[Node]:
    hw = lambda sw: sw.dev.vendor == "huawei"  # noqa: E731
    cols: dict[int, Callable[[SwitchRt, tuple[int, ...]], Value | None]] = {
        2: _ent(lambda sw, k, e: s(e[0])),
        3: _ent(
            lambda sw, k, e: (
                OBJECT_ID,
                (1, 3, 6, 1, 4, 1, 2011, 20021210, 14, 659461)
                if hw(sw)
                else (1, 3, 6, 1, 4, 1, 25506, 3, 1, 10, 4, 43),
            )
        ),
        4: _ent(lambda sw, k, e: i(e[1])),
        5: _ent(lambda sw, k, e: i(e[2])),
        6: _ent(lambda sw, k, e: i(e[3])),
        7: _ent(lambda sw, k, e: s(e[4])),
        8: _ent(lambda sw, k, e: s("")),
        9: _ent(lambda sw, k, e: s("")),
        10: _ent(lambda sw, k, e: s(sw.dev.firmware if e[2] == 3 else "")),
        11: _ent(lambda sw, k, e: s(sw.state.serial if e[2] == 3 else "")),
        12: _ent(lambda sw, k, e: s("HUAWEI" if hw(sw) else "H3C")),
        13: _ent(lambda sw, k, e: s(sw.dev.model if e[2] == 3 else "")),
        14: _ent(lambda sw, k, e: s("")),
        15: _ent(lambda sw, k, e: s("")),
        16: _ent(lambda sw, k, e: i(1 if e[2] in (3, 9) else 2)),
    }

    def alias(sw: SwitchRt, idx: tuple[int, ...]) -> Value | None:
        p = sw.by_ent.get(idx[0])
        return None if p is None else (OBJECT_ID, (*IF_INDEX_OID, p.if_index))

    return [
        Table((*MIB2, 47, 1, 1, 1, 1), _ent_rows, cols),
        Table((*MIB2, 47, 1, 3, 2, 1), _alias_rows, {2: alias}),
    ]


# ---------------------------------------------------------------- optics


def _rx(sw: SwitchRt, p: PortRt) -> float | None:
    if not sw.state.powered:
        return None
    return sw.world.rx_power_dbm(sw, p)


def _uw(dbm: float) -> int:
    return 0 if dbm <= LOS_DBM else round(10 ** (dbm / 10) * 1000)


def huawei_optics_node() -> Node:
    base = (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 3, 1)

    def port(sw: SwitchRt, idx: tuple[int, ...]) -> PortRt | None:
        return sw.by_ent.get(idx[0])

    def fiber(
        fn: Callable[[SwitchRt, PortRt], Value], absent: Value = (INTEGER, HW_ABSENT)
    ) -> Callable[[SwitchRt, tuple[int, ...]], Value | None]:
        def get(sw: SwitchRt, idx: tuple[int, ...]) -> Value | None:
            p = port(sw, idx)
            if p is None:
                return None
            return fn(sw, p) if p.media == "fiber" and p.link else absent

        return get

    def rx_uw(sw: SwitchRt, p: PortRt) -> Value:
        dbm = _rx(sw, p)
        return i(HW_ABSENT if dbm is None else _uw(dbm))

    def rx_str(sw: SwitchRt, p: PortRt) -> Value:
        dbm = _rx(sw, p)
        return s("" if dbm is None else f"{dbm * 100:.2f}")

    def rows(sw: SwitchRt) -> list[tuple[int, ...]]:
        return sorted((p.ent_index,) for p in sw.ports)

    def cached_rows(sw: SwitchRt) -> list[tuple[int, ...]]:
        r = getattr(sw, "_hw_opt_rows", None)
        if r is None:
            r = rows(sw)
            sw._hw_opt_rows = r  # type: ignore[attr-defined]
        return r  # type: ignore[no-any-return]

    cols: dict[int, Callable[[SwitchRt, tuple[int, ...]], Value | None]] = {
        1: fiber(lambda sw, p: i(5), i(5)),
        2: fiber(lambda sw, p: i(0), i(0)),
        3: fiber(lambda sw, p: i(0), i(0)),
        4: fiber(lambda sw, p: s(f"J267C{p.ent_index % 1000000:06d}"), s("")),
        5: fiber(lambda sw, p: i(39), i(-255)),
        6: fiber(lambda sw, p: i(3299)),
        7: fiber(lambda sw, p: i(5232)),
        8: fiber(rx_uw),
        9: fiber(lambda sw, p: i(_uw(p.tx_dbm) if sw.state.powered else HW_ABSENT)),
        13: fiber(lambda sw, p: i(-1269)),
        14: fiber(lambda sw, p: i(250)),
        15: fiber(lambda sw, p: i(-928)),
        16: fiber(lambda sw, p: i(99)),
        18: fiber(lambda sw, p: i(2), i(1)),
        24: fiber(lambda sw, p: s("HUAWEI"), s("")),
        25: fiber(lambda sw, p: s("02310MNW"), s("")),
        32: fiber(rx_str, s("")),
        33: fiber(lambda sw, p: s(f"{p.tx_dbm * 100:.2f}"), s("")),
    }
    return Table(base, cached_rows, cols)


def h3c_optics_node() -> Node:
    base = (1, 3, 6, 1, 4, 1, 25506, 2, 70, 1, 1, 1)

    def fiber(fn: Callable[[SwitchRt, PortRt], Value]) -> Callable[[SwitchRt, tuple[int, ...]], Value | None]:
        def get(sw: SwitchRt, idx: tuple[int, ...]) -> Value | None:
            p = sw.by_ifindex.get(idx[0])
            if p is None or p.media != "fiber":
                return None
            return fn(sw, p)

        return get

    def rx(sw: SwitchRt, p: PortRt) -> Value:
        dbm = _rx(sw, p)
        return i(H3C_ABSENT if dbm is None else round(dbm * 100))

    def kind(p: PortRt) -> str:
        return "10G_BASE_LR_SFP" if p.speed_mbps >= 10000 else "1000_BASE_LX_SFP"

    cols: dict[int, Callable[[SwitchRt, tuple[int, ...]], Value | None]] = {
        1: fiber(lambda sw, p: s("SM")),
        2: fiber(lambda sw, p: s(kind(p))),
        3: fiber(lambda sw, p: i(1310)),
        4: fiber(lambda sw, p: s("H3C")),
        5: fiber(lambda sw, p: s(f"CN2AFS{p.if_index:04d}")),
        6: fiber(lambda sw, p: i(1)),
        7: fiber(lambda sw, p: i(10000)),
        8: fiber(lambda sw, p: i(1)),
        9: fiber(lambda sw, p: i(round(p.tx_dbm * 100) if sw.state.powered and p.link else H3C_ABSENT)),
        10: fiber(lambda sw, p: i(-300)),
        11: fiber(lambda sw, p: i(-950)),
        12: fiber(rx),
        13: fiber(lambda sw, p: i(-300)),
        14: fiber(lambda sw, p: i(-2000)),
        15: fiber(lambda sw, p: i(31)),
        16: fiber(lambda sw, p: i(331)),
        17: fiber(lambda sw, p: i(999)),
    }
    return Table(base, lambda sw: sw.fiber_if_rows, cols)


# ---------------------------------------------------------------- LLDP, BRIDGE-MIB

LLDP = (1, 0, 8802, 1, 1, 2, 1)


def lldp_nodes() -> list[Node]:
    def loc(fn: Callable[[SwitchRt, PortRt], Value]) -> Callable[[SwitchRt, tuple[int, ...]], Value | None]:
        def get(sw: SwitchRt, idx: tuple[int, ...]) -> Value | None:
            p = sw.by_lldp.get(idx[0])
            return None if p is None else fn(sw, p)

        return get

    def rem_rows(sw: SwitchRt) -> list[tuple[int, ...]]:
        sw.world.refresh_l2(sw)
        return sw.lldp_rows

    def rem(
        fn: Callable[[DeviceRt | None, str, bytes], Value],
    ) -> Callable[[SwitchRt, tuple[int, ...]], Value | None]:
        def get(sw: SwitchRt, idx: tuple[int, ...]) -> Value | None:
            sw.world.refresh_l2(sw)
            peer = sw.lldp_peer.get(idx)
            return None if peer is None else fn(*peer)

        return get

    def port_id(peer: DeviceRt | None, port: str, mac: bytes) -> Value:
        return (OCTET_STRING, port.encode()) if port else (OCTET_STRING, mac)

    return [
        Scalars((*LLDP, 3, 1), {(0,): lambda sw: i(4)}),
        Scalars((*LLDP, 3, 2), {(0,): lambda sw: (OCTET_STRING, mac_bytes(sw.dev.mac))}),
        Scalars((*LLDP, 3, 3), {(0,): lambda sw: s(sw.dev.id)}),
        Table(
            (*LLDP, 3, 7, 1),
            lambda sw: sw.lldp_loc_rows,
            {
                2: loc(lambda sw, p: i(5)),
                3: loc(lambda sw, p: s(p.name)),
                4: loc(lambda sw, p: s(f"{p.name} Interface")),
            },
        ),
        Table(
            (*LLDP, 4, 1, 1),
            rem_rows,
            {
                4: rem(lambda peer, port, mac: i(4)),
                5: rem(lambda peer, port, mac: (OCTET_STRING, mac)),
                6: rem(lambda peer, port, mac: i(5 if port else 3)),
                7: rem(port_id),
                8: rem(lambda peer, port, mac: s(f"{port} Interface" if port else "eth0")),
                9: rem(lambda peer, port, mac: s(peer.dev.id if peer else "")),
                10: rem(lambda peer, port, mac: s(sys_descr(peer) if peer else "")),
                11: rem(lambda peer, port, mac: (OCTET_STRING, b"\x28" if port else b"\x01")),
                12: rem(lambda peer, port, mac: (OCTET_STRING, b"\x28" if port else b"\x01")),
            },
        ),
    ]


def bridge_nodes() -> list[Node]:
    b = (*MIB2, 17)

    def fdb_rows(sw: SwitchRt) -> list[tuple[int, ...]]:
        sw.world.refresh_l2(sw)
        return sw.fdb_rows

    def q_rows(sw: SwitchRt) -> list[tuple[int, ...]]:
        return [(1, *m) for m in fdb_rows(sw)]

    def fdb(
        fn: Callable[[tuple[int, ...], PortRt], Value], vlan: bool = False
    ) -> Callable[[SwitchRt, tuple[int, ...]], Value | None]:
        def get(sw: SwitchRt, idx: tuple[int, ...]) -> Value | None:
            sw.world.refresh_l2(sw)
            mac = idx[1:] if vlan else idx
            p = sw.world.fdb_port(sw, mac)
            return None if p is None else fn(mac, p)

        return get

    return [
        Scalars((*b, 1, 1), {(0,): lambda sw: (OCTET_STRING, mac_bytes(sw.dev.mac))}),
        Scalars((*b, 1, 2), {(0,): lambda sw: i(len(sw.ports))}),
        Scalars((*b, 1, 3), {(0,): lambda sw: i(2)}),
        Table(
            (*b, 1, 4, 1),
            lambda sw: sw.lldp_loc_rows,
            {
                1: lambda sw, idx: i(idx[0]) if idx[0] in sw.by_lldp else None,
                2: lambda sw, idx: i(sw.by_lldp[idx[0]].if_index) if idx[0] in sw.by_lldp else None,
            },
        ),
        Table(
            (*b, 4, 3, 1),
            fdb_rows,
            {
                1: fdb(lambda mac, p: (OCTET_STRING, bytes(mac))),
                2: fdb(lambda mac, p: i(p.lldp_num)),
                3: fdb(lambda mac, p: i(3)),
            },
        ),
        Table(
            (*b, 7, 1, 2, 2, 1),
            q_rows,
            {
                2: fdb(lambda mac, p: i(p.lldp_num), vlan=True),
                3: fdb(lambda mac, p: i(3), vlan=True),
            },
        ),
    ]


# ---------------------------------------------------------------- camera vendor objects


def hikvision_nodes() -> list[Node]:
    return [
        Scalars(
            (1, 3, 6, 1, 4, 1, 39165, 1),
            {
                (1, 0): lambda rt: s(rt.dev.model),
                (3, 0): lambda rt: s(rt.state.firmware or rt.dev.firmware),
                (7, 0): lambda rt: s(f"{12 + int(rt.state.uptime_s()) % 9} PERCENT"),
                (8, 0): lambda rt: s("0.0 GB"),
                (9, 0): lambda rt: s("0 PERCENT"),
                (10, 0): lambda rt: s("512 MB"),
                (11, 0): lambda rt: s("63 PERCENT"),
                (21, 0): lambda rt: s("H.264"),
                (22, 0): lambda rt: s("MJPEG"),
            },
        )
    ]


def dahua_nodes() -> list[Node]:
    return [
        Scalars(
            (1, 3, 6, 1, 4, 1, 1004849, 2, 1),
            {
                (1, 1, 0): lambda rt: s(rt.state.firmware or rt.dev.firmware),
                (2, 4, 0): lambda rt: s(rt.state.serial),
                (2, 6, 0): lambda rt: s(rt.dev.model),
            },
        )
    ]


# ---------------------------------------------------------------- templates

_TEMPLATES: dict[str, MibTemplate] = {}


def template_for(rt: DeviceRt) -> MibTemplate:
    d = rt.dev
    if d.kind == "switch":
        key = f"switch-{d.vendor}"
    elif d.kind == "camera" and d.vendor in ("hikvision", "dahua"):
        key = f"camera-{d.vendor}"
    else:
        key = "host"
    tpl = _TEMPLATES.get(key)
    if tpl is None:
        nodes = [*system_nodes(), *if_nodes()]
        if key.startswith("switch"):
            nodes += [*entity_nodes(), *lldp_nodes(), *bridge_nodes()]
            nodes.append(huawei_optics_node() if d.vendor == "huawei" else h3c_optics_node())
        elif key == "camera-hikvision":
            nodes += hikvision_nodes()
        elif key == "camera-dahua":
            nodes += dahua_nodes()
        tpl = _TEMPLATES[key] = MibTemplate(nodes)
    return tpl
