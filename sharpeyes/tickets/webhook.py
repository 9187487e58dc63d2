"""Alertmanager webhook (payload version 4): parsing and idempotent ingestion.

One alert instance is (fingerprint, startsAt): delivering it again changes nothing. A resolved
instance stays resolved (a late duplicate "firing" for the same startsAt is stale); when the alert
fires again Prometheus gives it a new startsAt, so it is a new instance that joins the same ticket
or reopens it. Info alerts open no tickets (severity policy in docs/contract.md); an alert with a missing or
unknown severity counts as warning rather than being dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from sharpeyes.tickets import grouping, lifecycle
from sharpeyes.tickets.config import SEVERITIES
from sharpeyes.tickets.lifecycle import RequestError, Tx
from sharpeyes.tickets.models import Alert

log = logging.getLogger("sharpeyes.tickets.webhook")
# Alertmanager's "no end" time for firing alerts.
_ZERO_YEAR = 1


@dataclass(frozen=True)
class AlertIn:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    fingerprint: str


def _time(value: Any, field: str, required: bool) -> datetime | None:
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str):
        raise RequestError(field, "expected an RFC 3339 time string")
    try:
        d = datetime.fromisoformat(value)
    except ValueError:
        raise RequestError(field, f"invalid RFC 3339 time {value[:40]!r}") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    if d.year <= _ZERO_YEAR:
        if required:
            raise RequestError(field, "zero time")
        return None
    try:  # 9999-12-31T23:59:59-10:00 is past datetime.max once in UTC
        return d.astimezone(UTC)
    except OverflowError:
        raise RequestError(field, f"time out of range {value[:40]!r}") from None


def _str_map(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RequestError(field, "expected an object of strings")
    for k, v in value.items():
        if not isinstance(v, str):
            raise RequestError(f"{field}.{k}", "expected a string")
    return dict(value)


def _fingerprint(labels: dict[str, str]) -> str:
    """Fallback for senders that omit ``fingerprint`` (Alertmanager always sends one)."""
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]


def parse_alert(a: Any, where: str) -> AlertIn:
    if not isinstance(a, dict):
        raise RequestError(where, "expected an object")
    status = a.get("status")
    if status not in ("firing", "resolved"):
        raise RequestError(f"{where}.status", "must be firing or resolved")
    labels = _str_map(a.get("labels"), f"{where}.labels")
    if not labels.get("alertname"):
        raise RequestError(f"{where}.labels.alertname", "required")
    starts = _time(a.get("startsAt"), f"{where}.startsAt", True)
    assert starts is not None
    fp = a.get("fingerprint") or _fingerprint(labels)
    if not isinstance(fp, str) or len(fp) > 64:
        raise RequestError(f"{where}.fingerprint", "expected a string of at most 64 characters")
    return AlertIn(status, labels, _str_map(a.get("annotations"), f"{where}.annotations"), starts,
                   _time(a.get("endsAt"), f"{where}.endsAt", False), fp)


def parse_notification(data: Any) -> list[AlertIn]:
    if not isinstance(data, dict):
        raise RequestError("body", "expected a JSON object (Alertmanager webhook payload)")
    if data.get("version") != "4":
        raise RequestError("version", f"expected \"4\", got {data.get('version')!r}")
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise RequestError("alerts", "expected a list")
    return [parse_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)]


def ingest(tx: Tx, alerts: list[AlertIn]) -> Counter[str]:
    """Apply a notification's alerts; returns counts by result
    (new, resolved, duplicate, ignored, invalid)."""
    counts: Counter[str] = Counter()
    for a in alerts:
        counts[ingest_alert(tx, a)] += 1
    return counts


def severity_of(labels: dict[str, str]) -> str | None:
    """critical and warning open tickets, info does not. Anything else is a rule that breaks the
    severity policy; Alertmanager routes it here so it is not lost: it counts as warning."""
    severity = labels.get("severity", "")
    if severity == "info":
        return None
    return severity if severity in SEVERITIES else "warning"


def _same_episode(tx: Tx, a: AlertIn) -> Alert | None:
    """The firing row this notification continues, though its startsAt differs.

    Alertmanager keeps the earliest startsAt of every copy of an alert it receives. The trap receiver
    posts a confirmed fault at once; when Prometheus' copy of the same alert (same labels) arrives
    later with an earlier start (its rule went pending before the trap was confirmed), every later
    notification of that episode, its resolution included, carries the earlier time. Matched on
    (fingerprint, startsAt) alone, the resolution found nothing and the ticket stayed open for ever.
    A resolution that ended before the firing row started belongs to an older episode."""
    row = tx.session.scalars(select(Alert).where(Alert.fingerprint == a.fingerprint, Alert.status == "firing")
                             .order_by(Alert.starts_at.desc())).first()
    if row is None or (a.status == "resolved" and a.ends_at is not None and a.ends_at < row.starts_at):
        return None
    return row


def ingest_alert(tx: Tx, a: AlertIn) -> str:
    severity = severity_of(a.labels)
    if severity is None:
        return "ignored"
    try:
        key, subject = grouping.root_key(a.labels), grouping.subject(a.labels)
    except grouping.GroupingError as e:
        log.warning("alert %s (%s) ignored: %s", a.labels.get("alertname"), a.fingerprint, e)
        return "invalid"
    row = tx.session.scalars(select(Alert).where(Alert.fingerprint == a.fingerprint,
                                                 Alert.starts_at == a.starts_at)).first()
    if row is None:
        row = _same_episode(tx, a)
    if row is None:
        if a.status == "resolved":
            return "ignored"  # never seen firing (e.g. info before, or a sender replaying old state)
        row = Alert(fingerprint=a.fingerprint, starts_at=a.starts_at, ends_at=None, status="firing",
                    alertname=a.labels["alertname"], severity=severity,
                    scope=a.labels["scope"], root_key=key, subject=subject, labels=a.labels,
                    annotations=a.annotations, first_seen_at=tx.now, last_seen_at=tx.now)
        tx.session.add(row)
        grouping.place_alert(tx, row)
        return "new"
    row.last_seen_at = tx.now
    if row.status == "resolved" or a.status == "firing":
        return "duplicate"
    lifecycle.alert_resolved(tx, row, a.ends_at)
    return "resolved"
