"""The trap receiver against real peers: net-snmp's snmptrap/snmpinform as senders, snmpsim serving
a real Huawei S5720 capture as the switch the confirmation probe asks, a real Alertmanager.

In the capture ifIndex 6 (GigabitEthernet0/0/1) and 14 (GigabitEthernet0/0/9) are down and
ifIndex 19 (GigabitEthernet0/0/14) is up, so a linkDown for the first two is confirmed and one for
the third is not. Alertmanager makes this file heavy: run it under ``flock /tmp/sharpeyes-heavy.lock``.
The bad-input tests at the end start no Alertmanager.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from sharpeyes.exporters.app import Exporter
from sharpeyes.exporters.snmp import ber
from sharpeyes.exporters.traps import pdu
from sharpeyes.exporters.traps.receiver import TrapReceiver, TrapSettings
from tests import runnet
from tests.exporters.conftest import V3_AUTH_PASSWORD, V3_PRIV_PASSWORD, V3_USER, Agent

ROOT = Path(__file__).resolve().parents[2]
VALID_MIN = ROOT / "tests" / "inventory" / "valid_min"
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
SNMPTRAP = shutil.which("snmptrap")
SNMPINFORM = shutil.which("snmpinform")
pytestmark = pytest.mark.skipif(SNMPTRAP is None, reason="net-snmp snmptrap not installed")


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if exe is None:
        pytest.skip("Alertmanager not installed")
    base = tmp_path_factory.mktemp("am")
    (base / "am.yml").write_text("route: {receiver: null-receiver}\nreceivers: [{name: null-receiver}]\n")
    port = runnet.free_port()
    proc = subprocess.Popen([exe, f"--config.file={base / 'am.yml'}", f"--storage.path={base / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > end or proc.poll() is not None:
                    raise RuntimeError("Alertmanager did not become ready") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def am_alerts(url: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as resp:
        alerts: list[dict[str, object]] = json.load(resp)
    return alerts


def inventory(tmp: Path, agent: Agent) -> Path:
    """valid_min with its access switch at the snmpsim address (a Huawei, auth profile ``sw``) and
    the second camera moved to a port that is up in the capture."""
    out = tmp / "inv"
    shutil.copytree(VALID_MIN, out)
    east = out / "townships" / "east.yaml"
    text = east.read_text(encoding="utf-8")
    text = text.replace("            ip: 127.16.0.3\n",
                        f"            ip: {agent.host}\n            vendor: huawei\n            auth: sw\n")
    text = text.replace("ports: [GigabitEthernet0/0/1-8, GigabitEthernet0/0/9-10:fiber]",
                        "ports: [GigabitEthernet0/0/1-8, GigabitEthernet0/0/9-10:fiber, GigabitEthernet0/0/11-16]")
    text = text.replace("uplink: {switch: sw-east-v1-p01, port: GigabitEthernet0/0/2}",
                        "uplink: {switch: sw-east-v1-p01, port: GigabitEthernet0/0/14}")
    east.write_text(text, encoding="utf-8")
    return out


def config(tmp: Path, agent: Agent, version: int) -> Path:
    if version == 2:
        snmp = "{version: 2, community: huawei_s5720}"
    else:
        snmp = (f"{{version: 3, username: {V3_USER}, security_level: authPriv, auth_protocol: SHA, "
                f"auth_password: {V3_AUTH_PASSWORD}, priv_protocol: AES, priv_password: {V3_PRIV_PASSWORD}, "
                "context_name: huawei_s5720}")
    path = tmp / f"exporter-v{version}.yml"
    path.write_text(f"""insecure_literal_secrets: true
modules:
  snmp_switch:
    prober: snmp_switch
    timeout: 5s
    retries: 1
    snmp_switch: {{port: {agent.port}}}
auths:
  sw:
    snmp: {snmp}
