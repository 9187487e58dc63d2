"""AES-192 and AES-256 privacy (Blumenthal key extension) against net-snmp's snmpd and its own
snmpget: both must read the same value with the same user, so the keys are extended the same way."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import AsyncIterator

import pytest

from sharpeyes.exporters.snmp import v3
from sharpeyes.exporters.snmp.udp import UdpTransport
from tests.exporters.conftest import AES_LONG_USERS, V3_AUTH_PASSWORD, V3_PRIV_PASSWORD, Agent

SYS_NAME = "1.3.6.1.2.1.1.5.0"


@pytest.fixture
async def udp() -> AsyncIterator[UdpTransport]:
    t = UdpTransport()
    yield t
    await t.close()


def snmpget(agent: Agent, user: str) -> str:
    auth, priv = AES_LONG_USERS[user]
    exe = shutil.which("snmpget")
    if exe is None:
        pytest.skip("net-snmp snmpget not installed")
    out = subprocess.run(
        [exe, "-v3", "-l", "authPriv", "-u", user, "-a", auth, "-A", V3_AUTH_PASSWORD, "-x", priv,
         "-X", V3_PRIV_PASSWORD, "-On", "-Ov", "-t", "2", "-r", "1", f"{agent.host}:{agent.port}", SYS_NAME],
        capture_output=True, text=True, timeout=20, env={"MIBS": ""},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("user", sorted(AES_LONG_USERS))
async def test_long_aes_keys_against_snmpd(snmpd_agent: Agent, udp: UdpTransport, user: str) -> None:
    auth = snmpd_agent.extra[user]
    got = await udp.get(snmpd_agent.addr, auth, [SYS_NAME], timeout=3)
    assert got == {SYS_NAME: b"sharpeyes-test-agent"}
    assert snmpget(snmpd_agent, user) == 'STRING: "sharpeyes-test-agent"'
    engine = udp._engines[snmpd_agent.addr]
    assert len(v3.keys_for(auth, engine.engine_id).priv_key) == {"AES192": 24, "AES256": 32}[auth.priv_protocol]


def test_key_extension_is_blumenthal() -> None:
    """The extension hashes the whole key so far (K || H(K)), not the password again (Reeder)."""
    k = bytes(range(20))
    assert v3.extend_key("sha1", k, 32) == (k + hashlib.sha1(k).digest())[:32]
    assert v3.extend_key("sha256", bytes(32), 32) == bytes(32)
