"""A failed recorder is one ticket listing the cameras it records; recording alerts of its cameras
(``recorder`` label) join that ticket instead of opening one each. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.inventory.recording import recorded_cameras
from sharpeyes.tickets.assign import load_assigner
from sharpeyes.tickets.auth import Principal
from sharpeyes.tickets.clock import FakeClock
from sharpeyes.tickets.grouping import ancestor_keys
from sharpeyes.tickets.service import Filters, TicketService
from sharpeyes.tickets.store import Store
from tests.tickets.tickets_testlib import T0, am_alert, base_config, deliver

DISTRICT = Principal("district-centre", frozenset({"district"}))
RECORDER = "nvr-luwangfen-2"


@pytest.fixture
async def svc(db_url: str) -> AsyncIterator[TicketService]:
    store = Store(db_url)
    store.migrate()
    s = TicketService(base_config(db_url), store, clock=FakeClock(T0), assign=load_assigner(str(SAMPLE_DISTRICT)))
    yield s
    s.close()
    store.dispose()


def stopped(inv, cam: str, **kw):  # type: ignore[no-untyped-def]
    labels = {**inv.target_labels(cam), "recorder": RECORDER}
    return am_alert("RecordingStopped", "device", {k: v for k, v in labels.items() if v}, **kw)


async def test_recorder_disk_failure_is_one_ticket_listing_its_channels(svc: TicketService) -> None:
    inv = svc.assign.inv  # type: ignore[attr-defined]
    cams = [d.id for d in recorded_cameras(inv, RECORDER)]
    assert len(cams) > 50
    # two cameras' recording alerts arrive first, then the recorder's disk alert
    await deliver(svc, stopped(inv, cams[0]), stopped(inv, cams[1]))
    labels = {k: v for k, v in inv.target_labels(RECORDER).items() if v}
    await deliver(svc, am_alert("RecorderDiskFailed", "device", {**labels, "disk": "1"},
                                starts=T0 + timedelta(minutes=3)))
    await deliver(svc, stopped(inv, cams[2]))
    active = await svc.list_tickets(DISTRICT, Filters())
    assert len(active) == 1
    t = await svc.detail(DISTRICT, active[0]["id"])
    assert t["root_key"] == f"device:{RECORDER}"
    assert set(t["devices"]) == {RECORDER, *cams}
    assert t["contractor"] == inv.devices[RECORDER].contractor


def test_recording_alert_ancestors_start_with_the_recorder() -> None:
    labels = {"scope": "device", "device": "cam-1", "recorder": "nvr-1", "uplink_switch": "sw-1",
              "access_switch": "sw-1", "township": "t"}
    assert ancestor_keys(labels)[:2] == ["device:nvr-1", "switch:sw-1"]
