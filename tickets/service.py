"""The ticket service: one writer thread over the store, queries, actions and the periodic tick.

All writes run on a single thread, one transaction each, so grouping decisions see every ticket
opened before them (on PostgreSQL an advisory lock extends that across processes). Reads run on
other threads; SQLite in WAL mode and PostgreSQL both let them proceed alongside the writer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Text, select
from sqlalchemy import cast as sa_cast
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tickets import lifecycle, webhook
from tickets.assign import Assignment, assign_from_labels
from tickets.auth import Principal
from tickets.clock import Clock, SystemClock
from tickets.config import SEVERITIES, Config
from tickets.lifecycle import FieldError, Tx
from tickets.metrics import Metrics, take_snapshot
from tickets.models import MERGED, STATES, Alert, InboxNotification, Ticket, TicketEvent
from tickets.store import Store
from tickets.views import alert_view, event_view, ticket_summary

T = TypeVar("T")
log = logging.getLogger("sharpeyes.tickets")
MAX_INBOX_ATTEMPTS = 5


class NotFound(Exception):
    pass


class Forbidden(Exception):
    pass


@dataclass(frozen=True)
class Filters:
    states: tuple[str, ...] = ()
    contractor: str = ""
    township: str = ""
    severity: str = ""
    breached: bool | None = None
    device: str = ""  # tickets listing this device among their affected devices
    limit: int = 100
    offset: int = 0


FILTER_KEYS = ("state", "contractor", "township", "severity", "breached", "device", "limit", "offset")


def parse_filters(q: Mapping[str, str], max_limit: int = 1000) -> Filters:
    for key in q:
        if key not in FILTER_KEYS:
            raise FieldError(key, f"unknown query parameter (allowed: {', '.join(FILTER_KEYS)})")
    states = tuple(s for s in q.get("state", "").split(",") if s)
    for s in states:
        if s not in STATES:
            raise FieldError("state", f"must be one of {', '.join(STATES)}, got {s!r}")
    severity = q.get("severity", "")
    if severity and severity not in SEVERITIES:
        raise FieldError("severity", f"must be one of {', '.join(SEVERITIES)}")
    breached_s = q.get("breached", "")
    if breached_s not in ("", "true", "false"):
        raise FieldError("breached", "must be true or false")
    breached = None if not breached_s else breached_s == "true"
    out = []
    for key, default in (("limit", 100), ("offset", 0)):
        raw = q.get(key, str(default))
        if not raw.isdigit():
            raise FieldError(key, "expected a non-negative integer")
        out.append(int(raw))
    if not 1 <= out[0] <= max_limit:
        raise FieldError("limit", f"must be between 1 and {max_limit}")
    device = q.get("device", "")
    if len(device) > 200:
        raise FieldError("device", "too long (at most 200 characters)")
    return Filters(states, q.get("contractor", ""), q.get("township", ""), severity, breached, device,
                   out[0], out[1])


class TicketService:
    def __init__(self, cfg: Config, store: Store, clock: Clock | None = None,
                 assign: Callable[[Mapping[str, str]], Assignment] = assign_from_labels,
                 metrics: Metrics | None = None) -> None:
        self.cfg, self.store, self.assign = cfg, store, assign
        self.clock: Clock = clock or SystemClock()
        self.metrics = metrics or Metrics()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="tickets-writer")
        self.on_outbox: Callable[[], None] | None = None

    def close(self) -> None:
        self._writer.shutdown(wait=True)

    # --- plumbing ------------------------------------------------------------------------------

    def _write_sync(self, fn: Callable[[Tx], T]) -> tuple[T, Tx]:
        with self.store.transaction() as s:
            tx = Tx(s, self.cfg, self.clock.now(), self.assign)
            result = fn(tx)
        for kind, value, labels in tx.observations:
            self.metrics.observe(kind, value, labels)
        return result, tx

    async def write(self, fn: Callable[[Tx], T]) -> T:
        result, tx = await asyncio.get_running_loop().run_in_executor(self._writer, self._write_sync, fn)
        if tx.outbox_added and self.on_outbox is not None:
            self.on_outbox()
        return result

    def _read_sync(self, fn: Callable[[Session], T]) -> T:
        with self.store.session() as s:
            return fn(s)

    async def read(self, fn: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self._read_sync, fn)

    # --- webhook -------------------------------------------------------------------------------

    async def ingest(self, body: str, alerts: list[webhook.AlertIn]) -> dict[str, int]:
        """Persist the raw notification and apply it in one transaction.

        A database that cannot be reached raises (the caller answers 503 and Alertmanager retries).
        Any other failure still stores the raw notification as ``failed`` and answers normally;
        the periodic tick retries it, so nothing is lost to a bug in processing either.
        """

        def apply(tx: Tx) -> Counter[str]:
            tx.session.add(InboxNotification(received_at=tx.now, body=body, status="processed",
                                             attempts=1, error=""))
            return webhook.ingest(tx, alerts)

        try:
            counts = await self.write(apply)
        except DBAPIError as e:
            if e.connection_invalidated or e.__class__.__name__ in ("OperationalError", "InterfaceError"):
                raise
            counts = await self._store_failed(body, e)
        except Exception as e:
            counts = await self._store_failed(body, e)
        self.metrics.notifications.inc()
        for result, n in counts.items():
            self.metrics.alerts.labels(result).inc(n)
        if alerts and counts.get("duplicate", 0) == len(alerts):
            self.metrics.deduplicated.inc()
        return dict(counts)

    async def _store_failed(self, body: str, error: Exception) -> Counter[str]:
        log.error("notification stored unprocessed: %s: %s", error.__class__.__name__, error)

        def keep(tx: Tx) -> None:
            tx.session.add(InboxNotification(received_at=tx.now, body=body, status="failed", attempts=1,
                                             error=f"{error.__class__.__name__}: {error}"[:2000]))

        await self.write(keep)
        return Counter({"deferred": 1})

    def _retry_failed_inbox(self, tx: Tx) -> int:
        rows = tx.session.scalars(select(InboxNotification).where(
            InboxNotification.status == "failed", InboxNotification.attempts < MAX_INBOX_ATTEMPTS)
            .order_by(InboxNotification.id).limit(50)).all()
        done = 0
        for row in rows:
            row.attempts += 1
            try:
                with tx.session.begin_nested():
                    webhook.ingest(tx, webhook.parse_notification(json.loads(row.body)))
                row.status, row.error = "processed", ""
                done += 1
            except Exception as e:
                row.error = f"{e.__class__.__name__}: {e}"[:2000]
        return done

    # --- periodic ------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Hold-down expiry, breach flags, and retry of notifications stored unprocessed."""

        def run(tx: Tx) -> None:
            self._retry_failed_inbox(tx)
            lifecycle.tick(tx)

        await self.write(run)

    async def run_ticks(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("periodic tick failed")
            await asyncio.sleep(self.cfg.tick_interval.total_seconds())

    async def refresh_metrics(self) -> None:
        now = self.clock.now()
        self.metrics.set_snapshot(await self.read(lambda s: take_snapshot(s, now)))

    # --- queries -------------------------------------------------------------------------------

    @staticmethod
    def _devices(s: Session, tickets: Sequence[Ticket]) -> dict[int, list[str]]:
        """Affected devices per ticket: its alerts' subjects plus what the inventory puts behind its root."""
        out: dict[int, set[str]] = {t.id: set(t.affected or ()) for t in tickets}
        ids = list(out)
        for i in range(0, len(ids), 500):
            for tid, subj in s.execute(select(Alert.ticket_id, Alert.subject)
                                       .where(Alert.ticket_id.in_(ids[i:i + 500]))).all():
                if tid is not None:
                    out[tid].add(subj)
        return {k: sorted(v) for k, v in out.items()}

    def _query(self, principal: Principal, f: Filters) -> Any:
        q = select(Ticket)
        if not principal.is_district:
            if f.contractor and f.contractor != principal.contractor:
                raise Forbidden("contractor: a contractor token sees only its own tickets")
            q = q.where(Ticket.contractor == principal.contractor)
        elif f.contractor:
            q = q.where(Ticket.contractor == f.contractor)
        q = q.where(Ticket.state.in_(f.states)) if f.states else q.where(Ticket.state != MERGED)
        if f.township:
            q = q.where(Ticket.township == f.township)
        if f.severity:
            q = q.where(Ticket.severity == f.severity)
        if f.device:  # listed by an alert, or behind the root per the inventory (JSON text match, then exact)
            q = q.where(Ticket.id.in_(select(Alert.ticket_id).where(Alert.subject == f.device))
                        | sa_cast(Ticket.affected, Text).contains(f'"{f.device}"'))
        if f.breached is not None:
            either = Ticket.response_breached.is_(True) | Ticket.repair_breached.is_(True)
            q = q.where(either if f.breached else ~either)
        return q.order_by(Ticket.id.desc())

    async def list_tickets(self, principal: Principal, f: Filters) -> list[dict[str, Any]]:
        q = self._query(principal, f).limit(f.limit).offset(f.offset)

        def run(s: Session) -> list[dict[str, Any]]:
            tickets = s.scalars(q).all()
            devices = self._devices(s, tickets)
            return [ticket_summary(t, self.cfg.tz, devices[t.id]) for t in tickets]

        return await self.read(run)

    def export_sync(self, principal: Principal, f: Filters) -> list[dict[str, Any]]:
        q = self._query(principal, f)
        with self.store.session() as s:
            tickets = s.scalars(q).all()
            devices = self._devices(s, tickets)
            return [ticket_summary(t, self.cfg.tz, devices[t.id]) for t in tickets]

    async def export(self, principal: Principal, f: Filters) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.export_sync, principal, f)

    def _visible(self, s: Session, principal: Principal, ticket_id: int) -> Ticket:
        t = s.get(Ticket, ticket_id)
        if t is None or not principal.can_see(t.contractor):
            raise NotFound(f"ticket {ticket_id} not found")
        return t

    def _detail(self, s: Session, principal: Principal, ticket_id: int) -> dict[str, Any]:
        t = self._visible(s, principal, ticket_id)
        alerts = s.scalars(select(Alert).where(Alert.ticket_id == t.id).order_by(Alert.id)).all()
        events = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                           .order_by(TicketEvent.id)).all()
        out = ticket_summary(t, self.cfg.tz, sorted({a.subject for a in alerts} | set(t.affected or ())))
        out["alerts"] = [alert_view(a, self.cfg.tz) for a in alerts]
        out["history"] = [event_view(e, self.cfg.tz) for e in events]
        return out

    async def detail(self, principal: Principal, ticket_id: int) -> dict[str, Any]:
        return await self.read(lambda s: self._detail(s, principal, ticket_id))

    # --- actions -------------------------------------------------------------------------------

    async def act(self, principal: Principal, ticket_id: int, action: str,
                  body: dict[str, Any]) -> dict[str, Any]:
        if not (principal.is_district or "contractor" in principal.roles):
            raise Forbidden("this token may not act on tickets")

        def run(tx: Tx) -> None:
            t = self._visible(tx.session, principal, ticket_id)
            who = principal.name
            if action == "acknowledge":
                lifecycle.acknowledge(tx, t, who, body.get("note", ""))
            elif action == "start":
                lifecycle.start(tx, t, who, body.get("note", ""))
            elif action == "comment":
                lifecycle.comment(tx, t, who, body["text"])
            elif action == "close":
                lifecycle.close(tx, t, who, body["cause_category"], body.get("parts_replaced", []),
                                body["note"])
            elif action == "reopen":
                lifecycle.reopen(tx, t, who, body["reason"])
            else:
                raise FieldError("action", f"unknown action {action!r}")

        await self.write(run)
        return await self.detail(principal, ticket_id)
