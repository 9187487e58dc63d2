"""RTSP prober: TCP connect, ``OPTIONS rtsp://ip:port<path> RTSP/1.0`` with a CSeq, read the status.

Both 200 and 401 count as success: the question this probe answers is "is the stream service
up?", and many cameras (Hikvision/Dahua firmwares among them) demand authentication even for
OPTIONS. A 401 proves the RTSP server parsed our request and answered. Whether the credentials
work is the ONVIF probe's business (``sharpeyes_onvif_auth_success``); we send none here so no
secret ever travels in clear text over RTSP. Any other status is a "protocol" failure,
an answer that is not an RTSP status line is "malformed".
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from sharpeyes.exporters.probers.base import MetricWriter, Module, ProbeError, Target
from sharpeyes.exporters.probers.icmp import check, strict_settings
from sharpeyes.exporters.probers.tcp import close_quietly, connect

UP_STATUSES = frozenset({200, 401})
_STATUS_LINE = re.compile(rb"^RTSP/(\d)\.(\d) ([1-5]\d\d)(?: [^\r\n]*)?\r?\n$")
_MAX_HEADER_LINES = 64
_READ_LIMIT = 8192


@dataclass(frozen=True, slots=True)
class RtspSettings:
    path: str = "/"

    def __post_init__(self) -> None:
        check(self.path.startswith("/"), "path", f"must start with '/', got {self.path!r}")
        check(not any(c in self.path for c in "\r\n "), "path", "must not contain spaces or line breaks")

    @classmethod
    def from_dict(cls, d: Any, where: str) -> RtspSettings:
        return strict_settings(cls, d, where)


def options_request(ip: str, port: int, path: str, cseq: int = 1) -> bytes:
    host = f"[{ip}]" if ":" in ip else ip
    return (f"OPTIONS rtsp://{host}:{port}{path} RTSP/1.0\r\n"
            f"CSeq: {cseq}\r\nUser-Agent: sharpeyes-exporter\r\n\r\n").encode("ascii")


def parse_status_line(line: bytes) -> int:
    """Status code of an RTSP status line, or ProbeError("malformed")."""
    m = _STATUS_LINE.match(line)
    if not m:
        raise ProbeError("malformed", f"not an RTSP status line: {line[:60]!r}")
    return int(m.group(3))


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, float]:
    """Read status line and headers; returns (status, time the status line arrived)."""
    try:
        line = await reader.readline()
    except (ValueError, asyncio.LimitOverrunError):
        raise ProbeError("malformed", "status line too long") from None
    arrived = time.perf_counter()
    if not line:
        raise ProbeError("malformed", "connection closed without an RTSP response")
    status = parse_status_line(line)
    for _ in range(_MAX_HEADER_LINES):  # drain headers so the camera sees a clean close
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
    return status, arrived


async def probe(target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
    settings: RtspSettings = module.settings or RtspSettings()
    port = target.rtsp_port
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await connect(target.ip, port)
            try:
                reader._limit = _READ_LIMIT  # type: ignore[attr-defined]  # bound a garbage flood
                writer.write(options_request(target.ip, port, settings.path))
                sent = time.perf_counter()
                await writer.drain()
                status, arrived = await _read_response(reader)
            finally:
                await close_quietly(writer)
    except TimeoutError:
        raise ProbeError("timeout", f"no RTSP answer from {target.ip}:{port} in {timeout:g}s") from None
    except (ConnectionResetError, BrokenPipeError):
        raise ProbeError("malformed", "connection reset before an RTSP response") from None
    out.gauge("sharpeyes_rtsp_status_code", "Status code of the RTSP OPTIONS reply.", status)
    out.gauge("sharpeyes_rtsp_response_seconds", "Seconds from sending OPTIONS to the status line.",
              arrived - sent)
    if status not in UP_STATUSES:
        raise ProbeError("protocol", f"RTSP status {status}")
    return True
