"""Start and stop the camera-side servers (ONVIF + RTSP) for a list of device states.

    async with CameraServers(states, secrets, onvif_port=8080, rtsp_port=8554) as servers:
        ...  # every camera answers at its own IP; flip DeviceState fields to inject faults

``secrets`` maps auth profile names (``DeviceState.auth_profile``) to credentials: a
:class:`~simulator.state.Credentials`, a ``(username, password)`` pair or a mapping with
``username``/``password`` keys. Passwords are never logged nor shown in repr.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from sharpeyes.simulator.onvif import OnvifServers
from sharpeyes.simulator.rtsp import RtspServers
from sharpeyes.simulator.state import Credentials, DeviceState

__all__ = ["CameraServers", "normalise_secrets"]


def normalise_secrets(secrets: Mapping[str, Any]) -> dict[str, Credentials]:
    out: dict[str, Credentials] = {}
    for name, value in secrets.items():
        if isinstance(value, Credentials):
            out[name] = value
        elif isinstance(value, Mapping):
            out[name] = Credentials(str(value["username"]), str(value["password"]))
        else:
            username, password = value
            out[name] = Credentials(str(username), str(password))
    return out


class CameraServers:
    """ONVIF and RTSP for every camera in ``states``; ports default to each camera's own."""

    def __init__(self, states: Iterable[DeviceState], secrets: Mapping[str, Any], *,
                 onvif_port: int | None = None, rtsp_port: int | None = None,
                 freshness_s: float = 300.0, onvif: bool = True, rtsp: bool = True) -> None:
        self.states = [s for s in states if s.kind == "camera"]
        creds = normalise_secrets(secrets)
        missing = sorted({s.auth_profile for s in self.states} - creds.keys())
        if missing:
            raise ValueError(f"no credentials for auth profile(s): {', '.join(missing)}")
        self.onvif = OnvifServers(self.states, creds, port=onvif_port, rtsp_port=rtsp_port,
                                  freshness_s=freshness_s) if onvif else None
        self.rtsp = RtspServers(self.states, creds, port=rtsp_port,
                                stills=self.onvif.stills if self.onvif else None) if rtsp else None

    async def start(self) -> None:
        try:
            if self.onvif is not None:
                await self.onvif.start()
            if self.rtsp is not None:
                await self.rtsp.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self.rtsp is not None:
            await self.rtsp.close()
        if self.onvif is not None:
            await self.onvif.close()

    async def __aenter__(self) -> CameraServers:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
