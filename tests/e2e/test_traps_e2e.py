"""End to end with SNMP traps: the simulator's switches send linkDown to the exporter's receiver,
which confirms with a probe and raises the rule's alert through Alertmanager, so the ticket opens
before the rule could fire. Production scrape intervals and ``for:`` (no compressed clock): the
point is the real race between the trap path and the rule.

The other half of the contract, a lost trap still ending in a ticket through the rule, is what the
package stack (no trap receiver at all) proves in test_faults_to_tickets.py.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharpeyes.inventory import load_inventory
from sharpeyes.stack.stack import Ports, Stack, StackOptions
from tests.runnet import RunNet, free_port, with_free_ports

from .stack import TOWNSHIP, _require_root_and_tools

ACTIVE = "open,acknowledged,in_progress"


@pytest.fixture(scope="module")
def trap_stack(tmp_path_factory: pytest.TempPathFactory, run_sample_dir: Path, run_net: RunNet) -> Iterator[Stack]:
    _require_root_and_tools()
    workdir = tmp_path_factory.mktemp("trapstack")

    def start() -> Stack:  # fresh kernel ports on every attempt
        opts = StackOptions(
            inventory=run_sample_dir,
            workdir=workdir,
            ports=Ports.picked_by_kernel(),
            townships=(TOWNSHIP,),
            interval_scale=1.0,
            for_scale=1.0,
            hold_down="10s",
            nft_table=run_net.table("traps"),
            device_ports=(free_port(socket.SOCK_DGRAM), free_port(), free_port()),
            traps_port=free_port(socket.SOCK_DGRAM),
        )
        return Stack(opts).__enter__()

    stack = with_free_ports(start)
    try:
        switches = sum(1 for d in load_inventory(stack.inventory_dir).active_devices() if d.kind == "switch")

        def switches_probed() -> bool:
            r = stack.query('count(sharpeyes_port_up{job="sharpeyes_snmp_switch"} == 1) by (device)')
            return len(r) >= switches

        stack.wait_for("every switch's ports scraped", switches_probed, timeout=180, every=2)
        yield stack
    finally:
        stack.stop()


def test_trap_confirmed_fiber_cut_ticket_arrives_before_the_rule_fires(trap_stack: Stack) -> None:
    stack = trap_stack
    inv = load_inventory(stack.inventory_dir)
    link = next(lk for lk in sorted(inv.links.values(), key=lambda x: x.id) if lk.build == "district")
    key = f"fiber_link:{link.id}"
    t0 = time.monotonic()
    stack.fault("fiber_cut", link.id)
    try:
        tickets = stack.wait_for(f"a ticket for {link.id}",
                                 lambda: [t for t in stack.tickets(state=ACTIVE) if t["root_key"] == key],
                                 timeout=120, every=0.5)
        latency = time.monotonic() - t0
        firing = stack.query(f'ALERTS{{alertname="FiberLinkDown", fiber_link="{link.id}", alertstate="firing"}}')
        print(f"\nfiber cut -> ticket through the trap path: {latency:.1f} s (production intervals)")
        assert len(tickets) == 1 and tickets[0]["alertname"] == "FiberLinkDown"
        assert firing == [], "the rule had fired already: the ticket did not come from the trap"
        assert latency < 30
        # the rule catches up and its alert is the same alert: still one ticket
        stack.wait_for("the rule firing too",
                       lambda: stack.query(f'ALERTS{{alertname="FiberLinkDown", fiber_link="{link.id}", '
                                           'alertstate="firing"}'), timeout=150, every=2)
        assert len([t for t in stack.tickets(state=ACTIVE) if t["root_key"] == key]) == 1
    finally:
        stack.clear_faults()
