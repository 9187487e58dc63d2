"""Benchmark the simulator serving the whole sample district while a prober reads every device.

    python bench/bench_simulator.py [--duration 120] [--interval 30] [--inventory inventory/sample/fengquan]

Starts ``sharpeyes-sim run`` as a subprocess (test ports, its own nftables table, temporary secrets),
measures start-up (spawn -> control API ready), then every ``interval`` seconds probes every device
with independent clients — net-snmp ``snmpget`` (cameras, NVRs, platforms: sysUpTime + sysDescr),
``snmpbulkwalk`` of ifHCInOctets/ifHCOutOctets/ifOperStatus (switches) and one ICMP echo each (icmplib)
— spread evenly over the interval. Prints start-up time, the simulator's RSS and its CPU use
(from /proc, the simulator process only). Needs root (nftables, raw ICMP). Never uses exporters/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import icmplib
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sharpeyes.contract import SAMPLE_DISTRICT  # noqa: E402
from sharpeyes.inventory import load_inventory  # noqa: E402
from sharpeyes.simulator.secrets import demo_document  # noqa: E402

SNMP_PORT, ONVIF_PORT, RTSP_PORT, CONTROL_PORT = 16161, 18180, 18654, 19181
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ready() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{CONTROL_PORT}/api/health", timeout=1) as r:
            return bool(json.loads(r.read()).get("ready"))
    except OSError:
        return False


def snmp_args(profile: dict) -> list[str]:
    s = profile["snmp"]
    if s["version"] == 2:
        return ["-v2c", "-c", s["community"]]
    return [
        "-v3",
        "-l",
        "authPriv",
        "-u",
        s["username"],
        "-a",
        "SHA",
        "-A",
        s["auth_password"],
        "-x",
        "AES",
        "-X",
        s["priv_password"],
    ]


async def probe(cmd: list[str], sem: asyncio.Semaphore, stats: dict[str, int]) -> None:
    async with sem:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "MIBS": ""},
        )
        rc = await proc.wait()
        stats["ok" if rc == 0 else "failed"] += 1


async def cycle(jobs: list[list[str]], ips: list[str], interval: float, stats: dict[str, int]) -> None:
    sem = asyncio.Semaphore(16)
    start = time.monotonic()
    pings = asyncio.create_task(
        icmplib.async_multiping(ips, count=1, timeout=2, concurrent_tasks=128, privileged=True)
    )
    tasks = []
    for n, cmd in enumerate(jobs):
        due = start + interval * 0.9 * n / len(jobs)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(probe(cmd, sem, stats)))
    await asyncio.gather(*tasks)
    hosts = await pings
    stats["ping_ok"] += sum(h.is_alive for h in hosts)
    stats["ping_failed"] += sum(not h.is_alive for h in hosts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inventory", default=str(SAMPLE_DISTRICT))
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--interval", type=float, default=30.0)
    args = ap.parse_args()
    inv = load_inventory(args.inventory)
    doc = demo_document()
    tmp = tempfile.mkdtemp(prefix="sharpeyes-bench-")
    secrets = Path(tmp) / "secrets.yaml"
    fd = os.open(secrets, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as fh:
        yaml.safe_dump(doc, fh)
    cmd = [
        sys.executable,
        "-m",
        "sharpeyes.simulator.cli",
        "run",
        "--inventory",
        args.inventory,
        "--secrets",
        str(secrets),
        "--snmp-port",
        str(SNMP_PORT),
        "--onvif-port",
        str(ONVIF_PORT),
        "--rtsp-port",
        str(RTSP_PORT),
        "--web.listen-address",
        f"127.0.0.1:{CONTROL_PORT}",
        "--nft-table",
        "sharpeyes_sim_bench",
        "--log.level",
        "warn",
    ]
    t0 = time.monotonic()
    sim = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        while not ready():
            if sim.poll() is not None:
                print(sim.stderr.read() if sim.stderr else "", file=sys.stderr)
                return 1
            time.sleep(0.1)
        startup = time.monotonic() - t0
        rss_idle = rss_mb(sim.pid)
        print(f"start-up: {startup:.1f} s (spawn -> control API ready), RSS {rss_idle:.0f} MB", flush=True)
        auths = doc["auths"]
        jobs: list[list[str]] = []
        ips = []
        for d in inv.active_devices():
            ips.append(d.ip)
            if d.auth not in auths:
                continue
            base = ["-t", "3", "-r", "1", f"{d.ip}:{SNMP_PORT}"]
            a = snmp_args(auths[d.auth])
            if d.kind == "switch":
                for col in ("1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10", "1.3.6.1.2.1.2.2.1.8"):
                    jobs.append(["snmpbulkwalk", *a, *base, col])
            else:
                jobs.append(["snmpget", *a, *base, "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.1.0"])
        stats = {"ok": 0, "failed": 0, "ping_ok": 0, "ping_failed": 0}
        c0, w0 = cpu_s(sim.pid), time.monotonic()
        peak = rss_idle
        end = w0 + args.duration
        n = 0
        while time.monotonic() < end:
            n += 1
            cs, ws = cpu_s(sim.pid), time.monotonic()
            asyncio.run(cycle(jobs, ips, args.interval, stats))
            rest = args.interval - (time.monotonic() - ws)
            if rest > 0:
                time.sleep(rest)
            peak = max(peak, rss_mb(sim.pid))
            print(
                f"cycle {n}: simulator CPU {100 * (cpu_s(sim.pid) - cs) / (time.monotonic() - ws):.1f} % "
                f"of one core, RSS {rss_mb(sim.pid):.0f} MB, "
                f"probes ok {stats['ok']} failed {stats['failed']}, "
                f"pings ok {stats['ping_ok']} failed {stats['ping_failed']}",
                flush=True,
            )
        cpu = 100 * (cpu_s(sim.pid) - c0) / (time.monotonic() - w0)
        print(
            f"RESULT devices={len(ips)} startup_s={startup:.1f} rss_mb={peak:.0f} cpu_percent={cpu:.1f} "
            f"snmp_ok={stats['ok']} snmp_failed={stats['failed']} ping_ok={stats['ping_ok']} "
            f"ping_failed={stats['ping_failed']}"
        )
    finally:
        sim.terminate()
        try:
            sim.wait(30)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait()
        # the simulator deletes its table on exit; make sure a killed one leaves nothing behind
        subprocess.run(
            ["nft", "delete", "table", "inet", "sharpeyes_sim_bench"], capture_output=True, check=False
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
