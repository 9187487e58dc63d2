"""End to end: every image fault of the simulator becomes the right alert and exactly one ticket with
both stills, through the real Prometheus, Alertmanager and ticket service.

One stack run covers all ten image faults at once, one camera each: luwangfen of this run's sample
district with all but a dozen cameras out of service (``offline``), so that stills can be taken every
few seconds (a camera's baseline needs six intact stills before the relative checks judge; at the
production 10 minutes that is an hour). The faults are injected together once every camera's
baseline is ready, and each is awaited on its own: Prometheus' ``CameraVideoLoss`` /
``CameraImageFault`` with ``fault`` = the type, one ticket per camera, both stills fetched from the
URLs the ticket's alert links. Colour cast is judged in daylight only (night infrared is monochrome
by design): when the simulated cameras' local time is night, its camera must stay ticket-free
instead. (A tinted picture at night reads as a colour picture, so it is judged against the day
baseline — which a camera first seen at night does not have yet, and then learns from the tinted
stills: the gap docs/vqd.md notes.)

Every fault is injected at severity 3 (severe): this test is about the path from picture to ticket;
how well each severity is judged is bench/bench_vqd.py's confusion matrix. (On this township's
night scenes the clear level of ``occluded`` is missed on some cameras: a bag over a corner that is
already dark and flat in infrared hides little texture.)
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from sharpeyes.contract import VQD_CRITICAL
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.writer import write_inventory
from sharpeyes.stack.stack import Ports, Stack, StackOptions
from tests.e2e.stack import _require_root_and_tools
from tests.runnet import RunNet, free_port, with_free_ports

pytestmark = pytest.mark.slow

TOWNSHIP = "luwangfen"
FAULTS = ("video_loss", "frozen", "too_dark", "overexposed", "displaced", "occluded", "defocus", "snow",
          "stripes", "color_cast")
CLEAN = 2  # cameras with no fault: they must stay ticket-free
SNAPSHOT_EVERY = 6.0  # seconds: 12 cameras, ~35 ms of CPU per still (simulator render + exporter checks)
ACTIVE = "open,acknowledged,in_progress"


def _few_cameras(src: Path, dst: Path) -> list[str]:
    """The inventory with only a dozen cameras of the township in service, spread over its villages."""
    inv = load_inventory(src)
    cams = sorted(d.id for d in inv.active_devices() if d.kind == "camera" and d.township == TOWNSHIP)
    step = len(cams) // (len(FAULTS) + CLEAN)
    keep = cams[::step][:len(FAULTS) + CLEAN]
    for cam in cams:
        if cam not in keep:
            inv.devices[cam].status = "offline"
    write_inventory(inv, dst)
    return keep


def _value(stack: Stack, promql: str) -> dict[str, float]:
    return {r["metric"].get("device", ""): float(r["value"][1]) for r in stack.query(promql)}


def test_each_image_fault_is_its_alert_and_one_ticket_with_both_stills(
        tmp_path: Path, run_sample_dir: Path, run_net: RunNet) -> None:
    _require_root_and_tools()
    cams = _few_cameras(run_sample_dir, tmp_path / "inventory")
    faulty = dict(zip(cams, FAULTS, strict=False))
    clean = cams[len(FAULTS):]

    def start() -> Stack:
        opts = StackOptions(inventory=tmp_path / "inventory", workdir=tmp_path / "stack",
                            ports=Ports.picked_by_kernel(), townships=(TOWNSHIP,),
                            interval_scale=0.2, for_scale=0.1, hold_down="10s", nft_table=run_net.table("vqd"),
                            device_ports=(free_port(socket.SOCK_DGRAM), free_port(), free_port()),
                            snapshot_interval=SNAPSHOT_EVERY)
        return Stack(opts).__enter__()

    stack = with_free_ports(start)
    try:
        sel = '{job="sharpeyes_snapshot"}'
        stack.wait_for("every camera's VQD baseline learnt",
                       lambda: len(_value(stack, f"sharpeyes_vqd_baseline_ready{sel} == 1")) == len(cams),
                       timeout=240, every=2)
        night = _value(stack, f"sharpeyes_vqd_night_mode{sel}")
        assert not stack.tickets(state=ACTIVE), "tickets before any fault was injected"

        t0 = time.monotonic()
        for cam, fault in faulty.items():
            stack.fault(fault, cam, severity=3)
        colour_cam = next(c for c, f in faulty.items() if f == "color_cast")
        judged = {c: f for c, f in faulty.items() if not (f == "color_cast" and night.get(c) == 1)}
        found: dict[str, dict[str, Any]] = {}

        def each_ticketed() -> bool:
            by_key: dict[str, list[dict[str, Any]]] = {}
            for t in stack.tickets(state=ACTIVE):
                by_key.setdefault(t["root_key"], []).append(t)
            for cam, fault in judged.items():
                if cam in found or f"device:{cam}" not in by_key:
                    continue
                assert len(by_key[f"device:{cam}"]) == 1, f"{cam} ({fault}): {by_key[f'device:{cam}']}"
                ticket = stack.ticket(int(by_key[f"device:{cam}"][0]["id"]))
                if any(a["labels"].get("fault") == fault for a in ticket["alerts"]):
                    found[cam] = ticket
                    print(f"\n{fault:12s} {cam}: ticket #{ticket['id']} after {time.monotonic() - t0:.0f} s")
            return len(found) == len(judged)

        stack.wait_for(f"a ticket per image fault ({len(judged)})", each_ticketed, timeout=420, every=3)

        for cam, ticket in found.items():
            fault = faulty[cam]
            alerts = ticket["alerts"]
            want = "CameraVideoLoss" if fault in VQD_CRITICAL else "CameraImageFault"
            assert {(a["alertname"], a["labels"]["fault"]) for a in alerts} == {(want, fault)}, (cam, alerts)
            assert ticket["severity"] == ("critical" if fault in VQD_CRITICAL else "warning")
            # the title names the type (a lost picture is its own alert: "picture lost")
            assert fault in ticket["title"] or fault in VQD_CRITICAL, ticket["title"]
            stills = {kind: (url, size) for _, kind, url, size in stack.ticket_stills(int(ticket["id"]))}
            assert set(stills) == {"still_url", "reference_url"}, stills
            assert stills["still_url"][0].endswith(f"/vqd/{cam}/last.jpg")
            assert stills["reference_url"][0].endswith(f"/vqd/{cam}/reference.jpg")
            assert all(size > 10_000 for _, size in stills.values()), (cam, stills)
        others = [t["root_key"] for t in stack.tickets(state=ACTIVE) if t["root_key"] not in
                  {f"device:{c}" for c in judged}]
        assert others == [], f"tickets besides one per judged image fault: {others}"
        if colour_cam not in judged:  # night: no ticket for it (``others`` above), see the module docstring
            print(f"\ncolor_cast   {colour_cam}: night, not judged against a night baseline (no ticket)")
        every = {t["root_key"] for t in stack.tickets(state=ACTIVE + ",resolved,closed")}
        assert not {f"device:{c}" for c in clean} & every

        stack.clear_faults()
        stack.wait_for("every image-fault ticket resolved",
                       lambda: {f"device:{c}" for c in judged} <= {t["root_key"] for t in
                                                                   stack.tickets(state="resolved")},
                       timeout=180, every=3)
    finally:
        stack.stop()
