"""The monthly report's contractor figures come from the times the web app and API record:
acknowledged, arrived, repaired, closed, approved — read back through reflection, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sharpeyes.reports.tickets_db import per_contractor, read_tickets
from sharpeyes.tickets import people
from sharpeyes.tickets.clock import FakeClock
from sharpeyes.tickets.service import Filters, TicketService
from tests.tickets.tickets_testlib import T0, cam_down, cam_labels, deliver, resolved

PW = "correct horse battery"


async def test_contractor_times_from_recorded_work(service: TicketService, clock: FakeClock) -> None:
    with service.store.transaction() as s:
        tech = people.principal_of(people.add_user(s, clock.now(), "tech-a", "technician", PW, "ct-a"))
        sup = people.principal_of(people.add_user(s, clock.now(), "sup", "supervisor", PW))
    one, two = cam_down("cam-1"), cam_down("cam-2", labels=cam_labels("cam-2", "sw-2", "fl-2"))
    await deliver(service, one, two)
    ids = {t["subject"]: t["id"] for t in await service.list_tickets(sup, Filters())}
    # cam-1: acknowledged after 30 min, on site after 2 h, repaired at 5 h, approved
    clock.advance(timedelta(minutes=30))
    await service.act(tech, ids["cam-1"], "acknowledge", {})
    clock.advance(timedelta(minutes=90))
    await service.act(tech, ids["cam-1"], "arrive", {})
    clock.advance(timedelta(hours=3))
    await deliver(service, resolved(one, clock.now()))
    await service.act(tech, ids["cam-1"], "close", {"cause_category": "fiber", "note": "熔接"})
    await service.act(sup, ids["cam-1"], "approve", {})
    # cam-2: acknowledged at 1 h 30 (on time), closed at 6 h, the closure rejected: not repaired
    clock.advance(timedelta(hours=-3, minutes=-30))
    await service.act(tech, ids["cam-2"], "acknowledge", {})
    clock.advance(timedelta(hours=4, minutes=30))
    await deliver(service, resolved(two, clock.now()))
    await service.act(tech, ids["cam-2"], "close", {"cause_category": "power", "note": "换电源"})
    await service.act(sup, ids["cam-2"], "reject", {"reason": "无照片"})

    month = (T0 - timedelta(days=1)).timestamp(), (T0 + timedelta(days=30)).timestamp()
    df = read_tickets(service.store.url, *month)
    assert df is not None and len(df) == 2
    row = per_contractor(df, month[1], 0.9).loc["ct-a"]
    assert row["tickets"] == 2 and row["repaired"] == 1 and row["approved"] == 1
    assert row["mttr_h"] == pytest.approx(5.0)
    assert row["ack_h"] == pytest.approx((0.5 + 1.5) / 2)
    assert row["arrive_h"] == pytest.approx(2.0)
