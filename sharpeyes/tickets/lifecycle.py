"""Ticket lifecycle: open → acknowledged → in_progress → resolved → closed, reopen, merge.

Field work is recorded on the way: acknowledged, arrived on site (→ in_progress), repaired and
closed by the contractor (review pending), then approved by the supervisor — or rejected, which
puts the ticket back in progress with the reason and the original SLA clocks still running.

Every change goes through ``_set_state`` or ``record`` so the history says who did what and when.
Functions here run inside one store transaction (``Tx``) and never commit themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sharpeyes.tickets import sla
from sharpeyes.tickets.assign import Assignment, assign_from_labels
from sharpeyes.tickets.config import Config
from sharpeyes.tickets.models import (
    ACKNOWLEDGED,
    ACTIVE_STATES,
    CLOSED,
    IN_PROGRESS,
    MERGED,
    OPEN,
    RESOLVED,
    Alert,
    Ticket,
    TicketAncestor,
    TicketEvent,
)
from sharpeyes.tickets.notify.outbox import enqueue

SYSTEM = "system"
CAUSE_CATEGORIES = ("power", "fiber", "switch", "camera", "nvr", "network_config", "theft_vandalism",
                    "weather", "construction", "third_party", "other")

# (from, to) -> action name; anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (OPEN, ACKNOWLEDGED): "acknowledge",
    (OPEN, IN_PROGRESS): "start",
    (ACKNOWLEDGED, IN_PROGRESS): "start",
    **{(s, RESOLVED): "resolve" for s in ACTIVE_STATES},
    **{(s, MERGED): "merge" for s in ACTIVE_STATES},
    **{(s, CLOSED): "close" for s in (RESOLVED, *ACTIVE_STATES)},
    (RESOLVED, OPEN): "reopen",
    (CLOSED, OPEN): "reopen",
    (CLOSED, IN_PROGRESS): "reject",
}
PENDING, APPROVED = "pending", "approved"


class ConflictError(Exception):
    """The action is not allowed in the ticket's state (HTTP 409)."""


class RequestError(ValueError):
    """A request field is missing or invalid (HTTP 400); ``field`` names it. Not a configuration error:
    those are ``sharpeyes.cli.ConfigError``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Tx:
    """One unit of work: a session, the time it happens at, and what to do once it commits."""

    session: Session
    cfg: Config
    now: datetime
    assign: Callable[[Mapping[str, str]], Assignment] = assign_from_labels
    # (histogram, seconds, labels) observed after commit
    observations: list[tuple[str, float, dict[str, str]]] = field(default_factory=list)
    outbox_added: int = 0


def record(tx: Tx, t: Ticket, actor: str, action: str, from_state: str = "", to_state: str = "",
           **detail: Any) -> None:
    tx.session.add(TicketEvent(ticket_id=t.id, at=tx.now, actor=actor, action=action,
                               from_state=from_state, to_state=to_state, detail=detail))
    t.updated_at = tx.now


def _set_state(tx: Tx, t: Ticket, to: str, actor: str, **detail: Any) -> None:
    action = TRANSITIONS.get((t.state, to))
    if action is None:
        raise ConflictError(f"ticket {t.id} is {t.state}; cannot go to {to}")
    record(tx, t, actor, action, t.state, to, **detail)
    t.state = to


def _labels_of(t: Ticket) -> dict[str, str]:
    return {"severity": t.severity, "area": t.area or sla.FALLBACK_AREA, "contractor": t.contractor}


# --- system transitions ------------------------------------------------------------------------


def open_ticket(tx: Tx, alert: Alert, ancestors: list[str]) -> Ticket:
    a = tx.assign(alert.labels)
    response_due, repair_due = sla.deadlines(tx.cfg, alert.severity, a.area, tx.now)
    ann = alert.annotations
    t = Ticket(root_key=alert.root_key, state=OPEN, severity=alert.severity, alertname=alert.alertname,
               title_zh=ann.get("summary_zh", ""), title=ann.get("summary", ""), subject=alert.subject,
               contractor=a.contractor, township=a.township, village=a.village, area=a.area,
               opened_at=tx.now, sla_start=tx.now, response_due=response_due, repair_due=repair_due,
               response_breached=False, repair_breached=False, reopen_count=0, cause_category="",
               parts_replaced=[], repair_note="", updated_at=tx.now, affected=list(a.affected))
    tx.session.add(t)
    tx.session.flush()
    for key in ancestors:
        tx.session.add(TicketAncestor(ticket_id=t.id, key=key))
    alert.ticket_id = t.id
    record(tx, t, SYSTEM, "open", "", OPEN, alert=alert.alertname, subject=alert.subject,
           fingerprint=alert.fingerprint)
    enqueue(tx, t, "opened")
    return t


def attach(tx: Tx, t: Ticket, alert: Alert) -> None:
    alert.ticket_id = t.id
    t.quiet_since = None
    record(tx, t, SYSTEM, "attach", alert=alert.alertname, subject=alert.subject,
           fingerprint=alert.fingerprint)
    _escalate(tx, t, alert.severity)


def _escalate(tx: Tx, t: Ticket, severity: str) -> None:
    """A more severe alert joining tightens the deadlines (never loosens them)."""
    if sla.SEVERITY_RANK.get(severity, 0) <= sla.SEVERITY_RANK.get(t.severity, 0):
        return
    response_due, repair_due = sla.deadlines(tx.cfg, severity, t.area, t.sla_start)
    record(tx, t, SYSTEM, "escalate", severity_from=t.severity, severity_to=severity)
    t.severity = severity
    t.response_due = min(t.response_due, response_due)
    t.repair_due = min(t.repair_due, repair_due)


def merge(tx: Tx, child: Ticket, into: Ticket) -> None:
    """Move a child ticket's alerts to its root-cause ticket; the child ends as ``merged``."""
    tx.session.flush()
    alerts = tx.session.scalars(select(Alert).where(Alert.ticket_id == child.id)).all()
    for a in alerts:
        a.ticket_id = into.id
        _escalate(tx, into, a.severity)
    _set_state(tx, child, MERGED, SYSTEM, into=into.id)
    child.merged_into_id = into.id
    if child.affected:
        into.affected = sorted(set(into.affected or ()) | set(child.affected))
    record(tx, into, SYSTEM, "absorb", child=child.id, child_root_key=child.root_key,
           alerts=len(alerts))
    # The fault was visible since the child opened: the root's clocks start then, and an
    # acknowledgement already given for the child counts for the root.
    if child.sla_start < into.sla_start:
        into.sla_start = child.sla_start
        into.response_due, into.repair_due = sla.deadlines(tx.cfg, into.severity, into.area,
                                                           into.sla_start)
    ack = child.acknowledged_at
    if ack and (into.acknowledged_at is None or ack < into.acknowledged_at):
        into.acknowledged_at = child.acknowledged_at
        if into.state == OPEN:
            _set_state(tx, into, ACKNOWLEDGED, SYSTEM, reason="merged acknowledged ticket", child=child.id)
    if child.response_breached:
        into.response_breached = True
    if firing_alerts(tx, into.id):
        into.quiet_since = None
    enqueue(tx, child, "merged")


