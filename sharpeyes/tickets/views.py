"""Ticket, alert and event representations for the API, notifications and CSV export.

Times are ISO 8601 in the district's time zone (``2025-03-01T08:00:00+08:00``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sharpeyes.tickets.models import Alert, Ticket, TicketEvent


def iso(d: datetime | None, tz: ZoneInfo) -> str | None:
    return d.astimezone(tz).isoformat() if d else None


def ticket_summary(t: Ticket, tz: ZoneInfo, devices: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.id, "state": t.state, "severity": t.severity, "root_key": t.root_key,
        "alertname": t.alertname, "title_zh": t.title_zh, "title": t.title, "subject": t.subject,
        "contractor": t.contractor, "township": t.township, "village": t.village, "area": t.area,
        "opened_at": iso(t.opened_at, tz), "sla_start": iso(t.sla_start, tz),
        "acknowledged_at": iso(t.acknowledged_at, tz), "started_at": iso(t.started_at, tz),
        "restored_at": iso(t.restored_at, tz), "resolved_at": iso(t.resolved_at, tz),
        "closed_at": iso(t.closed_at, tz), "response_due": iso(t.response_due, tz),
        "repair_due": iso(t.repair_due, tz), "response_breached": t.response_breached,
        "repair_breached": t.repair_breached, "breached": t.response_breached or t.repair_breached,
        "merged_into": t.merged_into_id, "reopen_count": t.reopen_count,
        "cause_category": t.cause_category, "parts_replaced": list(t.parts_replaced or []),
        "repair_note": t.repair_note, "updated_at": iso(t.updated_at, tz),
        "assignee": t.assignee, "arrived_at": iso(t.arrived_at, tz), "review": t.review,
        "approved_at": iso(t.approved_at, tz),
    }
    if devices is not None:
        out["devices"] = devices
    return out


def alert_view(a: Alert, tz: ZoneInfo) -> dict[str, Any]:
    return {"fingerprint": a.fingerprint, "status": a.status, "alertname": a.alertname,
            "severity": a.severity, "scope": a.scope, "root_key": a.root_key, "subject": a.subject,
            "starts_at": iso(a.starts_at, tz), "ends_at": iso(a.ends_at, tz), "labels": a.labels,
            "annotations": a.annotations}


def event_view(e: TicketEvent, tz: ZoneInfo) -> dict[str, Any]:
    return {"at": iso(e.at, tz), "actor": e.actor, "action": e.action, "from_state": e.from_state,
            "to_state": e.to_state, "detail": e.detail}


CSV_COLUMNS = ("id", "state", "severity", "root_key", "title_zh", "title", "contractor", "township",
               "village", "area", "devices", "opened_at", "acknowledged_at", "restored_at", "resolved_at",
               "closed_at", "response_due", "repair_due", "response_breached", "repair_breached",
               "reopen_count", "cause_category", "parts_replaced", "repair_note")


def csv_row(summary: dict[str, Any]) -> list[str]:
    row = []
    for col in CSV_COLUMNS:
        v = summary.get(col)
        if isinstance(v, list):
            v = ";".join(str(x) for x in v)
        elif isinstance(v, bool):
            v = "true" if v else "false"
        row.append("" if v is None else str(v))
    return row
