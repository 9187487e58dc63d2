"""VictoriaMetrics storage cost on our series: bytes per sample of a simulated month.

    python bench/bench_vm_storage.py [--township baodong --limit 34] [--step 60s]

Method: ``sharpeyes.simulator.history`` writes a month of OpenMetrics history for a slice of the
sample district (the series the exporter and recording rules produce, at --step); the samples are
imported into a fresh ``victoria-metrics`` (Debian) through /api/v1/import/prometheus (timestamps
converted to ms), flushed (/internal/force_flush), and the storage directory measured once
VictoriaMetrics has merged its parts (it is stopped cleanly first). Printed: samples, bytes on disk,
bytes per sample, import wall time and VictoriaMetrics' CPU for the import.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sharpeyes.simulator import history  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / CLK_TCK


def chunks(path: Path, size: int = 4 << 20):  # type: ignore[no-untyped-def]
    buf: list[str] = []
    n = 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            series, value, ts = line.rstrip("\n").rsplit(" ", 2)
            buf.append(f"{series} {value} {round(float(ts) * 1000)}\n")
            n += len(buf[-1])
            if n >= size:
                yield "".join(buf).encode()
                buf, n = [], 0
    if buf:
        yield "".join(buf).encode()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--township", default="baodong")
    p.add_argument("--limit", default="38")
    p.add_argument("--step", default="60s")
    args = p.parse_args()
    binary = shutil.which("victoria-metrics")
    if binary is None:
        print("victoria-metrics not installed (apt-get install victoria-metrics)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        hist = Path(tmp) / "hist"
        history.main(["--month", "2026-10", "--out", str(hist), "--step", args.step,
                      "--township", args.township, "--limit", args.limit])
        om = hist / "history.om"
        samples = sum(1 for ln in om.open() if ln.strip() and not ln.startswith("#"))
        data = Path(tmp) / "vm"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([binary, f"-storageDataPath={data}", f"-httpListenAddr=127.0.0.1:{port}",
                                 "-retentionPeriod=100y"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(f"{url}/health", timeout=1):
                        break
                except OSError:
                    time.sleep(0.1)  # polling readiness
            c0, t0 = cpu(proc.pid), time.monotonic()
            for chunk in chunks(om):
                req = urllib.request.Request(f"{url}/api/v1/import/prometheus", data=chunk, method="POST")
                urllib.request.urlopen(req, timeout=300).read()
            urllib.request.urlopen(f"{url}/internal/force_flush", timeout=300).read()
            wall, vm_cpu = time.monotonic() - t0, cpu(proc.pid) - c0
        finally:
            proc.terminate()
            proc.wait(60)
        size = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
    print(f"VictoriaMetrics storage: {samples} samples ({args.township} first {args.limit} devices, "
          f"one month at {args.step}) → {size / 1e6:.1f} MB on disk, {size / samples:.2f} bytes/sample; "
          f"import {wall:.1f} s wall, {vm_cpu:.1f} s VictoriaMetrics CPU "
          f"({samples / max(vm_cpu, 1e-9):.0f} samples/CPU-s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
