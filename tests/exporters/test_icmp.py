"""ICMP prober tests against real loopback addresses (127.0.0.0/8 all answer), a dead address made
with an nftables drop rule, 2000 concurrent probes, and the recording fake."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.icmp_transport import (
    DgramIcmpTransport,
    EchoRequest,
    IcmpTransport,
    IdAllocator,
    RawIcmpTransport,
    RecordingIcmpTransport,
    dgram_allowed,
    parse_echo_reply,
)
from sharpeyes.exporters.probers.base import Module, ProbeError, Target
from sharpeyes.exporters.probers.icmp import IcmpProber, IcmpSettings
from tests import runnet

RUN = runnet.current()
DEAD_IP = RUN.host(8)
LIVE_NEIGHBOUR = RUN.host(9)
NFT_TABLE = RUN.table("icmp")


def module(**settings: object) -> Module:
    return Module("icmp", "icmp", 2.0, IcmpSettings.from_dict(settings, "modules.icmp.icmp"))


def target(ip: str) -> Target:
    return Target(id=f"dev-{ip}", ip=ip, kind="camera")


def value(out: TextWriter, name: str) -> float:
    (line,) = out.samples(name)
    return float(line.rsplit(" ", 1)[1])


def _can_raw() -> bool:
    try:
        import socket

        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
        return True
    except PermissionError:
        return False


PING_GROUP_RANGE = Path("/proc/sys/net/ipv4/ping_group_range")


@pytest.fixture(scope="module")
def ping_sockets_allowed() -> Iterator[bool]:
    """Unprivileged ICMP for this module's tests: as root we open net.ipv4.ping_group_range and
    put the old value back afterwards; otherwise it is whatever the host allows."""
    old = None
    if not dgram_allowed():
        try:
            old = PING_GROUP_RANGE.read_text()
            PING_GROUP_RANGE.write_text("0 2147483647")
        except OSError:
            old = None
    try:
        yield dgram_allowed()
    finally:
        if old is not None:
            PING_GROUP_RANGE.write_text(old)


@pytest.fixture(params=["raw", "dgram"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[IcmpTransport]:
    if request.param == "raw":
        if not _can_raw():
            pytest.skip("raw ICMP sockets need root or CAP_NET_RAW")
        t: IcmpTransport = RawIcmpTransport(IdAllocator())
    else:
        if not request.getfixturevalue("ping_sockets_allowed"):
            pytest.skip("unprivileged ICMP disabled: net.ipv4.ping_group_range excludes our group")
        t = DgramIcmpTransport()
    yield t
    await t.aclose()


@pytest.fixture
def dead_address() -> Iterator[str]:
    """DEAD_IP silently drops echo requests (nftables table made and removed here). The rule sits on
    the input hook: on the output hook the kernel would fail our sendto() with EPERM instead."""
    if shutil.which("nft") is None:
        pytest.skip("nft (nftables) not installed: cannot make a silent address")
    rules = (f"table ip {NFT_TABLE} {{\n chain inbound {{\n  type filter hook input priority 0;\n"
             f"  ip daddr {DEAD_IP} icmp type echo-request drop\n }}\n}}\n")
    made = subprocess.run(["nft", "-f", "-"], input=rules, text=True, capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot add nftables rule (need root/CAP_NET_ADMIN): {made.stderr.strip()}")
    try:
        yield DEAD_IP
    finally:
        subprocess.run(["nft", "delete", "table", "ip", NFT_TABLE], check=True)


async def test_loopback_answers_all_echoes(transport: IcmpTransport) -> None:
    out = TextWriter()
    assert await IcmpProber(transport)(target("127.0.0.1"), module(count=3, interval=0.05), 2.0, out)
    assert value(out, "sharpeyes_icmp_packets_sent") == 3
    assert value(out, "sharpeyes_icmp_packets_received") == 3
    assert value(out, "sharpeyes_icmp_packet_loss_ratio") == 0
    rtt, rtt_max = value(out, "sharpeyes_icmp_rtt_seconds"), value(out, "sharpeyes_icmp_rtt_max_seconds")
    assert 0 < rtt <= rtt_max < 1


async def test_dead_address_is_full_loss_within_timeout(transport: IcmpTransport, dead_address: str) -> None:
    out = TextWriter()
    t0 = time.monotonic()
    with pytest.raises(ProbeError) as err:
        await IcmpProber(transport)(target(dead_address), module(count=3, interval=0.1), 0.8, out)
    elapsed = time.monotonic() - t0
    assert err.value.reason == "timeout"
    assert 0.7 <= elapsed < 1.3
    assert value(out, "sharpeyes_icmp_packets_sent") == 3
    assert value(out, "sharpeyes_icmp_packets_received") == 0
    assert value(out, "sharpeyes_icmp_packet_loss_ratio") == 1.0
    assert out.samples("sharpeyes_icmp_rtt_seconds") == []
    # a live neighbour is unaffected by the rule
    assert await IcmpProber(transport)(target(LIVE_NEIGHBOUR), module(interval=0.01), 1.0, TextWriter())


async def test_raw_replies_from_another_address_with_our_identifier_are_not_ours(dead_address: str) -> None:
    """A raw socket sees every echo reply on the host: another process pinging a live address with
    the identifier and sequence we wait on (a second exporter, a parallel test run) must not make
    the dead address look alive."""
    if not _can_raw():
        pytest.skip("raw ICMP sockets need root or CAP_NET_RAW")
    from icmplib import ICMPRequest, ICMPv4Socket

    ident = 4242
    ours = RawIcmpTransport(IdAllocator(start=ident))
    other = ICMPv4Socket(privileged=True)
    stop = asyncio.Event()

    async def other_pinger() -> None:  # echoes to a live address, same (identifier, sequence 0)
        while not stop.is_set():
            other.send(ICMPRequest(LIVE_NEIGHBOUR, ident, 0))
            await asyncio.sleep(0.02)

    pinger = asyncio.ensure_future(other_pinger())
    try:
        result = await ours.echo(EchoRequest(dead_address, 1, 0.1, 0.6))
    finally:
        stop.set()
        await pinger
        other.close()
        await ours.aclose()
    assert result.ident == ident and result.sent == 1
    assert result.received == 0, "a reply from another address was taken for the dead address's"


async def test_2000_concurrent_probes_distinct_ids_all_succeed(transport: IcmpTransport) -> None:
    addresses = [RUN.host(1000 + i) for i in range(2000)]
    reqs = [EchoRequest(a, 3, 0.2, 5.0) for a in addresses]
    results = await asyncio.wait_for(asyncio.gather(*(transport.echo(r) for r in reqs)), 30)
    assert all(r.sent == 3 and r.received == 3 for r in results)
    # no two in-flight echoes share (identifier, sequence): a reply can only answer the echo it is for
    echoes = [(r.ident, seq) for r in results for seq in r.seqs]
    assert None not in {r.ident for r in results} and len(set(echoes)) == len(echoes) == 6000


async def test_concurrent_probes_of_one_address_each_get_their_own_replies(transport: IcmpTransport) -> None:
    """Two scrapes of one device at once (a reload, an operator's curl): each probe counts the
    replies to its own echoes, never the other's (shared sockets tell them apart by sequence)."""
    reqs = [EchoRequest(RUN.host(999), 3, 0.05, 5.0) for _ in range(200)]
    results = await asyncio.wait_for(asyncio.gather(*(transport.echo(r) for r in reqs)), 30)
    assert [(r.sent, r.received) for r in results] == [(3, 3)] * 200


async def test_2000_concurrent_through_prober(transport: IcmpTransport) -> None:
    prober = IcmpProber(transport)
    outs = [TextWriter() for _ in range(2000)]
    ips = [RUN.host(3000 + i) for i in range(2000)]
    probes = (prober(target(ip), module(), 5.0, out) for ip, out in zip(ips, outs, strict=True))
    ok = await asyncio.wait_for(asyncio.gather(*probes), 30)
    assert all(ok)
    assert all(value(o, "sharpeyes_icmp_packet_loss_ratio") == 0 for o in outs)


def test_id_allocator_never_hands_out_an_id_in_use() -> None:
    alloc = IdAllocator(start=65534)
    held = [alloc.acquire() for _ in range(4)]
    assert held == [65534, 65535, 0, 1]
    alloc.release(0)
    many = [alloc.acquire() for _ in range(65533)]
    assert len(set(many)) == len(many) and not set(many) & {65534, 65535, 1}
    assert len(alloc) == 65536
    with pytest.raises(Exception, match="in use"):
        alloc.acquire()


def test_parse_echo_reply() -> None:
    ip = bytes([0x45]) + bytes(19)
    assert parse_echo_reply(ip + bytes([0, 0, 0, 0, 0x12, 0x34, 0, 2])) == (0x1234, 2)
    assert parse_echo_reply(ip + bytes([8, 0, 0, 0, 0x12, 0x34, 0, 2])) is None  # a request
    assert parse_echo_reply(bytes([0, 0, 0, 0, 0, 7, 0, 1]), ip_header=False) == (7, 1)
    assert parse_echo_reply(b"\x45\x00") is None


async def test_fake_records_requests_and_partial_loss() -> None:
    fake = RecordingIcmpTransport({"10.0.0.5": [0.010, None, 0.030]})
    out = TextWriter()
    assert await IcmpProber(fake)(target("10.0.0.5"), module(count=3, payload_size=100), 1.5, out)
    assert fake.calls == [EchoRequest("10.0.0.5", 3, 0.2, 1.5, 100, False)]
    assert value(out, "sharpeyes_icmp_packet_loss_ratio") == pytest.approx(1 / 3)
    assert value(out, "sharpeyes_icmp_rtt_seconds") == pytest.approx(0.020)
    assert value(out, "sharpeyes_icmp_rtt_max_seconds") == pytest.approx(0.030)
    with pytest.raises(ProbeError):
        await IcmpProber(fake)(target("10.0.0.6"), module(), 1.0, TextWriter())


def test_settings_strict() -> None:
    assert IcmpSettings.from_dict({}, "m") == IcmpSettings(count=3, interval=0.2, payload_size=56)
    assert IcmpSettings.from_dict({"interval": 1}, "m").interval == 1.0
    with pytest.raises(ValueError, match=r"modules\.x: unknown key\(s\) cnt"):
        IcmpSettings.from_dict({"cnt": 3}, "modules.x")
    with pytest.raises(ValueError, match=r"m\.count: expected int"):
        IcmpSettings.from_dict({"count": True}, "m")
    with pytest.raises(ValueError, match=r"m\.count: must be 1\.\.100"):
        IcmpSettings.from_dict({"count": 0}, "m")
    with pytest.raises(ValueError, match=r"m\.dont_fragment: expected bool"):
        IcmpSettings.from_dict({"dont_fragment": "yes"}, "m")
