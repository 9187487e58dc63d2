"""The store suite: ingestion, grouping, lifecycle, SLA — each case on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from sharpeyes.tickets.auth import Principal
from sharpeyes.tickets.clock import FakeClock
from sharpeyes.tickets.lifecycle import ConflictError, RequestError
from sharpeyes.tickets.models import Alert, InboxNotification, Ticket
from sharpeyes.tickets.service import Filters, TicketService
from tests.tickets.tickets_testlib import (
    T0,
    am_alert,
    cam_down,
    cam_labels,
    deliver,
    resolved,
    switch_down,
)

DISTRICT = Principal("district-centre", frozenset({"district"}))


async def tickets(svc: TicketService, **kw: Any) -> list[dict[str, Any]]:
    return await svc.list_tickets(DISTRICT, Filters(**kw))


async def only_ticket(svc: TicketService) -> dict[str, Any]:
    ts = await tickets(svc)
    assert len(ts) == 1, ts
    return await svc.detail(DISTRICT, ts[0]["id"])


def count(svc: TicketService, model: Any) -> int:
    with svc.store.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


async def test_migrations_match_models(service: TicketService) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from sharpeyes.tickets.models import Base

    with service.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert service.store.migrate() == "0003"  # idempotent


async def test_same_notification_five_times_is_one_ticket(service: TicketService) -> None:
    alerts = [cam_down("cam-1"), cam_down("cam-9", labels=cam_labels("cam-9", "sw-acc-2", "fl-2"))]
    results = [await deliver(service, *alerts) for _ in range(5)]
    assert results[0] == {"new": 2}
    assert all(r == {"duplicate": 2} for r in results[1:])
    assert len(await tickets(service)) == 2
    assert count(service, Alert) == 2
    assert count(service, InboxNotification) == 5  # every delivery persisted
    assert service.metrics.registry.get_sample_value(
        "sharpeyes_tickets_webhook_notifications_deduplicated_total") == 4
    assert service.metrics.registry.get_sample_value(
        "sharpeyes_tickets_webhook_alerts_total", {"result": "duplicate"}) == 8


async def test_ticket_fields_and_history(service: TicketService) -> None:
    await deliver(service, cam_down("cam-1"))
    t = await only_ticket(service)
    assert t["state"] == "open" and t["root_key"] == "device:cam-1"
    assert t["contractor"] == "ct-a" and t["area"] == "urban" and t["township"] == "t-fengquan"
    assert t["devices"] == ["cam-1"]
    assert t["opened_at"] == "2025-03-01T08:00:00+08:00"  # district time zone
    assert [h["action"] for h in t["history"]] == ["open"]
    assert t["history"][0]["actor"] == "system"


async def test_info_alerts_open_no_ticket(service: TicketService) -> None:
    r = await deliver(service, cam_down("cam-1", severity="info"))
    assert r == {"ignored": 1}
    assert await tickets(service) == []


async def test_unknown_severity_counts_as_warning(service: TicketService) -> None:
    a = cam_down("cam-1")
    del a["labels"]["severity"]
    assert await deliver(service, a) == {"new": 1}
    assert (await tickets(service))[0]["severity"] == "warning"


async def test_resolved_unknown_alert_is_ignored(service: TicketService) -> None:
    r = await deliver(service, resolved(cam_down("cam-1"), T0))
    assert r == {"ignored": 1}
    assert await tickets(service) == []


async def test_alert_without_scope_id_is_invalid_not_fatal(service: TicketService) -> None:
    bad = am_alert("SharpEyesCameraDown", "device", {"township": "t-fengquan"})
    r = await deliver(service, bad, cam_down("cam-1"))
    assert r == {"invalid": 1, "new": 1}


# --- grouping --------------------------------------------------------------------------------------


async def test_children_join_open_root_ticket(service: TicketService) -> None:
    await deliver(service, switch_down("sw-acc-1"))
    await deliver(service, cam_down("cam-1"), cam_down("cam-2"))
    t = await only_ticket(service)
    assert t["root_key"] == "switch:sw-acc-1"
    assert t["devices"] == ["cam-1", "cam-2", "sw-acc-1"]
    assert [h["action"] for h in t["history"]] == ["open", "attach", "attach"]


async def test_child_before_root_is_merged(service: TicketService, clock: FakeClock) -> None:
    await deliver(service, cam_down("cam-1"))
    clock.advance(60)
    await deliver(service, cam_down("cam-2"))
    clock.advance(60)
    await deliver(service, switch_down("sw-acc-1", starts=T0 + timedelta(seconds=90)))
    active = await tickets(service)
    assert len(active) == 1
    root = await service.detail(DISTRICT, active[0]["id"])
    assert root["root_key"] == "switch:sw-acc-1"
    assert root["devices"] == ["cam-1", "cam-2", "sw-acc-1"]
    # The fault was visible since the first child: the SLA clock starts there.
    assert root["sla_start"] == "2025-03-01T08:00:00+08:00"
    assert [h["action"] for h in root["history"]].count("absorb") == 2
    merged = await tickets(service, states=("merged",))
    assert {m["root_key"] for m in merged} == {"device:cam-1", "device:cam-2"}
    assert all(m["merged_into"] == root["id"] for m in merged)
    # a later child goes straight to the root ticket
    await deliver(service, cam_down("cam-3"))
    assert len(await tickets(service)) == 1


async def test_fiber_root_collects_switch_ticket_with_its_children(service: TicketService) -> None:
    await deliver(service, switch_down("sw-acc-1"))
    await deliver(service, cam_down("cam-1"))
    link = am_alert("SharpEyesFiberLinkDown", "fiber_link",
                    {"fiber_link": "fl-1", "contractor": "ct-a", "area": "urban", "township": "t-fengquan"})
    await deliver(service, link)
    t = await only_ticket(service)
    assert t["root_key"] == "fiber_link:fl-1"
    assert t["devices"] == ["cam-1", "fl-1", "sw-acc-1"]


async def test_merge_carries_acknowledgement(service: TicketService, clock: FakeClock) -> None:
    await deliver(service, cam_down("cam-1"))
    child = (await tickets(service))[0]
    await service.act(DISTRICT, child["id"], "acknowledge", {"note": "on my way"})
    clock.advance(600)
    await deliver(service, switch_down())
    root = (await tickets(service))[0]
    assert root["state"] == "acknowledged"
    assert root["acknowledged_at"] == "2025-03-01T08:00:00+08:00"


async def test_unrelated_devices_get_separate_tickets(service: TicketService) -> None:
    await deliver(service, cam_down("cam-1"))
    await deliver(service, cam_down("cam-7", labels=cam_labels("cam-7", "sw-acc-2", "fl-2")))
    await deliver(service, switch_down("sw-acc-2", starts=T0))
    keys = sorted(t["root_key"] for t in await tickets(service))
    assert keys == ["device:cam-1", "switch:sw-acc-2"]


# --- hold-down, resolve, reopen ---------------------------------------------------------------------


async def test_hold_down_then_auto_resolve(service: TicketService, clock: FakeClock) -> None:
    a1, a2 = switch_down(), cam_down("cam-1")
    await deliver(service, a1, a2)
    clock.advance(timedelta(minutes=30))
    await deliver(service, resolved(a1, clock.now()))
    await service.tick()
    assert (await only_ticket(service))["state"] == "open"  # cam-1 still firing
    await deliver(service, resolved(a2, clock.now()))
    clock.advance(timedelta(minutes=9, seconds=59))
    await service.tick()
    assert (await only_ticket(service))["state"] == "open"  # inside the hold-down
    clock.advance(timedelta(seconds=1))
    await service.tick()
    t = await only_ticket(service)
    assert t["state"] == "resolved"
    assert t["restored_at"] == "2025-03-01T08:30:00+08:00"
    assert t["history"][-1]["action"] == "resolve"
    assert service.metrics.registry.get_sample_value(
        "sharpeyes_tickets_time_to_repair_seconds_count", {"severity": "critical", "area": "urban"}) == 1


async def test_flapping_inside_hold_down_keeps_ticket_open(service: TicketService, clock: FakeClock) -> None:
    a = cam_down("cam-1")
    await deliver(service, a)
    clock.advance(300)
    await deliver(service, resolved(a, clock.now()))
    clock.advance(300)
    again = cam_down("cam-1", starts=clock.now())  # Prometheus gives a re-fired alert a new startsAt
    await deliver(service, again)
    clock.advance(timedelta(hours=1))
    await service.tick()
    t = await only_ticket(service)
    assert t["state"] == "open" and len(t["alerts"]) == 2


async def test_stale_firing_after_resolved_is_ignored(service: TicketService, clock: FakeClock) -> None:
    a = cam_down("cam-1")
    await deliver(service, a)
    await deliver(service, resolved(a, clock.now()))
    r = await deliver(service, a)  # late retry of the old firing notification
    assert r == {"duplicate": 1}
    assert (await only_ticket(service))["alerts"][0]["status"] == "resolved"


async def test_resolution_carrying_an_earlier_start_resolves_the_episode(service: TicketService,
                                                                         clock: FakeClock) -> None:
    # the trap receiver's copy first; then Prometheus' copy of the same alert, whose rule went pending
    # 10 s before the trap was confirmed: Alertmanager keeps the earlier start for the rest of the episode
    trap = cam_down("cam-1", starts=T0 + timedelta(seconds=10))
    await deliver(service, trap)
    merged = {**trap, "startsAt": T0.isoformat().replace("+00:00", "Z")}
    assert await deliver(service, merged) == {"duplicate": 1}  # not a second alert of the ticket
    clock.advance(timedelta(minutes=1))
    assert await deliver(service, resolved(merged, clock.now())) == {"resolved": 1}
    clock.advance(timedelta(minutes=10))
    await service.tick()
    t = await only_ticket(service)
    assert t["state"] == "resolved" and [a["status"] for a in t["alerts"]] == ["resolved"]


async def test_resolution_of_an_older_episode_leaves_the_firing_one(service: TicketService,
                                                                     clock: FakeClock) -> None:
    clock.advance(timedelta(hours=1))
    now = cam_down("cam-1", starts=clock.now())
    await deliver(service, now)
    old = cam_down("cam-1", starts=T0)  # an episode this service never saw firing, ended long ago
    assert await deliver(service, resolved(old, T0 + timedelta(minutes=5))) == {"ignored": 1}
    assert (await only_ticket(service))["alerts"][0]["status"] == "firing"


async def _resolve_and_close(svc: TicketService, clock: FakeClock, alert: dict[str, Any]) -> int:
    await deliver(svc, alert)
    await deliver(svc, resolved(alert, clock.now()))
    clock.advance(timedelta(minutes=10))
    await svc.tick()
    tid = (await tickets(svc))[0]["id"]
    await svc.act(DISTRICT, tid, "close", {"cause_category": "power", "parts_replaced": ["PoE injector"],
                                            "note": "replaced PoE injector"})
    return tid


async def test_recurrence_within_window_reopens(service: TicketService, clock: FakeClock) -> None:
    tid = await _resolve_and_close(service, clock, cam_down("cam-1"))
    clock.advance(timedelta(hours=5))
    await deliver(service, cam_down("cam-1", starts=clock.now()))
    t = await service.detail(DISTRICT, tid)
    assert t["state"] == "open" and t["reopen_count"] == 1
    assert t["history"][-2]["action"] == "reopen" and t["history"][-2]["detail"]["automatic"] is True
    assert len(await tickets(service)) == 1
    # the new SLA cycle starts at the recurrence
    assert t["sla_start"] == "2025-03-01T13:10:00+08:00"


async def test_recurrence_after_window_is_a_new_ticket(service: TicketService, clock: FakeClock) -> None:
    tid = await _resolve_and_close(service, clock, cam_down("cam-1"))
    clock.advance(timedelta(hours=25))
    await deliver(service, cam_down("cam-1", starts=clock.now()))
    ts = await tickets(service)
    assert len(ts) == 2 and ts[0]["id"] != tid and ts[0]["state"] == "open"


# --- actions -----------------------------------------------------------------------------------------


async def test_lifecycle_actions_record_who_and_when(service: TicketService, clock: FakeClock) -> None:
    a = cam_down("cam-1")
    await deliver(service, a)
    tid = (await tickets(service))[0]["id"]
    ca = Principal("contractor-a", frozenset({"contractor"}), "ct-a")
    clock.advance(600)
    await service.act(ca, tid, "acknowledge", {})
    await service.act(ca, tid, "start", {"note": "dispatching"})
    await service.act(ca, tid, "comment", {"text": "车辆已出发"})
    with pytest.raises(ConflictError):  # still firing
        await service.act(ca, tid, "close", {"cause_category": "fiber", "note": "x"})
    await deliver(service, resolved(a, clock.now()))
    clock.advance(timedelta(minutes=10))
    await service.tick()
    with pytest.raises(RequestError) as e:
        await service.act(ca, tid, "close", {"cause_category": "aliens", "note": "x"})
    assert e.value.field == "cause_category"
    t = await service.act(ca, tid, "close", {"cause_category": "fiber", "parts_replaced": ["SC connector"],
                                             "note": "re-spliced"})
    assert t["state"] == "closed" and t["parts_replaced"] == ["SC connector"]
    steps = [(h["action"], h["actor"], h["to_state"]) for h in t["history"]]
    assert steps == [("open", "system", "open"), ("acknowledge", "contractor-a", "acknowledged"),
                     ("start", "contractor-a", "in_progress"), ("comment", "contractor-a", ""),
                     ("quiet", "system", ""), ("resolve", "system", "resolved"),
                     ("close", "contractor-a", "closed")]
    assert t["history"][1]["at"] == "2025-03-01T08:10:00+08:00"
    with pytest.raises(ConflictError):
        await service.act(ca, tid, "acknowledge", {})
    t = await service.act(DISTRICT, tid, "reopen", {"reason": "camera still black"})
    assert t["state"] == "open" and t["history"][-1]["actor"] == "district-centre"


# --- SLA -----------------------------------------------------------------------------------------------


async def test_sla_deadlines_urban_and_rural(service: TicketService) -> None:
    await deliver(service, cam_down("cam-u"))
    await deliver(service, cam_down("cam-r", labels=cam_labels("cam-r", "sw-r", "fl-r", area="rural")))
    await deliver(service, cam_down("cam-w", severity="warning",
                                    labels=cam_labels("cam-w", "sw-w", "fl-w", area="rural")))
    by_subject = {t["subject"]: t for t in await tickets(service)}
    assert by_subject["cam-u"]["response_due"] == "2025-03-01T10:00:00+08:00"
    assert by_subject["cam-u"]["repair_due"] == "2025-03-02T08:00:00+08:00"
    assert by_subject["cam-r"]["response_due"] == "2025-03-01T10:00:00+08:00"
    assert by_subject["cam-r"]["repair_due"] == "2025-03-03T08:00:00+08:00"
    assert by_subject["cam-w"]["response_due"] == "2025-03-01T12:00:00+08:00"
    assert by_subject["cam-w"]["repair_due"] == "2025-03-04T08:00:00+08:00"


async def test_breach_flags_on_tick(service: TicketService, clock: FakeClock) -> None:
    await deliver(service, cam_down("cam-1"))
    clock.advance(timedelta(hours=2))
    await service.tick()
    t = await only_ticket(service)
    assert not t["response_breached"]  # exactly at the deadline is not late
    clock.advance(timedelta(seconds=1))
    await service.tick()
    await service.tick()  # flagged once only
    t = await only_ticket(service)
    assert t["response_breached"] and not t["repair_breached"]
    assert [h["detail"].get("sla") for h in t["history"] if h["action"] == "breach"] == ["response"]
    clock.advance(timedelta(hours=22))
    await service.tick()
    t = await only_ticket(service)
    assert t["repair_breached"]
    assert [x["id"] for x in await tickets(service, breached=True)] == [t["id"]]
    assert await tickets(service, breached=False) == []


async def test_late_acknowledgement_is_a_breach(service: TicketService, clock: FakeClock) -> None:
    await deliver(service, cam_down("cam-1"))
    tid = (await tickets(service))[0]["id"]
    clock.advance(timedelta(hours=3))
    t = await service.act(DISTRICT, tid, "acknowledge", {})
    assert t["response_breached"]


async def test_escalation_tightens_deadlines(service: TicketService) -> None:
    await deliver(service, switch_down(severity="warning"))
    await deliver(service, cam_down("cam-1", severity="critical"))
    t = await only_ticket(service)
    assert t["severity"] == "critical"
    assert t["response_due"] == "2025-03-01T10:00:00+08:00"


async def test_unprocessable_notification_is_kept_and_retried(
        service: TicketService, monkeypatch: pytest.MonkeyPatch) -> None:
    from sharpeyes.tickets import webhook

    real = webhook.ingest_alert
    calls = {"n": 0}

    def flaky(tx: Any, a: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("bug")
        return real(tx, a)

    monkeypatch.setattr(webhook, "ingest_alert", flaky)
    r = await deliver(service, cam_down("cam-1"))
    assert r == {"deferred": 1}
    assert await tickets(service) == []
    await service.tick()
    assert len(await tickets(service)) == 1
    with service.store.session() as s:
        assert [row.status for row in s.scalars(select(InboxNotification))] == ["processed"]
    assert count(service, Ticket) == 1


async def test_filter_by_device_finds_the_ticket_that_lists_it(service: TicketService) -> None:
    # cam-1 and cam-2 under one switch: the switch ticket lists both; cam-9 elsewhere has its own
    await deliver(service, switch_down("sw-acc-1"), cam_down("cam-1"), cam_down("cam-2"),
                  cam_down("cam-9", labels=cam_labels("cam-9", "sw-acc-2", "fl-2")))
    by_cam2 = await tickets(service, device="cam-2")
    assert [t["root_key"] for t in by_cam2] == ["switch:sw-acc-1"]
    assert [t["root_key"] for t in await tickets(service, device="cam-9")] == ["device:cam-9"]
    assert await tickets(service, device="cam-unknown") == []
