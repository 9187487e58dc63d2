"""The whole simulator in one asyncio process: world, SNMP agent, ONVIF/RTSP, faults, firewall, API."""

from __future__ import annotations

import hashlib
import logging
import resource
import time
from dataclasses import dataclass
from pathlib import Path

from sharpeyes.inventory import Inventory, load_inventory

from .faults import FaultEngine
from .network import World
from .nft import Firewall
from .secrets import Secrets
from .snmp.agent import SnmpAgent
from .snmp.traps import TrapSender
from .state import DeviceState

log = logging.getLogger("simulator")

MAX_UPTIME_DAYS = 90


@dataclass(slots=True)
class Options:
    snmp_port: int = 161
    onvif_port: int | None = None  # None: each camera's own (inventory onvif_port, 80)
    rtsp_port: int | None = None
    control: tuple[str, int] | None = ("127.0.0.1", 9180)
    firewall: bool = True
    nft_table: str = "sharpeyes_sim"
    townships: tuple[str, ...] = ()  # serve only these townships (and the switches above them)
    cameras_servers: bool = True  # ONVIF + RTSP
    recorders: bool = True  # ISAPI / Dahua CGI / ONVIF Profile G recorders (simulator/recorders)
    recorder_port: int | None = None  # None: onvif_port when that is overridden, else 80
    recorder_history_s: float = 3600.0  # recorded before the simulator started (all cameras up)
    traps_target: tuple[str, int] | None = None  # where devices send SNMP traps (None: they send none)


def select_devices(inv: Inventory, townships: tuple[str, ...]) -> set[str]:
    active = {d.id for d in inv.active_devices()}
    if not townships:
        return active
    chosen = {d.id for d in inv.active_devices() if d.township in townships}
    for dev_id in list(chosen):
        chosen.update(n for n in inv.topology.path_to_core(dev_id) if n in inv.devices)
    return chosen & active


def initial_state(dev: object, now_mono: float) -> DeviceState:
    did = getattr(dev, "id", "")
    unit = int.from_bytes(hashlib.blake2b(f"uptime:{did}".encode(), digest_size=8).digest(), "big") / 2**64
    return DeviceState.from_device(dev, boot_monotonic=now_mono - 3600 - unit * MAX_UPTIME_DAYS * 86400)


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, needed)) if hard != resource.RLIM_INFINITY else max(soft, needed)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Simulator:
    """``await sim.start()`` … ``await sim.stop()``; or ``async with Simulator(...)``."""

    def __init__(
        self, inventory: Inventory | str | Path, secrets: Secrets, options: Options | None = None
    ) -> None:
        self.inv = inventory if isinstance(inventory, Inventory) else load_inventory(inventory)
        self.secrets = secrets
        self.opts = options or Options()
        self.started_s = 0.0
        self.world: World | None = None
        self.agent: SnmpAgent | None = None
        self.engine: FaultEngine | None = None
        self.firewall = Firewall(self.opts.nft_table)
        self.cameras: object | None = None
        self.recorders: object | None = None
        self.control: object | None = None
        self.states: dict[str, DeviceState] = {}
        self.traps: TrapSender | None = None

    async def start(self) -> None:
        t0 = time.monotonic()
        opts = self.opts
        chosen = select_devices(self.inv, opts.townships)
        mono = time.monotonic()
        self.states = {d: initial_state(self.inv.devices[d], mono) for d in sorted(chosen)}
        world = self.world = (
            World(self.inv, self.states)
            if not opts.townships
            else World(_subset(self.inv, chosen), self.states)
        )
        raise_fd_limit(len(world.devices) * 3 + 1024)
        if opts.firewall:
            self.firewall.start()
        try:
            self.agent = SnmpAgent(world.devices.values(), self.secrets.snmp, port=opts.snmp_port)
            await self.agent.start()
            if opts.traps_target is not None:
                self.traps = TrapSender(world, self.agent, opts.traps_target)
            if opts.cameras_servers:
                await self._start_camera_servers()
            if opts.recorders:
                await self._start_recorders()
            self.engine = FaultEngine(world, self._on_change)
            self.engine.start()
            await self.engine.refresh()
            if opts.control is not None:
                from .control import ControlApi

                api = ControlApi(self)
                await api.start(*opts.control)
                self.control = api
        except BaseException:
            await self.stop()
            raise
        self.started_s = time.monotonic() - t0
        log.info(
            "serving %d devices (%d cameras, %d switches) in %.1f s",
            len(world.devices),
            len(world.cameras),
            len(world.switches),
            self.started_s,
        )

    async def _start_camera_servers(self) -> None:
        # the ONVIF/RTSP responders (simulator/cameras.py)
        from .cameras import CameraServers

        cams = [st for st in self.states.values() if st.kind == "camera"]
        servers = CameraServers(
            cams, self.secrets.onvif, onvif_port=self.opts.onvif_port, rtsp_port=self.opts.rtsp_port
        )
        await servers.start()
        self.cameras = servers

    async def _start_recorders(self) -> None:
        from .recorders.server import RecorderServers
        from .recorders.truth import RETENTION_DAYS, RecorderTruth

        assert self.world is not None
        # a recorder overwrites after RETENTION_DAYS, or later when it was given a longer history
        history = self.opts.recorder_history_s
        truth = RecorderTruth(self.world, time.time() - history, max(RETENTION_DAYS, history / 86400))
        port = self.opts.recorder_port or self.opts.onvif_port or 80
        servers = RecorderServers(self.world, truth, self.secrets.onvif, port=port)
        await servers.start()
        self.recorders = servers

    async def _on_change(self) -> None:
        world = self.world
        if world is None:
            return
        if self.recorders is not None:
            self.recorders.truth.update(time.time())  # type: ignore[attr-defined]
        if self.traps is not None:
            self.traps.update()
        ip = {d: rt.dev.ip for d, rt in world.devices.items()}
        await self.firewall.update(
            {ip[d] for d in world.dead},
            {ip[d] for d in world.hung},
            {ip[d]: p for d, p in world.lossy.items()},
        )

    async def stop(self) -> None:
        try:
            await self._stop_servers()
        finally:
            self.firewall.stop()

    async def _stop_servers(self) -> None:
        if self.control is not None:
            await self.control.close()  # type: ignore[attr-defined]
            self.control = None
        if self.engine is not None:
            await self.engine.stop()
        if self.cameras is not None:
            await self.cameras.close()  # type: ignore[attr-defined]
            self.cameras = None
        if self.recorders is not None:
            await self.recorders.close()  # type: ignore[attr-defined]
            self.recorders = None
        if self.agent is not None:
            await self.agent.close()
            self.agent = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _subset(inv: Inventory, chosen: set[str]) -> Inventory:
    """A shallow copy of the inventory with only the chosen devices active (others marked offline)."""
    import copy

    sub = copy.copy(inv)
    sub.devices = {}
    for d, dev in inv.devices.items():
        if d in chosen:
            sub.devices[d] = dev
        else:
            clone = copy.copy(dev)
            clone.status = "offline"
            sub.devices[d] = clone
    sub._topology = inv.topology
    return sub
