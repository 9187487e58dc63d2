"""A recording fake ONVIF transport, one keyword flag per failure mode (Home Assistant's shape).

    cams = FakeCameras(auth_fail=True)
    prober = OnvifProber(OnvifPool(cams.factory))
    ... cams.transports[0].calls == ["GetSystemDateAndTime", "GetDeviceInformation"]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.errors import (
    OnvifAuthError,
    OnvifMalformedError,
    OnvifNotSupportedError,
    OnvifTimeoutError,
)
from sharpeyes.exporters.onvif.model import CameraClock, DeviceInfo, EncoderConfig, Profile

DEFAULT_INFO = DeviceInfo("HIKVISION", "DS-2CD2T47G2-L", "V5.7.3 build 220112",
                          "DS-2CD2T47G2-L20220101", "88")
DEFAULT_PROFILES = (
    Profile("Profile_1", "mainStream", EncoderConfig("VE_1", "H264", 2560, 1440, 25.0, 4096)),
    Profile("Profile_2", "subStream", EncoderConfig("VE_2", "H264", 640, 360, 15.0, 512)),
)


@dataclass
class FakeCamera:
    """Answers like a camera whose clock runs ``clock_offset`` seconds ahead of ours."""

    clock_offset: float = 0.0
    auth_fail: bool = False
    utc_missing: bool = False  # only LocalDateTime + TZ (UTC+8 "CST-8")
    clock_malformed: bool = False  # a 13th month
    timeout_on: frozenset[str] = frozenset()
    unsupported: frozenset[str] = frozenset()
    malformed_on: frozenset[str] = frozenset()
    info: DeviceInfo = DEFAULT_INFO
    profile_list: tuple[Profile, ...] = DEFAULT_PROFILES
    encoder_configs: tuple[EncoderConfig, ...] = ()
    snapshot: str = "http://{host}/onvif-http/snapshot?{token}"  # {host}: the address we dialled
    stream: str = "rtsp://{host}/Streaming/Channels/101"
    host: str = ""
    calls: list[str] = field(default_factory=list)
    clock_offsets_set: list[float | None] = field(default_factory=list)
    closed: bool = False

    def _enter(self, op: str, authenticated: bool = True) -> None:
        self.calls.append(op)
        if op in self.timeout_on:
            raise OnvifTimeoutError(f"{op}: timed out")
        if op in self.unsupported:
            raise OnvifNotSupportedError(f"{op}: ActionNotSupported")
        if op in self.malformed_on:
            raise OnvifMalformedError(f"{op}: invalid XML in the reply")
        if authenticated and self.auth_fail:
            raise OnvifAuthError(f"{op}: not authorized (NotAuthorized)")

    async def system_date_and_time(self) -> CameraClock:
        self._enter("GetSystemDateAndTime", authenticated=False)
        now = time.time()
        t = time.gmtime(now + self.clock_offset)
        utc = (t.tm_year, 13 if self.clock_malformed else t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
        lt = time.gmtime(now + self.clock_offset + 8 * 3600)
        local = (lt.tm_year, lt.tm_mon, lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec)
        return CameraClock(None if self.utc_missing else utc, local, "CST-8", False, now)

    def set_clock_offset(self, seconds: float | None) -> None:
        self.clock_offsets_set.append(seconds)

    async def device_information(self) -> DeviceInfo:
        self._enter("GetDeviceInformation")
        return self.info

    async def profiles(self) -> list[Profile]:
        self._enter("GetProfiles")
        return list(self.profile_list)

    async def video_encoder_configurations(self) -> list[EncoderConfig]:
        self._enter("GetVideoEncoderConfigurations")
        return list(self.encoder_configs)

    async def snapshot_uri(self, profile_token: str) -> str:
        self._enter("GetSnapshotUri")
        return self.snapshot.format(host=self.host, token=profile_token)

    async def stream_uri(self, profile_token: str) -> str:
        self._enter("GetStreamUri")
        return self.stream.format(host=self.host, token=profile_token)

    async def aclose(self) -> None:
        self.closed = True


class FakeCameras:
    """A transport factory: every camera it builds gets the same flags; all are kept for asserts."""

    def __init__(self, **flags: object) -> None:
        self.flags = flags
        self.transports: list[FakeCamera] = []
        self.created: list[tuple[str, int, OnvifAuth | None]] = []

    def factory(self, host: str, port: int, auth: OnvifAuth | None) -> FakeCamera:
        cam = FakeCamera(**self.flags)  # type: ignore[arg-type]
        cam.host = f"{host}:{port}" if port != 80 else host
        self.created.append((host, port, auth))
        self.transports.append(cam)
        return cam