""", encoding="utf-8")
    return path


@pytest.fixture(params=[2, 3], ids=["v2c", "v3"])
async def receiver(request: pytest.FixtureRequest, tmp_path: Path, snmpsim_agent: Agent,
                   alertmanager: str) -> AsyncIterator[TrapReceiver]:
    exporter = Exporter(config(tmp_path, snmpsim_agent, request.param), inventory(tmp_path, snmpsim_agent),
                        poll_interval=0)
    exporter.load()
    rx = TrapReceiver(exporter, TrapSettings(("127.0.0.1", 0), (alertmanager,), confirm_delay=0.2))
    await rx.start()
    rx.version = request.param  # type: ignore[attr-defined]
    try:
        yield rx
    finally:
        await rx.close()
        await exporter.close_probers()


def send(rx: TrapReceiver, agent: Agent, if_index: int, *, version: int | None = None, inform: bool = False,
         community: str = "huawei_s5720", auth_password: str = V3_AUTH_PASSWORD,
         source: str | None = None) -> subprocess.CompletedProcess[str]:
    """One linkDown through net-snmp, from the switch's address unless ``source`` says otherwise."""
    assert rx.address is not None
    version = version or rx.version  # type: ignore[attr-defined]
    exe = SNMPINFORM if inform else SNMPTRAP
    assert exe is not None
    argv = [exe, f"--clientaddr={source or agent.host}", "-r", "0", "-t", "2"]
    if version == 2:
        argv += ["-v", "2c", "-c", community]
    else:
        argv += ["-v", "3", "-u", V3_USER, "-l", "authPriv", "-a", "SHA", "-A", auth_password,
                 "-x", "AES", "-X", V3_PRIV_PASSWORD, "-e", "0x80001f8880aabbccdd"]
    argv += [f"{rx.address[0]}:{rx.address[1]}", "", LINK_DOWN, f"{IF_INDEX}.{if_index}", "i", str(if_index)]
    env = dict(os.environ, MIBS="", SNMPCONFPATH="/nonexistent")
    return subprocess.run(argv, capture_output=True, text=True, timeout=20, env=env, check=False)


def count(rx: TrapReceiver, name: str, result: str) -> float:
    value = rx.exporter.metrics.registry.get_sample_value(name, {"result": result})
    return float(value or 0)


