"""ICMP echo behind a narrow interface: the real sockets, an id allocator and a recording fake.

Two real transports, chosen once per process by ``make_transport()``:

- ``DgramIcmpTransport`` -- unprivileged ICMP (SOCK_DGRAM, "ping sockets"), used when
  ``net.ipv4.ping_group_range`` contains our group. ONE shared socket (per don't-fragment
  setting): the *kernel* assigns its echo identifier (the socket's local "port") and delivers to it
  only the replies carrying that identifier, so no other process's pings reach it. Probes share
  the identifier, so each echo's *sequence number* comes from a process-wide allocator: two probes
  in flight (even to one address) never wait for the same (identifier, sequence). A socket per
  probe cost ~6 % of a district cycle's CPU in socket setup, epoll registration and close.
- ``RawIcmpTransport`` -- raw sockets (needs root or CAP_NET_RAW) otherwise. A raw ICMP socket
  sees every echo reply on the host, so one socket per probe would make 2000 concurrent probes
  each parse ~6000 replies (measured: ~10x the CPU). We keep ONE shared raw socket (per
  don't-fragment setting), send through icmplib, and dispatch replies by (identifier, sequence)
  to the waiting probe. Identifiers come from the process-wide ``IdAllocator``: random 16-bit
  ids collide (birthday bound: 85 % chance of a clash among 500 hosts), allocated ones never do
  while fewer than 65536 probes are in flight.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from icmplib import ICMPRequest, ICMPv4Socket
from icmplib.exceptions import ICMPLibError

PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"
_ECHO_REPLY = 0
RECEIVE_BUFFER_BYTES = 8 << 20
# Linux: IP_MTU_DISCOVER / IP_PMTUDISC_DO set the DF bit on every packet of the socket.
_IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
_IP_PMTUDISC_DO = getattr(socket, "IP_PMTUDISC_DO", 2)


class IcmpTransportError(Exception):
    """The local ICMP machinery failed (no socket, bad address): not a verdict on the target."""


@dataclass(frozen=True, slots=True)
class EchoRequest:
    address: str
    count: int
    interval: float
    timeout: float  # seconds from the first send until we stop waiting for any reply
    payload_size: int = 56
    dont_fragment: bool = False


@dataclass(slots=True)
class EchoResult:
    sent: int
    rtts: list[float] = field(default_factory=list)  # seconds, one per reply received
    ident: int | None = None  # the echo identifier used (None if the kernel chose it unseen)
    seqs: list[int] = field(default_factory=list)  # the sequence numbers of the echoes sent

    @property
    def received(self) -> int:
        return len(self.rtts)


class IcmpTransport(Protocol):
    mode: str  # "dgram" | "raw" | "fake"

    async def echo(self, req: EchoRequest) -> EchoResult: ...

    async def aclose(self) -> None: ...


class IdAllocator:
    """Hands out 16-bit echo identifiers no other in-flight probe of this process holds."""

    def __init__(self, start: int | None = None) -> None:
        self._in_use: set[int] = set()
        self._next = (os.getpid() if start is None else start) & 0xFFFF

    def acquire(self) -> int:
        if len(self._in_use) >= 0x10000:
            raise IcmpTransportError("all 65536 ICMP echo identifiers are in use")
        while self._next in self._in_use:
            self._next = (self._next + 1) & 0xFFFF
        ident = self._next
        self._in_use.add(ident)
        self._next = (ident + 1) & 0xFFFF
        return ident

    def release(self, ident: int) -> None:
        self._in_use.discard(ident)

    @contextmanager
    def held(self) -> Iterator[int]:
        ident = self.acquire()
        try:
            yield ident
        finally:
            self.release(ident)

    def __len__(self) -> int:
        return len(self._in_use)


# The one allocator of the process: every raw-socket probe draws from it.
ID_ALLOCATOR = IdAllocator()


def dgram_allowed(gid: int | None = None, path: str = PING_GROUP_RANGE) -> bool:
    """True if the kernel lets our group open unprivileged ICMP sockets (ping_group_range)."""
    try:
        with open(path, encoding="ascii") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        return False
    gid = os.getgid() if gid is None else gid
    return low <= gid <= high


def _set_df(sock: ICMPv4Socket) -> None:
    sock.sock.setsockopt(socket.IPPROTO_IP, _IP_MTU_DISCOVER, _IP_PMTUDISC_DO)


def _grow_receive_buffer(sock: socket.socket) -> None:
    # A raw socket also receives every echo *request* the host sends and every reply for other
    # probes: with thousands in flight the default ~200 KiB buffer overflows and replies are lost
    # (measured: 2776 of 6000 loopback replies). SO_RCVBUFFORCE ignores rmem_max (needs
    # CAP_NET_ADMIN); fall back to SO_RCVBUF, which the kernel caps at net.core.rmem_max.
    for opt in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, RECEIVE_BUFFER_BYTES)
            return
        except OSError:
            continue


_PAYLOADS: dict[int, bytes] = {}


def _payload(size: int) -> bytes:
    """A fixed echo payload per size (icmplib draws a random one per packet: ~2 % of a district
    cycle's CPU in the profile, for bytes nobody reads)."""
    data = _PAYLOADS.get(size)
    if data is None:
        data = _PAYLOADS[size] = bytes((0x10 + i) & 0xFF for i in range(size))
    return data


def parse_echo_reply(packet: bytes, ip_header: bool = True) -> tuple[int, int] | None:
    """(identifier, sequence) of an ICMP echo reply, else None.

    Raw sockets deliver the IPv4 header too; Linux ping (DGRAM) sockets deliver the ICMP message only.
    """
    offset = 0
    if ip_header:
        if len(packet) < 20:
            return None
        offset = (packet[0] & 0x0F) * 4
    if len(packet) < offset + 8 or packet[offset] != _ECHO_REPLY:
        return None
    ident, seq = struct.unpack_from("!HH", packet, offset + 4)
    return ident, seq


@functools.lru_cache(maxsize=16384)
def _literal(address: str) -> str | None:
    """``address`` if it is an IPv4 literal (a reply's source must then equal it), else None."""
    try:
        return str(ipaddress.IPv4Address(address))
    except ValueError:
        return None


class _EchoSocket:
    """An icmplib ICMPv4 socket read by the event loop; replies resolve futures keyed (source, id, seq).

    A raw socket sees every echo reply on the host: matching the source too keeps another process's
    pings (a second exporter, a test run, ping itself) with the same identifier from answering ours."""

    def __init__(self, privileged: bool, dont_fragment: bool) -> None:
        try:
            self.icmp = ICMPv4Socket(privileged=privileged)
        except ICMPLibError as exc:
            kind = "raw" if privileged else "datagram"
            raise IcmpTransportError(f"cannot open {kind} ICMP socket: {exc}") from exc
        if dont_fragment:
            _set_df(self.icmp)
        _grow_receive_buffer(self.icmp.sock)
        self.icmp.blocking = False
        self._ip_header = privileged
        self._fd = self.icmp.sock.fileno()
        self.waiting: dict[tuple[str | None, int, int], asyncio.Future[float]] = {}
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self._fd, self._readable)

    def _readable(self) -> None:
        sock = self.icmp.sock
        while True:
            try:
                packet, source = sock.recvfrom(2048)
            except OSError:  # BlockingIOError: drained; anything else: nothing more to read now
                return
            now = time.perf_counter()
            key = parse_echo_reply(packet, self._ip_header)
            fut = None
            if key is not None:
                fut = self.waiting.pop((source[0], *key), None) or self.waiting.pop((None, *key), None)
            if fut is not None and not fut.done():
                fut.set_result(now)

    def send(self, req: EchoRequest, ident: int, seq: int) -> tuple[int, float, asyncio.Future[float]]:
        """Send one echo; returns (identifier on the wire, send time, future of the reply time)."""
        request = ICMPRequest(req.address, ident, seq, payload=_payload(req.payload_size))
        sent_at = time.perf_counter()
        self.icmp.send(request)  # raises ICMPLibError; for DGRAM sets request.id to the kernel's id
        fut: asyncio.Future[float] = self.loop.create_future()
        self.waiting[(_literal(req.address), request.id, seq)] = fut
        return request.id, sent_at, fut

    def forget(self, address: str, ident: int, seq: int) -> None:
        fut = self.waiting.pop((_literal(address), ident, seq), None)
        if fut is not None:
            fut.cancel()

    def close(self) -> None:
        if self.icmp.sock is None:
            return
        self.loop.remove_reader(self._fd)
        for fut in self.waiting.values():
            fut.cancel()
        self.waiting.clear()
        self.icmp.close()


