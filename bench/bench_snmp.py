"""Client CPU of our SNMP stack vs pysnmp 7 vs ezsnmp, against the same real agents.

    python bench/bench_snmp.py [--gets 1000] [--probes 50] [--concurrency 50] [--rounds 3]

Starts net-snmp snmpd (cheap agent, for the GET figures: v2c and v3 SHA/AES) and snmpsim serving
the real Huawei S5720 capture (for the switch probe), both on loopback high ports, and measures
the CPU seconds of THIS process only (time.process_time: all threads) for:
- 1000 camera GETs (sysDescr, sysObjectID, sysUpTime, sysName in one request);
- one snmp_switch probe of the S5720 (48 copper + 4 fiber ports): sysUpTime + 8 columns per port
  + Huawei optics = 419 varbinds in 14 packets (the steady, cached path; no walks).
Ours runs via asyncio on one socket; pysnmp via its asyncio hlapi with one SnmpEngine, one
transport target per agent and lookupMib=False (its fastest documented setup); ezsnmp with
blocking calls in a thread pool (it releases the GIL). Best of --rounds; ratios are to ours.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.probers.base import Module, PortInfo, Target
from sharpeyes.exporters.probers.snmp_camera import OIDS as CAMERA_OIDS
from sharpeyes.exporters.probers.snmp_switch import SnmpSwitchProber, _oids
from sharpeyes.exporters.snmp import ber
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.probing import SnmpSettings
from sharpeyes.exporters.snmp.udp import UdpTransport

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "snmp"
USER, AUTH_PW, PRIV_PW = "bench", "bench-auth-pass", "bench-priv-pass"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_ready(
    addr: tuple[str, int], community: str, proc: subprocess.Popen[bytes], limit: float = 60
) -> None:
    """Poll with real GETs (blocking socket) until the agent answers."""
    end = time.monotonic() + limit
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        rid = 0
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise SystemExit(f"agent exited with {proc.returncode}")
            rid += 1
            sock.sendto(ber.get_request(community.encode(), rid, [SYS_UPTIME]), addr)
            try:
                data, _ = sock.recvfrom(65535)
            except TimeoutError:
                continue
            if ber.decode_v2c(data)[1].request_id == rid:
                return
    raise SystemExit(f"agent at {addr} not answering")


@contextmanager
def agents(tmp: Path) -> Iterator[dict[str, Any]]:
    snmpd_host, sim_host = "127.88.0.1", "127.88.0.2"
    snmpd_port, sim_port = free_port(snmpd_host), free_port(sim_host)
    conf = tmp / "snmpd.conf"
    conf.write_text(
        f"agentAddress udp:{snmpd_host}:{snmpd_port}\nrocommunity public 127.0.0.0/8\n"
        f'createUser {USER} SHA "{AUTH_PW}" AES "{PRIV_PW}"\nrouser {USER} priv\nsysName bench\n'
    )
    (tmp / "persist").mkdir()
    env = dict(os.environ, MIBS="", SNMP_PERSISTENT_DIR=str(tmp / "persist"))
    snmpd = subprocess.Popen(
        [
            shutil.which("snmpd") or "/usr/sbin/snmpd",
            "-f",
            "-Lf",
            str(tmp / "snmpd.log"),
            "-C",
            "-c",
            str(conf),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    data = tmp / "data"
    data.mkdir()
    src = FIXTURES / "huawei_s5720.snmprec"
    try:
        os.link(src, data / src.name)
    except OSError:
        shutil.copyfile(src, data / src.name)
    sim = subprocess.Popen(
        [
            shutil.which("snmpsim-command-responder") or "snmpsim-command-responder",
            f"--data-dir={data}",
            f"--cache-dir={tmp / 'cache'}",
            f"--agent-udpv4-endpoint={sim_host}:{sim_port}",
            "--quiet",
        ],
        env=dict(os.environ, SNMPSIM_ALLOW_ROOT="true"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready((snmpd_host, snmpd_port), "public", snmpd)
        wait_ready((sim_host, sim_port), "huawei_s5720", sim)
        yield {"snmpd": (snmpd_host, snmpd_port), "snmpsim": (sim_host, sim_port)}
    finally:
        for proc in (snmpd, sim):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


V2C = SnmpAuth(version=2, community="public")
V3 = SnmpAuth(version=3, username=USER, auth_password=AUTH_PW, priv_password=PRIV_PW)
HUAWEI = SnmpAuth(version=2, community="huawei_s5720")
PORTS = tuple(PortInfo(f"GigabitEthernet0/0/{i}", "copper", device=f"cam-{i}") for i in range(1, 49)) + tuple(
    PortInfo(f"XGigabitEthernet0/0/{i}", "fiber", link=f"fl-{i}") for i in range(1, 5)
)


async def gather_limited(n: int, concurrency: int, make: Callable[[], Awaitable[Any]]) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            await make()

    await asyncio.gather(*(one() for _ in range(n)))


def cpu(fn: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


# -- ours -------------------------------------------------------------------------------------


def ours_gets(addr: tuple[str, int], auth: SnmpAuth, n: int, conc: int, rounds: int) -> float:
    async def run() -> float:
        t = UdpTransport()
        await t.get(addr, auth, CAMERA_OIDS, 5)  # socket + (v3) engine discovery, as in steady state
        best = float("inf")
        for _ in range(rounds):
            start = time.process_time()
            await gather_limited(n, conc, lambda: t.get(addr, auth, CAMERA_OIDS, 5))
            best = min(best, time.process_time() - start)
        await t.close()
        return best

    return asyncio.run(run())


def ours_switch(addr: tuple[str, int], n: int, rounds: int) -> tuple[float, list[str]]:
    target = Target(
        "sw-bench", addr[0], "switch", vendor="huawei", ports=PORTS, extra={"snmp_port": str(addr[1])}
    )
    module = Module("snmp_switch", "snmp_switch", 10, SnmpSettings(auth=HUAWEI))

    async def run() -> tuple[float, list[str]]:
        t = UdpTransport()
        prober = SnmpSwitchProber(t)
        await prober(target, module, 10, TextWriter())  # learn (walks) once
        oids = [SYS_UPTIME, *_oids(prober.cache[target.id], target)]
        best = float("inf")
        for _ in range(rounds):
            start = time.process_time()
            for _ in range(n):
                await prober(target, module, 10, TextWriter())
            best = min(best, time.process_time() - start)
        await t.close()
        return best / n, oids

    return asyncio.run(run())


# -- pysnmp -----------------------------------------------------------------------------------


def pysnmp_run(
    addr: tuple[str, int], auth: SnmpAuth, batches: list[list[str]], n: int, conc: int, rounds: int
) -> float:
    from pysnmp.hlapi.v3arch import asyncio as hl

    if auth.version == 2:
        auth_data: Any = hl.CommunityData(auth.community)
    else:
        auth_data = hl.UsmUserData(
            auth.username,
            auth.auth_password,
            auth.priv_password,
            authProtocol=hl.usmHMACSHAAuthProtocol,
            privProtocol=hl.usmAesCfb128Protocol,
        )

    async def run() -> float:
        engine = hl.SnmpEngine()
        target = await hl.UdpTransportTarget.create(addr, timeout=5, retries=1)
        ctx = hl.ContextData()

        async def one() -> None:
            for batch in batches:
                err, status, _, _ = await hl.get_cmd(
                    engine,
                    auth_data,
                    target,
                    ctx,
                    *[hl.ObjectType(hl.ObjectIdentity(o)) for o in batch],
                    lookupMib=False,
                )
                assert err is None and int(status) == 0, (err, status)

        await one()
        best = float("inf")
        for _ in range(rounds):
            start = time.process_time()
            await gather_limited(n, conc, one)
            best = min(best, time.process_time() - start)
        engine.close_dispatcher()
        return best

    return asyncio.run(run())


# -- ezsnmp -----------------------------------------------------------------------------------


def ezsnmp_run(
    addr: tuple[str, int], auth: SnmpAuth, batches: list[list[str]], n: int, conc: int, rounds: int
) -> float | None:
    try:
        from ezsnmp import Session
    except ImportError:
        return None
    kwargs: dict[str, Any] = {"hostname": addr[0], "port_number": addr[1], "timeout": 5, "retries": 1}
    if auth.version == 2:
        kwargs.update(version=2, community=auth.community)
    else:
        kwargs.update(
            version=3,
            security_level="authPriv",
            security_username=auth.username,
            auth_protocol="SHA",
            auth_passphrase=auth.auth_password,
            privacy_protocol="AES",
            privacy_passphrase=auth.priv_password,
        )
    sessions = [Session(**kwargs) for _ in range(conc)]  # a session is not shared between threads

    def work(i: int) -> None:
        session = sessions[i % conc]
        for batch in batches:
            session.get(batch)

    with ThreadPoolExecutor(conc) as pool:
        list(pool.map(work, range(conc)))  # warm-up (v3: engine discovery per session)
        return cpu(lambda: list(pool.map(work, range(n))), rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gets", type=int, default=1000)
    ap.add_argument("--probes", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not FIXTURES.is_dir():
        raise SystemExit(f"captures not found at {FIXTURES}")
    n, conc, rounds = args.gets, args.concurrency, args.rounds
    with tempfile.TemporaryDirectory(prefix="bench-snmp-") as tmp, agents(Path(tmp)) as at:
        rows: list[tuple[str, float, float, float | None]] = []
        cam = [list(CAMERA_OIDS)]
        for label, auth in (("1000 GETs v2c (snmpd)", V2C), ("1000 GETs v3 authPriv (snmpd)", V3)):
            scale = 1000 / n
            ours = ours_gets(at["snmpd"], auth, n, conc, rounds) * scale
            py = pysnmp_run(at["snmpd"], auth, cam, n, conc, rounds) * scale
            ez = ezsnmp_run(at["snmpd"], auth, cam, n, conc, rounds)
            rows.append((label, ours, py, None if ez is None else ez * scale))
        per_probe, oids = ours_switch(at["snmpsim"], args.probes, rounds)
        batches = [oids[i : i + 30] for i in range(0, len(oids), 30)]
        m = max(1, args.probes // 5)
        py = pysnmp_run(at["snmpsim"], HUAWEI, batches, m, 4, rounds) / m
        ez = ezsnmp_run(at["snmpsim"], HUAWEI, batches, m, 4, rounds)
        rows.append(
            (
                f"1 switch probe v2c (snmpsim, {len(oids)} varbinds)",
                per_probe,
                py,
                None if ez is None else ez / m,
            )
        )
    print(f"client CPU seconds (best of {rounds}; concurrency {conc}); ratio = other / ours")
    print(f"{'operation':<52} {'ours':>9} {'pysnmp':>9} {'ratio':>7} {'ezsnmp':>9} {'ratio':>7}")
    for label, ours, py, ez in rows:
        ez_s = f"{ez:9.4f} {ez / ours:6.1f}x" if ez is not None else f"{'n/a':>9} {'':>7}"
        print(f"{label:<52} {ours:9.4f} {py:9.4f} {py / ours:6.1f}x {ez_s}")


if __name__ == "__main__":
    main()
