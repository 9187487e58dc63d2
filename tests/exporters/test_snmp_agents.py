"""Our SNMP stack against REAL agents — snmpsim serving the real captures and net-snmp snmpd —
with pysnmp as the reference implementation: same answers, v2c and v3, and failures (wrong
keys, dead addresses) becoming the right ProbeError within the deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, Protocol

import pytest
from pysnmp.hlapi.v3arch import asyncio as hl

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.probers.base import Module, PortInfo, ProbeError, Target
from sharpeyes.exporters.probers.snmp_camera import OIDS as CAMERA_OIDS
from sharpeyes.exporters.probers.snmp_camera import SnmpCameraProber
from sharpeyes.exporters.probers.snmp_switch import IF_NAME, SnmpSwitchProber
from sharpeyes.exporters.snmp import v3
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.ber import NO_SUCH_INSTANCE, NO_SUCH_OBJECT, Value
from sharpeyes.exporters.snmp.probing import SnmpSettings
from sharpeyes.exporters.snmp.transport import SnmpAuthFailure, SnmpTimeout
from sharpeyes.exporters.snmp.udp import UdpTransport
from tests import runnet


class Agent(Protocol):
    """What the agent fixtures in conftest.py yield."""

    name: str
    host: str
    port: int
    v2c: SnmpAuth
    v3: SnmpAuth
    extra: dict[str, SnmpAuth]

    @property
    def addr(self) -> tuple[str, int]: ...


AGENTS = ["snmpsim_agent", "snmpd_agent"]


@pytest.fixture
async def udp() -> AsyncIterator[UdpTransport]:
    t = UdpTransport()
    yield t
    await t.close()


def _agent(request: pytest.FixtureRequest, name: str) -> Agent:
    agent: Agent = request.getfixturevalue(name)
    return agent


# -- pysnmp, the reference -------------------------------------------------------------------


def _plain(value: Any) -> Value:
    name = type(value).__name__
    if name in ("NoSuchObject",):
        return NO_SUCH_OBJECT
    if name in ("NoSuchInstance",):
        return NO_SUCH_INSTANCE
    if name in ("OctetString", "Opaque"):
        return bytes(value.asOctets())
    if name in ("ObjectIdentifier", "ObjectName"):
        return str(value)
    if name == "IpAddress":
        return value.prettyPrint()
    return int(value)


def _pysnmp_auth(auth: SnmpAuth) -> Any:
    if auth.version == 2:
        return hl.CommunityData(auth.community)
    return hl.UsmUserData(
        auth.username,
        auth.auth_password,
        auth.priv_password,
        authProtocol={"SHA": hl.usmHMACSHAAuthProtocol, "MD5": hl.usmHMACMD5AuthProtocol}[auth.auth_protocol],
        privProtocol={"AES": hl.usmAesCfb128Protocol, "DES": hl.usmDESPrivProtocol}[auth.priv_protocol],
    )


async def pysnmp_get(addr: tuple[str, int], auth: SnmpAuth, oids: list[str]) -> dict[str, Value]:
    engine = hl.SnmpEngine()
    try:
        target = await hl.UdpTransportTarget.create(addr, timeout=2, retries=1)
        err, status, _, vbs = await hl.get_cmd(
            engine,
            _pysnmp_auth(auth),
            target,
            hl.ContextData(contextName=auth.context_name),
            *[hl.ObjectType(hl.ObjectIdentity(o)) for o in oids],
            lookupMib=False,
        )
        assert err is None and int(status) == 0, (err, status)
        return {str(o): _plain(v) for o, v in vbs}
    finally:
        engine.close_dispatcher()


async def pysnmp_walk(addr: tuple[str, int], auth: SnmpAuth, root: str) -> list[tuple[str, Value]]:
    engine = hl.SnmpEngine()
    try:
        target = await hl.UdpTransportTarget.create(addr, timeout=2, retries=1)
        rows = []
        async for err, status, _, vbs in hl.bulk_walk_cmd(
            engine,
            _pysnmp_auth(auth),
            target,
            hl.ContextData(contextName=auth.context_name),
            0,
            25,
            hl.ObjectType(hl.ObjectIdentity(root)),
            lookupMib=False,
            lexicographicMode=False,
        ):
            assert err is None and int(status) == 0, (err, status)
            rows += [(str(o), _plain(v)) for o, v in vbs]
        return rows
    finally:
        engine.close_dispatcher()


def _same(ours: dict[str, Value], theirs: dict[str, Value]) -> None:
    assert list(ours) == list(theirs)
    for oid, value in ours.items():
        if oid == "1.3.6.1.2.1.1.3.0":  # snmpd's clock runs between the two requests
            assert isinstance(value, int) and isinstance(theirs[oid], int)
            assert abs(value - int(theirs[oid])) < 500  # type: ignore[arg-type]
        else:
            assert value == theirs[oid], oid


# -- the transport, v2c and v3, against both agents ------------------------------------------


@pytest.mark.parametrize("agent_name", AGENTS)
@pytest.mark.parametrize("version", [2, 3])
async def test_get_matches_pysnmp(
    request: pytest.FixtureRequest, udp: UdpTransport, agent_name: str, version: int
) -> None:
    agent = _agent(request, agent_name)
    auth = agent.v2c if version == 2 else agent.v3
    oids = [*CAMERA_OIDS, "1.3.6.1.2.1.1.77.0"]
    ours = await udp.get(agent.addr, auth, oids, timeout=3)
    _same(ours, await pysnmp_get(agent.addr, auth, oids))
    assert isinstance(ours["1.3.6.1.2.1.1.3.0"], int)
    assert ours["1.3.6.1.2.1.1.77.0"] in (NO_SUCH_OBJECT, NO_SUCH_INSTANCE)
    if agent_name == "snmpsim_agent":
        assert ours["1.3.6.1.2.1.1.2.0"] == "1.3.6.1.4.1.2011.2.23.291"  # the Huawei capture
        assert ours["1.3.6.1.2.1.1.3.0"] == 28156805
    else:
        assert ours["1.3.6.1.2.1.1.5.0"] == b"sharpeyes-test-agent"


@pytest.mark.parametrize("agent_name", AGENTS)
@pytest.mark.parametrize("version", [2, 3])
async def test_walk_matches_pysnmp(
    request: pytest.FixtureRequest, udp: UdpTransport, agent_name: str, version: int
) -> None:
    agent = _agent(request, agent_name)
    auth = agent.v2c if version == 2 else agent.v3
    root = IF_NAME if agent_name == "snmpsim_agent" else "1.3.6.1.2.1.1"
    ours = await udp.walk(agent.addr, auth, root, timeout=5)
    theirs = await pysnmp_walk(agent.addr, auth, root)
    if agent_name == "snmpsim_agent":
        assert ours == theirs
        assert len(ours) == 65 and ours[-1] == (f"{IF_NAME}.70", b"Vlanif60")
    else:
        assert [o for o, _ in ours] == [o for o, _ in theirs]
        assert len(ours) > 10


async def test_snmpd_md5_des_user(snmpd_agent: Agent, udp: UdpTransport) -> None:
    legacy = snmpd_agent.extra["legacy"]
    ours = await udp.get(snmpd_agent.addr, legacy, ["1.3.6.1.2.1.1.5.0"], timeout=3)
    assert ours == {"1.3.6.1.2.1.1.5.0": b"sharpeyes-test-agent"}
    _same(ours, await pysnmp_get(snmpd_agent.addr, legacy, ["1.3.6.1.2.1.1.5.0"]))


async def test_snmpsim_v3_context_selects_the_device(snmpsim_agent: Agent, udp: UdpTransport) -> None:
    auth = replace(snmpsim_agent.v3, context_name="h3c_comware_hp-ff5700")
    got = await udp.get(snmpsim_agent.addr, auth, ["1.3.6.1.2.1.1.2.0"], timeout=3)
    assert got == {"1.3.6.1.2.1.1.2.0": "1.3.6.1.4.1.25506.11.1.172"}


# -- failures --------------------------------------------------------------------------------


def _camera_module(auth: SnmpAuth) -> Module:
    return Module("snmp_camera", "snmp_camera", 2.0, SnmpSettings(auth=auth))


def _target(agent: Agent, host: str | None = None) -> Target:
    return Target("cam-x", host or agent.host, "camera", extra={"snmp_port": str(agent.port)})


@pytest.mark.parametrize("agent_name", AGENTS)
@pytest.mark.parametrize(
    "change",
    [{"auth_password": "not-the-auth-key"}, {"username": "intruder"}],
    ids=["wrong-auth-key", "unknown-user"],
)
async def test_wrong_v3_credentials_are_auth(
    request: pytest.FixtureRequest, udp: UdpTransport, agent_name: str, change: dict[str, str]
) -> None:
    agent = _agent(request, agent_name)
    bad = replace(agent.v3, auth_password=change.get("auth_password", agent.v3.auth_password))
    bad = replace(bad, username=change.get("username", bad.username))
    with pytest.raises(ProbeError) as info:
        await SnmpCameraProber(udp)(_target(agent), _camera_module(bad), 2.0, TextWriter())
    assert info.value.reason == "auth"
    assert "not-the-auth-key" not in str(info.value)


async def test_wrong_priv_key(snmpsim_agent: Agent, snmpd_agent: Agent, udp: UdpTransport) -> None:
    # snmpsim (pysnmp) reports usmStatsDecryptionErrors; net-snmp silently drops what it cannot decrypt
    bad = replace(snmpsim_agent.v3, priv_password="not-the-priv-key")
    with pytest.raises(SnmpAuthFailure, match="decryption"):
        await udp.get(snmpsim_agent.addr, bad, ["1.3.6.1.2.1.1.3.0"], timeout=2)
    bad = replace(snmpd_agent.v3, priv_password="not-the-priv-key")
    with pytest.raises(SnmpTimeout):
        await udp.get(snmpd_agent.addr, bad, ["1.3.6.1.2.1.1.3.0"], timeout=0.5)


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("where", ["no-agent-address", "closed-port"])
async def test_dead_address_times_out_within_the_deadline(
    snmpd_agent: Agent, udp: UdpTransport, version: int, where: str
) -> None:
    auth = snmpd_agent.v2c if version == 2 else snmpd_agent.v3
    if where == "no-agent-address":
        target = _target(snmpd_agent, host=runnet.current().host(10))
    else:
        target = Target("cam-x", snmpd_agent.host, "camera", extra={"snmp_port": "9"})
    start = time.monotonic()
    with pytest.raises(ProbeError) as info:
        await SnmpCameraProber(udp)(target, _camera_module(auth), 1.0, TextWriter())
    elapsed = time.monotonic() - start
    assert info.value.reason == "timeout"
    assert 0.9 <= elapsed < 1.3


# -- the probers end to end against snmpsim --------------------------------------------------


@pytest.mark.parametrize("version", [2, 3])
async def test_switch_prober_against_snmpsim(snmpsim_agent: Agent, udp: UdpTransport, version: int) -> None:
    auth = (
        SnmpAuth(version=2, community="h3c_comware_hp-ff5700")
        if version == 2
        else replace(snmpsim_agent.v3, context_name="h3c_comware_hp-ff5700")
    )
    ports = (
        PortInfo("Ten-GigabitEthernet9/0/10", "fiber", link="fl-1"),
        PortInfo("GigabitEthernet2/0/1", "copper", device="cam-1"),
    )
    target = Target(
        "sw-h3c",
        snmpsim_agent.host,
        "switch",
        vendor="h3c",
        ports=ports,
        extra={"snmp_port": str(snmpsim_agent.port)},
    )
    module = Module("snmp_switch", "snmp_switch", 5.0, SnmpSettings(auth=auth))
    prober = SnmpSwitchProber(udp)
    for _ in range(2):  # the second probe runs from the cache
        out = TextWriter()
        assert await prober(target, module, 5.0, out)
        assert out.samples("sharpeyes_optical_rx_power_dbm") == [
            'sharpeyes_optical_rx_power_dbm{port="Ten-GigabitEthernet9/0/10",if_index="13",port_device="",'
            'port_link="fl-1"} -10.05'
        ]
        assert out.samples("sharpeyes_port_receive_bytes_total")[1] == (
            'sharpeyes_port_receive_bytes_total{port="GigabitEthernet2/0/1",if_index="68",'
            'port_device="cam-1",port_link=""} 2281872009104'
        )
    assert "sw-h3c" in prober.cache


async def test_huawei_switch_prober_against_snmpsim(snmpsim_agent: Agent, udp: UdpTransport) -> None:
    ports = tuple(PortInfo(f"XGigabitEthernet0/0/{i}", "fiber", link=f"fl-{i}") for i in range(1, 5))
    target = Target(
        "sw-hw",
        snmpsim_agent.host,
        "switch",
        vendor="huawei",
        ports=ports,
        extra={"snmp_port": str(snmpsim_agent.port)},
    )
    out = TextWriter()
    module = Module("snmp_switch", "snmp_switch", 5.0, SnmpSettings(auth=snmpsim_agent.v2c))
    assert await SnmpSwitchProber(udp)(target, module, 5.0, out)
    rx = [line.rsplit(" ", 1)[1] for line in out.samples("sharpeyes_optical_rx_power_dbm")]
    tx = [line.rsplit(" ", 1)[1] for line in out.samples("sharpeyes_optical_tx_power_dbm")]
    assert rx == ["-2.71", "-2.19", "-2.4"]  # port 3 has no module
    assert tx == ["-2.28", "-2.29", "-2.2"]


async def test_many_targets_concurrently_on_one_socket(snmpsim_agent: Agent, udp: UdpTransport) -> None:
    communities = ["huawei_s5720", "h3c_comware_hp-ff5700", "hikvision-nvr", "dahua-nvr"] * 50
    results = await asyncio.gather(
        *(
            udp.get(snmpsim_agent.addr, SnmpAuth(version=2, community=c), ["1.3.6.1.2.1.1.3.0"], timeout=10)
            for c in communities
        )
    )
    uptimes = {c: r["1.3.6.1.2.1.1.3.0"] for c, r in zip(communities, results, strict=True)}
    assert uptimes == {
        "huawei_s5720": 28156805,
        "h3c_comware_hp-ff5700": 2250133531,
        "hikvision-nvr": 85447143,
        "dahua-nvr": 24641813,
    }


@pytest.mark.parametrize("agent_name", AGENTS)
async def test_v3_recovers_from_a_stale_engine_clock_and_id(
    request: pytest.FixtureRequest, udp: UdpTransport, agent_name: str
) -> None:
    """As after an agent reboot: the Report (notInTimeWindow / unknownEngineID) resynchronises."""
    agent = _agent(request, agent_name)
    await udp.get(agent.addr, agent.v3, ["1.3.6.1.2.1.1.3.0"], timeout=3)
    real = udp._engines[agent.addr]
    udp._engines[agent.addr] = v3.EngineState(
        real.engine_id, real.boots + 3, real.time + 5000, real.local_time
    )
    got = await udp.get(agent.addr, agent.v3, ["1.3.6.1.2.1.1.2.0"], timeout=3)
    assert isinstance(got["1.3.6.1.2.1.1.2.0"], str)
    assert udp._engines[agent.addr].boots == real.boots
    udp._engines[agent.addr] = v3.EngineState(b"\x80\x00\x00\x00\x01stale", 1, 1, real.local_time)
    got = await udp.get(agent.addr, agent.v3, ["1.3.6.1.2.1.1.2.0"], timeout=3)
    assert isinstance(got["1.3.6.1.2.1.1.2.0"], str)
    assert udp._engines[agent.addr].engine_id == real.engine_id
