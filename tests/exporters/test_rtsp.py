"""RTSP (and plain TCP) prober tests against a small asyncio RTSP responder on loopback."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.probers import rtsp, tcp
from sharpeyes.exporters.probers.base import Module, ProbeError, Target
from sharpeyes.exporters.probers.rtsp import RtspSettings, parse_status_line
from sharpeyes.exporters.probers.tcp import TcpSettings

Responder = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RtspServer:
    """Answers OPTIONS with ``status`` (echoing CSeq), or misbehaves per ``mode``."""

    def __init__(self, status: int = 200, mode: str = "ok") -> None:
        self.status, self.mode = status, mode
        self.requests: list[bytes] = []
        self.hold = asyncio.Event()

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        lines = head.split(b"\r\n")
        cseq = next((ln.split(b":", 1)[1].strip() for ln in lines if ln.startswith(b"CSeq")), b"?")
        if self.mode == "silent":
            await self.hold.wait()
        elif self.mode == "garbage":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        elif self.mode == "close":
            pass
        else:
            reason = {200: b"OK", 401: b"Unauthorized", 404: b"Stream Not Found"}.get(self.status, b"X")
            writer.write(b"RTSP/1.0 %d %s\r\nCSeq: %s\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n"
                         % (self.status, reason, cseq))
        await writer.drain()
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[RtspServer], Awaitable[int]]]:
    servers: list[asyncio.Server] = []
    handlers: list[RtspServer] = []

    async def start(handler: RtspServer) -> int:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        handlers.append(handler)
        return server.sockets[0].getsockname()[1]

    yield start
    for h in handlers:
        h.hold.set()
    for s in servers:
        s.close()
        await s.wait_closed()


def module(**settings: object) -> Module:
    return Module("rtsp", "rtsp", 2.0, RtspSettings.from_dict(settings, "modules.rtsp.rtsp"))


def target(port: int) -> Target:
    return Target(id="cam-1", ip="127.0.0.1", kind="camera", rtsp_port=port)


def value(out: TextWriter, name: str) -> float:
    (line,) = out.samples(name)
    return float(line.rsplit(" ", 1)[1])


@pytest.mark.parametrize("status", [200, 401])
async def test_200_and_401_mean_up(serve, status: int) -> None:
    srv = RtspServer(status)
    port = await serve(srv)
    out = TextWriter()
    assert await rtsp.probe(target(port), module(path="/Streaming/Channels/101"), 2.0, out) is True
    assert value(out, "sharpeyes_rtsp_status_code") == status
    assert 0 <= value(out, "sharpeyes_rtsp_response_seconds") < 1
    (req,) = srv.requests
    assert req.startswith(f"OPTIONS rtsp://127.0.0.1:{port}/Streaming/Channels/101 RTSP/1.0\r\n".encode())
    assert b"\r\nCSeq: 1\r\n" in req


async def test_other_status_is_protocol_failure_with_status_metric(serve) -> None:
    port = await serve(RtspServer(404))
    out = TextWriter()
    with pytest.raises(ProbeError) as err:
        await rtsp.probe(target(port), module(), 2.0, out)
    assert err.value.reason == "protocol"
    assert value(out, "sharpeyes_rtsp_status_code") == 404


@pytest.mark.parametrize("mode", ["garbage", "close"])
async def test_garbage_or_no_reply_is_malformed(serve, mode: str) -> None:
    port = await serve(RtspServer(mode=mode))
    with pytest.raises(ProbeError) as err:
        await rtsp.probe(target(port), module(), 2.0, TextWriter())
    assert err.value.reason == "malformed"


async def test_silent_server_times_out_within_budget(serve) -> None:
    port = await serve(RtspServer(mode="silent"))
    t0 = time.monotonic()
    with pytest.raises(ProbeError) as err:
        await rtsp.probe(target(port), module(), 0.3, TextWriter())
    assert err.value.reason == "timeout"
    assert time.monotonic() - t0 < 1.0


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def test_refused() -> None:
    with pytest.raises(ProbeError) as err:
        await rtsp.probe(target(_closed_port()), module(), 2.0, TextWriter())
    assert err.value.reason == "refused"


async def test_flood_without_newline_is_malformed(serve) -> None:
    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"X" * 100_000)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(flood, "127.0.0.1", 0)
    try:
        with pytest.raises(ProbeError) as err:
            await rtsp.probe(target(server.sockets[0].getsockname()[1]), module(), 2.0, TextWriter())
        assert err.value.reason == "malformed"
    finally:
        server.close()


@pytest.mark.parametrize("line, code", [(b"RTSP/1.0 200 OK\r\n", 200), (b"RTSP/1.0 401\r\n", 401),
                                        (b"RTSP/2.0 454 Session Not Found\r\n", 454)])
def test_parse_status_line(line: bytes, code: int) -> None:
    assert parse_status_line(line) == code


@pytest.mark.parametrize("line", [b"HTTP/1.1 200 OK\r\n", b"RTSP/1.0 2000 OK\r\n", b"RTSP/1.0\r\n",
                                  b"\x00\xff"])
def test_parse_status_line_rejects(line: bytes) -> None:
    with pytest.raises(ProbeError, match="malformed"):
        parse_status_line(line)


async def test_tcp_probe(serve) -> None:
    port = await serve(RtspServer())
    tcp_module = Module("tcp", "tcp", 2.0, TcpSettings.from_dict({"port": port}, "m"))
    assert await tcp.probe(target(0), tcp_module, 2.0, TextWriter())
    closed = Module("tcp", "tcp", 2.0, TcpSettings(port=_closed_port()))
    with pytest.raises(ProbeError, match="refused"):
        await tcp.probe(target(0), closed, 2.0, TextWriter())


def test_settings_strict() -> None:
    assert RtspSettings.from_dict({}, "m").path == "/"
    with pytest.raises(ValueError, match=r"m: unknown key\(s\) url"):
        RtspSettings.from_dict({"url": "/x"}, "m")
    with pytest.raises(ValueError, match=r"m\.path: must start with '/'"):
        RtspSettings.from_dict({"path": "x"}, "m")
    with pytest.raises(ValueError, match=r"m\.port: must be 1\.\.65535"):
        TcpSettings.from_dict({}, "m")
