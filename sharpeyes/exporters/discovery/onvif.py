"""Camera identity (serial, firmware, model) and clock offset, reusing what the exporter probes.

Two sources, same parsing (the ``onvif`` probe's exposition text):

- :class:`ExporterSource` asks a running exporter ``/probe?module=onvif&target=<id>``. The
  exporter answers device information from its per-camera cache (``device_info_ttl``, 1 h by
  default), so discovery costs the cameras nothing beyond the clock query the exporter makes anyway.
- :class:`DirectSource` runs the exporter's own ONVIF prober in this process (with ``profiles``
  off: only GetSystemDateAndTime and GetDeviceInformation), for use without an exporter.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Protocol

from sharpeyes.exporters.discovery.model import Identity, PollResult

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Exposition text -> [(name, labels, value)] (comments skipped)."""
    out: list[tuple[str, dict[str, str], float]] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m is None:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in _LABEL.findall(m.group(2) or "")}
        try:
            out.append((m.group(1), labels, float(m.group(3))))
        except ValueError:
            continue
    return out


def identity_from_probe(device: str, text: str, source: str) -> tuple[Identity | None, str]:
    """(Identity or None, error reason) from one onvif probe's output."""
    samples = parse_samples(text)
    info = next((lab for n, lab, _ in samples if n == "sharpeyes_onvif_device_info"), None)
    offset = next((v for n, _, v in samples if n == "sharpeyes_onvif_clock_offset_seconds"), None)
    reason = next((lab.get("reason", "") for n, lab, _ in samples if n == "sharpeyes_probe_error_info"), "")
    if info is None and offset is None:
        return None, reason or "no ONVIF answer"
    info = info or {}
    return Identity(device, serial=info.get("serial_number", ""), firmware=info.get("firmware_version", ""),
                    model=info.get("model", ""), manufacturer=info.get("manufacturer", ""),
                    clock_offset_s=offset, source=source), reason


class IdentitySource(Protocol):
    async def probe(self, device: str, ip: str, port: int, auth: object, timeout: float) -> str:
        """The onvif probe's exposition text for one camera."""
        ...

    async def aclose(self) -> None: ...


class ExporterSource:
    """Read the running exporter's onvif probe (its device-info cache answers)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: object | None = None

    async def probe(self, device: str, ip: str, port: int, auth: object, timeout: float) -> str:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        session: aiohttp.ClientSession = self._session  # type: ignore[assignment]
        headers = {"X-Prometheus-Scrape-Timeout-Seconds": f"{timeout:g}"}
        async with session.get(f"{self.base_url}/probe", params={"module": "onvif", "target": device},
                               headers=headers, timeout=aiohttp.ClientTimeout(total=timeout + 1)) as resp:
            if resp.status != 200:
                return f'sharpeyes_probe_error_info{{reason="protocol"}} 1\n# HTTP {resp.status}\n'
            return await resp.text()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()  # type: ignore[attr-defined]
            self._session = None


class DirectSource:
    """Run the exporter's ONVIF prober in-process (GetSystemDateAndTime + GetDeviceInformation only)."""

    def __init__(self, factory: Callable[..., object] | None = None) -> None:
        from sharpeyes.exporters.probers.onvif import OnvifProber

        self.prober = OnvifProber(factory=factory) if factory is not None else OnvifProber()  # type: ignore[arg-type]

    async def probe(self, device: str, ip: str, port: int, auth: object, timeout: float) -> str:
        from sharpeyes.exporters.exposition import TextWriter
        from sharpeyes.exporters.probers.base import Module, ProbeError, Target
        from sharpeyes.exporters.probers.onvif import OnvifSettings

        out = TextWriter()
        module = Module("onvif", "onvif", timeout, OnvifSettings(profiles=False, device_info_ttl=0))
        try:
            await self.prober(Target(device, ip, "camera", auth=auth, onvif_port=port), module, timeout, out)
        except ProbeError as exc:
            out.gauge("sharpeyes_probe_error_info", "", 1, {"reason": exc.reason})
        return out.render()

    async def aclose(self) -> None:
        import gc

        await self.prober.aclose()
        gc.collect()  # zeep's sync transports close in __del__: do it now, not at interpreter exit


async def camera_identity(source: IdentitySource, device: str, ip: str, port: int, auth: object,
                          timeout: float, label: str) -> tuple[Identity | None, PollResult]:
    t0 = time.monotonic()
    try:
        text = await source.probe(device, ip, port, auth, timeout)
    except (OSError, TimeoutError) as exc:
        return None, PollResult(device, "onvif", False, type(exc).__name__, time.monotonic() - t0)
    except Exception as exc:  # aiohttp errors, a prober bug: one device's failure, not the run's
        return None, PollResult(device, "onvif", False, type(exc).__name__, time.monotonic() - t0)
    ident, reason = identity_from_probe(device, text, label)
    ok = ident is not None and bool(ident.serial or ident.firmware)
    return ident, PollResult(device, "onvif", ok, "" if ok else reason, round(time.monotonic() - t0, 3))
