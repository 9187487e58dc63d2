"""Fixtures for the exporter tests.

SNMP: real agents on loopback high ports, started as subprocesses and awaited by polling with
real SNMP requests (never fixed sleeps):
- ``snmpsim_agent``: snmpsim serving the real captures in ../shared/fixtures/snmp, hard-linked
  (or copied) into a temporary data dir at test time; community / v3 context = file stem.
- ``snmpd_agent``: net-snmp snmpd with a generated config: a v2c community and v3 users
  (SHA/AES, MD5/DES, and AES-192/AES-256 in ``extra``) created with createUser.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sharpeyes.exporters.snmp import ber
from sharpeyes.exporters.snmp.auth import SnmpAuth
from tests import runnet
from tests.conftest import require_fixtures

SNMPSIM_FILES = ("huawei_s5720", "h3c_comware_hp-ff5700", "hikvision-nvr", "dahua-nvr")
V3_USER = "sharpeyes"
V3_AUTH_PASSWORD = "auth-pass-7Hq2"
V3_PRIV_PASSWORD = "priv-pass-3Zk9"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
# net-snmp users with the long AES keys (its AES-192/AES-256 use the Blumenthal key extension)
AES_LONG_USERS = {"aes192": ("SHA", "AES-192"), "aes256": ("SHA", "AES-256"), "aes256sha256": ("SHA-256", "AES-256")}


@dataclass
class Agent:
    name: str
    host: str
    port: int
    v2c: SnmpAuth
    v3: SnmpAuth
    extra: dict[str, SnmpAuth] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def addr(self) -> tuple[str, int]:
        return self.host, self.port


@pytest.fixture(scope="session")
def snmp_fixtures() -> Path:
    return require_fixtures("snmp")


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


def _await_ready(agent: Agent, auth: SnmpAuth, deadline_s: float, log: Path) -> None:
    """Poll the agent with real v2c GETs until it answers, its process dies, or the deadline passes.

    Blocking socket on purpose: the fixture may be set up from inside a running event loop."""
    end = time.monotonic() + deadline_s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        rid = 1
        while time.monotonic() < end:
            if agent.proc is not None and agent.proc.poll() is not None:
                raise RuntimeError(f"{agent.name} exited: {_tail(log)}")
            rid += 1
            sock.sendto(ber.get_request(auth.community.encode(), rid, [SYS_UPTIME]), agent.addr)
            try:
                data, _ = sock.recvfrom(65535)
            except (TimeoutError, ConnectionRefusedError):
                continue
            _, pdu = ber.decode_v2c(data)
            if pdu.request_id == rid and isinstance(pdu.varbinds[0][1], int):
                return
    raise RuntimeError(f"{agent.name} not answering after {deadline_s}s: {_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def snmpsim_agent(snmp_fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    exe = shutil.which("snmpsim-command-responder")
    if exe is None:
        pytest.skip("snmpsim-command-responder not installed")
    base = tmp_path_factory.mktemp("snmpsim")
    data = base / "data"
    data.mkdir()
    for stem in SNMPSIM_FILES:
        src = snmp_fixtures / f"{stem}.snmprec"
        try:
            os.link(src, data / src.name)  # hard link: snmpsim ignores symlinks
        except OSError:
            shutil.copyfile(src, data / src.name)
    host = runnet.current().host(0)
    port = _free_udp_port(host)
    log = base / "snmpsim.log"
    cmd = [
        exe,
        f"--data-dir={data}",
        f"--cache-dir={base / 'cache'}",
        f"--agent-udpv4-endpoint={host}:{port}",
        f"--v3-user={V3_USER}",
        f"--v3-auth-key={V3_AUTH_PASSWORD}",
        "--v3-auth-proto=SHA",
        f"--v3-priv-key={V3_PRIV_PASSWORD}",
        "--v3-priv-proto=AES",
    ]
    env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    agent = Agent(
        "snmpsim",
        host,
        port,
        v2c=SnmpAuth(version=2, community="huawei_s5720"),
        v3=SnmpAuth(
            version=3,
            username=V3_USER,
            auth_password=V3_AUTH_PASSWORD,
            priv_password=V3_PRIV_PASSWORD,
            context_name="huawei_s5720",
        ),
        proc=proc,
    )
    try:
        _await_ready(agent, agent.v2c, 60, log)
        yield agent
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def snmpd_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    exe = shutil.which("snmpd") or ("/usr/sbin/snmpd" if Path("/usr/sbin/snmpd").exists() else None)
    if exe is None:
        pytest.skip("net-snmp snmpd not installed")
    base = tmp_path_factory.mktemp("snmpd")
    host = runnet.current().host(1)
    port = _free_udp_port(host)
    community = "sharpeyes-ro"
    conf = base / "snmpd.conf"
    conf.write_text(
        f"agentAddress udp:{host}:{port}\n"
        f"rocommunity {community} 127.0.0.0/8\n"
        f'createUser {V3_USER} SHA "{V3_AUTH_PASSWORD}" AES "{V3_PRIV_PASSWORD}"\n'
        f'createUser legacy MD5 "{V3_AUTH_PASSWORD}" DES "{V3_PRIV_PASSWORD}"\n'
        + "".join(f'createUser {u} {a} "{V3_AUTH_PASSWORD}" {p} "{V3_PRIV_PASSWORD}"\nrouser {u} priv\n'
                  for u, (a, p) in AES_LONG_USERS.items())
        + f"rouser {V3_USER} priv\n"
        "rouser legacy priv\n"
        "sysName sharpeyes-test-agent\n"
        "sysLocation loopback\n"
    )
    persist = base / "persist"
    persist.mkdir()
    log = base / "snmpd.log"
    env = dict(os.environ, MIBS="", SNMP_PERSISTENT_DIR=str(persist), SNMPCONFPATH=str(base))
    cmd = [exe, "-f", "-Lf", str(log), "-C", "-c", str(conf), "-p", str(base / "snmpd.pid")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    legacy = SnmpAuth(
        version=3,
        username="legacy",
        auth_protocol="MD5",
        auth_password=V3_AUTH_PASSWORD,
        priv_protocol="DES",
        priv_password=V3_PRIV_PASSWORD,
    )
    agent = Agent(
        "snmpd",
        host,
        port,
        v2c=SnmpAuth(version=2, community=community),
        v3=SnmpAuth(
            version=3, username=V3_USER, auth_password=V3_AUTH_PASSWORD, priv_password=V3_PRIV_PASSWORD
        ),
        extra={"legacy": legacy, **{
            u: SnmpAuth(version=3, username=u, auth_protocol=a.replace("-", ""), auth_password=V3_AUTH_PASSWORD,
                        priv_protocol=p.replace("-", ""), priv_password=V3_PRIV_PASSWORD)
            for u, (a, p) in AES_LONG_USERS.items()}},
        proc=proc,
    )
    try:
        _await_ready(agent, agent.v2c, 30, log)
        yield agent
    finally:
        _stop(proc)


# ---------------------------------------------------------------- exporter core (config, app, promconfig)

from tests.exporters.exporters_testlib import DEMO_SECRETS  # noqa: E402


@pytest.fixture
def demo_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Writes the demo secrets file and points $SHARPEYES_SECRETS at it."""
    import yaml

    path = tmp_path / "sim-secrets.yaml"
    path.write_text(yaml.safe_dump({"auths": DEMO_SECRETS}), encoding="utf-8")
    monkeypatch.setenv("SHARPEYES_SECRETS", str(path))
    return path
