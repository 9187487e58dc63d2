"""A county on one box: generated fleet → simulator → sharpeyes-exporter → Prometheus, production intervals.

    python bench/bench_county.py [--scale 20000] [--duration 10m] [--warmup 3m] [--workdir DIR]
    python bench/bench_county.py --quick          # ~500 devices, ~1 minute (what the test runs)

Method: ``sharpeyes-inventory generate --scale N`` writes the fleet; the demo stack
(``sharpeyes.stack``: simulator, exporter, tickets, Alertmanager, Prometheus, each its own process
started through its own CLI) runs it at interval scale 1.0 (production scrape intervals), every
component and the devices' SNMP/HTTP/RTSP ports on ports the kernel picked. After ``--warmup`` (sessions, SNMP engine
discovery, first ONVIF round) the measured window starts; over it:
- CPU (cores) of each process = Δ(utime+stime) from /proc/<pid>/stat (children included) / wall;
  RSS = VmRSS at the end (VmHWM = peak); the simulator is reported apart (it is not in production);
- active series = prometheus_tsdb_head_series at the end; samples/s = the increase of
  prometheus_tsdb_head_samples_appended_total over the window (both from Prometheus' /metrics);
- scrape duration p50/p99 per job from every scrape_duration_seconds sample of the window
  (every raw sample of every target is fetched and the quantiles computed over all of them);
- missed scrapes per job = per target, the intervals skipped between consecutive scrapes (a gap
  longer than 1.5 intervals), plus scrapes recorded as failed (up == 0: a timeout or an exporter error).
The load on the machine (loadavg, and that other engineers share it) is printed with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sharpeyes.cli import parse_duration  # noqa: E402
from sharpeyes.contract import MODULES  # noqa: E402
from sharpeyes.stack.stack import Ports, Stack, StackOptions, free_port, http_json  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime+stime of a process and its waited-for children (Prometheus/exporter run no children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / CLK_TCK


def tree_cpu(pid: int) -> float:
    """CPU of a process and its live descendants (the simulator may fork helpers)."""
    total = cpu_seconds(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for c in children:
        with contextlib.suppress(OSError, ValueError):  # a child that just exited
            total += tree_cpu(int(c))
    return total


def rss_mb(pid: int) -> tuple[float, float]:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def query(stack: Stack, promql: str, at: float | None = None) -> list[dict[str, Any]]:
    qs = f"query={urllib.parse.quote(promql)}" + (f"&time={at}" if at else "")
    data = http_json(f"{stack.url('prometheus')}/api/v1/query?{qs}", timeout=120)
    return list(data["data"]["result"])


def scalar(stack: Stack, promql: str, at: float | None = None) -> float:
    r = query(stack, promql, at)
    return float(r[0]["value"][1]) if r else 0.0


def prom_self(stack: Stack) -> dict[str, float]:
    """Prometheus' own gauges/counters from its /metrics (the stack's Prometheus does not scrape itself)."""
    want = ("prometheus_tsdb_head_series", "prometheus_tsdb_head_samples_appended_total")
    out: dict[str, float] = dict.fromkeys(want, 0.0)
    with urllib.request.urlopen(f"{stack.url('prometheus')}/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name in want:
                out[name] += float(line.rsplit(" ", 1)[1])
    return out


def _missed(rows: list[dict[str, Any]], interval: float) -> int:
    """Scrapes that did not happen: per target, each gap between consecutive scrapes longer than 1.5
    intervals counts the intervals it skipped."""
    missed = 0
    for r in rows:
        ts = [float(t) for t, _ in r["values"]]
        missed += sum(round((b - a) / interval) - 1 for a, b in itertools.pairwise(ts)
                      if b - a > 1.5 * interval)
    return missed


def scrape_stats(stack: Stack, window: int, end: float) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    intervals = {m.job: m.interval for m in MODULES.values()}
    for job, interval in intervals.items():
        sel = f'{{job="{job}"}}'
        rows = query(stack, f"scrape_duration_seconds{sel}[{window}s]", end)
        values = sorted(float(v) for r in rows for _, v in r["values"])
        recorded = len(values)
        targets = len(rows)
        failed = scalar(stack, f"sum(count_over_time(up{sel}[{window}s]) - sum_over_time(up{sel}[{window}s]))",
                        end)
        if not values:
            continue
        q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
        out[job] = {"targets": targets, "interval_s": interval, "scrapes": recorded,
                    "p50_s": q[49], "p99_s": q[98], "max_s": values[-1],
                    "missed": _missed(rows, interval) + failed}
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-county-"))
    inv = work / "fleet"
    t0 = time.monotonic()
    if args.inventory:  # a fleet generated before (generating 20k devices takes minutes)
        inv = Path(args.inventory)
        from sharpeyes.inventory import load_inventory

        devices = len(load_inventory(inv).devices)
    else:
        gen = subprocess.run(["sharpeyes-inventory", "generate", "--scale", str(args.scale), "--out", str(inv),
                              "--force"], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             capture_output=True, text=True)
        devices = int(gen.stdout.split(" devices")[0].rsplit(" ", 1)[1])  # "wrote F files, D devices, …"
    gen_s = time.monotonic() - t0
    opts = StackOptions(inventory=inv, workdir=work / "stack", ports=Ports.picked_by_kernel(),
                        interval_scale=1.0, for_scale=1.0, nft_table=f"sharpeyes_bench{os.getpid()}",
                        device_ports=(free_port(socket.SOCK_DGRAM), free_port(), free_port()))
    stack = Stack(opts)
    t0 = time.monotonic()
    with stack:
        start_s = time.monotonic() - t0
        pids = {p.name: p.proc.pid for p in stack.processes if p.proc is not None}
        time.sleep(args.warmup)  # the warm-up is a fixed span of production time, not a condition
        c0 = {n: tree_cpu(pid) for n, pid in pids.items()}
        s0 = prom_self(stack)
        w0 = time.monotonic()
        time.sleep(args.duration)  # the measured window: steady state at production intervals
        wall = time.monotonic() - w0
        cpu = {n: (tree_cpu(pid) - c0[n]) / wall for n, pid in pids.items()}
        mem = {n: rss_mb(pid) for n, pid in pids.items()}
        s1 = prom_self(stack)
        end = time.time()
        window = int(wall)
        res = {
            "scale": args.scale, "devices": devices, "window_s": round(wall), "warmup_s": args.warmup,
            "generate_s": round(gen_s, 1), "stack_start_s": round(start_s, 1),
            "cpu_cores": {n: round(v, 3) for n, v in cpu.items()},
            "rss_mb": {n: round(v[0]) for n, v in mem.items()},
            "peak_rss_mb": {n: round(v[1]) for n, v in mem.items()},
            "active_series": s1["prometheus_tsdb_head_series"],
            "samples_per_s": round((s1["prometheus_tsdb_head_samples_appended_total"]
                                    - s0["prometheus_tsdb_head_samples_appended_total"]) / wall),
            "scrapes": scrape_stats(stack, window, end),
            "loadavg": os.getloadavg(),
        }
    return res


def report(res: dict[str, Any]) -> None:
    cpu = res["cpu_cores"]
    prod = cpu.get("exporter", 0) + cpu.get("prometheus", 0)
    print(f"county benchmark: {res['devices']} devices, {res['window_s']} s window after {res['warmup_s']} s "
          f"warm-up (generate {res['generate_s']} s, stack start {res['stack_start_s']} s)")
    for n in ("exporter", "prometheus", "alertmanager", "tickets", "simulator"):
        if n in cpu:
            apart = "  (apart: not in production)" if n == "simulator" else ""
            print(f"  {n:<12} CPU {cpu[n]:.3f} cores  RSS {res['rss_mb'][n]} MB (peak {res['peak_rss_mb'][n]}){apart}")
    print(f"  exporter + Prometheus: {prod:.3f} cores (target ≤ 1.0)")
    print(f"  active series {res['active_series']:.0f}, samples/s ingested {res['samples_per_s']}")
    print(f"  {'job':<22}{'targets':>8}{'interval':>9}{'scrapes':>9}{'p50 s':>8}{'p99 s':>8}{'max s':>8}{'missed':>8}")
    missed = 0.0
    for job, s in res["scrapes"].items():
        missed += s["missed"]
        print(f"  {job:<22}{s['targets']:>8}{s['interval_s']:>9}{s['scrapes']:>9}{s['p50_s']:>8.3f}"
              f"{s['p99_s']:>8.3f}{s['max_s']:>8.3f}{s['missed']:>8.0f}")
    limit = "exporter" if cpu.get("exporter", 0) >= cpu.get("prometheus", 0) else "prometheus"
    print(f"  missed scrapes: {missed:.0f}; limits first: {limit} "
          f"({cpu.get(limit, 0):.3f} of {prod:.3f} cores)")
    print(f"  machine load average during the run: {', '.join(f'{x:.2f}' for x in res['loadavg'])} "
          f"on {os.cpu_count()} cores (shared with other work)")
    print("JSON " + json.dumps(res))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=int, default=20000)
    p.add_argument("--duration", default="10m", help="measured window (Prometheus duration)")
    p.add_argument("--warmup", default="3m", help="time before the window")
    p.add_argument("--inventory", help="use this generated fleet instead of generating one")
    p.add_argument("--workdir", help="keep configs, logs and TSDB here (default: a temporary directory)")
    p.add_argument("--quick", action="store_true", help="~500 devices, 20 s warm-up, 40 s window")
    args = p.parse_args()
    if args.quick:
        args.scale, args.duration, args.warmup = 500, "40s", "20s"
    args.duration, args.warmup = parse_duration(args.duration), parse_duration(args.warmup)
    report(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
