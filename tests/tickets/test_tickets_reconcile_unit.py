"""The reconciler's rules, with a fake list of Alertmanager's active alerts: two missed rounds resolve
an alert as of the first; an alert seen again is not resolved; no trustworthy answer changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from sharpeyes.tickets.auth import Principal
from sharpeyes.tickets.clock import FakeClock
from sharpeyes.tickets.models import Alert
from sharpeyes.tickets.reconcile import AlertmanagerAlerts, Reconciler
from sharpeyes.tickets.service import Filters, TicketService
from tests.runnet import free_port
from tests.tickets.tickets_testlib import cam_down, deliver

DISTRICT = Principal("district-centre", frozenset({"district"}))


class Active:
    def __init__(self) -> None:
        self.answer: set[str] | None = set()

    async def fingerprints(self) -> set[str] | None:
        return self.answer


async def _firing(svc: TicketService) -> list[str]:
    return list(await svc.read(lambda s: s.scalars(select(Alert.fingerprint).where(Alert.status == "firing")).all()))


async def test_two_missed_rounds_resolve_as_of_the_first(service: TicketService, clock: FakeClock) -> None:
    a, b = cam_down("cam-1"), cam_down("cam-2")
    await deliver(service, a, b)
    am = Active()
    am.answer = {b["fingerprint"]}
    rec = Reconciler(service, am)
    assert await rec.round() == 0  # missed once: perhaps a notification on its way
    first = clock.now()
    clock.advance(timedelta(minutes=2))
    assert await rec.round() == 1
    assert await _firing(service) == [b["fingerprint"]]
    clock.advance(timedelta(minutes=10))
    await service.tick()  # hold-down counted from the first missed round
    states = {t["root_key"]: (t["state"], t["restored_at"]) for t in await service.list_tickets(DISTRICT, Filters())}
    assert states["device:cam-1"] == ("resolved", first.astimezone(service.cfg.tz).isoformat())
    assert states["device:cam-2"][0] == "open"
    assert service.metrics.registry.get_sample_value("sharpeyes_tickets_alerts_reconciled_total") == 1
    history = (await service.detail(DISTRICT, 1))["history"]
    assert [e["action"] for e in history if e["action"] == "reconcile"] == ["reconcile"]


async def test_seen_again_or_no_answer_resolves_nothing(service: TicketService, clock: FakeClock) -> None:
    a = cam_down("cam-1")
    await deliver(service, a)
    am = Active()
    rec = Reconciler(service, am)
    assert await rec.round() == 0  # missed
    am.answer = {a["fingerprint"]}
    assert await rec.round() == 0  # back: the count starts again
    am.answer = None
    for _ in range(3):
        assert await rec.round() == 0  # no trustworthy Alertmanager: no conclusion
    assert await _firing(service) == [a["fingerprint"]]


def test_unreachable_alertmanager_is_no_answer() -> None:
    dead = AlertmanagerAlerts([f"http://127.0.0.1:{free_port()}"], timedelta(0), timedelta(seconds=2))
    assert asyncio.run(dead.fingerprints()) is None
