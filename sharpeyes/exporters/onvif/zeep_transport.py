"""The real ONVIF transport on onvif-zeep-async (checked against the 4.3 source in site-packages).

What we rely on in the library, and why:
- ``ONVIFCamera(..., adjust_time=False, nat_override=True)``. We do not use the library's
  ``adjust_time``: it computes the offset inside ``update_xaddrs()`` from UTCDateTime only
  (AttributeError on cameras that send LocalDateTime alone), once, and only for services created
  afterwards. Instead we measure the offset ourselves on every probe (we need it as a metric
  anyway) and set ``dt_diff`` on each service's ``UsernameDigestTokenDtDiff`` (the library's wsse
  class, whose ``apply()`` adds ``dt_diff`` to the Created time before hashing the digest).
  ``nat_override`` makes every advertised XAddr use the inventory's ip:port: cameras advertise
  whatever address they were configured with (the captures' GetCapabilities/GetServices XAddrs
  are 192.168.x LAN addresses), while we always talk to the inventory address.
- ``authless_<Operation>`` calls skip WS-Security (used for GetSystemDateAndTime, so a camera
  whose clock is outside the WS-Security window still reports its clock).
- WSDL documents: the library caches parsed documents in ``onvif.client._DOCUMENT_CACHE`` but
  without a lock, so hundreds of cameras set up at once each parse the WSDLs (measured:
  23 s CPU / 1 GB for 200 cameras). ``warm_wsdl_documents()`` parses the two WSDLs we use once,
  under a process-wide lock, before any camera's services are created.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import zeep.exceptions
from lxml import etree
from onvif import ONVIFCamera
from onvif import client as onvif_client
from onvif.definition import SERVICES
from onvif.exceptions import ONVIFAuthError, ONVIFError, ONVIFTimeoutError

from sharpeyes.exporters.onvif import quirks
from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.errors import (
    OnvifAuthError,
    OnvifError,
    OnvifMalformedError,
    OnvifNotSupportedError,
    OnvifRefusedError,
    OnvifTimeoutError,
    OnvifUnreachableError,
)
from sharpeyes.exporters.onvif.hardening import ExpectedResponse, install_log_redaction
from sharpeyes.exporters.onvif.model import CameraClock, DateTuple, DeviceInfo, EncoderConfig, Profile

install_log_redaction()  # before any camera is created: zeep logs whole envelopes at DEBUG
_USED_SERVICES = ("devicemgmt", "media")
_AUTH_SUBCODES = frozenset(
    {"NotAuthorized", "FailedAuthentication", "InvalidSecurity", "InvalidSecurityToken"})

_warm_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
_warmed: set[str] = set()


async def warm_wsdl_documents(wsdl_dir: str = onvif_client._WSDL_PATH) -> None:
    """Parse the WSDLs we use once per process, before any camera's services are set up."""
    if wsdl_dir in _warmed:
        return
    loop = asyncio.get_running_loop()
    lock = _warm_locks.setdefault(loop, asyncio.Lock())
    async with lock:
        if wsdl_dir in _warmed:
            return
        for name in _USED_SERVICES:
            await onvif_client._cached_document(str(Path(wsdl_dir) / SERVICES[name]["wsdl"]))
        _warmed.add(wsdl_dir)


def _short(exc: BaseException) -> str:
    text = str(exc).split("\n", 1)[0]
    return text[:160]


def _fault_codes(fault: zeep.exceptions.Fault) -> list[str]:
    codes = []
    for q in fault.subcodes or []:
        codes.append(getattr(q, "localname", str(q)))
    return codes


