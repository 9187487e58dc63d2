"""The outbox: notifications are rows written in the ticket's own transaction, sent afterwards.

A channel that is down never blocks or rolls back a ticket change; its messages wait with
exponential backoff (``outbox.backoff_initial`` doubling up to ``backoff_max``) and are marked
``dead`` after ``outbox.max_attempts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from sharpeyes.tickets.models import OutboxMessage, Ticket
from sharpeyes.tickets.views import ticket_summary

if TYPE_CHECKING:
    from sharpeyes.tickets.clock import Clock
    from sharpeyes.tickets.config import Config
    from sharpeyes.tickets.lifecycle import Tx
    from sharpeyes.tickets.metrics import Metrics
    from sharpeyes.tickets.notify.channels import Channel
    from sharpeyes.tickets.store import Store

log = logging.getLogger("sharpeyes.tickets.outbox")
BATCH = 100


def enqueue(tx: Tx, t: Ticket, event: str, **extra: Any) -> None:
    channels = [c for c in tx.cfg.channels if event in c.events]
    if not channels:
        return
    tx.session.flush()
    payload = {"event": event, "ticket": ticket_summary(t, tx.cfg.tz), "extra": extra,
               "url": ticket_url(tx.cfg.web.base_url, t.id)}
    for c in channels:
        tx.session.add(OutboxMessage(channel=c.name, event=event, ticket_id=t.id, payload=payload,
                                     state="pending", created_at=tx.now, next_attempt_at=tx.now,
                                     attempts=0, last_error=""))
        tx.outbox_added += 1


def ticket_url(base_url: str, ticket_id: int) -> str:
    """The ticket's page in the web app ("" when no base URL is configured)."""
    return f"{base_url}/app/t/{ticket_id}" if base_url else ""


def backoff(cfg: Config, attempts: int) -> timedelta:
    first = cfg.outbox.backoff_initial.total_seconds()
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), cfg.outbox.backoff_max.total_seconds()))


@dataclass
class _Result:
    id: int
    channel: str
    error: str


class OutboxWorker:
    def __init__(self, store: Store, cfg: Config, clock: Clock, channels: dict[str, Channel],
                 metrics: Metrics | None = None) -> None:
        self.store, self.cfg, self.clock, self.channels, self.metrics = store, cfg, clock, channels, metrics
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def _due(self, now: datetime) -> list[tuple[int, str, dict[str, Any]]]:
        with self.store.session() as s:
            rows = s.execute(select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.payload)
                             .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
                             .order_by(OutboxMessage.id).limit(BATCH)).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def _finish(self, results: list[_Result], now: datetime) -> None:
        with self.store.transaction() as s:
            for r in results:
                m = s.get(OutboxMessage, r.id)
                if m is None:
                    continue
                m.attempts += 1
                if not r.error:
                    m.state, m.sent_at, m.last_error = "sent", now, ""
                elif m.attempts >= self.cfg.outbox.max_attempts or r.channel not in self.channels:
                    m.state, m.last_error = "dead", r.error
                    log.error("notification %s via %s given up after %d attempts: %s",
                              m.id, m.channel, m.attempts, r.error)
                else:
                    m.last_error = r.error
                    m.next_attempt_at = now + backoff(self.cfg, m.attempts)

    async def _send(self, msg_id: int, channel: str, payload: dict[str, Any]) -> _Result:
        ch = self.channels.get(channel)
        if ch is None:
            return _Result(msg_id, channel, f"channel {channel!r} is no longer configured")
        try:
            await asyncio.wait_for(ch.send(payload), ch.timeout)
            error = ""
        except TimeoutError:
            error = f"timeout after {ch.timeout:g}s"
        except Exception as e:  # a channel must never take the worker down
            error = f"{e.__class__.__name__}: {e}"[:500]
        if self.metrics is not None:
            self.metrics.notification_sent(channel, "error" if error else "ok")
        if error:
            log.warning("notification %s via %s failed: %s", msg_id, channel, error)
        return _Result(msg_id, channel, error)

    async def deliver_due(self) -> int:
        """Send every message that is due now; returns how many were sent successfully."""
        now = self.clock.now()
        due = await asyncio.to_thread(self._due, now)
        if not due:
            return 0
        results = await asyncio.gather(*(self._send(*d) for d in due))
        await asyncio.to_thread(self._finish, list(results), self.clock.now())
        return sum(1 for r in results if not r.error)

    def pending(self) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.state == "pending")) or 0

    async def run(self) -> None:
        interval = self.cfg.outbox.poll_interval.total_seconds()
        while True:
            try:
                await self.deliver_due()
            except Exception:
                log.exception("outbox pass failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
