"""Benchmark one discovery run over the whole sample district's switches.

    python bench/bench_discovery.py [--cli-share 0.25] [--onvif] [--concurrency 64] [--limit 300]

Starts the simulator (``sharpeyes-sim run``, whole district, a private copy of the inventory on its
own loopback block, its own nftables table) for SNMP, and the asyncssh VRP fake
(tests/discovery/vrp_fake.py, real VRP output formats) for SSH CLI; the Huawei switches whose
profile (switches-v3) gains a ``cli:`` section are polled by CLI for ``--cli-share`` of them (a
stable hash choice), every switch by SNMP. Prints wall time, this process' CPU, polls ok/failed,
and whether the run met the 5-minute budget. Needs root (the simulator's nftables).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sharpeyes.exporters.config import parse_config  # noqa: E402
from sharpeyes.exporters.discovery.auth import register_auth_section  # noqa: E402
from sharpeyes.exporters.discovery.reconcile import reconcile  # noqa: E402
from sharpeyes.exporters.discovery.run import DiscoverySettings, run_discovery  # noqa: E402
from sharpeyes.inventory import load_inventory  # noqa: E402
from tests.discovery.disc_helpers import Sim, copy_inventory, write_secrets  # noqa: E402
from tests.discovery.vrp_fake import PASSWORD, USER  # noqa: E402

BUDGET_S = 300.0


def config_text(secrets: Path) -> str:
    def ref(profile: str, key: str) -> str:
        return f'{{file: "{secrets}", key: auths.{profile}.snmp.{key}}}'

    v3 = "\n".join(f"      {k}: {ref('switches-v3', k)}" for k in ("username", "auth_password", "priv_password"))
    return (f"modules:\n  icmp: {{prober: icmp}}\nauths:\n  switches-v3:\n    snmp:\n      version: 3\n{v3}\n"
            f"    cli:\n      username: {USER}\n      password: {{env: BENCH_CLI_PASSWORD}}\n"
            f"      device_type: huawei\n"
            f"  switches-v2c:\n    snmp:\n      version: 2\n      community: {ref('switches-v2c', 'community')}\n"
            f"  cams-v3:\n    onvif: {{username: admin, password: {{file: \"{secrets}\", "
            f"key: auths.cams-v3.onvif.password}}}}\n"
            f"  cams-legacy:\n    onvif: {{username: admin, password: {{file: \"{secrets}\", "
            f"key: auths.cams-legacy.onvif.password}}}}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli-share", type=float, default=0.25, help="share of Huawei switches polled by SSH")
    ap.add_argument("--cli-threads", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--onvif", action="store_true", help="also read every camera's identity over ONVIF")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)  # before onvif-zeep-async's import-time basicConfig(INFO)
    if os.geteuid() != 0:
        print("bench_discovery: needs root (the simulator's nftables)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-discovery-"))
    inv_dir = copy_inventory(tmp / "inventory")
    secrets = write_secrets(tmp / "secrets.yaml")
    os.environ["BENCH_CLI_PASSWORD"] = PASSWORD
    t0 = time.monotonic()
    sim = Sim(inv_dir, secrets, township="")  # "" -> the whole district (see below)
    print(f"simulator ready in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        ssh_port = s.getsockname()[1]
    fake = subprocess.Popen([sys.executable, str(ROOT / "tests" / "discovery" / "vrp_fake.py"), str(inv_dir),
                             str(ssh_port)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert fake.stdout is not None
        fake.stdout.readline()  # the port: listening
        register_auth_section()
        auths = parse_config(config_text(secrets)).auths
        inv = load_inventory(inv_dir)
        settings = DiscoverySettings(snmp_port=sim.snmp_port, onvif_port=sim.onvif_port,
                                     concurrency=args.concurrency, device_timeout=args.timeout,
                                     cli_threads=args.cli_threads, cli_timeout=60, cli_share=args.cli_share,
                                     cli_port=ssh_port, onvif=args.onvif, state_dir=tmp / "state")
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        w0 = time.monotonic()
        obs = asyncio.run(run_discovery(inv, auths, settings))
        wall = time.monotonic() - w0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        findings = reconcile(inv, obs)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        by: dict[str, list[int]] = {}
        for p in obs.polls:
            k = by.setdefault(p.protocol, [0, 0])
            k[0 if p.ok else 1] += 1
        switches = sum(1 for d in inv.active_devices() if d.kind == "switch")
        print(yaml.safe_dump({
            "switches": switches, "cli_share": args.cli_share,
            "polls_ok_failed": {k: f"{v[0]}/{v[1]}" for k, v in by.items()},
            "fdb_entries": len(obs.fdb), "lldp_neighbors": len(obs.lldp), "findings": len(findings),
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "within_5_min": wall <= BUDGET_S,
        }, sort_keys=False), end="")
        return 0 if wall <= BUDGET_S else 1
    finally:
        fake.terminate()
        fake.wait(10)
        sim.stop()


if __name__ == "__main__":
    sys.exit(main())
