"""ONVIF prober: camera clock, identity, auth, and per-profile encoder settings.

Order of a probe, one camera at a time (the pool serialises probes of the same camera):
1. GetSystemDateAndTime, unauthenticated -> sharpeyes_onvif_clock_offset_seconds (camera UTC minus
   ours). The offset is then applied to the WS-Security Created time (``adjust_time``), so a
   camera whose clock is off by more than the WS-Security window still authenticates; with
   ``adjust_time: false`` it still reports its clock, and its auth failure.
2. GetDeviceInformation (authenticated; cached ``device_info_ttl`` seconds per camera, since
   identity changes only with a firmware upgrade) -> sharpeyes_onvif_device_info{...} = 1.
3. Media GetProfiles (+ GetVideoEncoderConfigurations only for profiles whose embedded encoder
   lacks resolution/rate details) -> per profile (label ``profile`` = the profile token, unique
   per camera; ``encoding``) bitrate limit in bytes/s (ONVIF BitrateLimit is kbit/s: x 1000 / 8),
   frame rate, width, height.
sharpeyes_onvif_auth_success is 1 after an authenticated call succeeded in this probe, 0 after
ter:NotAuthorized / HTTP 401. An optional operation the camera lacks (ActionNotSupported) is
skipped. Every other failure is recorded, the remaining steps still run where they can, and the
probe ends with ProbeError of the first failure (an auth failure takes precedence).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from sharpeyes.contract import ONVIF_AUTH_SUCCESS, ONVIF_CLOCK_OFFSET
from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.errors import OnvifAuthError, OnvifError, OnvifNotSupportedError
from sharpeyes.exporters.onvif.model import DeviceInfo, EncoderConfig, Profile
from sharpeyes.exporters.onvif.pool import CameraSession, OnvifPool
from sharpeyes.exporters.onvif.quirks import clock_offset_seconds, profile_needs_encoder_lookup
from sharpeyes.exporters.onvif.transport import OnvifTransport, TransportFactory
from sharpeyes.exporters.probers.base import MetricWriter, Module, ProbeError, Target
from sharpeyes.exporters.probers.icmp import check, strict_settings


@dataclass(frozen=True, slots=True)
class OnvifSettings:
    profiles: bool = True  # GetProfiles -> encoder samples
    encoder: bool = True  # GetVideoEncoderConfigurations when a profile's encoder is incomplete
    adjust_time: bool = True  # shift WS-Security Created by the camera's clock offset
    device_info_ttl: float = 3600.0  # seconds GetDeviceInformation is reused

    def __post_init__(self) -> None:
        check(self.device_info_ttl >= 0, "device_info_ttl", "must be >= 0")

    @classmethod
    def from_dict(cls, d: Any, where: str) -> OnvifSettings:
        return strict_settings(cls, d, where)


class _Failures:
    def __init__(self) -> None:
        self.errors: list[OnvifError] = []

    def add(self, exc: OnvifError) -> None:
        self.errors.append(exc)

    def raise_first(self) -> None:
        if not self.errors:
            return
        first = next((e for e in self.errors if isinstance(e, OnvifAuthError)), self.errors[0])
        raise ProbeError(first.reason, str(first))


class _DefaultFactory:
    """The lean transport's factory, imported on the first ONVIF probe (lxml and the HTTP client
    stay out of an exporter that never probes ONVIF)."""

    def __init__(self) -> None:
        self._factory: Any = None

    def __call__(self, host: str, port: int, auth: OnvifAuth | None) -> OnvifTransport:
        if self._factory is None:
            from sharpeyes.exporters.onvif.lean_transport import LeanFactory

            self._factory = LeanFactory()
        return self._factory(host, port, auth)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        if self._factory is not None:
            await self._factory.aclose()


class OnvifProber:
    def __init__(self, pool: OnvifPool | None = None, factory: TransportFactory | None = None,
                 max_cameras: int = 4096) -> None:
        self.pool = pool if pool is not None else OnvifPool(factory or _DefaultFactory(), max_cameras)

    async def __call__(self, target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
        settings: OnvifSettings = module.settings or OnvifSettings()
        auth = target.auth if isinstance(target.auth, OnvifAuth) else None
        failures = _Failures()
        try:
            async with asyncio.timeout(timeout):
                async with self.pool.borrow(target.id, target.ip, target.onvif_port, auth) as session:
                    await self._probe(session, settings, out, failures)
        except TimeoutError:
            raise ProbeError("timeout", f"ONVIF probe exceeded {timeout:g}s") from None
        failures.raise_first()
        return True

    async def _probe(self, session: CameraSession, settings: OnvifSettings, out: MetricWriter,
                     failures: _Failures) -> None:
        await self._clock(session.transport, settings, out, failures)
        try:
            # With profiles off, device info is the probe's only authenticated call: never cached.
            info = await session.get_device_info(settings.device_info_ttl if settings.profiles else 0)
            write_device_info(out, info)
            auth_ok = True
        except OnvifNotSupportedError:
            auth_ok = None
        except OnvifAuthError as exc:
            failures.add(exc)
            _auth_success(out, False)
            return
        except OnvifError as exc:
            failures.add(exc)
            auth_ok = None
        if settings.profiles:
            try:
                await self._profiles(session.transport, settings, out)
                auth_ok = True
            except OnvifAuthError as exc:
                failures.add(exc)
                auth_ok = False
            except OnvifNotSupportedError:
                pass
            except OnvifError as exc:
                failures.add(exc)
        if auth_ok is not None:
            _auth_success(out, auth_ok)

    async def _clock(self, transport: OnvifTransport, settings: OnvifSettings, out: MetricWriter,
                     failures: _Failures) -> None:
        try:
            clock = await transport.system_date_and_time()
            offset = clock_offset_seconds(clock)
        except OnvifError as exc:
            failures.add(exc)
            return
        out.gauge(ONVIF_CLOCK_OFFSET,
                  "Camera clock (UTC) minus the exporter's clock, in seconds.", offset)
        if settings.adjust_time:
            transport.set_clock_offset(offset)

    async def _profiles(self, transport: OnvifTransport, settings: OnvifSettings, out: MetricWriter) -> None:
        profiles = await transport.profiles()
        configs: dict[str, EncoderConfig] = {}
        if settings.encoder and any(
            profile_needs_encoder_lookup(p.encoder.complete, True) for p in profiles if p.encoder
        ):
            with contextlib.suppress(OnvifNotSupportedError):
                configs = {c.token: c for c in await transport.video_encoder_configurations()}
        for profile in profiles:
            write_encoder(out, profile, configs)

    async def retain(self, device_ids: Container[str], addresses: Container[str]) -> int:
        return await self.pool.retain(device_ids)

    async def aclose(self) -> None:
        await self.pool.aclose()


def _auth_success(out: MetricWriter, ok: bool) -> None:
    out.gauge(ONVIF_AUTH_SUCCESS,
              "1 if the camera accepted our WS-Security credentials in this probe, else 0.", 1 if ok else 0)


def write_device_info(out: MetricWriter, info: DeviceInfo) -> None:
    out.gauge("sharpeyes_onvif_device_info", "Identity the camera reports through ONVIF.", 1, {
        "manufacturer": info.manufacturer, "model": info.model, "firmware_version": info.firmware_version,
        "serial_number": info.serial_number, "hardware_id": info.hardware_id,
    })


def _merged(enc: EncoderConfig, configs: dict[str, EncoderConfig]) -> EncoderConfig:
    full = configs.get(enc.token)
    if enc.complete or full is None:
        return enc
    return EncoderConfig(
        enc.token, enc.encoding or full.encoding,
        enc.width if enc.width is not None else full.width,
        enc.height if enc.height is not None else full.height,
        enc.frame_rate if enc.frame_rate is not None else full.frame_rate,
        enc.bitrate_kbps if enc.bitrate_kbps is not None or enc.bitrate_unlimited else full.bitrate_kbps,
        enc.bitrate_unlimited or (enc.bitrate_kbps is None and full.bitrate_unlimited),
    )


def write_encoder(out: MetricWriter, profile: Profile, configs: dict[str, EncoderConfig]) -> None:
    if profile.encoder is None:
        return
    enc = _merged(profile.encoder, configs)
    labels = {"profile": profile.token, "encoding": enc.encoding}
    if enc.bitrate_kbps is not None:
        out.gauge("sharpeyes_onvif_encoder_bitrate_limit_bytes_per_second",
                  "Encoder bitrate limit (ONVIF BitrateLimit kbit/s converted to bytes/s).",
                  enc.bitrate_kbps * 1000 / 8, labels)
    elif enc.bitrate_unlimited:
        out.gauge("sharpeyes_onvif_encoder_bitrate_unlimited",
                  "1 if the encoder reports no bitrate limit (BitrateLimit 2147483647).", 1, labels)
    if enc.frame_rate is not None:
        out.gauge("sharpeyes_onvif_encoder_frame_rate", "Encoder frame rate limit (frames/s).",
                  enc.frame_rate, labels)
    if enc.width is not None:
        out.gauge("sharpeyes_onvif_encoder_width_pixels", "Encoded picture width.", enc.width, labels)
    if enc.height is not None:
        out.gauge("sharpeyes_onvif_encoder_height_pixels", "Encoded picture height.", enc.height, labels)


# The process-wide prober the registry uses; ``await probe.aclose()`` on shutdown closes cameras.
probe = OnvifProber()