async def until(cond: object, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def mine(url: str, **labels: str) -> list[dict[str, object]]:
    return [a for a in am_alerts(url) if all(a["labels"].get(k) == v for k, v in labels.items())]  # type: ignore[attr-defined]


async def test_confirmed_link_down_posts_the_rules_alert(receiver: TrapReceiver, snmpsim_agent: Agent,
                                                         alertmanager: str) -> None:
    proc = await asyncio.to_thread(send, receiver, snmpsim_agent, 6)
    assert proc.returncode == 0, proc.stderr
    await until(lambda: count(receiver, "sharpeyes_traps_confirmations_total", "confirmed") == 1)
    got = mine(alertmanager, alertname="SwitchPortDown", device="cam-east-v1-001")
    assert len(got) == 1
    labels = got[0]["labels"]
    assert labels == {  # what the rule's min by (device, port) * on (device) group_left (...) yields
        "alertname": "SwitchPortDown", "severity": "critical", "scope": "device", "monitor": "sharpeyes",
        "device": "cam-east-v1-001", "port": "GigabitEthernet0/0/1", "kind": "camera", "role": "bullet",
        "township": "east", "village": "east-v1", "site": "east-v1-s001", "contractor": "acme",
        "funding": "sharp_eyes", "area": "rural", "uplink_switch": "sw-east-v1-p01",
        "uplink_port": "GigabitEthernet0/0/1", "fiber_link": "fl-east-0002", "access_switch": "sw-east-v1-p01",
        "agg_switch": "agg-east-1",
    }
    assert got[0]["status"]["state"] == "active"  # type: ignore[index]
    assert count(receiver, "sharpeyes_traps_received_total", "accepted") == 1
    # the confirmation probe's walk is the name cache: the next trap for ifIndex 6 needs no ifName GET
    assert receiver._cached_name("sw-east-v1-p01", 6) == "GigabitEthernet0/0/1"


async def test_link_down_on_a_fiber_port_posts_fiber_link_down(receiver: TrapReceiver, snmpsim_agent: Agent,
                                                               alertmanager: str) -> None:
    assert (await asyncio.to_thread(send, receiver, snmpsim_agent, 14)).returncode == 0
    await until(lambda: count(receiver, "sharpeyes_traps_confirmations_total", "confirmed") == 1)
    got = mine(alertmanager, alertname="FiberLinkDown", fiber_link="fl-east-0002")
    assert [a["labels"] for a in got] == [{
        "alertname": "FiberLinkDown", "severity": "critical", "scope": "fiber_link", "monitor": "sharpeyes",
        "fiber_link": "fl-east-0002", "township": "east", "contractor": "acme", "area": "rural",
        "a_switch": "sw-east-v1-p01", "b_switch": "agg-east-1",
    }]


async def test_unconfirmed_trap_raises_nothing(receiver: TrapReceiver, snmpsim_agent: Agent,
                                               alertmanager: str) -> None:
    """GigabitEthernet0/0/14 is up on the switch: the trap is evidence the probe does not confirm."""
    before = len(am_alerts(alertmanager))
    assert (await asyncio.to_thread(send, receiver, snmpsim_agent, 19)).returncode == 0
    await until(lambda: count(receiver, "sharpeyes_traps_confirmations_total", "not_confirmed") == 1)
    assert not mine(alertmanager, device="cam-east-v1-002")
    assert len(am_alerts(alertmanager)) == before


async def test_storm_on_one_port_is_one_confirmation(receiver: TrapReceiver, snmpsim_agent: Agent) -> None:
    """100 linkDowns for one port while its confirmation waits: one probe, not 100."""
    assert receiver.address is not None
    note = f"{IF_INDEX}.6"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((snmpsim_agent.host, 0))
        for rid in range(100):
            s.sendto(_v2c_trap(b"huawei_s5720", rid, [(note, ber.INTEGER, 6)]), receiver.address)
    if receiver.version == 3:  # type: ignore[attr-defined]
        await until(lambda: count(receiver, "sharpeyes_traps_received_total", "bad_community") == 100)
        return
    await until(lambda: count(receiver, "sharpeyes_traps_received_total", "accepted") == 100)
    await until(lambda: receiver.ports[("sw-east-v1-p01", "GigabitEthernet0/0/1")].task is None
                or receiver.ports[("sw-east-v1-p01", "GigabitEthernet0/0/1")].active)
    probes = receiver.exporter.metrics.registry.get_sample_value(
        "sharpeyes_exporter_probes_total", {"module": "snmp_switch", "result": "success"})
    assert probes == 1


async def test_a_burst_on_many_ports_of_one_switch_is_one_probe(receiver: TrapReceiver, snmpsim_agent: Agent,
                                                                alertmanager: str) -> None:
    """A reboot's traps for every port: each port confirmed, by one shared snmp_switch probe."""
    sends = [asyncio.to_thread(send, receiver, snmpsim_agent, i) for i in (6, 14, 19)]
    assert all(p.returncode == 0 for p in await asyncio.gather(*sends))
    await until(lambda: count(receiver, "sharpeyes_traps_confirmations_total", "confirmed") == 2
                and count(receiver, "sharpeyes_traps_confirmations_total", "not_confirmed") == 1)
    probes = receiver.exporter.metrics.registry.get_sample_value(
        "sharpeyes_exporter_probes_total", {"module": "snmp_switch", "result": "success"})
    assert probes == 1


def _v2c_trap(community: bytes, rid: int, extra: list[tuple[str, int, object]],
              pdu_type: int = pdu.TRAP_V2) -> bytes:
    varbinds = [(pdu.SYS_UPTIME, ber.TIMETICKS, 100), (pdu.SNMP_TRAP_OID, ber.OID, LINK_DOWN), *extra]
    return ber.encode_v2c(community, ber.encode_response(rid, varbinds, pdu_type=pdu_type))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# Bad input: counted, logged, never an alert, never a crash. No Alertmanager: its URL is a closed
# port, and the post counter proves nothing was even attempted.


@pytest.fixture(params=[2, 3], ids=["v2c", "v3"])
async def guarded(request: pytest.FixtureRequest, tmp_path: Path,
                  snmpsim_agent: Agent) -> AsyncIterator[TrapReceiver]:
    exporter = Exporter(config(tmp_path, snmpsim_agent, request.param), inventory(tmp_path, snmpsim_agent),
                        poll_interval=0)
    exporter.load()
    closed = f"http://127.0.0.1:{runnet.free_port()}"
    rx = TrapReceiver(exporter, TrapSettings(("127.0.0.1", 0), (closed,), confirm_delay=0.1))
    await rx.start()
    rx.version = request.param  # type: ignore[attr-defined]
    try:
        yield rx
    finally:
        posts = sum(count(rx, "sharpeyes_traps_alertmanager_posts_total", r) for r in ("success", "failure"))
        await rx.close()
        await exporter.close_probers()
        assert posts == 0, "bad input must never reach Alertmanager"


def _raw(rx: TrapReceiver, source: str, *datagrams: bytes) -> None:
    assert rx.address is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        for d in datagrams:
            s.sendto(d, rx.address)


async def test_malformed_datagrams_are_counted(guarded: TrapReceiver, snmpsim_agent: Agent) -> None:
    good = _v2c_trap(b"huawei_s5720", 7, [(f"{IF_INDEX}.6", ber.INTEGER, 6)])
    too_many = _v2c_trap(b"huawei_s5720", 8, [(f"{IF_INDEX}.{i}", ber.INTEGER, i) for i in range(1, 80)])
    no_trap_oid = ber.encode_v2c(b"huawei_s5720", ber.encode_response(9, [(pdu.SYS_UPTIME, ber.TIMETICKS, 1)],
                                                                       pdu_type=pdu.TRAP_V2))
    malformed = [b"", b"\x30", b"\x30\x84\xff\xff\xff\xff", good[:-3], good + b"\x00", b"\x30\x03\x02\x01\x01",
                 too_many, no_trap_oid, b"\x30" + bytes([0x82, 0x27, 0x10]) + b"\x00" * 10000]
    unsupported = [ber.get_request(b"huawei_s5720", 1, [pdu.SYS_UPTIME]),
                   b"\x30\x0b\x02\x01\x00\x04\x06public"]  # SNMPv1, with no PDU after the community
    _raw(guarded, snmpsim_agent.host, *malformed, *unsupported)
    total = len(malformed) + len(unsupported)
    await until(lambda: sum(count(guarded, "sharpeyes_traps_received_total", r)
                            for r in ("malformed", "unsupported", "bad_community")) == total)
    assert count(guarded, "sharpeyes_traps_received_total", "accepted") == 0
    assert not guarded.ports
    if guarded.version == 2:  # type: ignore[attr-defined]
        assert count(guarded, "sharpeyes_traps_received_total", "malformed") >= len(malformed) - 1
        # still alive: the next real trap is accepted
        assert (await asyncio.to_thread(send, guarded, snmpsim_agent, 19)).returncode == 0
        await until(lambda: count(guarded, "sharpeyes_traps_received_total", "accepted") == 1)


async def test_wrong_community_and_failed_v3_auth(guarded: TrapReceiver, snmpsim_agent: Agent) -> None:
    if guarded.version == 2:  # type: ignore[attr-defined]
        proc = await asyncio.to_thread(send, guarded, snmpsim_agent, 6, community="private")
        result = "bad_community"
    else:
        proc = await asyncio.to_thread(send, guarded, snmpsim_agent, 6, auth_password="not-the-password")
        result = "auth_failure"
    assert proc.returncode == 0, proc.stderr
    await until(lambda: count(guarded, "sharpeyes_traps_received_total", result) == 1)
    # the other version does not authenticate either
    other = 3 if guarded.version == 2 else 2  # type: ignore[attr-defined]
    assert (await asyncio.to_thread(send, guarded, snmpsim_agent, 6, version=other)).returncode == 0
    await until(lambda: count(guarded, "sharpeyes_traps_received_total", "bad_community")
                + count(guarded, "sharpeyes_traps_received_total", "auth_failure") == 2)
    assert not guarded.ports


async def test_spoofed_source_is_dropped_before_decoding(guarded: TrapReceiver, snmpsim_agent: Agent,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """A valid trap from an address that is no inventory device; logged once for many."""
    stranger = runnet.current().host(99)  # this run's address block; no inventory device has it
    for _ in range(3):
        assert (await asyncio.to_thread(send, guarded, snmpsim_agent, 6, source=stranger)).returncode == 0
    await until(lambda: count(guarded, "sharpeyes_traps_received_total", "unknown_source") == 3)
    assert not guarded.ports
    assert sum(stranger in r.getMessage() for r in caplog.records) == 1
    assert "huawei_s5720" not in caplog.text and V3_AUTH_PASSWORD not in caplog.text


async def test_unknown_port_is_counted(guarded: TrapReceiver, snmpsim_agent: Agent) -> None:
    """ifIndex 9999 has no ifName on the switch; ifIndex 1 (InLoopBack0) is no inventory port."""
    for if_index in (9999, 1):
        assert (await asyncio.to_thread(send, guarded, snmpsim_agent, if_index)).returncode == 0
    await until(lambda: count(guarded, "sharpeyes_traps_received_total", "unknown_port") == 2)
    assert not guarded.ports


async def test_inform_is_answered(guarded: TrapReceiver, snmpsim_agent: Agent) -> None:
    """snmpinform exits 0 only when our Response arrived (v2c; v3 informs are not supported)."""
    if guarded.version == 3 or SNMPINFORM is None:  # type: ignore[attr-defined]
        pytest.skip("v2c informs only")
    proc = await asyncio.to_thread(send, guarded, snmpsim_agent, 19, inform=True)
    assert proc.returncode == 0, proc.stderr
    assert guarded.exporter.metrics.registry.get_sample_value("sharpeyes_traps_informs_answered_total") == 1


def test_decoder_never_raises_anything_but_ber_errors() -> None:
    """Every truncation and single-byte corruption of a real trap ends in BerError or a Notification."""
    good = _v2c_trap(b"public", 7, [(f"{IF_INDEX}.6", ber.INTEGER, 6), ("1.3.6.1.2.1.31.1.1.1.1.6", ber.OCTET_STRING,
                                                                        b"GigabitEthernet0/0/1")])
    cases = [good[:n] for n in range(len(good))]
    cases += [good[:i] + bytes([b]) + good[i + 1:] for i in range(len(good)) for b in (0x00, 0x7F, 0x80, 0xFF)]
    for data in cases:
        with contextlib.suppress(ber.BerError):
            pdu.decode_v2c(data)


def test_trap_flags_are_checked_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    from sharpeyes.exporters.cli import main

    def status(*argv: str) -> int:
        try:
            return main(list(argv))
        except SystemExit as exc:  # argparse's usage errors (a malformed flag value) exit from parse_args
            return int(exc.code or 0)

    assert status("--traps.listen-address", "127.0.0.1:1162") == 2
    assert "needs at least one --alertmanager.url" in capsys.readouterr().err
    assert status("--alertmanager.url", "http://127.0.0.1:9093") == 2
    assert "needs --traps.listen-address" in capsys.readouterr().err
    assert status("--traps.listen-address", "nowhere", "--alertmanager.url", "http://x") == 2
    assert "--traps.listen-address" in capsys.readouterr().err
    assert status("--traps.listen-address", "127.0.0.1:1162", "--alertmanager.url", "http://x",
                  "--traps.confirm-delay", "soon") == 2
    assert "--traps.confirm-delay" in capsys.readouterr().err


async def test_a_township_shard_drops_other_townships_traps(tmp_path: Path, snmpsim_agent: Agent) -> None:
    """The switch belongs to township east; an exporter for the district level only drops its traps."""
    exporter = Exporter(config(tmp_path, snmpsim_agent, 2), inventory(tmp_path, snmpsim_agent), poll_interval=0,
                        townships=[""])
    exporter.load()
    rx = TrapReceiver(exporter, TrapSettings(("127.0.0.1", 0), ("http://127.0.0.1:9",), confirm_delay=0.1))
    await rx.start()
    try:
        assert (await asyncio.to_thread(send, rx, snmpsim_agent, 6, version=2)).returncode == 0
        await until(lambda: count(rx, "sharpeyes_traps_received_total", "foreign_source") == 1)
        assert not rx.ports
    finally:
        await rx.close()
        await exporter.close_probers()