async def _pause(interval: float, deadline: float) -> bool:
    """Sleep the inter-echo interval; False if the next echo could not be answered in time."""
    if time.perf_counter() + interval >= deadline:
        return False
    await asyncio.sleep(interval)
    return True


async def _run_echoes(sock: _EchoSocket, req: EchoRequest, ident: int, seqs: list[int]) -> EchoResult:
    """Send one echo per sequence number in ``seqs`` req.interval apart, wait for replies until
    req.timeout after start."""
    deadline = time.perf_counter() + req.timeout
    sends: list[tuple[float, asyncio.Future[float]]] = []
    wire_id = ident
    try:
        for i, seq in enumerate(seqs):
            if i and not await _pause(req.interval, deadline):
                break
            try:
                wire_id, sent_at, fut = sock.send(req, ident, seq)
            except ICMPLibError:
                continue  # not sent (e.g. no route): does not count as sent
            sends.append((sent_at, fut))
        futs = [f for _, f in sends]
        remaining = deadline - time.perf_counter()
        if futs and remaining > 0:
            await asyncio.wait(futs, timeout=remaining)
        rtts = [f.result() - t for t, f in sends if f.done() and not f.cancelled()]
    finally:
        for seq in seqs:
            sock.forget(req.address, wire_id, seq)
    return EchoResult(sent=len(sends), rtts=rtts, ident=wire_id, seqs=seqs[:len(sends)])


