"""The simulated network at run time: ports, links, who is reachable, what crosses each port.

Built once from the inventory; :meth:`World.apply` takes the fault engine's :class:`Levels` (what is
wrong right now) and derives everything the protocols show, in one place so that they agree:
power and reboots (DeviceState), port oper status, reachability along the topology, the nftables
sets, the octet counters' rates, LLDP neighbours and FDB entries. Optical power is computed on read.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sharpeyes.inventory.model import Device, Inventory

from .state import DeviceState
from .traffic import REVERSE_SHARE, STALLED_SHARE, Counter, RateModel

LOS_DBM = -40.0


def _unit(key: str) -> float:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") / 2**64


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", "").replace("-", "")) if mac else b"\x00" * 6


def port_speed_mbps(name: str) -> int:
    low = name.lower()
    if low.startswith(("xgigabit", "ten-gigabit", "tengigabit")):
        return 10000
    if low.startswith(("fastethernet", "ethernet")):
        return 100
    return 1000


@dataclass(slots=True)
class Levels:
    """What the active faults add up to at one moment (computed by the fault engine)."""

    power_off: set[str] = field(default_factory=set)
    hung: set[str] = field(default_factory=set)
    stalled: set[str] = field(default_factory=set)
    clock_offset: dict[str, float] = field(default_factory=dict)
    creds_broken: set[str] = field(default_factory=set)
    ports_down: set[tuple[str, str]] = field(default_factory=set)
    links_cut: set[str] = field(default_factory=set)
    degrade: dict[str, tuple[float, float]] = field(default_factory=dict)  # link -> (t0, dB/day)
    loss: dict[str, int] = field(default_factory=dict)  # device -> percent
    replaced: dict[str, tuple[str, str]] = field(default_factory=dict)  # camera -> (mac, serial)
    moved: dict[str, tuple[str, str]] = field(default_factory=dict)  # device -> (switch, port)
    rogue: dict[tuple[str, str], str] = field(default_factory=dict)  # (switch, port) -> mac
    image: dict[str, tuple[str, int]] = field(default_factory=dict)  # camera -> (image fault, severity)
    # recorder faults (simulator/recorders): kind -> {device: parameter}
    recorder: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class PortRt:
    name: str
    media: str
    if_index: int
    ent_index: int
    lldp_num: int
    speed_mbps: int
    mac: bytes
    link: str = ""  # fiber link id on this port
    up: bool = False
    rx: Counter = field(default_factory=lambda: Counter(time.time()))
    tx: Counter = field(default_factory=lambda: Counter(time.time()))
    tx_dbm: float = -3.0
    last_change: float = 0.0  # monotonic time of the last oper-status change (ifLastChange)


class DeviceRt:
    """A device at run time; ``state`` is the DeviceState shared with ONVIF/RTSP."""

    kind = "host"

    def __init__(self, world: World, dev: Device, state: DeviceState) -> None:
        self.world = world
        self.dev = dev
        self.state = state
        self.boots = 1 + int(_unit(dev.id + "boots") * 20)
        self.last_boot = state.boot_monotonic
        self.original_mac = state.mac
        self.original_serial = state.serial
        self.reachable = True

    def engine_boots(self) -> int:
        if self.state.boot_monotonic != self.last_boot:
            self.last_boot = self.state.boot_monotonic
            self.boots += 1
        return self.boots


class CameraRt(DeviceRt):
    kind = "camera"

    def __init__(self, world: World, dev: Device, state: DeviceState, now: float) -> None:
        super().__init__(world, dev, state)
        self.model = RateModel(dev.id, dev.bitrate_kbps or 4096)
        uptime = state.uptime_s()
        self.eth_tx = Counter(now, self.model.mean * uptime)  # camera -> network
        self.eth_rx = Counter(now, self.model.mean * uptime * REVERSE_SHARE)
        self.eth_last_change = state.boot_monotonic
        self.factor = 0.0

    def expected_rate(self, t: float | None = None) -> float:
        """Bytes/s the camera sends at time ``t`` with no fault (the model the tests check against)."""
        return self.model.rate(time.time() if t is None else t)


class SwitchRt(DeviceRt):
    kind = "switch"

    def __init__(self, world: World, dev: Device, state: DeviceState, now: float) -> None:
        super().__init__(world, dev, state)
        self.ports: list[PortRt] = []
        self.by_name: dict[str, PortRt] = {}
        self.by_ifindex: dict[int, PortRt] = {}
        self.by_ent: dict[int, PortRt] = {}
        self.by_lldp: dict[int, PortRt] = {}
        self.uplink_port = ""  # own port towards the parent
        self._build_ports(now)
        self.if_rows = sorted((p.if_index,) for p in self.ports)
        self.fiber_if_rows = sorted((p.if_index,) for p in self.ports if p.media == "fiber")
        self.fiber_ent_rows = sorted((p.ent_index,) for p in self.ports if p.media == "fiber")
        self.lldp_loc_rows = sorted((p.lldp_num,) for p in self.ports)
        self._cache_gen = -1
        self._fdb: dict[tuple[int, ...], PortRt] = {}
        self.fdb_rows: list[tuple[int, ...]] = []
        self.lldp_rows: list[tuple[int, ...]] = []
        self.lldp_peer: dict[tuple[int, ...], tuple[DeviceRt | None, str, bytes]] = {}

    def _build_ports(self, now: float) -> None:
        dev = self.dev
        base_mac = int.from_bytes(mac_bytes(dev.mac), "big")
        huawei = dev.vendor == "huawei"
        groups: dict[str, int] = {}
        counts: dict[str, int] = {}
        uptime = self.state.uptime_s()
        for i, port in enumerate(dev.ports):
            kind = port.name.rstrip("0123456789/.")
            group = groups.setdefault(kind, len(groups))
            k = counts.get(kind, 0)
            counts[kind] = k + 1
            if huawei:
                if_index = 6 + i  # 1 InLoopBack0, 2 NULL0, 3 Console9/0/0, 4 MEth0/0/1, 5 Vlanif1
                ent = 67436622 + 32768 * group + 64 * k
            else:
                if_index = 1 + i
                ent = 100 + i
            mac = (base_mac + 1 + i).to_bytes(6, "big") if huawei else mac_bytes(dev.mac)
            p = PortRt(port.name, port.media, if_index, ent, i + 1, port_speed_mbps(port.name), mac)
            p.rx = Counter(now)
            p.tx = Counter(now)
            p.tx_dbm = round(-2.0 - 3.5 * _unit(f"{dev.id}:{port.name}:tx"), 2)
            p.last_change = self.state.boot_monotonic + 60 * _unit(f"{dev.id}:{port.name}:lc")
            self.ports.append(p)
            self.by_name[p.name] = p
            self.by_ifindex[p.if_index] = p
            self.by_ent[p.ent_index] = p
            self.by_lldp[p.lldp_num] = p
        del uptime


class World:
    """Every active device of the inventory, and the derived network state."""

    def __init__(self, inv: Inventory, states: dict[str, DeviceState]) -> None:
        now = time.time()
        self.inv = inv
        self.topo = inv.topology
        self.devices: dict[str, DeviceRt] = {}
        self.by_ip: dict[str, DeviceRt] = {}
        for dev in inv.active_devices():
            state = states[dev.id]
            rt: DeviceRt
            if dev.kind == "camera":
                rt = CameraRt(self, dev, state, now)
            elif dev.kind == "switch":
                rt = SwitchRt(self, dev, state, now)
            else:
                rt = DeviceRt(self, dev, state)
            self.devices[dev.id] = rt
            self.by_ip[dev.ip] = rt
        self.switches = {k: v for k, v in self.devices.items() if isinstance(v, SwitchRt)}
        self.cameras = {k: v for k, v in self.devices.items() if isinstance(v, CameraRt)}
        self.links = {
            lid: link
            for lid, link in inv.links.items()
            if link.active and link.a.switch in self.switches and link.b.switch in self.switches
        }
        for lid, link in self.links.items():
            for end in (link.a, link.b):
                port = self.switches[end.switch].by_name.get(end.port)
                if port is not None:
                    port.link = lid
            child = self.topo.link_child.get(lid)
            if child in self.switches:
                near = link.a if link.a.switch == child else link.b
                self.switches[child].uplink_port = near.port
        self.levels = Levels()
        self.generation = 0
        self.dead: set[str] = set()
        self.hung: set[str] = set()
        self.lossy: dict[str, int] = {}
        self.attach: dict[str, tuple[str, str]] = {}
        self.on_port: dict[tuple[str, str], list[str]] = {}
        self._seed_counters(now)
        self.apply(Levels(), now)

    # ------------------------------------------------------------ helpers
    def _seed_counters(self, now: float) -> None:
        """Start switch counters where a switch up for its uptime would be (looks like a real one)."""
        self._attachments()
        for cam in self.cameras.values():
            sw, port = self.attach[cam.dev.id]
            s = self.switches.get(sw)
            p = s.by_name.get(port) if s else None
            if s is not None and p is not None:
                up = s.state.uptime_s()
                p.rx.acc += cam.model.mean * up
                p.tx.acc += cam.model.mean * up * REVERSE_SHARE

    def _attachments(self) -> None:
        self.attach = {}
        self.on_port = {}
        for rt in self.devices.values():
            dev = rt.dev
            if dev.uplink is None or rt.kind == "switch":
                continue
            where = self.levels.moved.get(dev.id, (dev.uplink.switch, dev.uplink.port))
            self.attach[dev.id] = where
            self.on_port.setdefault(where, []).append(dev.id)

    def far_end(self, switch: str, port: PortRt) -> tuple[SwitchRt, PortRt] | None:
        link = self.links.get(port.link) if port.link else None
        if link is None or link.id in self.levels.links_cut:
            return None
        far = link.b if (link.a.switch, link.a.port) == (switch, port.name) else link.a
        s = self.switches.get(far.switch)
        p = s.by_name.get(far.port) if s else None
        return (s, p) if s is not None and p is not None else None

    def parent_port(self, device_id: str) -> tuple[SwitchRt, PortRt] | None:
        """The switch port this device hangs off right now (moved devices: the new port)."""
        rt = self.devices[device_id]
        if rt.kind == "switch":
            up = rt.dev.uplink
            where = (up.switch, up.port) if up else None
        else:
            where = self.attach.get(device_id)
        if where is None:
            return None
        s = self.switches.get(where[0])
        p = s.by_name.get(where[1]) if s else None
        return (s, p) if s is not None and p is not None else None

    def path(self, device_id: str) -> list[tuple[SwitchRt, PortRt, PortRt | None]]:
        """[(switch, port facing the device, switch's own uplink port or None)…] up to the core."""
        out: list[tuple[SwitchRt, PortRt, PortRt | None]] = []
        cur = device_id
        seen = {cur}
        while True:
            hop = self.parent_port(cur)
            if hop is None:
                return out
            s, p = hop
            up = s.by_name.get(s.uplink_port) if s.uplink_port else None
            out.append((s, p, up))
            if s.dev.id in seen:
                return out
            seen.add(s.dev.id)
            cur = s.dev.id

    # ------------------------------------------------------------ the one derivation
    def apply(self, levels: Levels, now: float | None = None) -> None:
        now = time.time() if now is None else now
        mono = time.monotonic()
        old = self.levels
        self.levels = levels
        self._attachments()
        rebooted: list[DeviceRt] = []
        for rt in self.devices.values():
            st = rt.state
            powered = rt.dev.id not in levels.power_off
            if powered and not st.powered:
                st.reboot()
                rebooted.append(rt)
            st.powered = powered
            st.hung = rt.dev.id in levels.hung
            st.encoder_stalled = rt.dev.id in levels.stalled
            st.clock_offset_s = levels.clock_offset.get(rt.dev.id, 0.0)
            st.credentials_broken = rt.dev.id in levels.creds_broken
            st.extra["image_fault"] = levels.image.get(rt.dev.id)
            mac, serial = levels.replaced.get(rt.dev.id, (rt.original_mac, rt.original_serial))
            if (mac, serial) != (st.mac, st.serial):
                st.mac, st.serial = mac, serial
                replaced = rt.dev.id in levels.replaced or rt.dev.id in old.replaced
                if replaced and rt not in rebooted:  # a new unit boots fresh
                    st.reboot()
                    rebooted.append(rt)
        self._port_status(levels, mono)
        self._reachability()
        self._traffic(now, rebooted)
        self.dead = {i for i, rt in self.devices.items() if not rt.reachable}
        self.hung = {i for i in levels.hung if i in self.devices and i not in self.dead}
        self.lossy = {i: p for i, p in levels.loss.items() if i in self.devices and i not in self.dead}
        self.generation += 1

    def _port_status(self, levels: Levels, mono: float) -> None:
        for s in self.switches.values():
            on = s.state.powered
            for p in s.ports:
                up = on and (s.dev.id, p.name) not in levels.ports_down and self._peer_alive(s, p, levels)
                if up != p.up:
                    p.last_change = mono
                p.up = up

    def _peer_alive(self, s: SwitchRt, p: PortRt, levels: Levels) -> bool:
        if p.link:
            if p.link in levels.links_cut:
                return False
            far = self.far_end(s.dev.id, p)
            return (
                far is not None
                and far[0].state.powered
                and (far[0].dev.id, far[1].name) not in levels.ports_down
            )
        if (s.dev.id, p.name) in levels.rogue:
            return True
        return any(self.devices[d].state.powered for d in self.on_port.get((s.dev.id, p.name), ()))

    def _reachability(self) -> None:
        memo: dict[str, bool] = {}

        def reach(dev_id: str) -> bool:
            if dev_id in memo:
                return memo[dev_id]
            memo[dev_id] = False  # cycle guard
            rt = self.devices[dev_id]
            ok = rt.state.powered
            if ok and rt.dev.uplink is not None:
                hop = self.parent_port(dev_id)
                if hop is None:
                    # a parent outside the simulated subset counts as the (healthy) rest of the network
                    ok = rt.dev.uplink.switch not in self.switches and dev_id not in self.levels.moved
                else:
                    s, p = hop
                    ok = p.up and s.dev.id in self.devices and reach(s.dev.id)
                    if ok and rt.kind == "switch":
                        own = rt.by_name.get(rt.uplink_port) if isinstance(rt, SwitchRt) else None
                        ok = own is None or own.up
            memo[dev_id] = ok
            return ok

        for dev_id, rt in self.devices.items():
            rt.reachable = reach(dev_id)

    def _traffic(self, now: float, rebooted: Iterable[DeviceRt]) -> None:
        for s in self.switches.values():
            for p in s.ports:
                p.rx.close(now)
                p.tx.close(now)
        for cam in self.cameras.values():
            cam.eth_tx.close(now)
            cam.eth_rx.close(now)
        for rt in rebooted:
            if isinstance(rt, SwitchRt):
                for p in rt.ports:
                    p.rx.reset(now)
                    p.tx.reset(now)
            elif isinstance(rt, CameraRt):
                rt.eth_tx.reset(now)
                rt.eth_rx.reset(now)
        for cam in self.cameras.values():
            st = cam.state
            if not cam.reachable or st.hung:
                cam.factor = 0.0
                continue
            share = STALLED_SHARE if st.encoder_stalled else 1.0
            cam.factor = share
            cam.eth_tx.add(cam.model, share)
            cam.eth_rx.add(cam.model, share * REVERSE_SHARE)
            for _s, down, up in self.path(cam.dev.id):
                down.rx.add(cam.model, share)
                down.tx.add(cam.model, share * REVERSE_SHARE)
                if up is not None:
                    up.tx.add(cam.model, share)
                    up.rx.add(cam.model, share * REVERSE_SHARE)

    # ------------------------------------------------------------ read-side views
    def rx_power_dbm(self, switch: SwitchRt, port: PortRt, t: float | None = None) -> float | None:
        """Received optical power at a fiber port; LOS_DBM without light; None for copper."""
        if port.media != "fiber" or not port.link:
            return None  # copper, or an empty SFP cage (no module plugged in)
        link = self.links[port.link]
        far = self.far_end(switch.dev.id, port)
        if far is None or not far[0].state.powered or (far[0].dev.id, far[1].name) in self.levels.ports_down:
            return LOS_DBM
        now = time.time() if t is None else t
        loss = link.budget_db
        if link.id in self.levels.degrade:
            t0, per_day = self.levels.degrade[link.id]
            loss += per_day * max(0.0, now - t0) / 86400.0
        jitter = 0.05 * math.sin(now / 37.0 + _unit(port.name) * 6.28)
        return round(max(LOS_DBM, far[1].tx_dbm - loss + jitter), 2)

    def refresh_l2(self, s: SwitchRt) -> None:
        """FDB and LLDP rows of a switch, recomputed once per fault generation."""
        if s._cache_gen == self.generation:
            return
        s._cache_gen = self.generation
        fdb: dict[tuple[int, ...], PortRt] = {}
        lldp: dict[tuple[int, ...], tuple[DeviceRt | None, str, bytes]] = {}
        if s.state.powered:
            for p in s.ports:
                if not p.up:
                    continue
                key = (s.dev.id, p.name)
                for d in self.on_port.get(key, ()):
                    rt = self.devices[d]
                    if rt.state.powered:
                        mac = mac_bytes(rt.state.mac)
                        fdb[tuple(mac)] = p
                        lldp[(0, p.lldp_num, 1)] = (rt, "", mac)
                if key in self.levels.rogue:
                    fdb[tuple(mac_bytes(self.levels.rogue[key]))] = p
                far = self.far_end(s.dev.id, p)
                if far is not None and far[0].state.powered:
                    lldp[(0, p.lldp_num, 1)] = (far[0], far[1].name, mac_bytes(far[0].dev.mac))
                    if p.name == s.uplink_port:
                        fdb[tuple(mac_bytes(far[0].dev.mac))] = p
                    else:
                        for below in self._macs_below(far[0]):
                            fdb[below] = p
        s._fdb = fdb
        s.fdb_rows = sorted(fdb)
        s.lldp_peer = lldp
        s.lldp_rows = sorted(lldp)

    def _macs_below(self, s: SwitchRt) -> list[tuple[int, ...]]:
        out = [tuple(mac_bytes(s.dev.mac))]
        if not s.reachable and not s.state.powered:
            return out
        for p in s.ports:
            if not p.up or p.name == s.uplink_port:
                continue
            key = (s.dev.id, p.name)
            for d in self.on_port.get(key, ()):
                if self.devices[d].state.powered:
                    out.append(tuple(mac_bytes(self.devices[d].state.mac)))
            if key in self.levels.rogue:
                out.append(tuple(mac_bytes(self.levels.rogue[key])))
            far = self.far_end(s.dev.id, p)
            if far is not None and far[0].state.powered and far[0] is not s:
                out.extend(self._macs_below(far[0]))
        return out

    def fdb_port(self, s: SwitchRt, mac: tuple[int, ...]) -> PortRt | None:
        return s._fdb.get(mac)