def reopen(tx: Tx, t: Ticket, actor: str, reason: str, automatic: bool = False) -> None:
    """Back to open with fresh SLA clocks; the old cycle stays in the history."""
    _set_state(tx, t, OPEN, actor, reason=reason, automatic=automatic,
               previous_resolved_at=_iso(t.resolved_at), previous_closed_at=_iso(t.closed_at))
    t.reopen_count += 1
    t.sla_start = tx.now
    t.response_due, t.repair_due = sla.deadlines(tx.cfg, t.severity, t.area, tx.now)
    t.response_breached = t.repair_breached = False
    t.acknowledged_at = t.started_at = t.quiet_since = t.restored_at = t.resolved_at = t.closed_at = None
    enqueue(tx, t, "reopened")


def alert_resolved(tx: Tx, alert: Alert, ends_at: datetime | None) -> None:
    """An alert resolved; when its ticket has none left firing, the hold-down starts."""
    alert.status = "resolved"
    alert.ends_at = min(ends_at, tx.now) if ends_at else tx.now
    if alert.ticket_id is None:
        return
    t = tx.session.get(Ticket, alert.ticket_id)
    if t is None or t.state not in ACTIVE_STATES:
        return
    tx.session.flush()
    if firing_alerts(tx, t.id) == 0:
        t.quiet_since = alert.ends_at
        record(tx, t, SYSTEM, "quiet", hold_down_s=tx.cfg.hold_down.total_seconds())


def firing_alerts(tx: Tx, ticket_id: int) -> int:
    return tx.session.scalar(select(func.count()).select_from(Alert).where(
        Alert.ticket_id == ticket_id, Alert.status == "firing")) or 0


def tick(tx: Tx) -> None:
    """Hold-down expiry and breach flags; run periodically with the injected clock."""
    s = tx.session
    expired = s.scalars(select(Ticket).where(
        Ticket.state.in_(ACTIVE_STATES), Ticket.quiet_since.is_not(None),
        Ticket.quiet_since <= tx.now - tx.cfg.hold_down).order_by(Ticket.id)).all()
    for t in expired:
        _resolve(tx, t)
    late = s.scalars(select(Ticket).where(
        Ticket.state.in_(ACTIVE_STATES),
        ((Ticket.response_breached.is_(False)) & Ticket.acknowledged_at.is_(None)
         & (Ticket.response_due < tx.now))
        | ((Ticket.repair_breached.is_(False)) & (Ticket.repair_due < tx.now))).order_by(Ticket.id)).all()
    for t in late:
        if not t.response_breached and t.acknowledged_at is None and t.response_due < tx.now:
            _breach(tx, t, "response")
        if not t.repair_breached and sla.repair_breached(t.repair_due, t.quiet_since, tx.now):
            _breach(tx, t, "repair")


