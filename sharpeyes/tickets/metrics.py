"""The service's own metrics on /metrics (prometheus_client, one registry per service).

Counters and histograms are updated as things happen; ticket gauges (open tickets by contractor,
severity and age, current breaches, outbox backlog) are read from the store at each scrape so they
survive restarts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sharpeyes.contract import TICKETS_OPEN, TICKETS_SLA_BREACHED
from sharpeyes.tickets.models import ACTIVE_STATES, CLOSED, MERGED, OutboxMessage, Ticket

AGE_BUCKETS = ((timedelta(hours=2), "0-2h"), (timedelta(hours=24), "2-24h"),
               (timedelta(hours=48), "24-48h"), (timedelta.max, "48h+"))
ACK_BUCKETS = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800)
REPAIR_BUCKETS = (1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800, 259200, 604800)


def age_bucket(age: timedelta) -> str:
    for limit, name in AGE_BUCKETS:
        if age < limit:
            return name
    return AGE_BUCKETS[-1][1]


@dataclass
class Snapshot:
    open: dict[tuple[str, str, str], int] = field(default_factory=dict)
    breached: dict[tuple[str, str, str], int] = field(default_factory=dict)
    outbox_pending: int = 0


def take_snapshot(s: Session, now: datetime) -> Snapshot:
    snap = Snapshot()
    rows = s.execute(select(Ticket.contractor, Ticket.severity, Ticket.sla_start)
                     .where(Ticket.state.in_(ACTIVE_STATES))).all()
    for contractor, severity, start in rows:
        for _, bucket in AGE_BUCKETS:
            snap.open.setdefault((contractor, severity, bucket), 0)
        key = (contractor, severity, age_bucket(now - start))
        snap.open[key] += 1
    not_done = Ticket.state.not_in((CLOSED, MERGED))
    for kind, col in (("response", Ticket.response_breached), ("repair", Ticket.repair_breached)):
        for contractor, severity, n in s.execute(
                select(Ticket.contractor, Ticket.severity, func.count()).where(not_done, col.is_(True))
                .group_by(Ticket.contractor, Ticket.severity)).all():
            snap.breached[(contractor, severity, kind)] = n
    snap.outbox_pending = s.scalar(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.state == "pending")) or 0
    return snap


class _SnapshotCollector(Collector):
    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        g = GaugeMetricFamily(TICKETS_OPEN, "Active tickets (open, acknowledged, in progress).",
                              labels=["contractor", "severity", "age"])
        for (c, sev, age), n in sorted(snap.open.items()):
            g.add_metric([c, sev, age], n)
        yield g
        b = GaugeMetricFamily(TICKETS_SLA_BREACHED,
                              "Tickets not yet closed whose response or repair SLA is breached.",
                              labels=["contractor", "severity", "sla"])
        for (c, sev, kind), n in sorted(snap.breached.items()):
            b.add_metric([c, sev, kind], n)
        yield b
        yield GaugeMetricFamily("sharpeyes_tickets_outbox_pending",
                                "Notifications waiting to be sent or retried.", value=snap.outbox_pending)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.notifications = Counter("sharpeyes_tickets_webhook_notifications",
                                     "Alertmanager notifications received and persisted.", registry=r)
        self.deduplicated = Counter("sharpeyes_tickets_webhook_notifications_deduplicated",
                                    "Notifications that changed nothing (every alert already known).",
                                    registry=r)
        self.alerts = Counter("sharpeyes_tickets_webhook_alerts",
                              "Alerts in notifications by result "
                              "(new, resolved, duplicate, ignored, invalid, deferred).",
                              ["result"], registry=r)
        self.ack = Histogram("sharpeyes_tickets_time_to_acknowledge_seconds",
                             "From the SLA start of a ticket to its acknowledgement.",
                             ["severity", "area"], buckets=ACK_BUCKETS, registry=r)
        self.repair = Histogram("sharpeyes_tickets_time_to_repair_seconds",
                                "From the SLA start of a ticket to service restored.",
                                ["severity", "area"], buckets=REPAIR_BUCKETS, registry=r)
        self.breaches = Counter("sharpeyes_tickets_sla_breaches", "SLA breaches flagged.",
                                ["contractor", "severity", "sla"], registry=r)
        self.sent = Counter("sharpeyes_tickets_notifications_sent", "Notification attempts by channel.",
                            ["channel", "result"], registry=r)
        self.reconciled = Counter("sharpeyes_tickets_alerts_reconciled",
                                  "Alerts resolved because no Alertmanager held them any more and no resolved "
                                  "notification came (resolved while inhibited or silenced).", registry=r)
        self._snapshot = _SnapshotCollector()
        r.register(self._snapshot)

    def set_snapshot(self, snap: Snapshot) -> None:
        self._snapshot.snapshot = snap

    def observe(self, kind: str, value: float, labels: dict[str, str]) -> None:
        if kind == "ack":
            self.ack.labels(labels["severity"], labels["area"]).observe(value)
        elif kind == "repair":
            self.repair.labels(labels["severity"], labels["area"]).observe(value)
        elif kind == "breach":
            self.breaches.labels(labels["contractor"], labels["severity"], labels["sla"]).inc()

    def notification_sent(self, channel: str, result: str) -> None:
        self.sent.labels(channel, result).inc()
