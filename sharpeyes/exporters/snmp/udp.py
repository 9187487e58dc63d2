"""SNMP v2c and v3 over ONE asyncio UDP socket for every target.

Requests are multiplexed by request-id (a dict of pending requests); a reply is accepted only
from the address and port it was sent to, with the community sent (v2c) or a valid digest (v3, USM
in v3.py). Anything on the socket may be spoofed, so a datagram costs nothing before its cheap
fields match: its source must have a request outstanding, then its request-id (msgID) and
community are read without decoding the varbinds; only a matching reply is decoded.
The only per-target state is a v3 agent's engine id and clock (one dict entry, learnt on
first contact), so there is no per-target setup cost and nothing is scanned per request.
A retransmission reuses the request-id, so a late answer to the first attempt still counts.
The receive buffer is raised so that hundreds of replies in flight are not dropped
(each dropped reply costs the probe a whole timeout). IPv4 only.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
from collections.abc import Callable, Container
from typing import Any

from sharpeyes.exporters.snmp import ber, v3
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.transport import (
    Addr,
    SnmpAuthFailure,
    SnmpError,
    SnmpMalformed,
    SnmpResponseError,
    SnmpTimeout,
    Value,
    in_subtree,
    oid_key,
)

log = logging.getLogger(__name__)

MAX_VARBINDS = 30  # per GET packet; larger GETs are split
MAX_WALK_ROWS = 65536  # per walk: an agent that never ends its subtree is malformed, not a memory leak
TOO_BIG = 1


class _Expired(Exception):
    """An attempt's timer fired (internal)."""


class _Pending:
    """One request in flight: who must answer, and how to check the answer."""

    __slots__ = ("addr", "auth", "community", "future", "keys", "malformed")

    def __init__(
        self, addr: Addr, community: bytes = b"", auth: SnmpAuth | None = None, keys: v3.Keys | None = None
    ) -> None:
        self.future: asyncio.Future[Any] | None = None
        self.addr = addr
        self.community = community
        self.auth = auth
        self.keys = keys
        self.malformed = ""


def _expire(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_exception(_Expired())


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.owner._on_datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:  # ICMP errors on an unconnected socket
        log.debug("snmp udp socket error: %s", exc)


def _raise_rcvbuf(sock: socket.socket, size: int) -> None:
    """SO_RCVBUF is silently capped by net.core.rmem_max (208 KiB by default); with CAP_NET_ADMIN
    SO_RCVBUFFORCE is not. Replies dropped here would each cost a whole timeout."""
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    if force is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, size)
            return
        except OSError:
            pass
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    except OSError as exc:
        log.debug("cannot raise SO_RCVBUF: %s", exc)
    got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if got < size:
        log.info("SNMP receive buffer is %d bytes (asked %d): raise net.core.rmem_max", got, size)


def _bulk(oid: str, max_repetitions: int) -> Callable[[int], bytes]:
    return lambda rid: ber.encode_pdu(ber.GET_BULK_REQUEST, rid, [oid], 0, max_repetitions)


