"""Per-camera ONVIF transports, cached and reused across probes, bounded, closed on shutdown.

A camera keeps its transport (with the lean transport: address, clock offset, Media path; the
HTTP connector is shared) and its device information between probes.
The key includes address, port and credentials, so an inventory or secret change builds a new
one. Least recently used entries beyond ``max_size`` are closed; one still in use by a probe is
closed when that probe returns it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Container, Iterable
from contextlib import asynccontextmanager

from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.model import DeviceInfo
from sharpeyes.exporters.onvif.transport import OnvifTransport, TransportFactory


class CameraSession:
    """A camera's transport plus what we remember about it between probes."""

    __slots__ = ("device_info", "device_info_at", "evicted", "key", "lock", "transport", "users")

    def __init__(self, key: tuple[str, ...], transport: OnvifTransport) -> None:
        self.key = key
        self.transport = transport
        self.device_info: DeviceInfo | None = None
        self.device_info_at = 0.0
        self.users = 0
        self.evicted = False
        self.lock = asyncio.Lock()  # one probe at a time per camera

    async def get_device_info(self, max_age: float) -> DeviceInfo:
        now = time.monotonic()
        if self.device_info is None or now - self.device_info_at >= max_age:
            self.device_info = await self.transport.device_information()
            self.device_info_at = now
        return self.device_info

    def __repr__(self) -> str:
        return f"CameraSession({self.key[0]}, {self.key[1]}:{self.key[2]})"


def _key(camera_id: str, host: str, port: int, auth: OnvifAuth | None) -> tuple[str, ...]:
    # The password takes part only as a digest, so the key can be printed safely.
    secret = hashlib.sha256(auth.password.encode()).hexdigest()[:16] if auth else ""
    return (camera_id, host, str(port), auth.username if auth else "", secret)


class OnvifPool:
    def __init__(self, factory: TransportFactory, max_size: int = 4096) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._factory = factory
        self._max_size = max_size
        self._sessions: OrderedDict[tuple[str, ...], CameraSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    @asynccontextmanager
    async def borrow(self, camera_id: str, host: str, port: int,
                     auth: OnvifAuth | None) -> AsyncIterator[CameraSession]:
        session, evicted = self._get(_key(camera_id, host, port, auth), host, port, auth)
        session.users += 1
        await _close_all(evicted)
        try:
            async with session.lock:
                yield session
        finally:
            session.users -= 1
            if session.evicted and session.users == 0:
                await session.transport.aclose()

    def _get(self, key: tuple[str, ...], host: str, port: int,
             auth: OnvifAuth | None) -> tuple[CameraSession, list[CameraSession]]:
        """The session for key, and evicted sessions nobody uses (for the caller to close)."""
        session = self._sessions.get(key)
        if session is not None:
            self._sessions.move_to_end(key)
            return session, []
        # the same camera under a new address or secret: drop its old client
        evicted = [self._evict(k) for k in [k for k in self._sessions if k[0] == key[0]]]
        session = self._sessions[key] = CameraSession(key, self._factory(host, port, auth))
        while len(self._sessions) > self._max_size:
            evicted.append(self._evict(next(iter(self._sessions))))
        return session, [s for s in evicted if s.users == 0]

    def _evict(self, key: tuple[str, ...]) -> CameraSession:
        session = self._sessions.pop(key)
        session.evicted = True
        return session

    async def retain(self, camera_ids: Container[str]) -> int:
        """Forget cameras not in camera_ids (an inventory reload removed them); returns how many."""
        gone = [self._evict(k) for k in [k for k in self._sessions if k[0] not in camera_ids]]
        await _close_all(s for s in gone if s.users == 0)
        return len(gone)

    async def aclose(self) -> None:
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            session.evicted = True
        await _close_all(s for s in sessions if s.users == 0)
        factory_close = getattr(self._factory, "aclose", None)
        if factory_close is not None:
            await factory_close()


async def _close_all(sessions: Iterable[CameraSession]) -> None:
    await asyncio.gather(*(s.transport.aclose() for s in sessions), return_exceptions=True)
