"""Fault → ticket latency with the SNMP trap path on, production intervals, real processes.

Starts the whole stack (simulator with ``--traps.target``, exporter with its trap receiver, tickets,
Alertmanager, Prometheus) on one township with production scrape intervals and ``for:`` durations,
injects a fiber cut, a switch down and a camera power loss one after the other, and prints per fault
the fault → ticket latency against its target, which path opened the ticket (the trap path's alert
carries ``source: snmp-trap…``; Prometheus' copy replaces the annotations later), and repair →
resolved. ``--no-traps`` measures the rules alone, for comparison.

    python bench/bench_traps.py [--township dakuai] [--no-traps] [--quick]

``--quick``: one fiber cut on a compressed clock (scrapes × 0.2, ``for:`` × 0.1) — what
tests/e2e/test_bench_traps_quick.py runs. The false-ticket soak is bench/bench_soak.py.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
import urllib.request
from pathlib import Path

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.model import Inventory
from sharpeyes.stack.stack import Ports, Stack, StackError, StackOptions, free_port, http_json

ACTIVE = "open,acknowledged,in_progress"
TARGETS = {"fiber_cut": 30.0, "switch_down": 30.0, "power_loss": 60.0}


def faults(inv: Inventory, quick: bool) -> list[tuple[str, str, str]]:
    """(fault type, target, ticket root key): faults on disjoint parts of the township."""
    link = next(lk for lk in sorted(inv.links.values(), key=lambda x: x.id) if lk.build == "district")
    dark = set(inv.topology.downstream(link.id)) | {link.a.switch, link.b.switch}
    out = [("fiber_cut", link.id, f"fiber_link:{link.id}")]
    if quick:
        return out
    switch = next(d for d in sorted(inv.active_devices(), key=lambda d: d.id)
                  if d.kind == "switch" and d.role == "access" and d.id not in dark)
    dark |= set(inv.topology.downstream(switch.id)) | {switch.id}
    cam = next(d for d in sorted(inv.active_devices(), key=lambda d: d.id)
               if d.kind == "camera" and d.id not in dark and d.uplink is not None)
    # a dead access switch is seen as its uplink port going down: its fiber link's ticket, or its own
    uplink = inv.topology.nearest_link(switch)
    return [*out, ("switch_down", switch.id, f"switch:{switch.id}|fiber_link:{uplink}"),
            ("power_loss", cam.id, f"device:{cam.id}")]


def measure(stack: Stack, ftype: str, target: str, roots: str, limit: float) -> tuple[float, str, float]:
    """(fault → ticket s, which path opened it, repair → resolved s); ``roots``: acceptable root keys;
    ``limit``: seconds each wait may take."""
    wanted = set(roots.split("|"))
    t_fault = time.monotonic()
    stack.fault(ftype, target)
    try:
        tickets = stack.wait_for(f"ticket {roots}", lambda: [t for t in stack.tickets(state=ACTIVE)
                                                             if t["root_key"] in wanted], timeout=limit, every=0.5)
    except StackError:
        opened = [(t["root_key"], t["alertname"], t["state"]) for t in stack.tickets()]
        print(f"tickets open instead: {opened or 'none'}; alerts: {stack.query('ALERTS')}", flush=True)
        raise
    opened = time.monotonic() - t_fault
    scope, _, ident = tickets[0]["root_key"].partition(":")
    label = "fiber_link" if scope == "fiber_link" else "device"
    firing = stack.query(f'ALERTS{{alertname="{tickets[0]["alertname"]}", {label}="{ident}", alertstate="firing"}}')
    path = "rule" if firing else "trap"  # the rule had not fired when the ticket opened: the trap path did it
    root = tickets[0]["root_key"]
    t_fix = time.monotonic()
    stack.clear_faults()
    try:
        stack.wait_for(f"resolve {root}", lambda: [t for t in stack.tickets(state="resolved")
                                                   if t["root_key"] == root], timeout=limit, every=1)
    except StackError:
        t = stack.ticket(tickets[0]["id"])
        still = [(a["labels"], a["status"], a.get("ends_at")) for a in t["alerts"] if a["status"] != "resolved"]
        print(f"ticket {t['id']}: state {t['state']}, merged into {t.get('merged_into')}; every ticket: "
              f"{[(x['id'], x['root_key'], x['state']) for x in stack.tickets()]}", flush=True)
        firing = stack.query('ALERTS{alertstate="firing"}')
        am = [(a["labels"].get("alertname"), a["status"]["state"], a["startsAt"], a["endsAt"], a["updatedAt"])
              for a in http_json(f"{stack.url('alertmanager')}/api/v2/alerts")
              if a["labels"].get("scope") == "fiber_link"]
        with urllib.request.urlopen(f"{stack.url('exporter')}/metrics", timeout=10) as resp:
            traps = [ln for ln in resp.read().decode().splitlines() if ln.startswith("sharpeyes_trap")]
        print(f"Alertmanager: {am}\nexporter: {traps}\nticket events: {t.get('events', t.get('history'))}", flush=True)
        print(f"ticket {tickets[0]['id']} still has {still}; firing in Prometheus: {firing}", flush=True)
        raise
    return opened, path, time.monotonic() - t_fix



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inventory", default=str(SAMPLE_DISTRICT),
                    help="inventory directory (tests pass their run's own copy of the sample)")
    ap.add_argument("--township", default="dakuai")
    ap.add_argument("--no-traps", action="store_true", help="rules only (no trap receiver)")
    ap.add_argument("--quick", action="store_true", help="one fiber cut on a compressed clock")
    ap.add_argument("--hold-down", default="2m")
    args = ap.parse_args()
    interval, for_ = (0.2, 0.1) if args.quick else (1.0, 1.0)
    ports = Ports.picked_by_kernel()  # so that two runs (two test suites) never meet
    with tempfile.TemporaryDirectory() as tmp:
        opts = StackOptions(inventory=Path(args.inventory), workdir=Path(tmp), ports=ports,
                            townships=(args.township,), interval_scale=interval, for_scale=for_,
                            hold_down="10s" if args.quick else args.hold_down,
                            nft_table=f"sharpeyes_btraps{os.getpid()}",
                            device_ports=(free_port(socket.SOCK_DGRAM), free_port(), free_port()),
                            traps_port=None if args.no_traps else free_port(socket.SOCK_DGRAM))
        with Stack(opts) as stack:
            inv = load_inventory(stack.inventory_dir)
            switches = sum(1 for d in inv.active_devices() if d.kind == "switch")
            n = sum(1 for _ in inv.active_devices())
            # quick mode fits its test's time limit (300 + 150 + 150 s) and fails with the stack's state
            limit = 150.0 if args.quick else 1200.0
            try:
                stack.wait_for("all devices up and every switch's ports read", lambda: bool(stack.query(
                    f'count(probe_success{{job="sharpeyes_icmp"}} == 1) == {n}')) and len(stack.query(
                        'count by (device) (sharpeyes_port_up{job="sharpeyes_snmp_switch"})')) >= switches,
                    timeout=2 * limit if args.quick else 600, every=2)
            except StackError:
                up = stack.query('count(probe_success{job="sharpeyes_icmp"} == 1)')
                read = stack.query('count by (device) (sharpeyes_port_up{job="sharpeyes_snmp_switch"})')
                print(f"{up[0]['value'][1] if up else 0} of {n} devices up, {len(read)} of {switches} switches"
                      " read; down:", [r["metric"].get("device") for r in stack.query(
                          'probe_success{job="sharpeyes_icmp"} == 0')], flush=True)
                raise
            mode = "compressed clock (quick)" if args.quick else "production intervals and for:"
            print(f"stack up: {n} devices, {mode}, trap receiver {'off' if args.no_traps else 'on'}")
            print(f"{'fault':<13}{'→ ticket s':>11}{'target s':>10}{'met':>5}{'opened by':>11}"
                  f"{'repair → resolved s':>21}")
            for ftype, target, root in faults(inv, args.quick):
                opened, path, resolved = measure(stack, ftype, target, root, limit)
                goal = TARGETS[ftype]
                met = "yes" if opened <= goal else "NO"
                print(f"{ftype:<13}{opened:>11.1f}{goal:>10.0f}{met:>5}{path:>11}{resolved:>21.1f}")


if __name__ == "__main__":
    main()
