"""ONVIF probe cost: CPU per probe and bytes kept per camera, lean transport vs zeep, one run.

    python bench/bench_onvif.py [--cameras 300] [--rounds 3] [--vendor easy_onvif_oem-hikvision_ipg-8150pss]
                                [--quick]

Method: a replaying camera (a child process serving one vendor's real captures from
../shared/fixtures/onvif per SOAP operation, WS-Security not checked) on a loopback port; for
each transport, in a fresh child process, an OnvifProber probes ``--cameras`` distinct camera ids
(one pool entry each, all at that address) ``--rounds`` times, at most 50 probes in flight:
- CPU per probe = the prober process's CPU over the steady rounds (round 2 on) / probes (the
  camera's CPU is in its own process and not counted);
- kept per camera = tracemalloc's traced bytes after round 1 (gc'd) minus before, / cameras, with
  the top allocation sites; RSS growth per camera is printed beside it;
- every probe must succeed (device_info and encoder samples present), else the run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT.parent / "shared" / "fixtures" / "onvif"

CAMERA = r"""
import sys
from pathlib import Path
from aiohttp import web
from lxml import etree
files = {p.stem: p.read_bytes() for p in Path(sys.argv[1]).glob("*.xml")}
async def handle(request):
    body = etree.fromstring(await request.read())
    op = etree.QName(body.find("{http://www.w3.org/2003/05/soap-envelope}Body")[0]).localname
    return web.Response(body=files[op], content_type="application/soap+xml")
app = web.Application()
app.router.add_post("/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def run_one(kind: str, port: int, cameras: int, rounds: int) -> dict[str, object]:
    from sharpeyes.exporters.exposition import TextWriter
    from sharpeyes.exporters.onvif.auth import OnvifAuth
    from sharpeyes.exporters.onvif.lean_transport import LeanFactory
    from sharpeyes.exporters.onvif.zeep_transport import zeep_factory
    from sharpeyes.exporters.probers.base import Module, Target
    from sharpeyes.exporters.probers.onvif import OnvifProber, OnvifSettings

    prober = OnvifProber(factory=LeanFactory() if kind == "lean" else zeep_factory)
    module = Module("onvif", "onvif", 20.0, OnvifSettings())
    auth = OnvifAuth("admin", "bench-pass")
    sem = asyncio.Semaphore(50)

    async def one(i: int) -> None:
        async with sem:
            out = TextWriter()
            target = Target(id=f"cam-{i}", ip="127.0.0.1", kind="camera", auth=auth, onvif_port=port)
            assert await prober(target, module, 20.0, out), f"cam-{i}"
            assert out.samples("sharpeyes_onvif_device_info") and out.samples("sharpeyes_onvif_encoder_width_pixels")

    # warm-up on one camera id outside the measured set (imports, WSDL parsing, first connection)
    await one(cameras)
    gc.collect()
    rss0 = rss_mb()
    tracemalloc.start(8)
    before = tracemalloc.take_snapshot()
    await asyncio.gather(*(one(i) for i in range(cameras)))
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    rss1 = rss_mb()
    stats = after.compare_to(before, "filename")
    kept = sum(s.size_diff for s in stats)
    top = [(str(s.traceback[0]).replace(str(ROOT) + "/", "").split("site-packages/")[-1], s.size_diff)
           for s in stats[:8]]
    cpu0 = time.process_time()
    for _ in range(rounds - 1):
        await asyncio.gather(*(one(i) for i in range(cameras)))
    cpu = time.process_time() - cpu0
    await prober.aclose()
    return {"kind": kind, "cpu_ms_per_probe": cpu * 1000 / max(1, cameras * (rounds - 1)),
            "kept_bytes_per_camera": kept / cameras, "rss_mb_per_camera": (rss1 - rss0) / cameras,
            "top_sites": top, "pool": cameras}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cameras", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--vendor", default="easy_onvif_oem-hikvision_ipg-8150pss")
    p.add_argument("--quick", action="store_true", help="20 cameras, 2 rounds")
    p.add_argument("--one", choices=("lean", "zeep"), help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.cameras, args.rounds = 20, 2
    if args.one:
        print(json.dumps(asyncio.run(run_one(args.one, args.port, args.cameras, args.rounds))))
        return 0
    port = free_port()
    cam = subprocess.Popen([sys.executable, "-c", CAMERA, str(FIXTURES / args.vendor), str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or cam.poll() is not None:
                    raise RuntimeError("replaying camera did not start") from None
                time.sleep(0.1)
        results = {}
        for kind in ("zeep", "lean"):
            out = subprocess.run([sys.executable, __file__, "--one", kind, "--port", str(port), "--cameras",
                                  str(args.cameras), "--rounds", str(args.rounds)],
                                 capture_output=True, text=True, check=True, env={**os.environ})
            results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        cam.terminate()
        cam.wait(10)
    print(f"ONVIF probe cost, {args.cameras} cameras x {args.rounds} rounds, replaying {args.vendor}")
    print(f"  {'transport':<10} {'CPU ms/probe':>13} {'kept kB/camera':>15} {'RSS kB/camera':>14}")
    for kind, r in results.items():
        print(f"  {kind:<10} {r['cpu_ms_per_probe']:13.2f} {r['kept_bytes_per_camera'] / 1024:15.1f} "
              f"{r['rss_mb_per_camera'] * 1024:14.1f}")
    for kind, r in results.items():
        print(f"  top sites kept ({kind}): " + "; ".join(f"{site} {size / 1024:+.0f} kB"
                                                        for site, size in r["top_sites"]))  # type: ignore[attr-defined]
    lean = results["lean"]["cpu_ms_per_probe"]
    print(f"target: ONVIF <= 3 ms CPU per probe: lean {lean:.2f} ms -> {'met' if lean <= 3 else 'MISSED'}")  # type: ignore[operator]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
