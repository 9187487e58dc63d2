"""Faults: validated specs, and the engine that turns the active ones into network :class:`Levels`.

Each fault type names the kind of target it takes and its parameters (with defaults). The engine
recomputes the Levels from ALL active faults whenever one is added, cleared, expires or changes
phase (reboot loops, flapping), and hands them to the World, which derives what every protocol
sees. Nothing about one fault is remembered outside its spec, so clearing restores exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sharpeyes.cli import parse_duration

from .network import Levels, World

log = logging.getLogger(__name__)


class FaultError(ValueError):
    """Bad fault input; ``field`` names what is wrong (type, target, params.<name>, duration)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True, slots=True)
class Param:
    kind: type
    default: Any = None
    required: bool = False
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class FaultType:
    name: str
    target: str  # camera | device | switch | port | link | village | area | port_or_link
    help: str
    params: Mapping[str, Param] = field(default_factory=dict)


FAULT_TYPES: dict[str, FaultType] = {
    t.name: t
    for t in (
        FaultType("power_loss", "device", "the device loses power (nothing answers; reboots on recovery)"),
        FaultType("camera_hung", "camera", "firmware lock-up: pings, but SNMP/ONVIF/RTSP time out"),
        FaultType("encoder_stalled", "camera", "everything answers; no video (bitrate on its port ~0)"),
        FaultType(
            "reboot",
            "device",
            "one reboot: down for boot_s, then uptime restarts",
            {"boot_s": Param(float, 30.0, low=1, high=3600)},
        ),
        FaultType(
            "reboot_loop",
            "device",
            "reboots again and again: down boot_s, up up_s",
            {"boot_s": Param(float, 30.0, low=1, high=3600), "up_s": Param(float, 60.0, low=1, high=86400)},
        ),
        FaultType(
            "clock_drift",
            "device",
            "the device clock is off by `seconds`",
            {"seconds": Param(float, 300.0, low=-1e9, high=1e9)},
        ),
        FaultType("wrong_credentials", "device", "password/keys changed on the device: every login fails"),
        FaultType("switch_down", "switch", "the switch dies: it and everything behind it unreachable"),
        FaultType("port_down", "port", "a switch port goes down (target SWITCH:PORT)"),
        FaultType("fiber_cut", "link", "both link ports down, Rx LOS, everything downstream unreachable"),
        FaultType(
            "fiber_degrading",
            "link",
            "Rx power falls db_per_day (dB/day) from now",
            {"db_per_day": Param(float, 2.0, low=0.001, high=1e6)},
        ),
        FaultType("village_power_cut", "village", "every device of the village loses power"),
        FaultType(
            "packet_loss",
            "area",
            "drop `percent` % of packets to every device of a township/village/device",
            {"percent": Param(int, None, required=True, low=1, high=100)},
        ),
        FaultType(
            "flapping",
            "port_or_link",
            "a port or fiber link goes down for down_s every up_s + down_s",
            {
                "up_s": Param(float, 10.0, low=0.5, high=86400),
                "down_s": Param(float, 10.0, low=0.5, high=86400),
            },
        ),
        FaultType(
            "camera_replaced",
            "camera",
            "a new unit at the same place: new MAC and serial",
            {"mac": Param(str, ""), "serial": Param(str, "")},
        ),
        FaultType(
            "camera_moved",
            "camera",
            "the camera appears on another switch port (FDB/LLDP)",
            {"port": Param(str, None, required=True), "switch": Param(str, "")},
        ),
        FaultType("disk_failed", "device", "a recorder's disks fail: it stops recording, storage reports failure"),
        FaultType("channel_not_recording", "camera", "the recorder stops recording this camera's channel"),
        FaultType(
            "retention_short",
            "device",
            "a recorder keeps only the last `days` of video (overwrites early)",
            {"days": Param(float, 7.0, low=0.001, high=3650)},
        ),
        FaultType("recorder_down", "device", "a recorder's service hangs: it neither answers nor records"),
        FaultType(
            "rogue_device",
            "port",
            "an unknown MAC appears on a switch port (target SWITCH:PORT)",
            {"mac": Param(str, "02:5e:00:00:00:01")},
        ),
        *(
            FaultType(name, "camera", help_text, {"severity": Param(int, 2, low=1, high=3)})
            for name, help_text in (
                ("video_loss", "picture lost: black or blue 'no video' screen (image fault, critical)"),
                ("frozen", "the picture stops changing: the same still again and again"),
                ("defocus", "out of focus (severity 1 mild, 2 clear, 3 severe)"),
                ("occluded", "a bag or branch covers part of the lens"),
                ("color_cast", "a colour channel is weak: reddish picture"),
                ("snow", "noise/snow interference"),
                ("stripes", "rolling horizontal bars (interference)"),
                ("displaced", "the camera turned away from its preset/reference view"),
                ("too_dark", "the picture is too dark (lost light, IR illuminator dead)"),
                ("overexposed", "the picture is blown out"),
            )
        ),
    )
}
IMAGE_FAULT_TYPES = ("video_loss", "frozen", "defocus", "occluded", "color_cast", "snow", "stripes", "displaced",
                     "too_dark", "overexposed")

