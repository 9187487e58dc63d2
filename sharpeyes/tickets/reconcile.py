"""Reconciliation with Alertmanager: an alert this service holds as firing that no Alertmanager holds
any more is resolved here.

Alertmanager sends a resolved notification only for an alert it notifies; an alert that resolves
while inhibited or silenced is muted at that moment, then dropped from its group, and its resolution
never arrives. A brief monitoring-blind alert (which inhibits every device alert) during a repair
would leave the repaired fault's ticket open forever. So every ``reconcile_interval`` the service
asks each Alertmanager for its active alerts, muted ones included; an alert missing from every
answer on two consecutive rounds is resolved as of the first round that missed it. A round is
skipped when no Alertmanager answered, or when one that answered has been up for less than
``min_uptime`` (after a restart it holds only what was re-sent since).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import aiohttp
from sqlalchemy import select

from sharpeyes.tickets import lifecycle
from sharpeyes.tickets.lifecycle import SYSTEM, Tx
from sharpeyes.tickets.models import Alert, Ticket

if TYPE_CHECKING:
    from sharpeyes.tickets.service import TicketService

log = logging.getLogger("sharpeyes.tickets.reconcile")

ACTIVE_QUERY = "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true"
MAX_ALERTS = 200_000  # an answer longer than this is not believed (and not read further)


class ActiveAlerts(Protocol):
    async def fingerprints(self) -> set[str] | None:
        """Fingerprints every trustworthy Alertmanager holds active; None: no trustworthy answer."""


class AlertmanagerAlerts:
    """The real source: ``GET /api/v2/status`` (uptime) and the active alerts of each URL."""

    def __init__(self, urls: Sequence[str], min_uptime: timedelta, timeout: timedelta) -> None:
        self.urls = list(urls)
        self.min_uptime = min_uptime
        self.timeout = aiohttp.ClientTimeout(total=timeout.total_seconds())

    async def fingerprints(self) -> set[str] | None:
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            answers = await asyncio.gather(*(self._one(session, u) for u in self.urls))
        good = [a for a in answers if a is not None]
        if not good or any(not a[0] for a in good):
            return None
        return set().union(*(a[1] for a in good))

    async def _one(self, session: aiohttp.ClientSession, url: str) -> tuple[bool, set[str]] | None:
        """(up long enough, fingerprints), or None when it could not be asked."""
        try:
            async with session.get(url + "/api/v2/status") as resp:
                status = await resp.json() if resp.status == 200 else None
            async with session.get(url + ACTIVE_QUERY) as resp:
                alerts = await resp.json() if resp.status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("Alertmanager %s could not be asked for its active alerts: %s", url,
                        type(exc).__name__)
            return None
        if not isinstance(status, dict) or not isinstance(alerts, list) or len(alerts) > MAX_ALERTS:
            log.warning("Alertmanager %s gave an answer that is not its status and alert list", url)
            return None
        try:
            started = datetime.fromisoformat(str(status["uptime"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return None
        up = datetime.now(started.tzinfo) - started >= self.min_uptime
        return up, {str(a.get("fingerprint", "")) for a in alerts if isinstance(a, dict)}


class Reconciler:
    def __init__(self, service: TicketService, source: ActiveAlerts) -> None:
        self.service = service
        self.source = source
        self.missing: dict[str, datetime] = {}  # fingerprint -> the round that first missed it

    async def round(self) -> int:
        """One comparison; returns how many alerts it resolved."""
        active = await self.source.fingerprints()  # before the firing list: a webhook between the two
        if active is None:                          # shows as missing once, never twice
            return 0
        firing = await self.service.read(
            lambda s: s.execute(select(Alert.id, Alert.fingerprint).where(Alert.status == "firing")).all())
        now = self.service.clock.now()
        missing: dict[str, datetime] = {}
        gone: dict[int, datetime] = {}
        for alert_id, fp in firing:
            if fp in active:
                continue
            missing[fp] = self.missing.get(fp, now)
            if fp in self.missing:
                gone[alert_id] = self.missing[fp]
        self.missing = missing
        if not gone:
            return 0
        done = await self.service.write(lambda tx: _resolve(tx, gone))
        self.service.metrics.reconciled.inc(done)
        return done


def _resolve(tx: Tx, gone: dict[int, datetime]) -> int:
    n = 0
    for alert_id, since in sorted(gone.items()):
        row = tx.session.get(Alert, alert_id)
        if row is None or row.status != "firing":
            continue  # the resolved notification came after all
        lifecycle.alert_resolved(tx, row, since)
        n += 1
        log.info("alert %s (%s) resolved: no Alertmanager holds it since %s, and no resolved notification came",
                 row.alertname, row.fingerprint, since.isoformat(timespec="seconds"))
        t = tx.session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
        if t is not None:
            lifecycle.record(tx, t, SYSTEM, "reconcile", alertname=row.alertname, fingerprint=row.fingerprint,
                             missing_since=since.isoformat())
    return n


async def run(reconciler: Reconciler, interval: timedelta) -> None:
    while True:
        await asyncio.sleep(interval.total_seconds())
        try:
            await reconciler.round()
        except Exception:
            log.exception("reconciliation with Alertmanager failed")
