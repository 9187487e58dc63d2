"""The SNMP client against hostile datagrams: spoofed floods, other source ports, huge OID arcs
and INTEGERs, out-of-range v3 engine state, endless walks; and a seeded fuzz of the receive path
(datagrams in: no exception out, memory bounded)."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator

import pytest

from sharpeyes.exporters.snmp import ber, v3
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.transport import SnmpMalformed, SnmpTimeout
from sharpeyes.exporters.snmp.udp import UdpTransport
from tests.exporters.test_snmp_udp import AUTH, HOST, TABLE, ToyAgent, addr_of

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
V3_AUTH = SnmpAuth(
    version=3, username="ops", security_level="authPriv", auth_password="authpass1", priv_password="privpass1"
)


@pytest.fixture
async def udp() -> AsyncIterator[UdpTransport]:
    t = UdpTransport()
    yield t
    await t.close()


class RawAgent(asyncio.DatagramProtocol):
    """Answers every request with answer(request bytes) -> reply bytes, from its own socket or
    from a second socket on the same host (another source port)."""

    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.transport: asyncio.DatagramTransport | None = None
        self.other: asyncio.DatagramTransport | None = None
        self.requests: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.requests.append(data)
        reply = self.answer(data)  # type: ignore[operator]
        if reply is not None:
            sender = self.other or self.transport
            assert sender is not None
            sender.sendto(reply, addr)


async def start_raw(answer: object, *, other_port: bool = False) -> tuple[RawAgent, tuple[str, int]]:
    loop = asyncio.get_running_loop()
    agent = RawAgent(answer)
    transport, _ = await loop.create_datagram_endpoint(lambda: agent, local_addr=(HOST, 0))
    if other_port:
        agent.other, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=(HOST, 0))
    host, port = transport.get_extra_info("sockname")[:2]
    return agent, (str(host), int(port))


def close(agent: RawAgent) -> None:
    for t in (agent.transport, agent.other):
        if t is not None:
            t.close()


def v2c_reply(request: bytes, varbind: bytes) -> bytes:
    community, pdu = ber.decode_v2c(request)
    body = (
        ber.encode_integer(pdu.request_id)
        + ber.encode_integer(0)
        + ber.encode_integer(0)
        + ber.tlv(ber.SEQUENCE, ber.tlv(ber.SEQUENCE, varbind))
    )
    return ber.encode_v2c(community, ber.tlv(ber.RESPONSE, body))


HUGE_ARC_OID = ber.tlv(ber.OID, b"\x2b" + b"\xff" * 3000 + b"\x01")  # 1.3.<a 6,300-digit arc>


async def test_a_huge_oid_arc_is_malformed_not_a_crash(udp: UdpTransport) -> None:
    agent, addr = await start_raw(lambda req: v2c_reply(req, HUGE_ARC_OID + b"\x05\x00"))
    try:
        with pytest.raises(SnmpMalformed, match=r"OID (longer|sub-identifier)"):
            await udp.get(addr, AUTH, [SYS_UPTIME], timeout=0.5, retries=0)
    finally:
        close(agent)


async def test_a_huge_integer_is_malformed(udp: UdpTransport) -> None:
    value = ber.tlv(ber.INTEGER, b"\x7f" + b"\xff" * 200)  # sysUpTime sent as a 1,600-bit INTEGER
    agent, addr = await start_raw(lambda req: v2c_reply(req, ber.encode_oid(SYS_UPTIME) + value))
    try:
        with pytest.raises(SnmpMalformed, match="longer than 64 bits"):
            await udp.get(addr, AUTH, [SYS_UPTIME], timeout=0.5, retries=0)
    finally:
        close(agent)


async def test_a_reply_from_another_source_port_is_ignored(udp: UdpTransport) -> None:
    agent, addr = await start_raw(
        lambda req: v2c_reply(req, ber.encode_oid(SYS_UPTIME) + ber.encode_value(ber.TIMETICKS, 5)),
        other_port=True,
    )
    try:
        with pytest.raises(SnmpTimeout):
            await udp.get(addr, AUTH, [SYS_UPTIME], timeout=0.3, retries=0)
        assert udp.stats["unmatched"] == 1
    finally:
        close(agent)


def discovery_report(boots: int, etime: int = 5) -> object:
    """A v3 agent whose discovery Report carries the given engine boots."""
    engine = v3.EngineState(b"\x80\x00\x1f\x88\x04hostile", boots, etime, 0.0)
    no_auth = SnmpAuth(version=3, username="x", security_level="noAuthNoPriv")

    def answer(req: bytes) -> bytes:
        msg = v3.decode_message(req, None, None)
        report = ber.encode_response(
            msg.msg_id, [(v3.USM_STATS_UNKNOWN_ENGINE_IDS, ber.COUNTER32, 1)], pdu_type=ber.REPORT
        )
        return v3.encode_message(msg.msg_id, report, no_auth, engine, v3.Keys(b"", b"", 0, ""), 0.0)

    return answer


@pytest.mark.parametrize("boots", [1 << 40, -1], ids=["boots-2^40", "boots-minus-1"])
async def test_out_of_range_engine_boots_are_malformed_and_not_cached(udp: UdpTransport, boots: int) -> None:
    agent, addr = await start_raw(discovery_report(boots))
    try:
        for attempt in (1, 2):
            with pytest.raises(SnmpMalformed, match="EngineBoots out of range"):
                await udp.get(addr, V3_AUTH, [SYS_UPTIME], timeout=0.3, retries=0)
            assert addr not in udp._engines
            assert len(agent.requests) == attempt  # each probe discovers again
    finally:
        close(agent)


async def test_spoofed_flood_is_dropped_before_decoding(udp: UdpTransport) -> None:
    """Datagrams from addresses with no request outstanding are never parsed (the flood that
    took the exporter from 78 to 270 MB): counted, not decoded, nothing cached."""
    await udp._open()
    assert udp._transport is not None
    port = udp._transport.get_extra_info("sockname")[1]
    rows = b"".join(
        ber.tlv(ber.SEQUENCE, ber.encode_oid(f"1.3.6.1.4.1.{i}.{'7.' * 20}1") + b"\x05\x00") for i in range(1500)
    )
    head = ber.encode_integer(1) + ber.encode_integer(0) + ber.encode_integer(0)
    datagram = ber.encode_v2c(b"public", ber.tlv(ber.RESPONSE, head + ber.tlv(ber.SEQUENCE, rows)))
    assert len(datagram) > 50_000
    cache_before = ber._oid_text_cache.used
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.79.0.9", 0))
    try:
        async with asyncio.timeout(10):
            for sent in range(1, 201):
                sender.sendto(datagram, ("127.0.0.1", port))
                # let the loop drain the socket now and then, so the kernel buffer never overflows
                while sent % 10 == 0 and udp.stats["received"] < sent:
                    await asyncio.sleep(0.001)
    finally:
        sender.close()
    assert udp.stats["received"] == 200
    assert udp.stats["unmatched"] == 200
    assert udp.stats["malformed"] == 0
    assert ber._oid_text_cache.used == cache_before


def test_oid_caches_are_bounded_by_bytes() -> None:
    cache = ber._oid_cache
    for i in range(40_000):
        ber.encode_oid(f"1.3.6.1.4.1.{i}." + ".".join(["4294967295"] * 40))
    assert cache.used <= cache.budget
    text_cache = ber._oid_text_cache
    for i in range(2_000):
        content = ber.encode_oid(f"1.3.6.1.4.1.{i}." + ".".join(["4294967295"] * 120))[2:]
        rows = ber.tlv(ber.SEQUENCE, ber.tlv(ber.OID, content) + b"\x05\x00")
        pdu = ber.tlv(ber.RESPONSE, b"\x02\x01\x01\x02\x01\x00\x02\x01\x00" + ber.tlv(ber.SEQUENCE, rows))
        ber.decode_pdu(pdu, 0, len(pdu))
    assert text_cache.used <= text_cache.budget


async def test_a_walk_caps_its_rows() -> None:
    loop = asyncio.get_running_loop()
    table: dict[str, tuple[int, ber.Value]] = {
        f"1.3.6.1.2.1.2.2.1.2.{i}": (ber.OCTET_STRING, b"x") for i in range(1, 300)
    }
    proto = ToyAgent(table)
    transport, _ = await loop.create_datagram_endpoint(lambda: proto, local_addr=(HOST, 0))
    udp = UdpTransport(max_walk_rows=100)
    try:
        with pytest.raises(SnmpMalformed, match="exceeds 100 rows"):
            await udp.walk(addr_of(proto), AUTH, "1.3.6.1.2.1.2.2.1.2", timeout=2)
    finally:
        transport.close()
        await udp.close()


async def test_a_walk_row_equal_to_the_root_is_malformed(udp: UdpTransport) -> None:
    root = "1.3.6.1.2.1.2.2.1.2"

    def answer(req: bytes) -> bytes:
        return v2c_reply(req, ber.encode_oid(root) + ber.encode_value(ber.OCTET_STRING, b"x"))

    agent, addr = await start_raw(answer)
    try:
        with pytest.raises(SnmpMalformed, match="root itself"):
            await udp.walk(addr, AUTH, root, timeout=0.5, retries=0)
    finally:
        close(agent)


# -- fuzz --------------------------------------------------------------------------------------


def _mutations(rng: random.Random, seed_msgs: list[bytes], n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        base = bytearray(rng.choice(seed_msgs))
        kind = rng.randrange(5)
        if kind == 0:  # flip bytes
            for _ in range(rng.randint(1, 8)):
                base[rng.randrange(len(base))] = rng.randrange(256)
        elif kind == 1:  # truncate
            base = base[: rng.randrange(len(base))]
        elif kind == 2:  # insert a run (long OIDs, long integers)
            at = rng.randrange(len(base))
            base[at:at] = bytes([rng.choice((0xFF, 0x80, 0x7F, 0x00))]) * rng.randint(1, 4000)
        elif kind == 3:  # random bytes
            base = bytearray(rng.randbytes(rng.randint(0, 2000)))
        else:  # lengths turned long-form
            at = rng.randrange(len(base))
            base[at:at] = b"\x84" + rng.randbytes(4)
        out.append(bytes(base))
    return out


async def test_fuzz_the_receive_path_no_exception_bounded_memory(udp: UdpTransport) -> None:
    """20,000 mutated v2c/v3 replies fed to the datagram callback while requests are outstanding
    from that address: nothing escapes, caches stay in budget, every request still finishes."""
    rng = random.Random(20261207)
    addr = ("127.79.0.1", 16100)
    loop = asyncio.get_running_loop()
    rids = list(range(1000, 1010))
    seeds = [
        ber.encode_v2c(b"public", ber.encode_response(rid, [(o, t, v) for o, (t, v) in list(TABLE.items())[:20]]))
        for rid in rids
    ]
    seeds.append(
        v3.encode_message(
            1001,
            ber.encode_response(1001, [(v3.USM_STATS_UNKNOWN_ENGINE_IDS, ber.COUNTER32, 3)], pdu_type=ber.REPORT),
            SnmpAuth(version=3, username="x", security_level="noAuthNoPriv"),
            v3.EngineState(b"\x80\x00\x1f\x88\x04fuzz", 3, 77, 0.0),
            v3.Keys(b"", b"", 0, ""),
            0.0,
        )
    )
    from sharpeyes.exporters.snmp.udp import _Pending

    for rid in rids:
        p = _Pending(addr, b"public")
        p.future = loop.create_future()
        udp._pending[rid] = p
    udp._outstanding[addr] = len(rids)
    for data in _mutations(rng, seeds, 20_000):
        udp._on_datagram(data, addr)
        for rid in rids:  # a reply that matched: re-arm so the fuzz keeps hitting the decoder
            p = udp._pending[rid]
            assert p.future is not None
            if p.future.done():
                assert isinstance(p.future.result(), (ber.Pdu, v3.Incoming))
                p.future = loop.create_future()
    assert udp.stats["received"] == 20_000
    assert udp.stats["malformed"] > 1000
    assert ber._oid_text_cache.used <= ber._oid_text_cache.budget
    udp._pending.clear()
    udp._outstanding.clear()
