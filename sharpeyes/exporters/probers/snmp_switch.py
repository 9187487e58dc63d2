"""snmp_switch: per-port traffic, errors, state and optics for the ports the inventory knows.

Hot path: ONE GET (split into packets of <= 30 varbinds by the transport) of sysUpTime plus the
needed columns for the inventory's ports only. What interpreting those values needs — the device's
family (sysObjectID, sysDescr), its optical unit, the port name -> ifIndex map, the vendor's
entity -> port map — is learnt once per switch and cached. The cache entry belongs to one module
object (a config or inventory reload builds new ones) and one (address, auth, vendor, model,
ports) target; it is learnt again when sysUpTime goes backwards (reboot: ifIndex may be
renumbered) or when an inventory port is missing (at most every ``rewalk_interval`` seconds).
Whole tables are never walked on the hot path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass

from sharpeyes.contract import (
    OPTICAL_RX_POWER_DBM,
    OPTICAL_TX_POWER_DBM,
    PORT_ADMIN_UP,
    PORT_RECEIVE_BYTES,
    PORT_TRANSMIT_BYTES,
    PORT_UP,
    UPTIME_SECONDS,
)
from sharpeyes.exporters.probers.base import MetricWriter, Module, PortInfo, ProbeError, Target
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.client import default_client
from sharpeyes.exporters.snmp.family import (
    CENTI_DBM,
    UW,
    detect_family,
    huawei_unit_of_release,
)
from sharpeyes.exporters.snmp.ifmib import (
    IF_ADMIN_STATUS,
    IF_ALIAS,
    IF_DESCR,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_HIGH_SPEED,
    IF_IN_DISCARDS,
    IF_IN_ERRORS,
    IF_IN_OCTETS,
    IF_NAME,
    IF_OPER_STATUS,
    IF_OUT_DISCARDS,
    IF_OUT_ERRORS,
    IF_OUT_OCTETS,
    IF_SPEED,
    STATUS_UP,
    SYS_DESCR,
    SYS_OBJECT_ID,
    SYS_UPTIME,
    NameTable,
    Resolution,
    index_of,
    resolve,
)
from sharpeyes.exporters.snmp.optics import (
    ENT_ALIAS_MAPPING,
    ENT_PHYSICAL_NAME,
    Optics,
    Rows,
    last_arc,
    optics_for,
    parse_alias_mapping,
)
from sharpeyes.exporters.snmp.probing import SnmpSettings, address_of, auth_of, probe_errors, settings_of, text
from sharpeyes.exporters.snmp.transport import Addr, SnmpTransport, Value

log = logging.getLogger(__name__)

__all__ = ["COLUMNS", "COLUMNS_32", "IF_NAME", "SYS_UPTIME", "SnmpSwitchProber", "probe"]

COLUMNS = (
    IF_OPER_STATUS,
    IF_ADMIN_STATUS,
    IF_HIGH_SPEED,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_IN_ERRORS,
    IF_OUT_ERRORS,
    IF_IN_DISCARDS,
    IF_OUT_DISCARDS,
)
# Agents without ifXTable: ifSpeed (bit/s) and the 32-bit octet counters instead.
# RFC 2863: an interface faster than ifSpeed can say reports 2^32-1 there and its real speed only
# in ifHighSpeed; without ifXTable its speed is unknown, not 537 MB/s (ZTE 10G ports do this).
IF_SPEED_SATURATED = 4294967295
COLUMNS_32 = (
    IF_OPER_STATUS,
    IF_ADMIN_STATUS,
    IF_SPEED,
    IF_IN_OCTETS,
    IF_OUT_OCTETS,
    IF_IN_ERRORS,
    IF_OUT_ERRORS,
    IF_IN_DISCARDS,
    IF_OUT_DISCARDS,
)
RX_BYTES = (PORT_RECEIVE_BYTES, "Bytes received on the port (ifHCInOctets, else ifInOctets).")
TX_BYTES = (PORT_TRANSMIT_BYTES, "Bytes sent on the port (ifHCOutOctets, else ifOutOctets).")
COUNTERS = (
    (IF_HC_IN_OCTETS, *RX_BYTES),
    (IF_HC_OUT_OCTETS, *TX_BYTES),
    (IF_IN_OCTETS, *RX_BYTES),
    (IF_OUT_OCTETS, *TX_BYTES),
    (IF_IN_ERRORS, "sharpeyes_port_receive_errors_total", "Inbound packets with errors (ifInErrors)."),
    (IF_OUT_ERRORS, "sharpeyes_port_transmit_errors_total", "Outbound packets with errors (ifOutErrors)."),
    (IF_IN_DISCARDS, "sharpeyes_port_receive_discards_total", "Inbound packets discarded (ifInDiscards)."),
    (
        IF_OUT_DISCARDS,
        "sharpeyes_port_transmit_discards_total",
        "Outbound packets discarded (ifOutDiscards).",
    ),
)
MAX_WALK_ROWS = 20_000  # a switch with more interfaces or entities than this is not a switch we probe
MAX_TIMETICKS = 2**32 - 1


@dataclass(slots=True)
class _SwitchState:
    """What was learnt about one switch; valid while its key holds and sysUpTime keeps growing."""

    key: tuple[object, ...]
    module: Module
    ports: Resolution
    hc: bool  # the agent answers ifXTable (64-bit counters, ifHighSpeed)
    optics: Optics
    uptime: int
    walked_at: float

    def resolve(self, name: str) -> int | None:
        return self.ports.found.get(name)


class SnmpSwitchProber:
    """A Prober (see base.py) holding the per-switch cache; ``probe`` below is the default."""

    def __init__(
        self, transport: SnmpTransport | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.cache: dict[str, _SwitchState] = {}

    async def retain(self, device_ids: Container[str], addresses: Container[str]) -> int:
        """Forget the walked state of switches no longer in the inventory."""
        gone = [k for k in self.cache if k not in device_ids]
        for k in gone:
            del self.cache[k]
        return len(gone)

    async def __call__(self, target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
        settings = settings_of(module)
        auth = auth_of(target, settings)
        addr = address_of(target, settings)
        with probe_errors():
            state, values = await self._collect(target, module, settings, addr, auth, timeout)
        uptime = values.get(SYS_UPTIME)
        if isinstance(uptime, int):
            out.gauge(UPTIME_SECONDS, "Time since the SNMP agent (re)started.", uptime / 100)
        _emit_switch(out, state, _unreadable_optics(state, target))
        for port in target.ports:
            if_index = state.resolve(port.name)
            if if_index is not None:
                _emit_port(out, port, if_index, values, state.optics)
        # a switch none of whose inventory ports exist is not being monitored: not a success
        return bool(state.ports.found) or not target.ports

    async def _collect(
        self, target: Target, module: Module, settings: SnmpSettings, addr: Addr, auth: SnmpAuth, timeout: float
    ) -> tuple[_SwitchState, dict[str, Value]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        transport = self.transport or default_client()
        key = (addr, auth, target.vendor, target.model, target.ports)

        def left() -> float:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ProbeError("timeout", "probe time budget spent")
            return remaining

        state = self.cache.get(target.id)
        if state is not None and (state.key != key or state.module is not module):
            state = None  # reloaded, or the target / module settings changed: relearn everything
        if state is not None:
            values = await transport.get(addr, auth, [SYS_UPTIME, *_oids(state, target)], left(), settings.retries)
            uptime = _uptime(values.get(SYS_UPTIME))
            if not self._stale(state, uptime, target, settings):
                state.uptime = uptime if uptime is not None else state.uptime
                return state, values
        system = await transport.get(addr, auth, [SYS_UPTIME, SYS_OBJECT_ID, SYS_DESCR], left(), settings.retries)
        uptime = _uptime(system.get(SYS_UPTIME))
        previous = self.cache.get(target.id)
        state = await self._learn(transport, target, module, settings, addr, auth, system, left)
        state.key = key
        state.uptime = uptime or 0
        self.cache[target.id] = state
        if previous is None or previous.module is not module or previous.ports != state.ports:
            _log_resolution(target, state)
        oids = _oids(state, target)
        values = await transport.get(addr, auth, oids, left(), settings.retries) if oids else {}
        values[SYS_UPTIME] = system.get(SYS_UPTIME)
        return state, values

    def _stale(self, state: _SwitchState, uptime: int | None, target: Target, settings: SnmpSettings) -> bool:
        if uptime is not None and uptime < state.uptime:
            return True  # rebooted: ifIndex may have been renumbered
        missing = bool(state.ports.unresolved or state.ports.ambiguous)
        return missing and self.clock() - state.walked_at >= settings.rewalk_interval

    async def _learn(
        self,
        transport: SnmpTransport,
        target: Target,
        module: Module,
        settings: SnmpSettings,
        addr: Addr,
        auth: SnmpAuth,
        system: Mapping[str, Value],
        left: Callable[[], float],
    ) -> _SwitchState:
        walked: dict[str, Rows] = {}  # a column walked for the names is not walked again for the optics

        async def walk(root: str) -> Rows:
            if root not in walked:
                rows = await transport.walk(addr, auth, root, left(), settings.retries)
                if len(rows) > MAX_WALK_ROWS:
                    raise ProbeError("malformed", f"walk of {root} returned over {MAX_WALK_ROWS} rows")
                walked[root] = rows
            return walked[root]

        async def entity_names() -> dict[int, str]:
            ports_of = parse_alias_mapping(await walk(ENT_ALIAS_MAPPING))
            if not ports_of:
                return {}
            names = {last_arc(o): text(v) for o, v in await walk(ENT_PHYSICAL_NAME) if isinstance(v, bytes)}
            return {i: names[ent] for i, ent in ports_of.items() if names.get(ent)}

        names = [p.name for p in target.ports]
        by_name = _names(await walk(IF_NAME), IF_NAME)
        hc = bool(by_name)
        tables = [NameTable.of(by_name)]
        ports = resolve(names, tables)
        for column in ("descr", "entity", "alias"):
            if not (ports.unresolved or ports.ambiguous):
                break
            if column == "entity":
                tables.append(NameTable.of(await entity_names()))
            else:
                root = IF_DESCR if column == "descr" else IF_ALIAS
                tables.append(NameTable.of(_names(await walk(root), root), first_word=column == "descr"))
            ports = resolve(names, tables)
        descr = text(system.get(SYS_DESCR))
        family = detect_family(system.get(SYS_OBJECT_ID), descr, target.vendor)
        optics = _optics(family, settings, target.model, descr)
        state = _SwitchState((), module, ports, hc, optics, 0, self.clock())
        if optics.discovery and any(p.media == "fiber" and state.resolve(p.name) for p in target.ports):
            optics.learn({root: await walk(root) for root in optics.discovery})
        return state


def _optics(family: str, settings: SnmpSettings, model: str, descr: str) -> Optics:
    """The Huawei unit: per-model override, module setting, else learnt (release, then µW, as fallback)."""
    for name, unit in settings.huawei_optical_unit_by_model:
        if name.casefold() == model.casefold() or name.casefold() in descr.casefold():
            return optics_for(family, unit, source="model")
    if settings.huawei_optical_unit in (UW, CENTI_DBM):
        return optics_for(family, settings.huawei_optical_unit, source="setting")
    release = huawei_unit_of_release(descr)
    return optics_for(family, None, release or UW, "release" if release else "default")


def _names(rows: Rows, root: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for oid, value in rows:
        i = index_of(oid, root)
        if i is None:
            raise ProbeError("malformed", f"walk of {root} returned the row {oid[:80]}")
        if isinstance(value, bytes):
            out[i] = text(value)
    return out


def _uptime(value: Value) -> int | None:
    if value is None or not isinstance(value, int):
        return None
    if not 0 <= value <= MAX_TIMETICKS:
        raise ProbeError("malformed", f"sysUpTime {str(value)[:30]} is not a TimeTicks value")
    return value


def _oids(state: _SwitchState, target: Target) -> list[str]:
    oids: list[str] = []
    fiber: list[int] = []
    columns = COLUMNS if state.hc else COLUMNS_32
    for port in target.ports:
        i = state.resolve(port.name)
        if i is None:
            continue
        oids += [f"{col}.{i}" for col in columns]
        if port.media == "fiber":
            fiber.append(i)
    return oids + state.optics.oids(fiber) if fiber else oids


def _unreadable_optics(state: _SwitchState, target: Target) -> list[str]:
    """Fiber ports found on the switch whose optical power the exporter has no way to read."""
    out = []
    for port in target.ports:
        i = state.resolve(port.name) if port.media == "fiber" else None
        if i is not None and not state.optics.readable(i):
            out.append(port.name)
    return out


def _log_resolution(target: Target, state: _SwitchState) -> None:
    unreadable = _unreadable_optics(state, target)
    if unreadable:
        why = (
            f"optics of the {state.optics.family} family are not interpreted"
            if state.optics.source == "unsupported"
            else "no optical sensor or row ties to the port"
        )
        log.warning(
            "switch %s: optical power of %d fiber port(s) cannot be read (%s): %s",
            target.id, len(unreadable), why, ", ".join(unreadable[:20]),
        )
    ports = state.ports
    if ports.unresolved:
        log.warning(
            "switch %s: %d inventory port(s) not found by ifName, ifDescr or ifAlias: %s",
            target.id, len(ports.unresolved), ", ".join(ports.unresolved[:20]),
        )
    if ports.ambiguous:
        log.warning(
            "switch %s: %d inventory port(s) match several interfaces, not probed: %s",
            target.id, len(ports.ambiguous),
            ", ".join(f"{n} (ifIndex {'/'.join(map(str, ix))})" for n, ix in list(ports.ambiguous.items())[:20]),
        )


def _emit_switch(out: MetricWriter, state: _SwitchState, unreadable: list[str]) -> None:
    out.gauge(
        "sharpeyes_switch_unresolved_ports",
        "Inventory ports of this switch found by neither ifName, ifDescr nor ifAlias.",
        len(state.ports.unresolved),
    )
    out.gauge(
        "sharpeyes_switch_ambiguous_ports",
        "Inventory ports of this switch whose name matches several interfaces (not probed).",
        len(state.ports.ambiguous),
    )
    out.gauge(
        "sharpeyes_switch_optics_unreadable_ports",
        "Fiber ports of this switch whose optical power cannot be read (vendor optics not interpreted, "
        "or no sensor or row for the port).",
        len(unreadable),
    )
    out.gauge(
        "sharpeyes_switch_optics_info",
        "How optical readings are decoded: vendor family, unit, and what decided the unit.",
        1,
        {"family": state.optics.family, "unit": state.optics.unit, "source": state.optics.source},
    )


def _emit_port(
    out: MetricWriter, port: PortInfo, if_index: int, values: Mapping[str, Value], optics: Optics
) -> None:
    labels = {
        "port": port.name,
        "if_index": str(if_index),
        "port_device": port.device,
        "port_link": port.link,
    }
    oper = values.get(f"{IF_OPER_STATUS}.{if_index}")
    if isinstance(oper, int):
        out.gauge(
            PORT_UP,
            "1 if the port is operationally up (ifOperStatus).",
            int(oper == STATUS_UP),
            labels,
        )
    admin = values.get(f"{IF_ADMIN_STATUS}.{if_index}")
    if isinstance(admin, int):
        out.gauge(
            PORT_ADMIN_UP,
            "1 if the port is administratively up (ifAdminStatus); 0 = shut down on purpose.",
            int(admin == STATUS_UP),
            labels,
        )
    speed = values.get(f"{IF_HIGH_SPEED}.{if_index}")
    speed_32 = values.get(f"{IF_SPEED}.{if_index}")
    if isinstance(speed, int):
        out.gauge(
            "sharpeyes_port_speed_bytes", "Port speed in bytes/s (ifHighSpeed, else ifSpeed).", speed * 125_000, labels
        )
    elif isinstance(speed_32, int) and speed_32 != IF_SPEED_SATURATED:
        out.gauge(
            "sharpeyes_port_speed_bytes", "Port speed in bytes/s (ifHighSpeed, else ifSpeed).", speed_32 / 8, labels
        )
    for column, name, help_ in COUNTERS:
        value = values.get(f"{column}.{if_index}")
        if isinstance(value, int):
            out.counter(name, help_, value, labels)
    if port.media != "fiber":
        return
    rx, tx = optics.read(if_index, values)
    if rx is not None:
        out.gauge(
            OPTICAL_RX_POWER_DBM, "Optical receive power of the port's transceiver.", rx, labels
        )
    if tx is not None:
        out.gauge(
            OPTICAL_TX_POWER_DBM, "Optical transmit power of the port's transceiver.", tx, labels
        )


probe = SnmpSwitchProber()
