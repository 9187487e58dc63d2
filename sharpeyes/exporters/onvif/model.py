"""Plain values the ONVIF transport returns: no zeep objects escape the transport edge."""

from __future__ import annotations

from dataclasses import dataclass

DateTuple = tuple[int, int, int, int, int, int]  # year, month, day, hour, minute, second


@dataclass(frozen=True, slots=True)
class CameraClock:
    """GetSystemDateAndTime as reported (fields unvalidated), and when we asked (local UNIX time)."""

    utc: DateTuple | None
    local: DateTuple | None
    tz: str
    daylight_savings: bool
    asked_at: float  # local time.time() at the middle of the request/response round trip


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    manufacturer: str = ""
    model: str = ""
    firmware_version: str = ""
    serial_number: str = ""
    hardware_id: str = ""


@dataclass(frozen=True, slots=True)
class EncoderConfig:
    token: str
    encoding: str = ""
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    bitrate_kbps: int | None = None  # ONVIF BitrateLimit is kbit/s
    bitrate_unlimited: bool = False  # the camera reported "no limit" (quirks.bitrate_limit_kbps)

    @property
    def complete(self) -> bool:
        bitrate_known = self.bitrate_kbps is not None or self.bitrate_unlimited
        return bitrate_known and None not in (self.width, self.height, self.frame_rate)


@dataclass(frozen=True, slots=True)
class Profile:
    token: str
    name: str
    encoder: EncoderConfig | None  # None: the profile has no video encoder configured
