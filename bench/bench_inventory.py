"""Load + validate time and peak memory of the inventory loader: the sample district and a prefecture.

    python bench/bench_inventory.py [--devices 100000] [--keep DIR]

Each load runs in a fresh child process so that its peak RSS (resource.getrusage ru_maxrss) is the
load's own, not the generator's. Targets (from the inventory issue; printed, not asserted):
the 1640-camera sample district < 1 s; 100k devices < 30 s and < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from sharpeyes.contract import SAMPLE_DISTRICT  # noqa: E402

SAMPLE = SAMPLE_DISTRICT

CHILD = """
import json, resource, sys, time
from sharpeyes.inventory import load_inventory
t0 = time.perf_counter()
inv = load_inventory(sys.argv[1])
t1 = time.perf_counter()
print(json.dumps({"seconds": t1 - t0, "devices": len(inv.devices), "links": len(inv.links),
                  "sites": len(inv.sites), "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def measure(directory: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(directory)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"load of {directory} failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout)
    return result


def report(label: str, r: dict[str, float], target_s: float, target_mb: float | None) -> None:
    mb = r["maxrss_kb"] / 1024
    verdict = "ok" if r["seconds"] < target_s and (target_mb is None or mb < target_mb) else "MISSED"
    mem_target = f", < {target_mb:.0f} MB" if target_mb else ""
    print(
        f"{label:<28} {int(r['devices']):>7} devices {int(r['links']):>6} links {int(r['sites']):>6} sites  "
        f"load+validate {r['seconds']:6.2f} s  peak RSS {mb:7.1f} MB  (target < {target_s:g} s{mem_target}: "
        f"{verdict})"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=100_000, help="size of the generated fleet")
    ap.add_argument("--keep", metavar="DIR", help="generate the fleet into DIR and keep it")
    args = ap.parse_args()

    report("sample district (fengquan)", measure(SAMPLE), 1.0, None)

    with tempfile.TemporaryDirectory(prefix="sharpeyes-bench-") as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / "prefecture"
        t0 = time.perf_counter()
        gen = subprocess.run(
            [
                sys.executable,
                "-m",
                "sharpeyes.inventory.cli",
                "generate",
                "--scale",
                str(args.devices),
                "--out",
                str(out),
                "--force",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if gen.returncode != 0:
            sys.exit(f"generate failed:\n{gen.stderr[-3000:]}")
        size = sum(p.stat().st_size for p in out.rglob("*.yaml")) / 2**20
        print(f"generated in {time.perf_counter() - t0:.1f} s: {gen.stdout.strip()} ({size:.0f} MB of YAML)")
        report(f"prefecture ({args.devices} asked)", measure(out), 30.0, 1024.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
