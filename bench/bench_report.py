"""A full month for the whole sample district: generate, backfill, then time the monthly report.

    python bench/bench_report.py [--step 300] [--workdir DIR] [--keep] [--reuse]

Prints the generation and backfill times separately (they are set-up, not the report), then the
report's wall time and peak RSS (of the report process alone, via wait4), and Prometheus' RSS.
Targets: report ≤ 15 s, ≤ 1 GB. ``--reuse`` skips generation and backfill when the TSDB in
``--workdir`` is already there.
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
import urllib.error
import urllib.request
from pathlib import Path

from sharpeyes.contract import SAMPLE_DISTRICT

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2026-10"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_timed(cmd: list[str], **kw: object) -> tuple[float, float, int]:
    """(seconds, peak RSS MB, exit status) of one child process, measured with wait4."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, **kw)  # type: ignore[call-overload]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - t0, usage.ru_maxrss / 1024, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=int, default=300, help="probe_success step of the generated month (300 s)")
    ap.add_argument("--workdir", help="where to put history and TSDB (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--reuse", action="store_true", help="reuse an existing TSDB in --workdir")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    hist, tsdb, out = work / "history", work / "tsdb", work / "report"
    py = sys.executable
    try:
        if not (args.reuse and tsdb.is_dir()):
            shutil.rmtree(tsdb, ignore_errors=True)
            secs, rss, rc = run_timed(
                [
                    py,
                    "-m",
                    "sharpeyes.simulator.history",
                    "--month",
                    MONTH,
                    "--out",
                    str(hist),
                    "--step",
                    f"{args.step}s",
                    "--info-step",
                    "6h",
                    "--split-days",
                    "8",
                ],
                cwd=ROOT,
            )
            assert rc == 0, "generation failed"
            files = sorted(hist.glob("history*.om"))
            size = sum(f.stat().st_size for f in files) / 1e9
            print(f"generate: {secs:.1f} s, {size:.2f} GB in {len(files)} files, peak RSS {rss:.0f} MB")
            t0 = time.monotonic()
            peak = 0.0
            for f in files:
                _, rss, rc = run_timed(
                    [
                        "promtool",
                        "tsdb",
                        "create-blocks-from",
                        "openmetrics",
                        "--max-block-duration=1458h",
                        "-q",
                        str(f),
                        str(tsdb),
                    ]
                )
                assert rc == 0, f"promtool failed on {f}"
                peak = max(peak, rss)
                f.unlink()  # the blocks are what we need; the text is large
            print(f"backfill: {time.monotonic() - t0:.1f} s (promtool peak RSS {peak:.0f} MB)")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        (work / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
        t0 = time.monotonic()
        prom = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=10y",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                        if r.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.1)
                if prom.poll() is not None:
                    raise SystemExit("prometheus exited")
            print(f"prometheus ready: {time.monotonic() - t0:.1f} s")
            cmd = [
                py,
                "-m",
                "sharpeyes.reports",
                "monthly",
                "--month",
                MONTH,
                "--prometheus",
                url,
                "--inventory",
                str(SAMPLE_DISTRICT),
                "--exclusions",
                str(hist / "exclusions.yaml"),
                "--out",
                str(out),
            ]
            for n in (1, 2):
                secs, rss, rc = run_timed(cmd, cwd=ROOT)
                assert rc == 0, "report failed"
                print(
                    f"report run {n}: {secs:.1f} s, peak RSS {rss:.0f} MB "
                    f"(prometheus peak RSS {rss_mb(prom.pid):.0f} MB)"
                )
        finally:
            prom.terminate()
            prom.wait(30)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
