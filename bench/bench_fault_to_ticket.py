"""Fault → ticket latency with production intervals, on real processes.

Starts the whole stack (simulator, exporter, tickets, Alertmanager, Prometheus) on one township with
production scrape intervals and production alert ``for:`` durations (``--interval-scale 1 --for-scale 1``),
injects a fiber cut and a camera power loss, and prints how long each takes to become a ticket and,
after repair, to resolve. Compare: GB28181 platforms take 180 s just to call a camera offline.

    python bench/bench_fault_to_ticket.py [--township dakuai] [--interval-scale 1] [--for-scale 1]
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from pathlib import Path

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.inventory import load_inventory
from sharpeyes.stack.stack import Ports, Stack, StackOptions, free_port

ROOT = Path(__file__).resolve().parents[1]



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--township", default="dakuai")
    ap.add_argument("--interval-scale", type=float, default=1.0)
    ap.add_argument("--for-scale", type=float, default=1.0)
    ap.add_argument("--hold-down", default="2m")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        opts = StackOptions(inventory=SAMPLE_DISTRICT, workdir=Path(tmp),
                            ports=Ports.picked_by_kernel(), townships=(args.township,),
                            interval_scale=args.interval_scale, for_scale=args.for_scale,
                            hold_down=args.hold_down, nft_table=f"sharpeyes_bench{os.getpid()}",
                            device_ports=(free_port(socket.SOCK_DGRAM), free_port(), free_port()))
        with Stack(opts) as stack:
            inv = load_inventory(stack.inventory_dir)
            n = sum(1 for _ in inv.active_devices())
            t0 = time.monotonic()
            stack.wait_for("all devices up", lambda: bool(stack.query(
                f'count(probe_success{{job="sharpeyes_icmp"}} == 1) == {n}')), timeout=600, every=2)
            print(f"stack up, {n} devices probed in {time.monotonic() - t0:.0f} s "
                  f"(interval scale {args.interval_scale}, for: scale {args.for_scale})")
            link = next(lk for lk in sorted(inv.links.values(), key=lambda x: x.id) if lk.build == "district")
            cams = sorted(d.id for d in inv.active_devices() if d.kind == "camera"
                          and d.id not in inv.topology.downstream(link.id))
            rows = []
            for ftype, target, root in (("fiber_cut", link.id, f"fiber_link:{link.id}"),
                                        ("power_loss", cams[0], f"device:{cams[0]}")):
                t_fault = time.monotonic()
                stack.fault(ftype, target)
                stack.wait_for(f"ticket {root}", lambda r=root: [t for t in stack.tickets(
                    state="open,acknowledged,in_progress") if t["root_key"] == r], timeout=1200, every=1)
                opened = time.monotonic() - t_fault
                t_fix = time.monotonic()
                stack.clear_faults()
                stack.wait_for(f"resolve {root}", lambda r=root: [t for t in stack.tickets(state="resolved")
                                                                  if t["root_key"] == r], timeout=1200, every=1)
                rows.append((ftype, opened, time.monotonic() - t_fix))
            print(f"{'fault':<14}{'fault → ticket s':>18}{'repair → resolved s':>22}")
            for ftype, opened, resolved in rows:
                print(f"{ftype:<14}{opened:>18.1f}{resolved:>22.1f}")


if __name__ == "__main__":
    main()