class RawIcmpTransport:
    """Shared raw sockets (one per don't-fragment setting); identifiers from the IdAllocator."""

    mode = "raw"

    def __init__(self, allocator: IdAllocator | None = None) -> None:
        self._allocator = ID_ALLOCATOR if allocator is None else allocator
        self._sockets: dict[bool, _EchoSocket] = {}

    async def echo(self, req: EchoRequest) -> EchoResult:
        sock = self._sockets.get(req.dont_fragment)
        if sock is None:
            sock = self._sockets[req.dont_fragment] = _EchoSocket(True, req.dont_fragment)
        with self._allocator.held() as ident:
            return await _run_echoes(sock, req, ident, list(range(req.count)))

    async def aclose(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()


class DgramIcmpTransport:
    """Shared unprivileged ping sockets (one per don't-fragment setting): the kernel picks and
    enforces the identifier; sequence numbers come from the allocator."""

    mode = "dgram"

    def __init__(self, allocator: IdAllocator | None = None) -> None:
        self._seqs = IdAllocator() if allocator is None else allocator
        self._sockets: dict[bool, _EchoSocket] = {}

    async def echo(self, req: EchoRequest) -> EchoResult:
        sock = self._sockets.get(req.dont_fragment)
        if sock is None:
            sock = self._sockets[req.dont_fragment] = _EchoSocket(False, req.dont_fragment)
        seqs: list[int] = []
        try:
            for _ in range(req.count):
                seqs.append(self._seqs.acquire())
            return await _run_echoes(sock, req, 0, seqs)
        finally:
            for seq in seqs:
                self._seqs.release(seq)

    async def aclose(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()


def make_transport() -> IcmpTransport:
    """Unprivileged sockets when ping_group_range allows them, raw sockets otherwise."""
    if dgram_allowed():
        return DgramIcmpTransport()
    return RawIcmpTransport()


@dataclass
class RecordingIcmpTransport:
    """A fake that records every request and answers from a script: address -> replies.

    ``replies[address]`` is a list of RTTs (seconds) or None for a lost echo, used in order;
    unknown addresses lose everything.
    """

    replies: dict[str, list[float | None]] = field(default_factory=dict)
    calls: list[EchoRequest] = field(default_factory=list)
    closed: bool = False
    mode: str = "fake"

    async def echo(self, req: EchoRequest) -> EchoResult:
        self.calls.append(req)
        script = self.replies.get(req.address, [])
        rtts = [rtt for rtt in script[: req.count] if rtt is not None]
        return EchoResult(sent=req.count, rtts=rtts)

    async def aclose(self) -> None:
        self.closed = True
