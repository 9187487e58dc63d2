"""SLA clocks: response and repair deadlines per severity and area, and breach predicates.

Clocks run on calendar time from the ticket's SLA start (the earliest sign of the fault). Times are
kept in UTC and shown in the district's time zone (Asia/Shanghai by default).
"""

from __future__ import annotations

from datetime import datetime

from sharpeyes.tickets.config import AREAS, Config, SlaTerms

# An alert without a usable `area` label gets the stricter (urban) terms.
FALLBACK_AREA = "urban"
SEVERITY_RANK = {"critical": 2, "warning": 1}


def terms(cfg: Config, severity: str, area: str) -> SlaTerms:
    area = area if area in AREAS else FALLBACK_AREA
    severity = severity if severity in SEVERITY_RANK else "warning"
    return cfg.sla[(severity, area)]


def deadlines(cfg: Config, severity: str, area: str, start: datetime) -> tuple[datetime, datetime]:
    t = terms(cfg, severity, area)
    return start + t.response, start + t.repair


def response_breached(response_due: datetime, acknowledged_at: datetime | None, now: datetime) -> bool:
    return (acknowledged_at or now) > response_due


def repair_breached(repair_due: datetime, restored_at: datetime | None, now: datetime) -> bool:
    return (restored_at or now) > repair_due
