"""The one prober signature shared by every protocol (blackbox_exporter's shape).

A prober is ``async def probe(target, module, timeout, out) -> bool``:
- ``target``  the device, resolved from the inventory (address, auth profile, port map);
- ``module``  the module config, whose ``settings`` object belongs to this prober;
- ``timeout`` seconds left for the whole probe (scrape timeout minus a margin);
- ``out``     a MetricWriter the prober appends samples to.
It returns success, or raises ProbeError(reason) for a failure that is data, not a crash
(the handler turns it into ``probe_success 0`` and ``sharpeyes_probe_error_info{reason}``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

REASONS = ("timeout", "unreachable", "auth", "protocol", "refused", "malformed")


class ProbeError(Exception):
    """A device-level failure: becomes probe_success 0 with a reason label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown probe error reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PortInfo:
    """A switch port the inventory cares about: who (camera/device) or which fiber link is on it."""

    name: str
    media: str = "copper"  # copper | fiber
    device: str = ""  # id of the device hanging off this port
    link: str = ""  # id of the fiber link ending on this port


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    ip: str
    kind: str
    vendor: str = ""
    model: str = ""
    auth: Any = None  # the resolved auth profile object (exporters.config), or None
    ports: tuple[PortInfo, ...] = ()
    rtsp_port: int = 554
    onvif_port: int = 80
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    prober: str
    timeout: float
    settings: Any  # the prober's own settings dataclass


class MetricWriter(Protocol):
    def gauge(self, name: str, help: str, value: float, labels: dict[str, str] | None = None) -> None: ...

    def counter(self, name: str, help: str, value: float, labels: dict[str, str] | None = None) -> None: ...


Prober = Callable[[Target, Module, float, MetricWriter], Awaitable[bool]]
