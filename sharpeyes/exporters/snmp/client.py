"""The facade probers use: one process-wide client routing each auth profile to its transport.

Both SNMP versions go through udp.UdpTransport (v2c natively, v3 through the USM in v3.py), so
routing is trivial today; the facade keeps probers independent of that choice and gives tests
one place to substitute a FakeTransport.
"""

from __future__ import annotations

from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.transport import Addr, SnmpTransport, Value
from sharpeyes.exporters.snmp.udp import UdpTransport


class SnmpClient:
    """An SnmpTransport that routes by auth.version (v2c and v3 share one socket)."""

    def __init__(self, v2c: SnmpTransport | None = None, v3: SnmpTransport | None = None) -> None:
        self.v2c: SnmpTransport = v2c if v2c is not None else UdpTransport()
        self.v3: SnmpTransport = v3 if v3 is not None else self.v2c

    def transport_for(self, auth: SnmpAuth) -> SnmpTransport:
        return self.v3 if auth.version == 3 else self.v2c

    async def get(
        self, addr: Addr, auth: SnmpAuth, oids: list[str], timeout: float, retries: int = 1
    ) -> dict[str, Value]:
        return await self.transport_for(auth).get(addr, auth, oids, timeout, retries)

    async def walk(
        self, addr: Addr, auth: SnmpAuth, root_oid: str, timeout: float, retries: int = 1
    ) -> list[tuple[str, Value]]:
        return await self.transport_for(auth).walk(addr, auth, root_oid, timeout, retries)

    async def close(self) -> None:
        await self.v2c.close()
        if self.v3 is not self.v2c:
            await self.v3.close()


_default: SnmpClient | None = None


def default_client() -> SnmpClient:
    """The process-wide client (its socket opens on first use in the running event loop)."""
    global _default
    if _default is None:
        _default = SnmpClient()
    return _default


def transport_for(auth: SnmpAuth) -> SnmpTransport:
    return default_client().transport_for(auth)
