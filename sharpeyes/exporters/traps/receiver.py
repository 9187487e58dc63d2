"""The trap receiver inside the exporter: UDP in, guarded, mapped, confirmed by a probe, alerted.

Pipeline per datagram (every step bounded; nothing here raises out of the event loop):

1. source: the sender's address must be an inventory device of this exporter's shard, else the
   datagram is counted (``unknown_source`` / ``foreign_source``) and dropped before decoding;
2. a token bucket per source and a bounded queue take a storm (a reboot's hundreds of traps);
3. decode with the exporter's BER codec, authenticate against the device's own ``auths:`` profile
   (v2c community; v3 USM with the sender's engine id); answer v2c informs;
4. linkDown/linkUp: ifIndex -> port name (the snmp_switch prober's walk cache, else one GET of
   ifName) -> the inventory's port (camera or fiber link); unknown ports are counted, never alerted;
5. per (switch, port) one worker at a time: wait ``confirm_delay`` (a sub-second blip never becomes
   an alert), probe the switch through the exporter's prober table, and only when the probe shows the
   port down post the rule's alert (alerts.py) with endsAt ``alert_ttl`` ahead, refreshed every
   ``refresh`` seconds while the probe still shows it down; a confirmed recovery posts endsAt = now.
   A port with another transition inside ``flap_window`` is flapping: the rules raise that, once.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge
from prometheus_client.parser import text_string_to_metric_families

from sharpeyes.exporters.probers.base import PortInfo
from sharpeyes.exporters.snmp import ber, v3
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.traps import pdu
from sharpeyes.exporters.traps.alerts import AlertmanagerClient, ahead, link_down_labels, now, port_down_labels
from sharpeyes.inventory.model import Device

log = logging.getLogger("sharpeyes.exporter.traps")

RESULTS = ("accepted", "unknown_source", "foreign_source", "rate_limited", "queue_full", "malformed",
           "unsupported", "bad_community", "auth_failure", "unknown_port")
CONFIRMATIONS = ("confirmed", "refreshed", "recovered", "not_confirmed", "flapping", "probe_failed")
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"


@dataclass(frozen=True, slots=True)
class TrapSettings:
    listen: tuple[str, int]
    alertmanagers: tuple[str, ...] = ()
    confirm_delay: float = 3.0
    alert_ttl: float = 180.0
    refresh: float = 30.0
    flap_window: float = 600.0
    rate: float = 20.0  # traps per second per source, sustained
    burst: float = 200.0
    queue: int = 1024
    log_interval: float = 60.0


class TrapMetrics:
    def __init__(self, registry: Any) -> None:
        self.received = Counter("sharpeyes_traps_received", "SNMP notifications received, by result "
                                "(accepted, or why one was dropped).", ["result"], registry=registry)
        self.notifications = Counter("sharpeyes_traps_notifications", "Accepted notifications by trap "
                                     "(linkDown, linkUp, coldStart, warmStart, other).", ["trap"],
                                     registry=registry)
        self.informs = Counter("sharpeyes_traps_informs_answered", "InformRequests answered with a Response.",
                               registry=registry)
        self.confirmations = Counter("sharpeyes_traps_confirmations", "Confirmation probes after a trap, "
                                     "by outcome.", ["result"], registry=registry)
        self.posted = Counter("sharpeyes_traps_alertmanager_posts", "POSTs of confirmed alerts to "
                              "Alertmanager, by result.", ["result"], registry=registry)
        self.active = Gauge("sharpeyes_traps_alerts_active", "Trap-confirmed alerts being kept firing.",
                            registry=registry)
        for r in RESULTS:
            self.received.labels(r)
        for r in CONFIRMATIONS:
            self.confirmations.labels(r)
        for r in ("success", "failure"):
            self.posted.labels(r)


@dataclass(slots=True)
class _PortState:
    switch: str
    port: PortInfo
    transitions: deque[float] = field(default_factory=lambda: deque(maxlen=64))  # state changes only
    last_trap: str = ""
    pending: bool = False
    active: bool = False
    started: Any = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: TrapReceiver) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.owner.on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("trap socket error: %s", exc)


class TrapReceiver:
    def __init__(self, exporter: Any, settings: TrapSettings) -> None:
        self.exporter = exporter
        self.s = settings
        self.metrics = TrapMetrics(exporter.metrics.registry)
        self.am = AlertmanagerClient(settings.alertmanagers, self.metrics.posted)
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int], Device]] = asyncio.Queue(settings.queue)
        self.ports: dict[tuple[str, str], _PortState] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self._logged: dict[tuple[str, str], float] = {}
        self._by_ip: tuple[int, dict[str, Device]] = (0, {})
        self._names: dict[tuple[str, int], str] = {}  # (switch, ifIndex) -> ifName learnt by a GET
        self._switch_probes: dict[str, tuple[float, asyncio.Future[dict[str, bool] | None]]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._worker: asyncio.Task[None] | None = None
        self.address: tuple[str, int] | None = None

    # ----------------------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        host, port = self.s.listen
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=(host, port))
        self._transport = transport
        self.address = transport.get_extra_info("sockname")[:2]
        self._worker = asyncio.ensure_future(self._work())
        log.info("receiving SNMP traps on %s:%d", *self.address)

    async def close(self) -> None:
        tasks = [t for t in (self._worker, *(st.task for st in self.ports.values()),
                             *(f for _, f in self._switch_probes.values())) if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._transport is not None:
            self._transport.close()
        await self.am.close()

    # ----------------------------------------------------------------------------- intake
    def _devices_by_ip(self) -> dict[str, Device]:
        inv = self.exporter.snapshot.inventory
        if self._by_ip[0] != id(inv):
            self._by_ip = (id(inv), {d.ip: d for d in inv.inventory.devices.values() if d.ip})
        return self._by_ip[1]

    def _count(self, result: str, source: str, detail: str = "") -> None:
        self.metrics.received.labels(result).inc()
        if result == "accepted":
            return
        t = time.monotonic()
        key = (source, result)
        if t - self._logged.get(key, -1e9) >= self.s.log_interval:
            if len(self._logged) > 10_000:
                self._logged.clear()
            self._logged[key] = t
            log.warning("trap from %s dropped: %s%s (logged once per %gs per source)", source, result,
                        f" ({detail})" if detail else "", self.s.log_interval)

    def _allow(self, source: str) -> bool:
        t = time.monotonic()
        tokens, last = self._buckets.get(source, (self.s.burst, t))
        tokens = min(self.s.burst, tokens + (t - last) * self.s.rate)
        if tokens < 1:
            self._buckets[source] = (tokens, t)
            return False
        self._buckets[source] = (tokens - 1, t)
        return True

    def on_datagram(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        source = str(addr[0])
        dev = self._devices_by_ip().get(source)
        if dev is None:
            return self._count("unknown_source", source)
        if not self.exporter.snapshot.inventory.owns(dev):
            return self._count("foreign_source", source, dev.id)
        if not self._allow(source):
            return self._count("rate_limited", source, dev.id)
        try:
            self.queue.put_nowait((data, (source, int(addr[1])), dev))
        except asyncio.QueueFull:
            self._count("queue_full", source, dev.id)

    async def _work(self) -> None:
        while True:
            data, addr, dev = await self.queue.get()
            try:
                await self.handle(data, addr, dev)
            except Exception:  # a bug here must not stop the receiver
                log.exception("trap from %s (%s) crashed the handler", addr[0], dev.id)

    # ----------------------------------------------------------------------------- decoding
    def _auth_for(self, dev: Device) -> SnmpAuth | None:
        snap = self.exporter.snapshot
        module = next((m for m in snap.config.modules.values()
                       if m.prober in ("snmp_switch", "snmp_camera") and dev.kind in m.kinds), None)
        name = dev.auth or (module.auth if module is not None else "")
        profile = snap.config.auths.get(name) if name else None
        auth = profile.section("snmp") if profile is not None else None
        return auth if isinstance(auth, SnmpAuth) else None

    def decode(self, data: bytes, dev: Device) -> tuple[str, pdu.Notification | None, str]:
        """(result, notification, detail): result is 'accepted' or why the datagram is dropped."""
        auth = self._auth_for(dev)
        try:
            version = pdu.version_of(data)
            if version == 1:
                note = pdu.decode_v2c(data)
                if auth is None or auth.version != 2 or not hmac.compare_digest(
                        note.community, auth.community.encode("utf-8")):
                    return "bad_community", None, dev.id
                return "accepted", note, ""
            if version == 3:
                engine_id, user, _ = pdu.peek_v3(data)
                if auth is None or auth.version != 3 or not hmac.compare_digest(user, auth.username.encode()):
                    return "auth_failure", None, f"{dev.id}: unknown user"
                return "accepted", pdu.decode_v3(data, auth, engine_id), ""
            return "unsupported", None, f"{dev.id}: SNMP version field {version}"
        except pdu.Unsupported as exc:
            return "unsupported", None, f"{dev.id}: {exc}"
        except v3.UsmError as exc:
            return "auth_failure", None, f"{dev.id}: {exc}"
        except ber.BerError as exc:
            return "malformed", None, f"{dev.id}: {exc}"

    async def handle(self, data: bytes, addr: tuple[str, int], dev: Device) -> str:
        result, note, detail = self.decode(data, dev)
        if note is None:
            self._count(result, addr[0], detail)
            return result
        if note.pdu_type == pdu.INFORM and self._transport is not None:
            self._transport.sendto(pdu.inform_response_v2c(note), addr)
            self.metrics.informs.inc()
        if note.name in ("coldStart", "warmStart"):  # a reboot may renumber ifIndex
            for key in [k for k in self._names if k[0] == dev.id]:
                del self._names[key]
        if note.name in ("linkDown", "linkUp"):
            port = await self._port_of(dev, note.if_index())
            if port is None:
                self._count("unknown_port", addr[0], f"{dev.id} ifIndex {note.if_index()}")
                return "unknown_port"
            if self._labels(port):  # a port no alert is about (an uplink to a switch, a spare) is not probed
                self._transition(dev.id, port, note.name)
        self._count("accepted", addr[0])
        self.metrics.notifications.labels(note.name).inc()
        return "accepted"

    async def _port_of(self, dev: Device, if_index: int | None) -> PortInfo | None:
        if if_index is None or if_index <= 0:
            return None
        ports = self.exporter.snapshot.inventory.ports.get(dev.id, ())
        key = (dev.id, if_index)
        name = self._cached_name(dev.id, if_index) or self._names.get(key) or await self._get_name(dev, if_index)
        if not name:
            return None
        if len(self._names) > 100_000:
            self._names.clear()
        self._names[key] = name
        folded = name.casefold()
        return next((p for p in ports if p.name.casefold() == folded), None)

    def _cached_name(self, switch_id: str, if_index: int) -> str:
        entry = self.exporter.probers.get("snmp_switch") if "snmp_switch" in self.exporter.probers else None
        cache = getattr(getattr(entry, "probe", None), "cache", {})
        state = cache.get(switch_id)
        # the prober's last walk: inventory port name -> ifIndex (absent before the first scrape)
        found: dict[str, int] = getattr(getattr(state, "ports", None), "found", None) or {}
        return next((n for n, i in found.items() if i == if_index), "")

    async def _get_name(self, dev: Device, if_index: int) -> str:
        """ifName.<ifIndex> in one GET, with the module's auth and port (before the first scrape)."""
        from sharpeyes.exporters.snmp.client import default_client
        from sharpeyes.exporters.snmp.probing import address_of, auth_of, settings_of

        resolved = self._resolve(dev.id)
        if resolved is None:
            return ""
        target, module = resolved
        settings = settings_of(module)
        oid = f"{IF_NAME}.{if_index}"
        try:
            values = await default_client().get(address_of(target, settings), auth_of(target, settings),
                                                [oid], 2.0, 1)
        except Exception as exc:  # a device that does not answer is data, not a crash
            log.debug("ifName.%d of %s: %s", if_index, dev.id, exc)
            return ""
        value = values.get(oid)
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""

    def _resolve(self, switch_id: str) -> tuple[Any, Any] | None:
        """(Target with its auth, probers.base.Module) of a switch for the snmp_switch module."""
        from sharpeyes.exporters.app import BadRequest

        snap = self.exporter.snapshot
        module = next((m for m in snap.config.modules.values() if m.prober == "snmp_switch"), None)
        if module is None:
            return None
        try:
            target, problem = self.exporter.resolve(snap, module, self.exporter.probers[module.prober],
                                                    switch_id, "")
        except BadRequest:
            return None
        if problem:
            return None
        return target, snap.modules[module.name]

    # ----------------------------------------------------------------------------- confirmation
    def _transition(self, switch_id: str, port: PortInfo, trap: str) -> None:
        key = (switch_id, port.name)
        st = self.ports.get(key)
        if st is None:
            st = self.ports[key] = _PortState(switch_id, port)
        st.port = port
        if trap != st.last_trap:  # a repeated linkDown (a retransmission, a storm) is not a change
            st.transitions.append(time.monotonic())
            st.last_trap = trap
        st.pending = True
        st.wake.set()
        if st.task is None:  # at most one confirmation in flight per port; later traps coalesce
            st.task = asyncio.ensure_future(self._run(st))

    async def _run(self, st: _PortState) -> None:
        try:
            while st.pending or st.active:
                if st.pending:
                    st.pending = False
                    st.wake.clear()
                    await asyncio.sleep(self.s.confirm_delay)
                else:
                    try:
                        await asyncio.wait_for(st.wake.wait(), self.s.refresh)
                        continue  # a new trap: confirm it after the delay
                    except TimeoutError:
                        pass
                up = await self.probe_port(st.switch, st.port.name)
                await self._act(st, up)
        finally:
            st.task = None

    def _flapping(self, st: _PortState) -> bool:
        horizon = time.monotonic() - self.s.flap_window
        return sum(1 for t in st.transitions if t >= horizon) >= 2

    async def _act(self, st: _PortState, up: bool | None) -> None:
        if up is None:
            self.metrics.confirmations.labels("probe_failed").inc()
            return
        labels = self._labels(st.port)
        if not up:
            if not st.active and self._flapping(st):
                self.metrics.confirmations.labels("flapping").inc()
                return
            result = "refreshed" if st.active else "confirmed"
            if not st.active:
                st.started = now()
            if labels and await self.am.post([self.am.alert(lb, st.started, ahead(self.s.alert_ttl))
                                              for lb in labels]):
                st.active = True
                self.metrics.confirmations.labels(result).inc()
        elif st.active:
            await self.am.post([self.am.alert(lb, st.started, now()) for lb in labels])
            st.active = False
            self.metrics.confirmations.labels("recovered").inc()
        else:
            self.metrics.confirmations.labels("not_confirmed").inc()
        self.metrics.active.set(sum(1 for s in self.ports.values() if s.active))

    def _labels(self, port: PortInfo) -> list[dict[str, str]]:
        inv = self.exporter.snapshot.inventory.inventory
        found = [port_down_labels(inv, port) if port.device else None,
                 link_down_labels(inv, port.link) if port.link else None]
        return [lb for lb in found if lb is not None]

    async def probe_port(self, switch_id: str, port_name: str) -> bool | None:
        """The port's ifOperStatus through the exporter's own snmp_switch module (None: no answer).

        One probe per switch serves every port worker that asks within a second: a rebooting switch's
        linkUp for each of its 48 ports costs one probe, not 48."""
        loop = asyncio.get_running_loop()
        shared = self._switch_probes.get(switch_id)
        if shared is None or loop.time() - shared[0] > 1.0:
            shared = (loop.time(), asyncio.ensure_future(self._probe_switch(switch_id)))
            self._switch_probes[switch_id] = shared
        states = await asyncio.shield(shared[1])
        return states.get(port_name) if states is not None else None

    async def _probe_switch(self, switch_id: str) -> dict[str, bool] | None:
        from sharpeyes.exporters.app import BadRequest

        exp = self.exporter
        snap = exp.snapshot
        module = next((m for m in snap.config.modules.values() if m.prober == "snmp_switch"), None)
        if module is None:
            return None
        entry = exp.probers[module.prober]
        try:
            target, problem = exp.resolve(snap, module, entry, switch_id, "")
        except BadRequest:
            return None
        text = await exp.run_probe(snap, module, entry, target, module.timeout, problem)
        states = {}
        for family in text_string_to_metric_families(text):
            if family.name == "sharpeyes_port_up":
                for sample in family.samples:
                    states[sample.labels.get("port", "")] = sample.value == 1
        return states or None
