"""A fake SnmpTransport answering from an snmprec capture and recording every OID asked.

snmp_exporter's scraper/mock.go in Python: tests assert both the metrics and exactly which OIDs
a prober requested (that is what catches over-walking). One flag per failure mode, as in Home
Assistant's fake cameras: ``FakeTransport(data, fail="timeout" | "auth" | "malformed")``.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.ber import END_OF_MIB_VIEW, NO_SUCH_INSTANCE, NO_SUCH_OBJECT
from sharpeyes.exporters.snmp.transport import (
    Addr,
    SnmpAuthFailure,
    SnmpMalformed,
    SnmpTimeout,
    Value,
    in_subtree,
    oid_key,
)

_INT_TYPES = {"2", "65", "66", "67", "70"}


def parse_snmprec_value(type_field: str, raw: str) -> Value:
    """One snmprec value (snmpsim's `oid|type|value`, type numbers = BER tags, `x` = hex)."""
    hexed = type_field.endswith("x")
    tag = type_field.rstrip("x").split(":", 1)[0]
    data = bytes.fromhex(raw) if hexed else raw.encode()
    if tag in _INT_TYPES:
        return int.from_bytes(data, "big", signed=tag == "2") if hexed else int(raw)
    if tag in ("4", "68"):
        return data
    if tag == "6":
        return raw
    if tag == "64":
        return ".".join(str(b) for b in data) if hexed else raw
    if tag == "5":
        return None
    raise ValueError(f"unsupported snmprec type {type_field!r}")


def load_snmprec(path: str | Path) -> dict[str, Value]:
    data: dict[str, Value] = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            try:
                oid, type_field, raw = line.split("|", 2)
                data[oid] = parse_snmprec_value(type_field, raw)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: {exc}") from None
    return data


@dataclass(frozen=True, slots=True)
class Call:
    op: str  # "get" | "walk"
    addr: Addr
    oids: tuple[str, ...]  # the OIDs of a get, or the root of a walk


class FakeTransport:
    """An in-memory agent. ``data`` may be changed between probes through ``set``/``delete``."""

    def __init__(self, data: Mapping[str, Value], *, fail: str | None = None) -> None:
        if fail not in (None, "timeout", "auth", "malformed"):
            raise ValueError(f"unknown failure mode {fail!r}")
        self.data = dict(data)
        self.fail = fail
        self.calls: list[Call] = []
        self.closed = False
        self._keys: list[tuple[int, ...]] | None = None
        self._oids: list[str] = []

    @classmethod
    def from_snmprec(cls, path: str | Path, *, fail: str | None = None) -> FakeTransport:
        return cls(load_snmprec(path), fail=fail)

    def set(self, oid: str, value: Value) -> None:
        if oid not in self.data:
            self._keys = None
        self.data[oid] = value

    def delete(self, oid: str) -> None:
        del self.data[oid]
        self._keys = None

    # -- what the prober asked ---------------------------------------------------------------

    def gets(self) -> list[str]:
        """Every OID requested by GETs, in order."""
        return [o for c in self.calls if c.op == "get" for o in c.oids]

    def walks(self) -> list[str]:
        return [c.oids[0] for c in self.calls if c.op == "walk"]

    def reset_calls(self) -> None:
        self.calls.clear()

    # -- SnmpTransport -----------------------------------------------------------------------

    def _check(self) -> None:
        if self.fail == "timeout":
            raise SnmpTimeout("fake: no answer")
        if self.fail == "auth":
            raise SnmpAuthFailure("fake: usmStatsWrongDigests")
        if self.fail == "malformed":
            raise SnmpMalformed("fake: truncated message")

    async def get(
        self, addr: Addr, auth: SnmpAuth, oids: list[str], timeout: float, retries: int = 1
    ) -> dict[str, Value]:
        self.calls.append(Call("get", addr, tuple(oids)))
        self._check()
        out: dict[str, Value] = {}
        for oid in oids:
            if oid in self.data:
                out[oid] = self.data[oid]
            else:
                parent = oid.rsplit(".", 1)[0]
                out[oid] = NO_SUCH_INSTANCE if self._has_subtree(parent) else NO_SUCH_OBJECT
        return out

    async def walk(
        self, addr: Addr, auth: SnmpAuth, root_oid: str, timeout: float, retries: int = 1
    ) -> list[tuple[str, Value]]:
        self.calls.append(Call("walk", addr, (root_oid,)))
        self._check()
        keys, oids = self._index()
        i = bisect.bisect_right(keys, oid_key(root_oid))
        out: list[tuple[str, Value]] = []
        while i < len(oids) and in_subtree(oids[i], root_oid):
            out.append((oids[i], self.data[oids[i]]))
            i += 1
        return out

    async def close(self) -> None:
        self.closed = True

    def _index(self) -> tuple[list[tuple[int, ...]], list[str]]:
        if self._keys is None:
            self._oids = sorted(self.data, key=oid_key)
            self._keys = [oid_key(o) for o in self._oids]
        return self._keys, self._oids

    def _has_subtree(self, root: str) -> bool:
        keys, oids = self._index()
        i = bisect.bisect_right(keys, oid_key(root))
        return i < len(oids) and in_subtree(oids[i], root)


__all__ = ["END_OF_MIB_VIEW", "Call", "FakeTransport", "load_snmprec", "parse_snmprec_value"]
