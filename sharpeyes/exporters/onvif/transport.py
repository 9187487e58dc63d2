"""The narrow ONVIF interface the prober uses. Implementations: zeep_transport (real), fake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.model import CameraClock, DeviceInfo, EncoderConfig, Profile


class OnvifTransport(Protocol):
    """One camera. Every method raises only exporters.onvif.errors.OnvifError subclasses."""

    async def system_date_and_time(self) -> CameraClock:
        """GetSystemDateAndTime, sent without WS-Security (cameras answer it unauthenticated)."""
        ...

    def set_clock_offset(self, seconds: float | None) -> None:
        """Shift the WS-Security UsernameToken Created time by the camera's clock offset."""
        ...

    async def device_information(self) -> DeviceInfo: ...

    async def profiles(self) -> list[Profile]:
        """Media (ver10) GetProfiles."""
        ...

    async def video_encoder_configurations(self) -> list[EncoderConfig]: ...

    async def snapshot_uri(self, profile_token: str) -> str:
        """Media (ver10) GetSnapshotUri of a profile; "" when the camera has none."""
        ...

    async def stream_uri(self, profile_token: str) -> str:
        """Media (ver10) GetStreamUri of a profile, RTP-Unicast over RTSP."""
        ...

    async def aclose(self) -> None: ...


TransportFactory = Callable[[str, int, "OnvifAuth | None"], OnvifTransport]
