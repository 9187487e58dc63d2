"""snmp_switch: per-port traffic, errors, state and optics for the ports the inventory knows.

Hot path: ONE GET (split into packets of <= 30 varbinds by the transport) of sysUpTime plus the
needed columns for the inventory's ports only. The ifName -> ifIndex map (and the vendor's
entity -> port map for optics) is learnt by walking once per switch and cached; it is walked
again when sysUpTime goes backwards (reboot: ifIndex may be renumbered) or when an inventory
port is missing from it (at most every ``rewalk_interval`` seconds). Whole tables are never
walked on the hot path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from exporters.probers.base import MetricWriter, Module, PortInfo, ProbeError, Target
from exporters.snmp.auth import SnmpAuth
from exporters.snmp.client import default_client
from exporters.snmp.optics import Optics, Rows, optics_for
from exporters.snmp.probing import SnmpSettings, address_of, auth_of, probe_errors, settings_of, text
from exporters.snmp.transport import Addr, SnmpTransport, Value

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
IF_OUT_ERRORS = "1.3.6.1.2.1.2.2.1.20"
IF_IN_DISCARDS = "1.3.6.1.2.1.2.2.1.13"
IF_OUT_DISCARDS = "1.3.6.1.2.1.2.2.1.19"
COLUMNS = (
    IF_OPER_STATUS,
    IF_HIGH_SPEED,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_IN_ERRORS,
    IF_OUT_ERRORS,
    IF_IN_DISCARDS,
    IF_OUT_DISCARDS,
)
COUNTERS = (
    (IF_HC_IN_OCTETS, "sharpeyes_port_receive_bytes_total", "Bytes received on the port (ifHCInOctets)."),
    (IF_HC_OUT_OCTETS, "sharpeyes_port_transmit_bytes_total", "Bytes sent on the port (ifHCOutOctets)."),
    (IF_IN_ERRORS, "sharpeyes_port_receive_errors_total", "Inbound packets with errors (ifInErrors)."),
    (IF_OUT_ERRORS, "sharpeyes_port_transmit_errors_total", "Outbound packets with errors (ifOutErrors)."),
    (IF_IN_DISCARDS, "sharpeyes_port_receive_discards_total", "Inbound packets discarded (ifInDiscards)."),
    (
        IF_OUT_DISCARDS,
        "sharpeyes_port_transmit_discards_total",
        "Outbound packets discarded (ifOutDiscards).",
    ),
)
IF_UP = 1


@dataclass(slots=True)
class _SwitchState:
    """What was learnt about one switch by walking; valid while sysUpTime keeps growing."""

    addr: Addr
    auth: SnmpAuth
    vendor: str
    if_index: dict[str, int]  # ifName -> ifIndex
    folded: dict[str, int]  # casefolded ifName -> ifIndex
    optics: Optics
    uptime: int
    walked_at: float

    def resolve(self, name: str) -> int | None:
        found = self.if_index.get(name)
        return found if found is not None else self.folded.get(name.casefold())


class SnmpSwitchProber:
    """A Prober (see base.py) holding the per-switch walk cache; ``probe`` below is the default."""

    def __init__(
        self, transport: SnmpTransport | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.cache: dict[str, _SwitchState] = {}

    async def __call__(self, target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
        settings = settings_of(module)
        auth = auth_of(target, settings)
        addr = address_of(target, settings)
        with probe_errors():
            state, values = await self._collect(target, settings, addr, auth, timeout)
        uptime = values.get(SYS_UPTIME)
        if isinstance(uptime, int):
            out.gauge("sharpeyes_uptime_seconds", "Time since the SNMP agent (re)started.", uptime / 100)
        for port in target.ports:
            if_index = state.resolve(port.name)
            if if_index is not None:
                _emit_port(out, port, if_index, values, state.optics)
        return True

    async def _collect(
        self, target: Target, settings: SnmpSettings, addr: Addr, auth: SnmpAuth, timeout: float
    ) -> tuple[_SwitchState, dict[str, Value]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        transport = self.transport or default_client()
        vendor = target.vendor.lower()

        def left() -> float:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ProbeError("timeout", "probe time budget spent")
            return remaining

        state = self.cache.get(target.id)
        if state is not None and (state.addr, state.auth, state.vendor) != (addr, auth, vendor):
            state = None
        uptime: Value = None
        if state is not None:
            values = await transport.get(
                addr, auth, [SYS_UPTIME, *_oids(state, target)], left(), settings.retries
            )
            uptime = values[SYS_UPTIME]
            if not self._stale(state, uptime, target, settings):
                state.uptime = uptime if isinstance(uptime, int) else state.uptime
                return state, values
        else:
            uptime = (await transport.get(addr, auth, [SYS_UPTIME], left(), settings.retries))[SYS_UPTIME]
        state = await self._learn(transport, target, settings, addr, auth, vendor, left)
        state.uptime = uptime if isinstance(uptime, int) else 0
        self.cache[target.id] = state
        oids = _oids(state, target)
        values = await transport.get(addr, auth, oids, left(), settings.retries) if oids else {}
        values[SYS_UPTIME] = uptime
        return state, values

    def _stale(self, state: _SwitchState, uptime: Value, target: Target, settings: SnmpSettings) -> bool:
        if isinstance(uptime, int) and uptime < state.uptime:
            return True  # rebooted: ifIndex may have been renumbered
        missing = any(state.resolve(p.name) is None for p in target.ports)
        return missing and self.clock() - state.walked_at >= settings.rewalk_interval

    async def _learn(
        self,
        transport: SnmpTransport,
        target: Target,
        settings: SnmpSettings,
        addr: Addr,
        auth: SnmpAuth,
        vendor: str,
        left: Callable[[], float],
    ) -> _SwitchState:
        rows = await transport.walk(addr, auth, IF_NAME, left(), settings.retries)
        cut = len(IF_NAME) + 1
        if_index = {text(v): int(o[cut:]) for o, v in rows if isinstance(v, bytes) and "." not in o[cut:]}
        folded = {name.casefold(): i for name, i in if_index.items()}
        optics = optics_for(vendor, settings.huawei_optical_unit)
        state = _SwitchState(addr, auth, vendor, if_index, folded, optics, 0, self.clock())
        if optics.discovery and any(p.media == "fiber" and state.resolve(p.name) for p in target.ports):
            walked: dict[str, Rows] = {}
            for root in optics.discovery:
                walked[root] = await transport.walk(addr, auth, root, left(), settings.retries)
            optics.learn(walked)
        return state


def _oids(state: _SwitchState, target: Target) -> list[str]:
    oids: list[str] = []
    fiber: list[int] = []
    for port in target.ports:
        i = state.resolve(port.name)
        if i is None:
            continue
        oids += [f"{col}.{i}" for col in COLUMNS]
        if port.media == "fiber":
            fiber.append(i)
    return oids + state.optics.oids(fiber) if fiber else oids


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
            "sharpeyes_port_up",
            "1 if the port is operationally up (ifOperStatus).",
            int(oper == IF_UP),
            labels,
        )
    speed = values.get(f"{IF_HIGH_SPEED}.{if_index}")
    if isinstance(speed, int):
        out.gauge(
            "sharpeyes_port_speed_bytes", "Port speed in bytes/s (ifHighSpeed).", speed * 125_000, labels
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
            "sharpeyes_optical_rx_power_dbm", "Optical receive power of the port's transceiver.", rx, labels
        )
    if tx is not None:
        out.gauge(
            "sharpeyes_optical_tx_power_dbm", "Optical transmit power of the port's transceiver.", tx, labels
        )


probe = SnmpSwitchProber()
