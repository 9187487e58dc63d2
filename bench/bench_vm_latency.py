"""How late the global store sees a shard's sample: the floor under any rule vmalert evaluates there.

    python bench/bench_vm_latency.py [--seconds 40] [--latency-offset 30s]

Method: ``vmagent`` scrapes itself every second and remote-writes to a fresh ``victoria-metrics``
(Debian package, default remote-write flush); this process asks VictoriaMetrics'
Prometheus API every 0.5 s for ``timestamp(up{job="shard"})`` (instant query at "now", the way
vmalert asks) and records now − newest visible sample. A rule in the shard's Prometheus sees a
sample as soon as it is scraped (lag ≈ 0 plus its evaluation interval); a rule in vmalert sees it
this much later, plus vmalert's own evaluation interval.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ready(url: str) -> None:
    for _ in range(600):
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)  # polling readiness
    raise SystemExit(f"{url} not ready")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=40)
    p.add_argument("--latency-offset", default="30s")
    args = p.parse_args()
    vm, agent = shutil.which("victoria-metrics"), shutil.which("vmagent")
    if not vm or not agent:
        print("apt-get install victoria-metrics", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        vp, ap = free_port(), free_port()
        Path(tmp, "s.yml").write_text("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: shard\n"
                                      f"    static_configs: [{{targets: ['127.0.0.1:{ap}']}}]\n")
        procs = [subprocess.Popen([vm, f"-storageDataPath={tmp}/vm", f"-httpListenAddr=127.0.0.1:{vp}",
                                   f"-search.latencyOffset={args.latency_offset}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        try:
            ready(f"http://127.0.0.1:{vp}/health")
            procs.append(subprocess.Popen([agent, f"-promscrape.config={tmp}/s.yml", f"-httpListenAddr=127.0.0.1:{ap}",
                                           f"-remoteWrite.url=http://127.0.0.1:{vp}/api/v1/write",
                                           f"-remoteWrite.tmpDataPath={tmp}/q"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            q = urllib.parse.quote('timestamp(up{job="shard"})')
            lags: list[float] = []
            first_visible = None
            t0 = time.time()
            while time.time() - t0 < args.seconds:
                with urllib.request.urlopen(f"http://127.0.0.1:{vp}/api/v1/query?query={q}", timeout=5) as r:
                    res = json.load(r)["data"]["result"]
                now = time.time()
                if res:
                    first_visible = first_visible or now - t0
                    lags.append(now - float(res[0]["value"][1]))
                time.sleep(0.5)  # sampling period of the measurement
        finally:
            for pr in reversed(procs):
                pr.terminate()
                pr.wait(30)
    if not lags:
        print(f"no sample visible within {args.seconds:.0f} s (latency offset {args.latency_offset})")
        return 0
    print(f"VictoriaMetrics visibility lag with -search.latencyOffset={args.latency_offset}: "
          f"first sample visible {first_visible:.1f} s after start; lag p50 {statistics.median(lags):.1f} s, "
          f"max {max(lags):.1f} s over {len(lags)} queries (lookback fills in: a rule sees a stale value)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
