"""Plain TCP connect prober: success when the port accepts a connection.

Also home of ``connect()``, the connection step the RTSP prober shares, which maps socket errors
to probe error reasons: refused -> "refused", no route / host down -> "unreachable", no answer
before the deadline -> "timeout".
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from dataclasses import dataclass
from typing import Any

from sharpeyes.exporters.probers.base import MetricWriter, Module, ProbeError, Target
from sharpeyes.exporters.probers.icmp import check, strict_settings

_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}


@dataclass(frozen=True, slots=True)
class TcpSettings:
    port: int = 0  # required: the TCP port to connect to

    def __post_init__(self) -> None:
        check(1 <= self.port <= 65535, "port", f"must be 1..65535, got {self.port}")

    @classmethod
    def from_dict(cls, d: Any, where: str) -> TcpSettings:
        return strict_settings(cls, d, where)


async def connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a TCP connection or raise ProbeError. The caller bounds it with a timeout."""
    try:
        return await asyncio.open_connection(host, port)
    except ConnectionRefusedError:
        raise ProbeError("refused", f"{host}:{port} refused the connection") from None
    except OSError as exc:
        if exc.errno in _UNREACHABLE:
            raise ProbeError("unreachable", f"{host}:{port}: {exc.strerror}") from None
        raise ProbeError("unreachable", f"{host}:{port}: {exc}") from None


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def probe(target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
    settings: TcpSettings = module.settings
    try:
        async with asyncio.timeout(timeout):
            _, writer = await connect(target.ip, settings.port)
            await close_quietly(writer)
    except TimeoutError:
        raise ProbeError("timeout", f"no TCP answer from {target.ip}:{settings.port}") from None
    return True
