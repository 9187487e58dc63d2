"""End to end: faults in the simulated township become exactly one ticket each.

Real processes throughout: simulator → exporter → Prometheus (rules) → Alertmanager (inhibition,
grouping) → ticket service. Each test waits on conditions through the components' HTTP APIs.
"""

from __future__ import annotations

import time

from sharpeyes.inventory import load_inventory
from sharpeyes.stack.stack import Stack

ACTIVE = "open,acknowledged,in_progress"


def _inv(stack: Stack):  # type: ignore[no-untyped-def]
    return load_inventory(stack.inventory_dir)


def _tickets_for(stack: Stack, root_key: str, state: str = ACTIVE) -> list[dict]:  # type: ignore[type-arg]
    return [t for t in stack.tickets(state=state) if t["root_key"] == root_key]


def test_fiber_cut_is_one_ticket_for_the_link_listing_its_cameras(district_stack: Stack) -> None:
    stack = district_stack
    inv = _inv(stack)
    link = next(lk for lk in sorted(inv.links.values(), key=lambda x: x.id) if lk.build == "district")
    downstream = inv.topology.downstream(link.id)
    cams = {d for d in downstream if inv.devices[d].kind == "camera" and inv.devices[d].active}
    assert len(cams) >= 10

    t0 = time.monotonic()
    stack.fault("fiber_cut", link.id)
    try:
        tickets = stack.wait_for(f"a ticket for {link.id}",
                                 lambda: _tickets_for(stack, f"fiber_link:{link.id}"), timeout=180)
        latency = time.monotonic() - t0
        print(f"\nfault → ticket latency (fiber cut, compressed clock ×0.2/×0.1): {latency:.1f} s")
        assert len(tickets) == 1
        ticket = tickets[0]
        assert ticket["contractor"] == inv.devices[next(iter(cams))].contractor
        # every downstream camera joins this ticket (alerts that arrive over the next scrapes included)
        stack.wait_for("every downstream camera on the ticket",
                       lambda: cams <= set(_tickets_for(stack, f"fiber_link:{link.id}")[0]["devices"]),
                       timeout=120)
        others = [t for t in stack.tickets(state=ACTIVE) if t["root_key"] != f"fiber_link:{link.id}"]
        assert others == [], f"separate tickets besides the fiber link's: {[t['root_key'] for t in others]}"
    finally:
        stack.clear_faults()
    resolved = stack.wait_for("the link ticket to resolve after the hold-down",
                              lambda: _tickets_for(stack, f"fiber_link:{link.id}", state="resolved"), timeout=240)
    assert resolved[0]["resolved_at"] is not None


def test_camera_power_loss_is_one_camera_ticket(district_stack: Stack) -> None:
    stack = district_stack
    inv = _inv(stack)
    cam = sorted(d.id for d in inv.active_devices() if d.kind == "camera" and d.funding == "sharp_eyes")[3]
    stack.fault("power_loss", cam)
    try:
        tickets = stack.wait_for(f"a ticket for {cam}", lambda: _tickets_for(stack, f"device:{cam}"), timeout=180)
        assert len(tickets) == 1 and tickets[0]["devices"] == [cam]
        assert tickets[0]["alertname"] in ("CameraOffline", "SwitchPortDown")
        # the camera's switch port also went down: that alert is the same fault, not a second ticket
        actives = stack.tickets(state=ACTIVE)
        assert [t["root_key"] for t in actives] == [f"device:{cam}"]
    finally:
        stack.clear_faults()
    stack.wait_for("the camera ticket to resolve", lambda: _tickets_for(stack, f"device:{cam}", state="resolved"),
                   timeout=240)