def _translate(op: str, exc: BaseException) -> OnvifError:
    """Map any exception the library, zeep or aiohttp raises to our hierarchy."""
    if isinstance(exc, OnvifError):
        return exc
    if isinstance(exc, zeep.exceptions.Fault):
        subcodes = _fault_codes(exc)
        message = str(exc.message or "")
        if _AUTH_SUBCODES & set(subcodes):
            return OnvifAuthError(f"{op}: not authorized ({'/'.join(subcodes)})")
        try:
            quirks.raise_for_not_supported(subcodes, message)
        except OnvifError as not_supported:
            return not_supported
        return OnvifError(f"{op}: SOAP fault {'/'.join(subcodes) or 'no subcode'}: {message[:120]}")
    if isinstance(exc, zeep.exceptions.TransportError):
        if exc.status_code in (401, 403):
            return OnvifAuthError(f"{op}: HTTP {exc.status_code}")
        if "invalid XML" in str(exc):
            return OnvifMalformedError(f"{op}: invalid XML in the reply")
        return OnvifError(f"{op}: HTTP {exc.status_code}")
    if isinstance(exc, zeep.exceptions.XMLSyntaxError | zeep.exceptions.XMLParseError | etree.XMLSyntaxError):
        return OnvifMalformedError(f"{op}: {_short(exc)}")
    if isinstance(exc, TimeoutError | ONVIFTimeoutError):
        return OnvifTimeoutError(f"{op}: timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return OnvifRefusedError(f"{op}: connection refused")
        return OnvifUnreachableError(f"{op}: {_short(exc)}")
    if isinstance(exc, aiohttp.ClientError):
        return OnvifError(f"{op}: {type(exc).__name__}")
    if isinstance(exc, ONVIFAuthError):
        return OnvifAuthError(f"{op}: {_short(exc)}")
    if isinstance(exc, ONVIFError):
        cause = exc.__cause__
        return _translate(op, cause) if cause is not None else OnvifError(f"{op}: {_short(exc)}")
    if isinstance(exc, ValueError | TypeError | AttributeError | zeep.exceptions.Error):
        # zeep failing to build a value from the reply (e.g. "abc" where xs:int is due)
        return OnvifMalformedError(f"{op}: {type(exc).__name__}: {_short(exc)}")
    return OnvifError(f"{op}: {type(exc).__name__}: {_short(exc)}")


@contextmanager
def translated(op: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        raise _translate(op, exc) from exc


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date_tuple(value: Any) -> DateTuple | None:
    if value is None:
        return None
    d, t = getattr(value, "Date", None), getattr(value, "Time", None)
    if d is None or t is None:
        raise OnvifMalformedError("GetSystemDateAndTime: date/time without Date or Time")
    return (d.Year, d.Month, d.Day, t.Hour, t.Minute, t.Second)


def parse_clock(reply: Any, asked_at: float) -> CameraClock:
    tz = getattr(reply, "TimeZone", None)
    return CameraClock(
        utc=_date_tuple(getattr(reply, "UTCDateTime", None)),
        local=_date_tuple(getattr(reply, "LocalDateTime", None)),
        tz=_text(getattr(tz, "TZ", None)),
        daylight_savings=bool(getattr(reply, "DaylightSavings", False)),
        asked_at=asked_at,
    )


def parse_encoder(vec: Any) -> EncoderConfig | None:
    if vec is None:
        return None
    res, rate = getattr(vec, "Resolution", None), getattr(vec, "RateControl", None)
    bitrate, unlimited = quirks.bitrate_limit_kbps(getattr(rate, "BitrateLimit", None))
    return EncoderConfig(
        token=_text(getattr(vec, "token", "")),
        encoding=_text(getattr(vec, "Encoding", "")),
        width=quirks.picture_side(getattr(res, "Width", None)),
        height=quirks.picture_side(getattr(res, "Height", None)),
        frame_rate=quirks.frame_rate_limit(_number(getattr(rate, "FrameRateLimit", None))),
        bitrate_kbps=bitrate,
        bitrate_unlimited=unlimited,
    )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_profile(p: Any) -> Profile:
    return Profile(token=_text(p.token), name=_text(getattr(p, "Name", "")),
                   encoder=parse_encoder(getattr(p, "VideoEncoderConfiguration", None)))


class ZeepOnvifTransport:
    """One camera on onvif-zeep-async; keeps its services (and aiohttp sessions) until aclose()."""

    def __init__(self, host: str, port: int, auth: OnvifAuth | None) -> None:
        self._host, self._port = host, port
        self._camera: ONVIFCamera | None = None
        self._auth = auth
        self._dt_diff: dt.timedelta | None = None
        self._xaddrs_known = False

    def __repr__(self) -> str:
        return f"ZeepOnvifTransport({self._host}:{self._port}, auth={self._auth!r})"

    def _cam(self) -> ONVIFCamera:
        if self._camera is None:
            user = self._auth.username if self._auth else None
            password = self._auth.password if self._auth else None
            self._camera = ONVIFCamera(self._host, self._port, user, password,
                                       adjust_time=False, nat_override=True)
        return self._camera

    async def _service(self, name: str) -> Any:
        await warm_wsdl_documents()
        cam = self._cam()
        if name != "devicemgmt" and not self._xaddrs_known:
            with translated("GetServices/GetCapabilities"):
                await cam.update_xaddrs()
            self._xaddrs_known = True
        with translated(f"create {name} service"):
            service = await cam.create_onvif_service(name)
        plugins = service.zeep_client.plugins
        if not any(isinstance(p, ExpectedResponse) for p in plugins):
            plugins.append(ExpectedResponse())
        self._apply_dt_diff(service)
        return service

    def _apply_dt_diff(self, service: Any) -> None:
        service.dt_diff = self._dt_diff
        wsse = getattr(service.zeep_client, "wsse", None)
        if wsse is not None and hasattr(wsse, "dt_diff"):
            wsse.dt_diff = self._dt_diff

    def set_clock_offset(self, seconds: float | None) -> None:
        self._dt_diff = None if seconds is None else dt.timedelta(seconds=seconds)
        if self._camera is not None:
            self._camera.dt_diff = self._dt_diff
            for service in self._camera.services.values():
                self._apply_dt_diff(service)

    async def _call(self, service_name: str, op: str, params: dict[str, Any] | None = None) -> Any:
        service = await self._service(service_name)
        with translated(op):
            return await getattr(service, op)(params)

    async def system_date_and_time(self) -> CameraClock:
        service = await self._service("devicemgmt")
        before = time.time()
        with translated("GetSystemDateAndTime"):
            reply = await service.authless_GetSystemDateAndTime()
        after = time.time()
        if reply is None:
            raise OnvifMalformedError("GetSystemDateAndTime: empty reply")
        with translated("GetSystemDateAndTime"):
            return parse_clock(reply, (before + after) / 2)

    async def device_information(self) -> DeviceInfo:
        r = await self._call("devicemgmt", "GetDeviceInformation")
        return DeviceInfo(
            manufacturer=_text(getattr(r, "Manufacturer", None)),
            model=_text(getattr(r, "Model", None)),
            firmware_version=_text(getattr(r, "FirmwareVersion", None)),
            serial_number=_text(getattr(r, "SerialNumber", None)),
            hardware_id=_text(getattr(r, "HardwareId", None)),
        )

    async def profiles(self) -> list[Profile]:
        reply = await self._call("media", "GetProfiles")
        with translated("GetProfiles"):
            return [parse_profile(p) for p in reply or []]

    async def video_encoder_configurations(self) -> list[EncoderConfig]:
        reply = await self._call("media", "GetVideoEncoderConfigurations")
        with translated("GetVideoEncoderConfigurations"):
            return [c for c in (parse_encoder(v) for v in reply or []) if c is not None]

    async def snapshot_uri(self, profile_token: str) -> str:
        """Media GetSnapshotUri; a camera without one there is asked through Media2."""
        try:
            reply = await self._call("media", "GetSnapshotUri", {"ProfileToken": profile_token})
            uri = _text(getattr(reply, "Uri", None))
        except OnvifNotSupportedError:
            uri = ""
        return uri or await self._media2_snapshot_uri(profile_token)

    async def stream_uri(self, profile_token: str) -> str:
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        reply = await self._call("media", "GetStreamUri", {"StreamSetup": setup, "ProfileToken": profile_token})
        return _text(getattr(reply, "Uri", None))

    async def _media2_snapshot_uri(self, profile_token: str) -> str:
        from urllib.parse import urlsplit

        from sharpeyes.exporters.onvif import media2

        await self._service("media")  # XAddrs known
        xaddr = (self._camera.xaddrs if self._camera else {}).get(media2.MEDIA2_NS)
        if not xaddr:
            raise OnvifNotSupportedError("GetSnapshotUri: no snapshot in Media and no Media2 service")
        parts = urlsplit(xaddr)
        url = f"http://{self._host}:{self._port}{parts.path or '/'}"  # the inventory address, as nat_override
        offset = self._dt_diff.total_seconds() if self._dt_diff is not None else 0.0
        with translated("Media2 GetSnapshotUri"):
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
                return await media2.snapshot_uri(session, url, profile_token, self._auth, offset)

    async def aclose(self) -> None:
        cam, self._camera = self._camera, None
        if cam is not None:
            await cam.close()


def zeep_factory(host: str, port: int, auth: OnvifAuth | None) -> ZeepOnvifTransport:
    return ZeepOnvifTransport(host, port, auth)
