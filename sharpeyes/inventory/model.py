"""The fleet model: district → township → village → site → device, plus fiber links.

Vocabulary follows netbox (site, role, status, serial, primary IP). Objects are plain slotted
dataclasses so that 100k devices stay small; derived facts (topology, labels) live in
``topology.py`` and ``sd.py``, never stored twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sharpeyes.contract import DEVICE_KINDS
from sharpeyes.yamlnodes import Source

if TYPE_CHECKING:
    from .topology import Topology

STATUSES = ("active", "planned", "staged", "offline", "failed", "decommissioning")
KINDS = DEVICE_KINDS
ROLES: dict[str, tuple[str, ...]] = {
    "camera": ("bullet", "ptz_dome", "face_recognition", "high_altitude_lookout"),
    "switch": ("access", "aggregation", "core"),
    "nvr": ("recording",),
    "platform": ("district", "township", "village"),
}
FUNDING = ("sharp_eyes", "district", "city_phase3", "other")
AREAS = ("urban", "rural")
MEDIA = ("copper", "fiber")


@dataclass(slots=True)
class BBox:
    south: float
    north: float
    west: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


@dataclass(slots=True)
class District:
    id: str
    name: str
    name_en: str
    timezone: str
    bbox: BBox
    source: Source | None = None


@dataclass(slots=True)
class Contractor:
    id: str
    name: str
    name_en: str = ""
    phone: str = ""
    source: Source | None = None


@dataclass(slots=True)
class Township:
    id: str
    name: str
    name_en: str
    area: str
    contractor: str
    platform: str = ""  # device id of the township platform server
    source: Source | None = None


@dataclass(slots=True)
class Village:
    id: str
    name: str
    name_en: str
    township: str
    contractor: str = ""  # overrides the township's
    source: Source | None = None


@dataclass(slots=True)
class Site:
    id: str
    name: str
    lat: float
    lon: float
    township: str = ""  # "" for the district centre
    village: str = ""  # "" for township- and district-level sites
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class PortRef:
    switch: str
    port: str

    def __str__(self) -> str:
        return f"{self.switch}:{self.port}"


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    media: str = "copper"


@dataclass(frozen=True, slots=True)
class Recording:
    """Where a camera is recorded: recorder device, its channel (1-based), the plan and the retention.

    ``plan`` is ``24x7`` or daily windows ``HH:MM-HH:MM[,HH:MM-HH:MM]`` in the district's timezone;
    ``retention_days`` 0 means the default for the camera's tags and area (``recording.py``).
    """

    recorder: str
    channel: int
    plan: str = "24x7"
    retention_days: int = 0
    source: Source | None = None


@dataclass(slots=True)
class Device:
    id: str
    kind: str
    role: str
    name: str
    site: str
    ip: str
    status: str = "active"
    mac: str = ""
    vendor: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""  # the expected firmware
    funding: str = ""
    installed: dt.date | None = None
    contractor: str = ""  # resolved: device → village → township
    auth: str = ""  # credential profile NAME, never a secret
    uplink: PortRef | None = None
    bitrate_kbps: int = 0  # configured main-stream bitrate (cameras)
    rtsp_port: int = 554
    onvif_port: int = 80
    ports: tuple[Port, ...] = ()  # switches
    tags: tuple[str, ...] = ()
    township: str = ""
    village: str = ""
    source: Source | None = None
    recording: Recording | None = None  # cameras: where their video is recorded

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(slots=True)
class FiberLink:
    id: str
    a: PortRef
    b: PortRef
    length_m: int
    cores: int
    budget_db: float  # expected optical loss end to end
    rx_min_dbm: float = -20.0  # receive power alarm threshold
    status: str = "active"
    build: str = ""  # the build programme that laid it, e.g. sharp_eyes
    contractor: str = ""
    township: str = ""
    source: Source | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(slots=True)
class Inventory:
    district: District
    contractors: dict[str, Contractor] = field(default_factory=dict)
    townships: dict[str, Township] = field(default_factory=dict)
    villages: dict[str, Village] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    links: dict[str, FiberLink] = field(default_factory=dict)
    _topology: Topology | None = None

    def active_devices(self) -> Iterator[Device]:
        return (d for d in self.devices.values() if d.status == "active")

    @property
    def topology(self) -> Topology:
        if self._topology is None:
            from .topology import Topology

            self._topology = Topology(self)
        return self._topology

    def target_labels(self, device_id: str) -> dict[str, str]:
        from .sd import target_labels

        return target_labels(self, self.devices[device_id])
