"""The narrow interface between probers and SNMP (snmp_exporter's scraper/scraper.go, in Python).

Probers see only ``get``/``walk``/``close``; values are plain Python (see ber.py for the mapping)
and failures are one of four exceptions, translated once here at the transport edge:
SnmpTimeout, SnmpAuthFailure, SnmpMalformed, SnmpResponseError (all SnmpError).

``timeout`` is the whole budget of one call, retries included: a call never outlives the
caller's deadline (the snmp_exporter complaint: per-request timeouts exceeding the scrape's).
"""

from __future__ import annotations

from typing import Protocol

from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.ber import (
    END_OF_MIB_VIEW,
    ERROR_STATUS_NAMES,
    NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT,
    NoValue,
    Value,
)

Addr = tuple[str, int]

__all__ = [
    "END_OF_MIB_VIEW",
    "NO_SUCH_INSTANCE",
    "NO_SUCH_OBJECT",
    "Addr",
    "NoValue",
    "SnmpAuthFailure",
    "SnmpError",
    "SnmpMalformed",
    "SnmpResponseError",
    "SnmpTimeout",
    "SnmpTransport",
    "Value",
    "in_subtree",
]


class SnmpError(Exception):
    """Base of every SNMP failure a transport raises."""


class SnmpTimeout(SnmpError):
    """No (acceptable) answer within the budget."""


class SnmpAuthFailure(SnmpError):
    """The agent refused the credentials (v3 Report PDU: unknown user, wrong digest, ...)."""


class SnmpMalformed(SnmpError):
    """The agent answered with bytes that do not decode, or a PDU that does not fit the request."""


class SnmpResponseError(SnmpError):
    """The agent answered with a non-zero error-status."""

    def __init__(self, status: int, index: int) -> None:
        name = ERROR_STATUS_NAMES[status] if 0 <= status < len(ERROR_STATUS_NAMES) else str(status)
        super().__init__(f"error-status {name} at varbind {index}")
        self.status = status
        self.index = index


class SnmpTransport(Protocol):
    async def get(
        self, addr: Addr, auth: SnmpAuth, oids: list[str], timeout: float, retries: int = 1
    ) -> dict[str, Value]:
        """GET the OIDs (split into packets as needed); every requested OID is a key."""
        ...

    async def walk(
        self, addr: Addr, auth: SnmpAuth, root_oid: str, timeout: float, retries: int = 1
    ) -> list[tuple[str, Value]]:
        """Bulk-walk the subtree under root_oid, stopping at its end; in agent order."""
        ...

    async def close(self) -> None: ...


def in_subtree(oid: str, root: str) -> bool:
    return oid.startswith(root) and (len(oid) == len(root) or oid[len(root)] == ".")


def oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(a) for a in oid.split("."))
