"""What discovery observed on the network, as plain JSON-friendly records.

A discovery run produces one :class:`Observations`: per polled switch whether the poll worked and
by which protocol, the MAC addresses each switch port learnt (FDB), the LLDP neighbours, the ports'
oper status, optics, and per device the identity it reported (serial, MAC, firmware, clock offset).
Reconciliation (reconcile.py) is a pure function of these records and the inventory.
Nothing here holds a credential.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_HEX = re.compile(r"[0-9a-fA-F]")


def norm_mac(value: str | bytes) -> str:
    """Any MAC spelling (aa:bb.., aabb-ccdd-eeff, AA-BB-.., 6 raw bytes) -> 'aa:bb:cc:dd:ee:ff' ('' if not)."""
    if isinstance(value, bytes):
        if len(value) != 6:
            try:
                value = value.decode("ascii")
            except UnicodeDecodeError:
                return ""
        else:
            return ":".join(f"{b:02x}" for b in value)
    digits = "".join(_HEX.findall(value))
    if len(digits) != 12:
        return ""
    d = digits.lower()
    return ":".join(d[i:i + 2] for i in range(0, 12, 2))


@dataclass(frozen=True, slots=True)
class FdbEntry:
    """A MAC address a switch learnt on one of its ports."""

    switch: str
    port: str  # canonical (inventory) port name when it could be resolved, else as reported
    mac: str  # aa:bb:cc:dd:ee:ff
    vlan: int = 0
    source: str = "snmp"  # snmp | cli


@dataclass(frozen=True, slots=True)
class LldpNeighbor:
    switch: str
    port: str  # local port
    chassis_id: str  # MAC form when the chassis id is a MAC, else the text
    port_id: str
    sys_name: str
    source: str = "snmp"


@dataclass(frozen=True, slots=True)
class PortState:
    switch: str
    port: str
    if_index: int = 0
    up: bool = False
    rx_dbm: float | None = None  # optics (CLI transceiver), None when unknown
    tx_dbm: float | None = None
    source: str = "snmp"


@dataclass(frozen=True, slots=True)
class ArpEntry:
    switch: str
    ip: str
    mac: str
    source: str = "snmp"


@dataclass(frozen=True, slots=True)
class Identity:
    """What a device says it is (switch: ENTITY-MIB / display version; camera: ONVIF device info)."""

    device: str
    serial: str = ""
    firmware: str = ""
    model: str = ""
    manufacturer: str = ""
    mac: str = ""
    clock_offset_s: float | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class PollResult:
    """One device poll by one protocol: ok, or why not (never a secret)."""

    device: str
    protocol: str  # snmp | cli | onvif
    ok: bool
    error: str = ""
    duration_s: float = 0.0


@dataclass(slots=True)
class Observations:
    started: float = 0.0  # POSIX seconds
    finished: float = 0.0
    scope: list[str] = field(default_factory=list)  # townships polled ([] = all)
    polls: list[PollResult] = field(default_factory=list)
    fdb: list[FdbEntry] = field(default_factory=list)
    lldp: list[LldpNeighbor] = field(default_factory=list)
    ports: list[PortState] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    arp: list[ArpEntry] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return max(0.0, self.finished - self.started)

    def polled_ok(self, protocol: str | None = None) -> set[str]:
        return {p.device for p in self.polls if p.ok and (protocol is None or p.protocol == protocol)}

    def merged_identities(self) -> dict[str, Identity]:
        """One identity per device (SNMP/CLI/ONVIF merged: later non-empty fields win)."""
        out: dict[str, Identity] = {}
        for i in self.identities:
            prev = out.get(i.device)
            if prev is None:
                out[i.device] = i
                continue
            out[i.device] = Identity(
                i.device, i.serial or prev.serial, i.firmware or prev.firmware, i.model or prev.model,
                i.manufacturer or prev.manufacturer, i.mac or prev.mac,
                i.clock_offset_s if i.clock_offset_s is not None else prev.clock_offset_s,
                "+".join(sorted({*prev.source.split("+"), i.source})))
        return out

    def merge(self, other: Observations) -> None:
        self.polls += other.polls
        self.fdb += other.fdb
        self.lldp += other.lldp
        self.ports += other.ports
        self.identities += other.identities
        self.arp += other.arp

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "started": self.started,
            "finished": self.finished,
            "duration_s": round(self.duration_s, 3),
            "scope": self.scope,
            "polls": [asdict(p) for p in self.polls],
            "fdb": [asdict(e) for e in self.fdb],
            "lldp": [asdict(e) for e in self.lldp],
            "ports": [asdict(e) for e in self.ports],
            "identities": [asdict(e) for e in self.identities],
            "arp": [asdict(e) for e in self.arp],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Observations:
        return cls(
            float(d.get("started", 0)), float(d.get("finished", 0)), list(d.get("scope", [])),
            _load(PollResult, d.get("polls")), _load(FdbEntry, d.get("fdb")),
            _load(LldpNeighbor, d.get("lldp")), _load(PortState, d.get("ports")),
            _load(Identity, d.get("identities")), _load(ArpEntry, d.get("arp")),
        )


def _load(cls: type[T], rows: Any) -> list[T]:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return [cls(**{k: v for k, v in row.items() if k in names}) for row in rows or []]


def write_json(path: Path, data: Any) -> None:
    """Atomic write (temp file + rename): readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@dataclass(slots=True)
class AuditFinding:
    """A security-hygiene finding about one device. ``detail`` never holds a tried secret."""

    check: str
    severity: str
    device: str
    township: str = ""
    contractor: str = ""
    village: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> AuditFinding:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
