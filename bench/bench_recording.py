"""Benchmark one hourly recording collection for the whole sample district.

    python bench/bench_recording.py [--quick] [--concurrency 16] [--port 18080] [-i INVENTORY]

Starts the simulated recorders in a separate process (``python -m sharpeyes.simulator.recorders``:
16 recorders, 2236 active cameras, ISAPI / Dahua CGI / ONVIF Profile G, HTTP Digest, one hour of
recordings), then runs one collection of the last hour in this process exactly as
``sharpeyes-recording collect`` does (ask every recorder, store into SQLite), and prints wall time,
this process' CPU, requests served, channels read and whether the budget (≤ 60 s wall, ≤ 20 CPU-s)
was met. ``--quick`` does the same for one township (2 recorders) and is what the test suite runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sharpeyes.contract import SAMPLE_DISTRICT  # noqa: E402
from sharpeyes.inventory import load_inventory  # noqa: E402
from sharpeyes.recording.config import Config, load_credentials  # noqa: E402
from sharpeyes.recording.service import Collector, http_transports  # noqa: E402
from sharpeyes.recording.store import RecordingStore  # noqa: E402
from sharpeyes.simulator.secrets import write_demo  # noqa: E402

WALL_BUDGET, CPU_BUDGET = 60.0, 20.0


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def start_recorders(port: int, secrets: Path, townships: list[str], inventory: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "sharpeyes.simulator.recorders", "--port", str(port), "--history", "2h",
           "--secrets", str(secrets), "--inventory", inventory] + [a for t in townships for a in ("--township", t)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the simulator says it listens (or dies)
    if not line.startswith("ready"):
        proc.kill()
        raise SystemExit(f"recorder simulator did not start: {line!r}")
    return proc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one township only (the test suite's run)")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--port", type=int, default=0, help="recorders' port (default: a random free-ish one)")
    p.add_argument("-i", "--inventory", default=str(SAMPLE_DISTRICT),
                   help="inventory directory (the test suite passes the sample on its run's addresses)")
    args = p.parse_args(argv)
    townships = ["luwangfen"] if args.quick else []
    port = args.port or random.randint(20000, 40000)
    inv = load_inventory(args.inventory)
    with tempfile.TemporaryDirectory() as tmp:
        secrets = Path(tmp) / "secrets.yaml"
        write_demo(secrets)
        sim = start_recorders(port, secrets, townships, args.inventory)
        try:
            cfg = Config(db=f"sqlite:///{tmp}/rec.db", port=port, concurrency=args.concurrency,
                         secrets_file=str(secrets))
            store = RecordingStore(cfg.db)
            store.migrate()
            collector = Collector(cfg, inv, store, http_transports(cfg, load_credentials(str(secrets))))
            if townships:
                collector.targets = {k: t for k, t in collector.targets.items()
                                     if inv.devices[k].township in townships}
            now = time.time()
            c0, w0 = cpu(), time.monotonic()
            results = asyncio.run(collector.round(now - 3600, now))
            wall, used = time.monotonic() - w0, cpu() - c0
        finally:
            sim.terminate()
            sim.wait(timeout=30)
    channels = sum(len(r.channels) for r in results)
    bad = sum(1 for r in results for c in r.channels.values() if c.error) + sum(1 for r in results if r.error)
    by_dialect: dict[str, int] = {}
    for r in results:
        by_dialect[r.dialect] = by_dialect.get(r.dialect, 0) + len(r.channels)
    for r in results:
        failed = {ch: c.error for ch, c in r.channels.items() if c.error}
        if r.error or failed:
            print(f"  {r.recorder} ({r.dialect}): {r.error or ''} {r.message} channels={failed}")
    ok = wall <= WALL_BUDGET and used <= CPU_BUDGET and bad == 0
    print(f"recorders={len(results)} channels={channels} failed={bad} by_dialect={by_dialect}")
    print(f"wall_s={wall:.2f} cpu_s={used:.2f} budget_wall_s={WALL_BUDGET:g} budget_cpu_s={CPU_BUDGET:g} "
          f"{'OK' if ok else 'OVER BUDGET' if bad == 0 else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
