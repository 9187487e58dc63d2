"""The narrow HTTP interface the dialects speak through, the real one (aiohttp, HTTP Digest) and a
recording fake.

Errors are translated once, here, into CollectError reasons: a recorder that does not answer, refuses
our credentials or sends more than we are willing to read is data about that recorder, not a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from .model import CollectError

MAX_BODY = 4 * 1024 * 1024  # one search page of a 256-channel NVR is far below this


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Transport(Protocol):
    async def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                      body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Reply: ...


def check(reply: Reply, what: str) -> Reply:
    """A 401 is an auth error, any other non-2xx an HTTP error, both naming the request."""
    if reply.status == 401:
        raise CollectError("auth", f"{what}: 401 Unauthorized (credentials refused)")
    if not 200 <= reply.status < 300:
        raise CollectError("http", f"{what}: HTTP {reply.status}")
    return reply


class HttpTransport:
    """One recorder over HTTP with Digest auth (a session per recorder keeps its nonce)."""

    def __init__(self, base_url: str, username: str, password: str, *, request_timeout: float = 20.0,
                 max_body: int = MAX_BODY) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = (username, password)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._max_body = max_body
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"HttpTransport({self.base_url!r}, credentials=<secret>)"

    async def __aenter__(self) -> HttpTransport:
        user, password = self._auth
        self._session = aiohttp.ClientSession(
            timeout=self._timeout, middlewares=(aiohttp.DigestAuthMiddleware(user, password),),
            connector=aiohttp.TCPConnector(limit=2, force_close=False))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                      body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Reply:
        assert self._session is not None, "use HttpTransport as an async context manager"
        try:
            async with self._session.request(method, self.base_url + path, params=params, data=body,
                                             headers=headers) as resp:
                # read() returns what one chunk holds: gather to the end, within the bound
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > self._max_body:
                        raise CollectError("too_large", f"{path}: reply larger than {self._max_body} bytes")
                    chunks.append(chunk)
                return Reply(resp.status, b"".join(chunks), dict(resp.headers))
        except TimeoutError:
            raise CollectError("timeout", f"{path}: no reply within {self._timeout.total:g}s") from None
        except aiohttp.ClientResponseError as e:
            raise CollectError("auth" if e.status == 401 else "http", f"{path}: HTTP {e.status}") from None
        except (aiohttp.ClientError, OSError) as e:
            raise CollectError("connect", f"{path}: {e.__class__.__name__}") from None


Handler = Callable[[str, str, Mapping[str, str], bytes], Reply | Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    params: Mapping[str, str]
    body: bytes


class RecordingFake:
    """A Transport answering from ``handler(method, path, params, body)`` and recording every call,
    so tests assert both the result and exactly what was asked (over-paging shows up here)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls: list[Call] = []

    async def __aenter__(self) -> RecordingFake:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                      body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Reply:
        call = Call(method, path, dict(params or {}), body or b"")
        self.calls.append(call)
        out = self.handler(call.method, call.path, call.params, call.body)
        if asyncio.iscoroutine(out) or isinstance(out, Awaitable):
            return await out  # type: ignore[misc]
        return out  # type: ignore[return-value]
