"""The ONVIF transport the exporter uses: soap.py messages over one shared aiohttp connector.

Every camera shares one ClientSession (per event loop); a camera keeps only what must persist
between probes (address, credentials, clock offset, the Media service path) in a slotted object.
Requests carry no timeout of their own: the prober's ``asyncio.timeout`` bounds the whole probe.
Replies are read up to soap.MAX_REPLY_BYTES. The zeep transport (zeep_transport.py) stays for
discovery and as the reference this one is tested against with the same real camera replies.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
from lxml import etree

from sharpeyes.exporters.onvif import soap
from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.errors import (
    OnvifError,
    OnvifMalformedError,
    OnvifNotSupportedError,
    OnvifRefusedError,
    OnvifUnreachableError,
)
from sharpeyes.exporters.onvif.model import CameraClock, DeviceInfo, EncoderConfig, Profile
from sharpeyes.exporters.onvif.redact import redact_wsse

log = logging.getLogger(__name__)


class SharedHttp:
    """One aiohttp session for every camera, created in (and bound to) the running loop."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # keep-alive for a few seconds covers one probe's 3-5 requests; between probes
            # (minutes) a camera holds no socket
            connector = aiohttp.TCPConnector(limit=0, use_dns_cache=False, keepalive_timeout=5)
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                                  auto_decompress=False)
            self._loop = loop
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()


async def _read_bounded(resp: aiohttp.ClientResponse, op: str) -> bytes:
    if (resp.content_length or 0) > soap.MAX_REPLY_BYTES:
        raise OnvifMalformedError(f"{op}: reply of {resp.content_length} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > soap.MAX_REPLY_BYTES:
            raise OnvifMalformedError(f"{op}: reply larger than {soap.MAX_REPLY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class LeanOnvifTransport:
    __slots__ = ("_auth", "_base", "_http", "_media_path", "_offset")

    def __init__(self, http: SharedHttp, host: str, port: int, auth: OnvifAuth | None) -> None:
        self._http = http
        self._base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self._auth = auth
        self._offset = 0.0
        self._media_path: str | None = None

    def __repr__(self) -> str:
        return f"LeanOnvifTransport({self._base}, auth={self._auth!r})"

    def set_clock_offset(self, seconds: float | None) -> None:
        self._offset = seconds or 0.0

    async def _call(self, op: soap.Operation, path: str, signed: bool = True) -> etree._Element:
        body = soap.request(op, self._auth if signed else None, self._offset)
        url = self._base + path
        if log.isEnabledFor(logging.DEBUG):
            log.debug("HTTP Post to %s:\n%s", url, redact_wsse(body.decode()))
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{op.action}"'}
        try:
            # never follow a redirect: the signed request would go to an address outside the inventory
            async with self._http.session().post(url, data=body, headers=headers, allow_redirects=False) as resp:
                status, reply = resp.status, await _read_bounded(resp, op.name)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, ConnectionRefusedError):
                raise OnvifRefusedError(f"{op.name}: connection refused") from None
            raise OnvifUnreachableError(f"{op.name}: {str(exc)[:160]}") from None
        except aiohttp.ClientError as exc:
            raise OnvifError(f"{op.name}: {type(exc).__name__}") from None
        return soap.response_element(op, status, reply)

    async def _media(self, op: soap.Operation) -> etree._Element:
        if self._media_path is None:
            self._media_path = await self._discover_media()
        return await self._call(op, self._media_path)

    async def _discover_media(self) -> str:
        """The Media service path: GetServices, falling back to GetCapabilities (older cameras)."""
        try:
            path = soap.media_path_from_services(await self._call(soap.GET_SERVICES, soap.DEVICE_PATH))
        except OnvifError:
            path = None
        if path is None:
            reply = await self._call(soap.GET_CAPABILITIES, soap.DEVICE_PATH)
            path = soap.media_path_from_capabilities(reply)
        if path is None:
            raise OnvifError("GetServices/GetCapabilities: the camera advertises no Media service")
        return path

    async def system_date_and_time(self) -> CameraClock:
        before = time.time()
        reply = await self._call(soap.GET_SYSTEM_DATE_AND_TIME, soap.DEVICE_PATH, signed=False)
        return soap.parse_clock(reply, (before + time.time()) / 2)

    async def device_information(self) -> DeviceInfo:
        return soap.parse_device_information(await self._call(soap.GET_DEVICE_INFORMATION, soap.DEVICE_PATH))

    async def profiles(self) -> list[Profile]:
        return soap.parse_profiles(await self._media(soap.GET_PROFILES))

    async def video_encoder_configurations(self) -> list[EncoderConfig]:
        return soap.parse_encoder_configurations(await self._media(soap.GET_VIDEO_ENCODER_CONFIGURATIONS))

    async def snapshot_uri(self, profile_token: str) -> str:
        """Media GetSnapshotUri; a camera without one there is asked through Media2."""
        try:
            uri = soap.parse_snapshot_uri(await self._media(soap.get_snapshot_uri(profile_token)))
        except OnvifNotSupportedError:
            uri = ""
        return uri or await self._media2_snapshot_uri(profile_token)

    async def stream_uri(self, profile_token: str) -> str:
        return soap.parse_stream_uri(await self._media(soap.get_stream_uri(profile_token)))

    async def _media2_snapshot_uri(self, profile_token: str) -> str:
        from sharpeyes.exporters.onvif import media2

        try:
            path = soap.media_path_from_services(await self._call(soap.GET_SERVICES, soap.DEVICE_PATH),
                                                 soap.MEDIA2_NS)
        except OnvifError:
            path = None
        if not path:
            raise OnvifNotSupportedError("GetSnapshotUri: no snapshot in Media and no Media2 service")
        try:
            return await media2.snapshot_uri(self._http.session(), self._base + path, profile_token, self._auth,
                                             self._offset)
        except aiohttp.ClientError as exc:
            raise OnvifError(f"Media2 GetSnapshotUri: {type(exc).__name__}") from None

    async def aclose(self) -> None:
        """Nothing per camera to close: the connector is shared."""


class LeanFactory:
    """TransportFactory for LeanOnvifTransport; owns the shared session (``aclose`` closes it)."""

    def __init__(self) -> None:
        self.http = SharedHttp()

    def __call__(self, host: str, port: int, auth: OnvifAuth | None) -> LeanOnvifTransport:
        return LeanOnvifTransport(self.http, host, port, auth)

    async def aclose(self) -> None:
        await self.http.aclose()