def _resolve(tx: Tx, t: Ticket) -> None:
    assert t.quiet_since is not None
    t.restored_at = t.quiet_since
    t.resolved_at = tx.now
    _set_state(tx, t, RESOLVED, SYSTEM, restored_at=_iso(t.restored_at))
    if not t.repair_breached and sla.repair_breached(t.repair_due, t.restored_at, tx.now):
        _breach(tx, t, "repair")
    tx.observations.append(("repair", (t.restored_at - t.sla_start).total_seconds(), _labels_of(t)))
    enqueue(tx, t, "resolved")


def _breach(tx: Tx, t: Ticket, kind: str) -> None:
    if kind == "response":
        t.response_breached = True
    else:
        t.repair_breached = True
    due = t.response_due if kind == "response" else t.repair_due
    record(tx, t, SYSTEM, "breach", sla=kind, due=_iso(due))
    tx.observations.append(("breach", 1, {**_labels_of(t), "sla": kind}))
    enqueue(tx, t, "breached", sla=kind)


def _iso(d: datetime | None) -> str:
    return d.isoformat() if d else ""


# --- user actions ------------------------------------------------------------------------------


def _mark_acknowledged(tx: Tx, t: Ticket) -> None:
    t.acknowledged_at = tx.now
    if not t.response_breached and t.acknowledged_at > t.response_due:
        _breach(tx, t, "response")
    tx.observations.append(("ack", (tx.now - t.sla_start).total_seconds(), _labels_of(t)))


def acknowledge(tx: Tx, t: Ticket, actor: str, note: str = "") -> None:
    _set_state(tx, t, ACKNOWLEDGED, actor, note=note)
    _mark_acknowledged(tx, t)


def start(tx: Tx, t: Ticket, actor: str, note: str = "") -> None:
    _set_state(tx, t, IN_PROGRESS, actor, note=note)
    t.started_at = tx.now
    if t.acknowledged_at is None:
        _mark_acknowledged(tx, t)


def comment(tx: Tx, t: Ticket, actor: str, text: str) -> None:
    if t.state == MERGED:
        raise ConflictError(f"ticket {t.id} was merged into ticket {t.merged_into_id}; comment there")
    record(tx, t, actor, "comment", text=text)


def close(tx: Tx, t: Ticket, actor: str, cause_category: str, parts_replaced: list[str], note: str) -> None:
    """Closed with a repair note; only once no alert of the ticket is firing."""
    if cause_category not in CAUSE_CATEGORIES:
        raise RequestError("cause_category", f"must be one of {', '.join(CAUSE_CATEGORIES)}")
    if t.state in ACTIVE_STATES and firing_alerts(tx, t.id):
        raise ConflictError(f"ticket {t.id} still has firing alerts; it can be closed once they resolve")
    if t.state in ACTIVE_STATES:
        t.restored_at = t.restored_at or t.quiet_since or tx.now
        t.resolved_at = t.resolved_at or tx.now
    _set_state(tx, t, CLOSED, actor, cause_category=cause_category, parts_replaced=parts_replaced,
               note=note)
    t.closed_at = tx.now
    t.review, t.approved_at = PENDING, None
    t.cause_category, t.parts_replaced, t.repair_note = cause_category, list(parts_replaced), note
    enqueue(tx, t, "closed")


def arrive(tx: Tx, t: Ticket, actor: str, note: str = "") -> None:
    """The technician is on site: the ticket is in progress from now (acknowledged if it was not)."""
    if t.state not in ACTIVE_STATES:
        raise ConflictError(f"ticket {t.id} is {t.state}; arrival is recorded on an active ticket")
    if t.arrived_at is not None:
        raise ConflictError(f"ticket {t.id}: arrival already recorded")
    if t.state != IN_PROGRESS:
        start(tx, t, actor, note)
    t.arrived_at = tx.now
    record(tx, t, actor, "arrive", note=note)


def assign(tx: Tx, t: Ticket, actor: str, assignee: str) -> None:
    if t.state == MERGED:
        raise ConflictError(f"ticket {t.id} was merged into ticket {t.merged_into_id}")
    record(tx, t, actor, "assign", assignee=assignee, previous=t.assignee)
    t.assignee = assignee


def approve(tx: Tx, t: Ticket, actor: str, note: str = "") -> None:
    if t.state != CLOSED or t.review != PENDING:
        raise ConflictError(f"ticket {t.id} has no closure waiting for approval")
    t.review, t.approved_at = APPROVED, tx.now
    record(tx, t, actor, "approve", note=note)


def reject(tx: Tx, t: Ticket, actor: str, reason: str) -> None:
    """The supervisor refuses the closure: back in progress, the SLA clocks of the fault keep running."""
    if t.state != CLOSED or t.review != PENDING:
        raise ConflictError(f"ticket {t.id} has no closure waiting for approval")
    _set_state(tx, t, IN_PROGRESS, actor, reason=reason, previous_closed_at=_iso(t.closed_at))
    t.review, t.closed_at = "", None
    enqueue(tx, t, "rejected", reason=reason)
