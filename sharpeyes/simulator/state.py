"""Per-device mutable state shared by every simulated protocol.

One :class:`DeviceState` exists per simulated device. The fault engine flips its fields; the ONVIF,
RTSP and SNMP responders read them on every request, so a fault shows up the same way in every
protocol at once (a hung camera times out on ONVIF, RTSP and SNMP alike).

The responders never cache anything derived from these fields: change a field, and the next
request sees it. Everything runs on one asyncio event loop, so no locking is needed.

Network-level faults (a cut fiber, a dead switch port) are not modelled here: they are dropped
packets, done by the fault engine outside the servers (nftables on the device's 127.x address).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAIN_STREAM", "NO_SNAPSHOT_MODELS", "SUB_STREAM", "Credentials", "DeviceState", "StreamConfig"]

# Models whose firmware has no ONVIF snapshot (GetSnapshotUri answers ter:ActionNotSupported): a
# still of them comes only from their RTSP stream. The sample district's Uniview PTZ domes.
NO_SNAPSHOT_MODELS = frozenset({"IPC6322SR-X22P-D"})


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """One encoder channel of a camera, as ONVIF reports it and RTSP serves it."""

    name: str  # profile name shown by ONVIF, e.g. "mainStream"
    encoding: str  # "H264" or "H265"
    width: int
    height: int
    frame_rate: int  # frames per second
    bitrate_kbps: int  # ONVIF BitrateLimit (kbit/s)
    gov_length: int = 50  # GOP length in frames
    h264_profile: str = "Main"  # Baseline | Main | High


MAIN_STREAM = StreamConfig("mainStream", "H264", 1920, 1080, 25, 4096)
SUB_STREAM = StreamConfig("subStream", "H264", 704, 576, 25, 512)


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username/password pair from the simulator's secrets; the password never appears in repr."""

    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=<secret>)"


@dataclass(slots=True, eq=False)
class DeviceState:
    """What a simulated device is and what is currently wrong with it.

    Identity fields come from the inventory and do not change while the simulator runs (except
    ``firmware``, which an upgrade fault may change). Fault fields default to "healthy".
    """

    # --- identity (from the inventory) ---
    device_id: str
    ip: str
    kind: str = "camera"  # camera | switch | nvr | platform
    vendor: str = "hikvision"  # lower case: hikvision | dahua | uniview | huawei | h3c
    model: str = ""
    serial: str = ""
    mac: str = ""  # "aa:bb:cc:dd:ee:ff"
    firmware: str = ""
    role: str = ""
    auth_profile: str = "onvif-cams"  # name of the credentials in the simulator secrets (ONVIF/RTSP)
    onvif_port: int = 80
    rtsp_port: int = 554
    streams: tuple[StreamConfig, ...] = (MAIN_STREAM, SUB_STREAM)
    snapshot: bool = True  # False: no ONVIF snapshot URI (ter:ActionNotSupported), stills over RTSP only

    # --- faults (flipped by the fault engine) ---
    powered: bool = True  # False: answers nothing at all (servers accept TCP, then stay silent)
    hung: bool = False  # pings, but SNMP/ONVIF/RTSP never answer (firmware lock-up)
    encoder_stalled: bool = False  # management works; RTSP DESCRIBE fails, no video leaves the port
    clock_offset_s: float = 0.0  # camera clock minus true time (NTP lost: drifts)
    credentials_broken: bool = False  # password changed on the device: every login fails
    boot_monotonic: float = field(default_factory=time.monotonic)  # time.monotonic() at last boot

    # room for faults other components add without changing this class
    extra: dict[str, Any] = field(default_factory=dict)

    # --- derived views ---
    @property
    def responsive(self) -> bool:
        """True when the device's management/streaming services answer at all."""
        return self.powered and not self.hung

    def uptime_s(self, now_monotonic: float | None = None) -> float:
        """Seconds since the last boot (SNMP sysUpTime is this × 100)."""
        now = time.monotonic() if now_monotonic is None else now_monotonic
        return max(0.0, now - self.boot_monotonic)

    def clock(self, now_wall: float | None = None) -> float:
        """The device's own wall clock (POSIX seconds): true time plus its drift."""
        return (time.time() if now_wall is None else now_wall) + self.clock_offset_s

    def reboot(self) -> None:
        """Restart: uptime returns to zero and a hang clears (a power cycle cures lock-ups)."""
        self.boot_monotonic = time.monotonic()
        self.hung = False

    @classmethod
    def from_device(cls, device: Any, **overrides: Any) -> DeviceState:
        """Build the state of an inventory ``Device`` (fields as in docs/contract.md).

        Duck-typed so that this module imports nothing; a missing or empty field keeps the default.
        """
        values: dict[str, Any] = {"device_id": device.id, "ip": device.ip}
        for attr, name in (("kind", "kind"), ("vendor", "vendor"), ("model", "model"),
                           ("serial", "serial"), ("mac", "mac"), ("firmware", "firmware"),
                           ("role", "role"), ("onvif_port", "onvif_port"), ("rtsp_port", "rtsp_port")):
            value = getattr(device, attr, None)
            if value:
                values[name] = value
        if values.get("model") in NO_SNAPSHOT_MODELS:
            values["snapshot"] = False
        auth = getattr(device, "auth", None)
        if isinstance(auth, str) and auth:
            values["auth_profile"] = auth
        elif isinstance(auth, Mapping) and auth.get("onvif"):
            values["auth_profile"] = auth["onvif"]
        bitrate = getattr(device, "bitrate_kbps", None)
        if bitrate:
            main = MAIN_STREAM
            values["streams"] = (StreamConfig(main.name, main.encoding, main.width, main.height,
                                              main.frame_rate, int(bitrate)), SUB_STREAM)
        values.update(overrides)
        return cls(**values)
