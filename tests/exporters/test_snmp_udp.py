"""UdpTransport against an in-process UDP agent with one switch per misbehaviour: packet
splitting, retransmission, deadlines, tooBig, garbage, spoofed and foreign replies, walks."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from sharpeyes.exporters.snmp import ber
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.transport import SnmpMalformed, SnmpResponseError, SnmpTimeout, in_subtree, oid_key
from sharpeyes.exporters.snmp.udp import UdpTransport
from tests import runnet

HOST = runnet.current().host(2)
OTHER_HOST = runnet.current().host(3)
AUTH = SnmpAuth(version=2, community="public")


@dataclass
class AgentBehaviour:
    drop_first: int = 0  # ignore the first N requests
    garbage: bool = False  # answer with undecodable bytes
    community: bytes | None = None  # answer with this community instead
    wrong_request_id: bool = False
    too_big_over: int = 0  # answer tooBig when a GET has more varbinds than this
    error_status: int = 0
    from_other_address: bool = False  # answer from another loopback address
    silent: bool = False
    loop_walk: bool = False  # GETBULK answers go backwards


@dataclass
class ToyAgent(asyncio.DatagramProtocol):
    data: dict[str, tuple[int, ber.Value]]
    behaviour: AgentBehaviour = field(default_factory=AgentBehaviour)
    requests: list[ber.Pdu] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None
    other: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        community, pdu = ber.decode_v2c(data)
        self.requests.append(pdu)
        b = self.behaviour
        if b.silent or len(self.requests) <= b.drop_first:
            return
        out = self.answer(pdu)
        rid = pdu.request_id + 1 if b.wrong_request_id else pdu.request_id
        msg = ber.encode_v2c(b.community or community, ber.encode_response(rid, *out))
        if b.garbage:
            msg = msg[: len(msg) // 2]
        sender = self.other if b.from_other_address else self.transport
        assert sender is not None
        sender.sendto(msg, addr)

    def answer(self, pdu: ber.Pdu) -> tuple[list[tuple[str, int, ber.Value]], int, int]:
        b = self.behaviour
        if b.error_status:
            return [(o, ber.NULL, None) for o, _ in pdu.varbinds], b.error_status, 1
        if pdu.pdu_type == ber.GET_BULK_REQUEST:
            return self.bulk(pdu.varbinds[0][0], pdu.error_index), 0, 0
        if b.too_big_over and len(pdu.varbinds) > b.too_big_over:
            return [(o, ber.NULL, None) for o, _ in pdu.varbinds], 1, 0
        out = []
        for oid, _ in pdu.varbinds:
            tag, value = self.data.get(oid, (ber.NO_SUCH_INSTANCE_TAG, ber.NO_SUCH_INSTANCE))
            out.append((oid, tag, value))
        return out, 0, 0

    def bulk(self, start: str, reps: int) -> list[tuple[str, int, ber.Value]]:
        keys = sorted(self.data, key=oid_key)
        after = [k for k in keys if oid_key(k) > oid_key(start)][:reps]
        if self.behaviour.loop_walk:  # a broken agent that keeps answering the same OID
            return [(keys[0], *self.data[keys[0]])] * reps
        out: list[tuple[str, int, ber.Value]] = [(k, *self.data[k]) for k in after]
        if len(out) < reps:
            out.append((start, ber.END_OF_MIB_VIEW_TAG, ber.END_OF_MIB_VIEW))
        return out


TABLE = {f"1.3.6.1.2.1.31.1.1.1.6.{i}": (ber.COUNTER64, i * 1_000_000_007) for i in range(1, 101)}
TABLE["1.3.6.1.2.1.31.1.1.1.7.1"] = (ber.COUNTER64, 7)  # the next column: a walk must stop before it
TABLE["1.3.6.1.2.1.1.3.0"] = (ber.TIMETICKS, 28156805)


@pytest.fixture
async def agent() -> AsyncIterator[ToyAgent]:
    loop = asyncio.get_running_loop()
    proto = ToyAgent(dict(TABLE))
    transport, _ = await loop.create_datagram_endpoint(lambda: proto, local_addr=(HOST, 0))
    other, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=(OTHER_HOST, 0))
    proto.other = other
    yield proto
    transport.close()
    other.close()


@pytest.fixture
async def udp() -> AsyncIterator[UdpTransport]:
    t = UdpTransport()
    yield t
    await t.close()


def addr_of(agent: ToyAgent) -> tuple[str, int]:
    assert agent.transport is not None
    host, port = agent.transport.get_extra_info("sockname")[:2]
    return str(host), int(port)


async def test_large_get_is_split_into_packets_of_at_most_30(agent: ToyAgent, udp: UdpTransport) -> None:
    oids = [f"1.3.6.1.2.1.31.1.1.1.6.{i}" for i in range(1, 101)]
    got = await udp.get(addr_of(agent), AUTH, oids, timeout=2)
    assert list(got) == oids
    assert got["1.3.6.1.2.1.31.1.1.1.6.100"] == 100_000_000_700
    assert sorted(len(p.varbinds) for p in agent.requests) == [10, 30, 30, 30]


async def test_retransmission_reuses_request_id(agent: ToyAgent, udp: UdpTransport) -> None:
    agent.behaviour.drop_first = 1
    got = await udp.get(addr_of(agent), AUTH, ["1.3.6.1.2.1.1.3.0"], timeout=1, retries=1)
    assert got == {"1.3.6.1.2.1.1.3.0": 28156805}
    assert len(agent.requests) == 2
    assert agent.requests[0].request_id == agent.requests[1].request_id


async def test_timeout_bounds_the_whole_call(agent: ToyAgent, udp: UdpTransport) -> None:
    agent.behaviour.silent = True
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(SnmpTimeout):
        await udp.get(addr_of(agent), AUTH, ["1.3.6.1.2.1.1.3.0"], timeout=0.3, retries=2)
    elapsed = loop.time() - start
    assert 0.29 <= elapsed < 0.6
    assert len(agent.requests) == 3  # three attempts of 0.1 s each, not three of 0.3 s
    assert not udp._pending


async def test_walk_timeout_covers_all_packets(agent: ToyAgent, udp: UdpTransport) -> None:
    agent.behaviour.drop_first = 2  # the first GETBULK and its retry vanish
    with pytest.raises(SnmpTimeout):
        await udp.walk(addr_of(agent), AUTH, "1.3.6.1.2.1.31.1.1.1.6", timeout=0.2, retries=1)


async def test_garbage_reply_is_malformed_not_timeout(agent: ToyAgent, udp: UdpTransport) -> None:
    agent.behaviour.garbage = True
    with pytest.raises(SnmpMalformed, match="truncated"):
        await udp.get(addr_of(agent), AUTH, ["1.3.6.1.2.1.1.3.0"], timeout=0.3, retries=0)


@pytest.mark.parametrize(
    "behaviour",
    [
        AgentBehaviour(community=b"other"),
        AgentBehaviour(wrong_request_id=True),
        AgentBehaviour(from_other_address=True),
    ],
    ids=["wrong-community", "wrong-request-id", "other-source-address"],
)
async def test_foreign_replies_are_ignored(
    agent: ToyAgent, udp: UdpTransport, behaviour: AgentBehaviour
) -> None:
    agent.behaviour = behaviour
    with pytest.raises(SnmpTimeout):
        await udp.get(addr_of(agent), AUTH, ["1.3.6.1.2.1.1.3.0"], timeout=0.2, retries=0)
    assert udp.stats["unmatched"] == 1


async def test_too_big_halves_the_packet(agent: ToyAgent, udp: UdpTransport) -> None:
    agent.behaviour.too_big_over = 8
    oids = [f"1.3.6.1.2.1.31.1.1.1.6.{i}" for i in range(1, 21)]
    got = await udp.get(addr_of(agent), AUTH, oids, timeout=2)
    assert got[oids[-1]] == 20_000_000_140
    assert max(len(p.varbinds) for p in agent.requests) == 20
    assert all(v is not None for v in got.values())


async def test_error_status_raises(agent: ToyAgent, udp: UdpTransport) -> None:
    agent.behaviour.error_status = 5
    with pytest.raises(SnmpResponseError, match="genErr at varbind 1"):
        await udp.get(addr_of(agent), AUTH, ["1.3.6.1.2.1.1.3.0"], timeout=1)


async def test_walk_stops_at_the_end_of_the_subtree(agent: ToyAgent, udp: UdpTransport) -> None:
    rows = await udp.walk(addr_of(agent), AUTH, "1.3.6.1.2.1.31.1.1.1.6", timeout=2)
    assert len(rows) == 100
    assert all(in_subtree(o, "1.3.6.1.2.1.31.1.1.1.6") for o, _ in rows)
    assert rows[-1] == ("1.3.6.1.2.1.31.1.1.1.6.100", 100_000_000_700)
    assert [p.error_index for p in agent.requests] == [25] * 5  # max-repetitions 25, 5 packets


async def test_walk_of_a_missing_subtree_and_the_end_of_the_mib(agent: ToyAgent, udp: UdpTransport) -> None:
    assert await udp.walk(addr_of(agent), AUTH, "1.3.6.1.2.1.31.1.1.1.99", timeout=1) == []
    assert await udp.walk(addr_of(agent), AUTH, "1.3.6.1.4", timeout=1) == []


async def test_walk_that_goes_backwards_is_malformed(agent: ToyAgent, udp: UdpTransport) -> None:
    agent.behaviour.loop_walk = True
    with pytest.raises(SnmpMalformed, match="not increasing"):
        await udp.walk(addr_of(agent), AUTH, "1.3.6", timeout=1)


async def test_many_requests_in_flight_on_one_socket(agent: ToyAgent, udp: UdpTransport) -> None:
    oids = [f"1.3.6.1.2.1.31.1.1.1.6.{i}" for i in range(1, 101)]
    results = await asyncio.gather(*(udp.get(addr_of(agent), AUTH, [o], timeout=5, retries=0) for o in oids))
    assert [r[o] for r, o in zip(results, oids, strict=True)] == [i * 1_000_000_007 for i in range(1, 101)]
    assert len({p.request_id for p in agent.requests}) == 100


async def test_receive_buffer_is_raised(agent: ToyAgent, udp: UdpTransport) -> None:
    await udp.get(addr_of(agent), AUTH, ["1.3.6.1.2.1.1.3.0"], timeout=1)
    assert udp._transport is not None
    sock = udp._transport.get_extra_info("socket")
    default = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) > default.getsockopt(
            socket.SOL_SOCKET, socket.SO_RCVBUF
        )
    finally:
        default.close()