RECORDER_FAULTS = ("disk_failed", "channel_not_recording", "retention_short", "recorder_down")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def fault_seconds(value: Any, field_name: str = "duration") -> float | None:
    """A positive duration → seconds; None/"" → None (until cleared).

    Text is read in the one duration grammar (``90s``, ``2m``, ``1h30m``); a JSON/YAML number is
    already seconds (``boot_s=30``)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FaultError(field_name, "expected a duration like 30s, 2m or 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        try:
            seconds = parse_duration(str(value))
        except ValueError as exc:
            raise FaultError(field_name, str(exc)) from None
    if seconds <= 0:
        raise FaultError(field_name, "must be positive")
    return seconds


@dataclass(slots=True)
class Fault:
    id: str
    type: str
    target: str
    params: dict[str, Any]
    duration: float | None
    started: float  # POSIX seconds
    source: str = "api"

    @property
    def expires(self) -> float | None:
        if self.type == "reboot":
            return self.started + float(self.params["boot_s"])
        return None if self.duration is None else self.started + self.duration

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "target": self.target,
            "params": self.params,
            "duration": self.duration,
            "started": self.started,
            "expires": self.expires,
            "source": self.source,
        }

    def _phase_down(self, now: float, down_key: str, up_key: str) -> tuple[bool, float]:
        """(in the down phase?, when the phase changes next) for cyclic faults starting down."""
        down = float(self.params[down_key])
        period = down + float(self.params[up_key])
        k, phase = divmod(now - self.started, period)
        if phase < down:
            return True, self.started + k * period + down
        return False, self.started + (k + 1) * period

    def next_change(self, now: float) -> float | None:
        if self.type == "reboot_loop":
            return self._phase_down(now, "boot_s", "up_s")[1]
        if self.type == "flapping":
            return self._phase_down(now, "down_s", "up_s")[1]
        return None


class FaultEngine:
    """Holds the active faults, validates new ones, recomputes Levels and applies them."""

    def __init__(self, world: World, on_change: Callable[[], Awaitable[None]] | None = None) -> None:
        self.world = world
        self.inv = world.inv
        self.faults: dict[str, Fault] = {}
        self._ids = itertools.count(1)
        self.on_change = on_change
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------ validation
    def validate(self, spec: Mapping[str, Any]) -> tuple[str, str, dict[str, Any], float | None]:
        if not isinstance(spec, Mapping):
            raise FaultError("body", "expected a JSON object")
        unknown = sorted(set(spec) - {"type", "target", "params", "duration"})
        if unknown:
            raise FaultError(unknown[0], "unknown field")
        ftype = spec.get("type")
        if not isinstance(ftype, str) or ftype not in FAULT_TYPES:
            raise FaultError("type", f"must be one of {', '.join(sorted(FAULT_TYPES))}")
        ft = FAULT_TYPES[ftype]
        target = spec.get("target")
        if not isinstance(target, str) or not target:
            raise FaultError("target", "required (a device, SWITCH:PORT, fiber link, village or township id)")
        self._check_target(ft, target)
        kind = self.world.devices[target].dev.kind if target in self.world.devices else ""
        if ftype in RECORDER_FAULTS and ft.target == "device" and kind not in ("nvr", "platform"):
            raise FaultError("target", f"{target!r} is a {kind}, {ftype} needs a recorder")
        raw = spec.get("params") or {}
        if not isinstance(raw, Mapping):
            raise FaultError("params", "expected an object")
        params = self._check_params(ft, raw)
        if ftype == "camera_moved":
            self._check_move(target, params)
        return ftype, target, params, fault_seconds(spec.get("duration"))

    def _check_target(self, ft: FaultType, target: str) -> None:
        devs = self.world.devices
        kind = ft.target
        if kind in ("device", "camera", "switch"):
            rt = devs.get(target)
            if rt is None:
                raise FaultError("target", f"no active device {target!r}")
            if kind != "device" and rt.kind != kind:
                raise FaultError("target", f"{target!r} is a {rt.kind}, {ft.name} needs a {kind}")
        elif kind == "link" or (kind == "port_or_link" and ":" not in target):
            if target not in self.world.links:
                raise FaultError("target", f"no active fiber link {target!r}")
        elif kind in ("port", "port_or_link"):
            sw, _, port = target.partition(":")
            s = self.world.switches.get(sw)
            if s is None or port not in s.by_name:
                raise FaultError("target", f"no switch port {target!r} (expected SWITCH:PORT)")
        elif kind == "village":
            if target not in self.inv.villages:
                raise FaultError("target", f"no village {target!r}")
        elif (
            kind == "area"
            and target not in self.inv.townships
            and target not in self.inv.villages
            and target not in devs
        ):
            raise FaultError("target", f"no township, village or device {target!r}")

    def _check_params(self, ft: FaultType, raw: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(raw) - set(ft.params))
        if unknown:
            raise FaultError(f"params.{unknown[0]}", f"unknown parameter for {ft.name}")
        out: dict[str, Any] = {}
        for name, p in ft.params.items():
            where = f"params.{name}"
            if name not in raw:
                if p.required:
                    raise FaultError(where, "required")
                out[name] = p.default
                continue
            value = raw[name]
            try:
                if p.kind is str:
                    if not isinstance(value, str):
                        raise TypeError
                    out[name] = value
                else:
                    if isinstance(value, bool):
                        raise TypeError
                    parsed = fault_seconds(value, where) if name.endswith("_s") else p.kind(value)
                    num = float(parsed or 0)
                    if (p.low is not None and num < p.low) or (p.high is not None and num > p.high):
                        raise FaultError(where, f"must be between {p.low:g} and {p.high:g}")
                    out[name] = parsed
            except (TypeError, ValueError) as exc:
                if isinstance(exc, FaultError):
                    raise
                raise FaultError(where, f"expected {p.kind.__name__}") from None
        if "mac" in out and out["mac"] and not _MAC.match(out["mac"]):
            raise FaultError("params.mac", "expected aa:bb:cc:dd:ee:ff")
        return out

    def _check_move(self, target: str, params: dict[str, Any]) -> None:
        cam = self.world.devices[target]
        switch = params["switch"] or (cam.dev.uplink.switch if cam.dev.uplink else "")
        s = self.world.switches.get(switch)
        if s is None:
            raise FaultError("params.switch", f"no switch {switch!r}")
        if params["port"] not in s.by_name:
            raise FaultError("params.port", f"{switch} has no port {params['port']!r}")
        params["switch"] = switch

    # ------------------------------------------------------------ add / clear
    async def add(self, spec: Mapping[str, Any], source: str = "api") -> Fault:
        ftype, target, params, duration = self.validate(spec)
        fault = Fault(f"f{next(self._ids)}", ftype, target, params, duration, time.time(), source)
        if ftype == "camera_replaced":
            params.setdefault("mac", "")
            if not params["mac"]:
                n = int(fault.id[1:])
                params["mac"] = (
                    f"02:5e:{n >> 24 & 255:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"
                )
            if not params["serial"]:
                params["serial"] = f"REPLACED{int(fault.started)}{fault.id.upper()}"
        self.faults[fault.id] = fault
        log.info("fault %s added: %s %s", fault.id, ftype, target)
        await self.refresh()
        return fault

    async def clear(self, fault_id: str) -> Fault:
        fault = self.faults.pop(fault_id, None)
        if fault is None:
            raise KeyError(fault_id)
        log.info("fault %s cleared: %s %s", fault.id, fault.type, fault.target)
        await self.refresh()
        return fault

    async def clear_all(self) -> int:
        n = len(self.faults)
        self.faults.clear()
        await self.refresh()
        return n

    # ------------------------------------------------------------ levels
    def levels(self, now: float) -> Levels:
        lv = Levels()
        inv = self.inv
        for f in self.faults.values():
            t, target, p = f.type, f.target, f.params
            if t == "power_loss" or t == "switch_down":
                lv.power_off.add(target)
            elif t == "camera_hung":
                lv.hung.add(target)
            elif t == "encoder_stalled":
                lv.stalled.add(target)
            elif t == "reboot":
                if now < f.started + float(p["boot_s"]):
                    lv.power_off.add(target)
            elif t == "reboot_loop":
                if f._phase_down(now, "boot_s", "up_s")[0]:
                    lv.power_off.add(target)
            elif t == "clock_drift":
                lv.clock_offset[target] = lv.clock_offset.get(target, 0.0) + float(p["seconds"])
            elif t == "wrong_credentials":
                lv.creds_broken.add(target)
            elif t == "port_down":
                lv.ports_down.add(_port(target))
            elif t == "fiber_cut":
                self._cut(lv, target)
            elif t == "fiber_degrading":
                lv.degrade[target] = (f.started, float(p["db_per_day"]))
            elif t == "village_power_cut":
                lv.power_off.update(d for d, rt in self.world.devices.items() if rt.dev.village == target)
            elif t == "packet_loss":
                for d, rt in self.world.devices.items():
                    if target in (d, rt.dev.township, rt.dev.village):
                        lv.loss[d] = max(lv.loss.get(d, 0), int(p["percent"]))
            elif t == "flapping":
                if f._phase_down(now, "down_s", "up_s")[0]:
                    if ":" in target:
                        lv.ports_down.add(_port(target))
                    else:
                        self._cut(lv, target)
            elif t == "camera_replaced":
                lv.replaced[target] = (p["mac"], p["serial"])
            elif t in IMAGE_FAULT_TYPES:
                lv.image[target] = (t, int(p["severity"]))
            elif t == "camera_moved":
                lv.moved[target] = (p["switch"], p["port"])
            elif t == "rogue_device":
                lv.rogue[_port(target)] = p["mac"]
            elif t in RECORDER_FAULTS:
                lv.recorder.setdefault(t, {})[target] = float(p.get("days", 1.0))
        del inv
        return lv

    def _cut(self, lv: Levels, link_id: str) -> None:
        link = self.world.links[link_id]
        lv.links_cut.add(link_id)
        lv.ports_down.add((link.a.switch, link.a.port))
        lv.ports_down.add((link.b.switch, link.b.port))

    async def refresh(self) -> None:
        """Expire finished faults, recompute the Levels, apply them everywhere."""
        async with self._lock:
            now = time.time()
            for fid in [f.id for f in self.faults.values() if f.expires is not None and f.expires <= now]:
                f = self.faults.pop(fid)
                log.info("fault %s ended: %s %s", f.id, f.type, f.target)
            self.world.apply(self.levels(now), now)
            if self.on_change is not None:
                await self.on_change()
        self._wake.set()

    def next_change(self, now: float) -> float | None:
        times = [t for f in self.faults.values() for t in (f.expires, f.next_change(now)) if t is not None]
        return min(times) if times else None

    async def run(self) -> None:
        """Wake up at the next expiry or phase change (and whenever faults change)."""
        while True:
            self._wake.clear()
            nxt = self.next_change(time.time())
            timeout = None if nxt is None else max(0.0, nxt - time.time()) + 0.01
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                await self.refresh()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _port(target: str) -> tuple[str, str]:
    sw, _, port = target.partition(":")
    return sw, port
