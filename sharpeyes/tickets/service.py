"""The ticket service: one writer thread over the store, queries, actions and the periodic tick.

All writes run on a single thread, one transaction each, so grouping decisions see every ticket
opened before them (on PostgreSQL an advisory lock extends that across processes). Reads run on
other threads; SQLite in WAL mode and PostgreSQL both let them proceed alongside the writer.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Text, select
from sqlalchemy import cast as sa_cast
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from sharpeyes.tickets import lifecycle, webhook
from sharpeyes.tickets.assign import Assignment, assign_from_labels
from sharpeyes.tickets.auth import Principal
from sharpeyes.tickets.clock import Clock, SystemClock
from sharpeyes.tickets.config import SEVERITIES, Config
from sharpeyes.tickets.lifecycle import RequestError, Tx
from sharpeyes.tickets.metrics import Metrics, take_snapshot
from sharpeyes.tickets.models import (
    MANAGER,
    MERGED,
    STATES,
    TECHNICIAN,
    Alert,
    InboxNotification,
    Photo,
    Ticket,
    TicketEvent,
    User,
)
from sharpeyes.tickets.scope import may, scoped
from sharpeyes.tickets.store import Store
from sharpeyes.tickets.views import alert_view, event_view, iso, ticket_summary

T = TypeVar("T")
log = logging.getLogger("sharpeyes.tickets")
MAX_INBOX_ATTEMPTS = 5
MAX_OFFSET_DIGITS = 12
# Alerts applied per write transaction: a storm notification must not hold the single writer
# (measured: 10,000 alerts held it for 105 s in one transaction on a loaded 2-core machine).
INGEST_BATCH = 200
# A notification still "processing" after this was interrupted (crash): the tick re-applies it.
STALE_PROCESSING = timedelta(minutes=10)


def _unreachable(e: DBAPIError) -> bool:
    return bool(e.connection_invalidated) or e.__class__.__name__ in ("OperationalError", "InterfaceError")


def _set_inbox(tx: Tx, inbox_id: int, status: str, error: str) -> None:
    row = tx.session.get(InboxNotification, inbox_id)
    if row is not None:
        row.status, row.error = status, error[:2000]


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
            raise RequestError(key, f"unknown query parameter (allowed: {', '.join(FILTER_KEYS)})")
    states = tuple(s for s in q.get("state", "").split(",") if s)
    for s in states:
        if s not in STATES:
            raise RequestError("state", f"must be one of {', '.join(STATES)}, got {s!r}")
    severity = q.get("severity", "")
    if severity and severity not in SEVERITIES:
        raise RequestError("severity", f"must be one of {', '.join(SEVERITIES)}")
    breached_s = q.get("breached", "")
    if breached_s not in ("", "true", "false"):
        raise RequestError("breached", "must be true or false")
    breached = None if not breached_s else breached_s == "true"
    out = []
    for key, default in (("limit", 100), ("offset", 0)):
        raw = q.get(key, str(default))
        # ASCII digits only ("²".isdigit() is true), and small enough for a 64-bit SQL column
        if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_OFFSET_DIGITS:
            raise RequestError(key, f"expected a non-negative integer of at most {MAX_OFFSET_DIGITS} digits")
        out.append(int(raw))
    if not 1 <= out[0] <= max_limit:
        raise RequestError("limit", f"must be between 1 and {max_limit}")
    device = q.get("device", "")
    if len(device) > 200:
        raise RequestError("device", "too long (at most 200 characters)")
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
        """Persist the raw notification and apply it: in one transaction, or in batches of
        INGEST_BATCH alerts when it is larger (see _ingest_batched).

        A database that cannot be reached raises (the caller answers 503 and Alertmanager retries).
        Any other failure still stores the raw notification as ``failed`` and answers normally;
        the periodic tick retries it, so nothing is lost to a bug in processing either.
        """

        def apply(tx: Tx) -> Counter[str]:
            tx.session.add(InboxNotification(received_at=tx.now, body=body, status="processed",
                                             attempts=1, error=""))
            return webhook.ingest(tx, alerts)

        try:
            if len(alerts) > INGEST_BATCH:
                counts = await self._ingest_batched(body, alerts)
            else:
                counts = await self.write(apply)
        except DBAPIError as e:
            if _unreachable(e):
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

    async def _ingest_batched(self, body: str, alerts: list[webhook.AlertIn]) -> Counter[str]:
        """A storm notification (thousands of alerts) applied in batches, one transaction each, so
        that other notifications and contractors' actions get the single writer in between
        instead of waiting for the whole storm. The raw body is stored first as ``processing``;
        a batch that fails marks it ``failed``, and one left ``processing`` by a crash is picked
        up after STALE_PROCESSING: the tick then re-applies the whole body, which is safe because
        ingestion is idempotent per (fingerprint, startsAt)."""

        def store(tx: Tx) -> int:
            row = InboxNotification(received_at=tx.now, body=body, status="processing", attempts=1, error="")
            tx.session.add(row)
            tx.session.flush()
            return row.id

        inbox_id = await self.write(store)
        counts: Counter[str] = Counter()
        try:
            for i in range(0, len(alerts), INGEST_BATCH):
                batch = alerts[i : i + INGEST_BATCH]
                counts.update(await self.write(functools.partial(webhook.ingest, alerts=batch)))
        except Exception as e:
            if isinstance(e, DBAPIError) and _unreachable(e):
                raise
            log.error("notification stored unprocessed: %s: %s", e.__class__.__name__, e)
            why = f"{e.__class__.__name__}: {e}"
            await self.write(lambda tx: _set_inbox(tx, inbox_id, "failed", why))
            counts["deferred"] += 1
            return counts
        await self.write(lambda tx: _set_inbox(tx, inbox_id, "processed", ""))
        return counts

    async def _store_failed(self, body: str, error: Exception) -> Counter[str]:
        log.error("notification stored unprocessed: %s: %s", error.__class__.__name__, error)

        def keep(tx: Tx) -> None:
            tx.session.add(InboxNotification(received_at=tx.now, body=body, status="failed", attempts=1,
                                             error=f"{error.__class__.__name__}: {error}"[:2000]))

        await self.write(keep)
        return Counter({"deferred": 1})

    def _retry_failed_inbox(self, tx: Tx) -> int:
        stale = tx.now - STALE_PROCESSING
        rows = tx.session.scalars(select(InboxNotification).where(
            (InboxNotification.status == "failed")
            | ((InboxNotification.status == "processing") & (InboxNotification.received_at < stale)),
            InboxNotification.attempts < MAX_INBOX_ATTEMPTS)
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
        q = scoped(select(Ticket), principal)
        if not principal.is_district:
            if f.contractor and f.contractor != principal.contractor:
                raise Forbidden("contractor: a contractor sees only its own tickets")
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
        t = s.scalar(scoped(select(Ticket).where(Ticket.id == ticket_id), principal))
        if t is None:
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
        out["photos"] = [{"id": r.id, "kind": r.kind, "size": r.size, "content_type": r.content_type,
                          "uploaded_by": r.uploaded_by, "uploaded_at": iso(r.uploaded_at, self.cfg.tz)}
                         for r in s.scalars(select(Photo).where(Photo.ticket_id == t.id).order_by(Photo.id))]
        return out

    async def detail(self, principal: Principal, ticket_id: int) -> dict[str, Any]:
        return await self.read(lambda s: self._detail(s, principal, ticket_id))

    @staticmethod
    def _assignee(s: Session, t: Ticket, username: str) -> str:
        """"" unassigns; otherwise an active technician or manager of the ticket's contractor."""
        if not username:
            return ""
        u = s.scalar(select(User).where(User.username == username))
        if u is None or not u.active or u.contractor != t.contractor or u.role not in (TECHNICIAN, MANAGER):
            raise RequestError("assignee", f"no active technician {username!r} at contractor {t.contractor!r}")
        return u.username

    # --- actions -------------------------------------------------------------------------------

    async def act(self, principal: Principal, ticket_id: int, action: str,
                  body: dict[str, Any]) -> dict[str, Any]:
        if not may(principal, action):
            raise Forbidden(f"{principal.name!r} may not {action} tickets")

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
            elif action == "arrive":
                lifecycle.arrive(tx, t, who, body.get("note", ""))
            elif action == "approve":
                lifecycle.approve(tx, t, who, body.get("note", ""))
            elif action == "reject":
                lifecycle.reject(tx, t, who, body["reason"])
            elif action == "assign":
                lifecycle.assign(tx, t, who, self._assignee(tx.session, t, body.get("assignee", "")))
            else:
                raise RequestError("action", f"unknown action {action!r}")

        await self.write(run)
        return await self.detail(principal, ticket_id)