class UdpTransport:
    """SnmpTransport for v2c and v3 (USM, see v3.py) on one socket opened on first use."""

    def __init__(
        self,
        *,
        max_varbinds: int = MAX_VARBINDS,
        max_repetitions: int = 25,
        parallel_chunks: int = 4,
        rcvbuf: int = 4 << 20,
        local_addr: Addr = ("0.0.0.0", 0),
        max_walk_rows: int = MAX_WALK_ROWS,
    ) -> None:
        self.max_walk_rows = max_walk_rows
        self.max_varbinds = max_varbinds
        self.max_repetitions = max_repetitions
        self.parallel_chunks = parallel_chunks
        self.rcvbuf = rcvbuf
        self.local_addr = local_addr
        self._pending: dict[int, _Pending] = {}
        self._outstanding: dict[Addr, int] = {}  # requests in flight per agent address
        self._engines: dict[Addr, v3.EngineState] = {}
        self._next_id = random.randrange(1, 1 << 30)
        self._transport: asyncio.DatagramTransport | None = None
        self._opening: asyncio.Lock | None = None
        self.stats = {"sent": 0, "received": 0, "unmatched": 0, "malformed": 0}

    # -- socket -----------------------------------------------------------------------------

    async def _open(self) -> asyncio.DatagramTransport:
        if self._transport is not None:
            return self._transport
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._transport is None:
                loop = asyncio.get_running_loop()
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self), local_addr=self.local_addr, family=socket.AF_INET
                )
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    _raise_rcvbuf(sock, self.rcvbuf)
                self._transport = transport
        assert self._transport is not None
        return self._transport

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        for pending in self._pending.values():
            if pending.future is not None and not pending.future.done():
                pending.future.set_exception(SnmpError("transport closed"))
        self._pending.clear()

    def _on_datagram(self, data: bytes, addr: Addr) -> None:
        self.stats["received"] += 1
        if addr not in self._outstanding:  # nobody asked this address and port: not even parsed
            self.stats["unmatched"] += 1
            return
        pending: _Pending | None = None
        try:
            if ber.message_version(data) == 3:
                pending = self._match(v3.peek_msg_id(data), addr)
                if pending is None:
                    return
                result: Any = v3.decode_message(data, pending.auth, pending.keys)
            else:
                community, rid = ber.peek_v2c(data)
                pending = self._match(rid, addr)
                if pending is None:
                    return
                if pending.community != community:
                    self.stats["unmatched"] += 1
                    return
                _, result = ber.decode_v2c(data)
        except ber.BerError as exc:
            self.stats["malformed"] += 1
            # Without a readable id we cannot tell which request it answers: mark every request
            # to that address, so that their timeout is reported as "malformed", not "timeout".
            for p in [pending] if pending is not None else self._pending.values():
                if p.addr == addr:
                    p.malformed = str(exc)[:200]
            return
        assert pending.future is not None
        pending.future.set_result(result)

    def _match(self, rid: int, addr: Addr) -> _Pending | None:
        pending = self._pending.get(rid)
        if pending is None or pending.addr != addr or pending.future is None or pending.future.done():
            self.stats["unmatched"] += 1
            return None
        return pending

    def _new_id(self) -> int:
        rid = self._next_id
        while rid in self._pending:
            rid = rid + 1 if rid < (1 << 31) - 1 else 1
        self._next_id = rid + 1 if rid < (1 << 31) - 1 else 1
        return rid

    async def _request(
        self, addr: Addr, pending: _Pending, build: Callable[[int], bytes], deadline: float, retries: int
    ) -> Any:
        """Send build(id) until a matching answer arrives; attempts share the time to deadline."""
        transport = await self._open()
        loop = asyncio.get_running_loop()
        rid = self._new_id()
        data = build(rid)
        self._pending[rid] = pending
        self._outstanding[addr] = self._outstanding.get(addr, 0) + 1
        attempts = max(1, retries + 1)
        try:
            for attempt in range(attempts):
                now = loop.time()
                remaining = deadline - now
                if remaining <= 0:
                    break
                fut: asyncio.Future[Any] = loop.create_future()
                pending.future = fut
                transport.sendto(data, addr)
                self.stats["sent"] += 1
                timer = loop.call_at(now + remaining / (attempts - attempt), _expire, fut)
                try:
                    return await fut
                except _Expired:
                    continue
                finally:
                    timer.cancel()
        finally:
            del self._pending[rid]
            left = self._outstanding.pop(addr) - 1
            if left:
                self._outstanding[addr] = left
        if pending.malformed:
            raise SnmpMalformed(pending.malformed)
        raise SnmpTimeout(f"no answer from {addr[0]}:{addr[1]} after {attempts} attempt(s)")

    async def _exchange(
        self, addr: Addr, auth: SnmpAuth, build_pdu: Callable[[int], bytes], deadline: float, retries: int
    ) -> ber.Pdu:
        """One request PDU to one agent, in the auth's SNMP version; returns the Response PDU."""
        if auth.version == 3:
            return await self._exchange_v3(addr, auth, build_pdu, deadline, retries)
        community = auth.community.encode()
        pdu: ber.Pdu = await self._request(
            addr,
            _Pending(addr, community),
            lambda rid: ber.encode_v2c(community, build_pdu(rid)),
            deadline,
            retries,
        )
        if pdu.pdu_type != ber.RESPONSE:
            raise SnmpMalformed(f"expected a Response PDU, got tag 0x{pdu.pdu_type:02x}")
        return pdu

    async def _exchange_v3(
        self, addr: Addr, auth: SnmpAuth, build_pdu: Callable[[int], bytes], deadline: float, retries: int
    ) -> ber.Pdu:
        loop = asyncio.get_running_loop()
        discovered = False
        for round_ in range(3):
            engine = self._engines.get(addr)
            if engine is None:
                engine = await self._discover(addr, deadline, retries)
                discovered = True
            keys = v3.keys_for(auth, engine.engine_id)
            clock = loop.time()

            def build(rid: int, e: v3.EngineState = engine, k: v3.Keys = keys, c: float = clock) -> bytes:
                try:
                    return v3.encode_message(rid, build_pdu(rid), auth, e, k, c)
                except (ValueError, OverflowError, struct.error) as exc:
                    # engine state we cannot echo back: forget it, the next probe re-discovers
                    self._engines.pop(addr, None)
                    raise SnmpMalformed(f"unusable engine state: {exc}") from None

            msg: v3.Incoming = await self._request(
                addr, _Pending(addr, auth=auth, keys=keys), build, deadline, retries
            )
            pdu = msg.pdu
            assert pdu is not None
            if pdu.pdu_type == ber.REPORT:
                oid, reason = v3.report_reason(pdu)
                if oid == v3.USM_STATS_NOT_IN_TIME_WINDOWS and round_ < 2:
                    # the agent rebooted or our clock estimate drifted: its report carries the clock
                    self._engines[addr] = v3.EngineState(msg.engine_id, msg.boots, msg.time, loop.time())
                    continue
                if oid == v3.USM_STATS_UNKNOWN_ENGINE_IDS and round_ < 2:
                    self._engines.pop(addr, None)
                    continue
                if not discovered and round_ < 2:
                    # keys are localised to the engine id: a device swapped in at the same address
                    # (RMA) has a new one, and pysnmp agents then say "unknown user", not
                    # "unknown engine id". Re-discover once before calling it an auth failure.
                    self._engines.pop(addr, None)
                    continue
                raise SnmpAuthFailure(reason)
            if pdu.pdu_type != ber.RESPONSE:
                raise SnmpMalformed(f"expected a Response PDU, got tag 0x{pdu.pdu_type:02x}")
            want = (v3.FLAG_AUTH if auth.auth_enabled else 0) | (v3.FLAG_PRIV if auth.priv_enabled else 0)
            if msg.flags & (v3.FLAG_AUTH | v3.FLAG_PRIV) != want:
                raise SnmpAuthFailure("response at a different security level")
            return pdu
        raise SnmpAuthFailure("agent keeps rejecting our engine time")

    async def _discover(self, addr: Addr, deadline: float, retries: int) -> v3.EngineState:
        """RFC 3414 4: an empty noAuthNoPriv request; the Report names the agent's engine."""
        msg: v3.Incoming = await self._request(
            addr,
            _Pending(addr),
            lambda rid: v3.encode_message(rid, ber.encode_pdu(ber.GET_REQUEST, rid, []), None, None, None, 0),
            deadline,
            retries,
        )
        if not msg.engine_id or msg.pdu is None or msg.pdu.pdu_type != ber.REPORT:
            raise SnmpMalformed("engine discovery got no Report with an engine id")
        state = v3.EngineState(msg.engine_id, msg.boots, msg.time, asyncio.get_running_loop().time())
        self._engines[addr] = state
        return state

    def retain(self, hosts: Container[str]) -> int:
        """Forget the engine state of agents whose host is not in hosts; returns how many."""
        gone = [addr for addr in self._engines if addr[0] not in hosts]
        for addr in gone:
            del self._engines[addr]
        return len(gone)

    # -- SnmpTransport ----------------------------------------------------------------------

    async def get(
        self, addr: Addr, auth: SnmpAuth, oids: list[str], timeout: float, retries: int = 1
    ) -> dict[str, Value]:
        deadline = asyncio.get_running_loop().time() + timeout
        n = self.max_varbinds
        chunks = [oids[i : i + n] for i in range(0, len(oids), n)]
        result: dict[str, Value] = {}
        if len(chunks) <= 1:
            if chunks:
                result.update(await self._get_chunk(addr, auth, chunks[0], deadline, retries))
            return result
        sem = asyncio.Semaphore(self.parallel_chunks)

        async def one(chunk: list[str]) -> dict[str, Value]:
            async with sem:
                return await self._get_chunk(addr, auth, chunk, deadline, retries)

        for part in await asyncio.gather(*(one(c) for c in chunks)):
            result.update(part)
        return result

    async def _get_chunk(
        self, addr: Addr, auth: SnmpAuth, oids: list[str], deadline: float, retries: int
    ) -> dict[str, Value]:
        pdu = await self._exchange(
            addr, auth, lambda rid: ber.encode_pdu(ber.GET_REQUEST, rid, oids), deadline, retries
        )
        if pdu.error_status == TOO_BIG and len(oids) > 1:
            half = len(oids) // 2
            first = await self._get_chunk(addr, auth, oids[:half], deadline, retries)
            first.update(await self._get_chunk(addr, auth, oids[half:], deadline, retries))
            return first
        if pdu.error_status:
            raise SnmpResponseError(pdu.error_status, pdu.error_index)
        if len(pdu.varbinds) != len(oids):
            raise SnmpMalformed(f"asked {len(oids)} varbinds, got {len(pdu.varbinds)}")
        result: dict[str, Value] = {}
        for want, (oid, value) in zip(oids, pdu.varbinds, strict=True):
            if oid != want:
                raise SnmpMalformed(f"asked {want}, got {oid}")
            result[oid] = value
        return result

    async def walk(
        self, addr: Addr, auth: SnmpAuth, root_oid: str, timeout: float, retries: int = 1
    ) -> list[tuple[str, Value]]:
        deadline = asyncio.get_running_loop().time() + timeout
        root = root_oid.strip(".")
        out: list[tuple[str, Value]] = []
        current = root
        reps = self.max_repetitions
        while True:
            start = current
            pdu = await self._exchange(addr, auth, _bulk(start, reps), deadline, retries)
            if pdu.error_status == TOO_BIG and reps > 1:
                reps = max(1, reps // 2)
                continue
            if pdu.error_status:
                raise SnmpResponseError(pdu.error_status, pdu.error_index)
            if not pdu.varbinds:
                return out
            for oid, value in pdu.varbinds:
                if value is ber.END_OF_MIB_VIEW or not in_subtree(oid, root):
                    return out
                if len(oid) == len(root):
                    raise SnmpMalformed(f"walk of {root} answered the root itself")
                out.append((oid, value))
            if len(out) > self.max_walk_rows:
                raise SnmpMalformed(f"walk of {root} exceeds {self.max_walk_rows} rows")
            current = pdu.varbinds[-1][0]
            if oid_key(current) <= oid_key(start):
                raise SnmpMalformed(f"walk of {root} not increasing at {current}")
