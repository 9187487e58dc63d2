"""THE prober table: every protocol is one entry here (blackbox_exporter's ``Probers`` map).

A module's ``prober:`` names an entry; the entry gives the probe function (base.Prober), the
settings class that parses the module's ``<prober>:`` section (``from_dict(mapping, where)``),
which ``auths:`` section the prober reads from the target's profile (``Target.auth`` is that
section's object: SnmpAuth, OnvifAuth, or None), how to close its transports on shutdown, and how
to forget per-device state when an inventory reload removes devices (``retain``).
A new protocol is a new file and a new line in ``_SPECS``, never an ``if`` in the handler.

Entries are imported on first use, so ``import exporters.probers.base`` (which every prober does)
does not drag in every protocol library.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Container, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sharpeyes.exporters.probers.base import Prober


@dataclass(frozen=True, slots=True)
class ProberEntry:
    probe: Prober
    settings_cls: Any  # a dataclass with classmethod from_dict(mapping, where) -> settings
    auth: str | None = None  # the auths: section the prober reads ("snmp", "onvif") or None
    aclose: Callable[[], Awaitable[None]] | None = None  # closes the prober's shared transports
    # retain(device ids, addresses): drop per-device state for everything else; returns entries dropped
    retain: Callable[[Container[str], Container[str]], Awaitable[int]] | None = None


@dataclass(frozen=True, slots=True)
class _Spec:
    module: str  # where the prober lives
    settings: str  # "module:attr" of the settings class
    auth: str | None = None
    aclose: str | None = None  # "module:attr" of an async close function, or "probe.aclose"
    retain: str | None = None  # "module:attr" of an async retain function, or "probe.retain"


_P = "sharpeyes.exporters.probers"
_SNMP_SETTINGS = "sharpeyes.exporters.snmp.probing:SnmpSettings"
_SPECS: dict[str, _Spec] = {
    "icmp": _Spec(f"{_P}.icmp", f"{_P}.icmp:IcmpSettings", None, "probe.aclose"),
    "tcp": _Spec(f"{_P}.tcp", f"{_P}.tcp:TcpSettings"),
    "rtsp": _Spec(f"{_P}.rtsp", f"{_P}.rtsp:RtspSettings"),
    "snmp_camera": _Spec(f"{_P}.snmp_camera", _SNMP_SETTINGS, "snmp", f"{_P}:close_snmp",
                         f"{_P}:retain_snmp"),
    "snmp_switch": _Spec(f"{_P}.snmp_switch", _SNMP_SETTINGS, "snmp", f"{_P}:close_snmp", "probe.retain"),
    "onvif": _Spec(f"{_P}.onvif", f"{_P}.onvif:OnvifSettings", "onvif", "probe.aclose", "probe.retain"),
    "snapshot": _Spec(f"{_P}.snapshot", f"{_P}.snapshot:SnapshotSettings", "onvif", "probe.aclose"),
}


async def close_snmp() -> None:
    """Close the process-wide SNMP client (shared by snmp_camera and snmp_switch)."""
    from sharpeyes.exporters.snmp import client

    if client._default is not None:
        await client._default.close()
        client._default = None


async def retain_snmp(device_ids: Container[str], addresses: Container[str]) -> int:
    """Forget SNMPv3 engine state of agents no longer in the inventory."""
    from sharpeyes.exporters.snmp import client

    if client._default is None:
        return 0
    transports = {id(t): t for t in (client._default.v2c, client._default.v3)}.values()
    return sum(t.retain(addresses) for t in transports if hasattr(t, "retain"))


async def retain_all(table: Mapping[str, ProberEntry], device_ids: Container[str],
                     addresses: Container[str]) -> int:
    """Every loaded prober of table forgets devices outside ids/addresses; entries dropped."""
    loaded = getattr(table, "loaded", None)
    entries = loaded() if loaded is not None else list(table.values())
    retains: list[Any] = []
    for e in entries:
        if e.retain is not None and e.retain not in retains:  # bound methods compare equal
            retains.append(e.retain)
    return sum([await retain(device_ids, addresses) for retain in retains])


def _ref(probe: Any, ref: str | None, method: str) -> Any:
    if ref == f"probe.{method}":
        return getattr(probe, method)
    return _attr(ref) if ref else None


def _attr(ref: str) -> Any:
    mod, _, name = ref.partition(":")
    return getattr(importlib.import_module(mod), name)


def _build(spec: _Spec) -> ProberEntry:
    module = importlib.import_module(spec.module)
    probe = module.probe
    return ProberEntry(probe, _attr(spec.settings), spec.auth, _ref(probe, spec.aclose, "aclose"),
                       _ref(probe, spec.retain, "retain"))


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

__all__ = ["PROBERS", "ProberEntry", "close_snmp", "retain_all", "retain_snmp"]
