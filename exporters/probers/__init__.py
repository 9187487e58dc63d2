"""THE prober table: every protocol is one entry here (blackbox_exporter's ``Probers`` map).

A module's ``prober:`` names an entry; the entry gives the probe function (base.Prober), the
settings class that parses the module's ``<prober>:`` section (``from_dict(mapping, where)``),
which ``auths:`` section the prober reads from the target's profile (``Target.auth`` is that
section's object: SnmpAuth, OnvifAuth, or None), and how to close its transports on shutdown.
A new protocol is a new file and a new line in ``_SPECS``, never an ``if`` in the handler.

Entries are imported on first use, so ``import exporters.probers.base`` (which every prober does)
does not drag in every protocol library.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporters.probers.base import Prober


@dataclass(frozen=True, slots=True)
class ProberEntry:
    probe: Prober
    settings_cls: Any  # a dataclass with classmethod from_dict(mapping, where) -> settings
    auth: str | None = None  # the auths: section the prober reads ("snmp", "onvif") or None
    aclose: Callable[[], Awaitable[None]] | None = None  # closes the prober's shared transports


@dataclass(frozen=True, slots=True)
class _Spec:
    module: str  # where the prober lives
    settings: str  # "module:attr" of the settings class
    auth: str | None = None
    aclose: str | None = None  # "module:attr" of an async close function, or "probe.aclose"


_SPECS: dict[str, _Spec] = {
    "icmp": _Spec("exporters.probers.icmp", "exporters.probers.icmp:IcmpSettings", None, "probe.aclose"),
    "tcp": _Spec("exporters.probers.tcp", "exporters.probers.tcp:TcpSettings"),
    "rtsp": _Spec("exporters.probers.rtsp", "exporters.probers.rtsp:RtspSettings"),
    "snmp_camera": _Spec("exporters.probers.snmp_camera", "exporters.snmp.probing:SnmpSettings", "snmp",
                         "exporters.probers:close_snmp"),
    "snmp_switch": _Spec("exporters.probers.snmp_switch", "exporters.snmp.probing:SnmpSettings", "snmp",
                         "exporters.probers:close_snmp"),
    "onvif": _Spec("exporters.probers.onvif", "exporters.probers.onvif:OnvifSettings", "onvif",
                   "probe.aclose"),
}


async def close_snmp() -> None:
    """Close the process-wide SNMP client (shared by snmp_camera and snmp_switch)."""
    from exporters.snmp import client

    if client._default is not None:
        await client._default.close()
        client._default = None


def _attr(ref: str) -> Any:
    mod, _, name = ref.partition(":")
    return getattr(importlib.import_module(mod), name)


def _build(spec: _Spec) -> ProberEntry:
    module = importlib.import_module(spec.module)
    probe = module.probe
    aclose = None
    if spec.aclose == "probe.aclose":
        aclose = probe.aclose
    elif spec.aclose:
        aclose = _attr(spec.aclose)
    return ProberEntry(probe, _attr(spec.settings), spec.auth, aclose)


class _LazyTable(Mapping[str, ProberEntry]):
    def __init__(self, specs: dict[str, _Spec]) -> None:
        self._specs = specs
        self._entries: dict[str, ProberEntry] = {}

    def __getitem__(self, name: str) -> ProberEntry:
        entry = self._entries.get(name)
        if entry is None:
            entry = self._entries[name] = _build(self._specs[name])
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def loaded(self) -> list[ProberEntry]:
        """Entries imported so far (shutdown closes only what was used)."""
        return list(self._entries.values())


PROBERS: Mapping[str, ProberEntry] = _LazyTable(_SPECS)

__all__ = ["PROBERS", "ProberEntry", "close_snmp"]
