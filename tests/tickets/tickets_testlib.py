"""Builders shared by the ticket tests: tokens, Alertmanager-shaped payloads, a config."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sharpeyes.tickets.config import ChannelConfig, Config, Token, hash_token
from sharpeyes.tickets.service import TicketService
from sharpeyes.tickets.webhook import parse_notification

T0 = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai

TOKENS = {"district": "tok-district", "ct-a": "tok-contractor-a", "ct-b": "tok-contractor-b",
          "webhook": "tok-webhook"}


def make_tokens() -> tuple[Token, ...]:
    return (
        Token("district-centre", frozenset({"district"}), "", hash_token(TOKENS["district"])),
        Token("contractor-a", frozenset({"contractor"}), "ct-a", hash_token(TOKENS["ct-a"])),
        Token("contractor-b", frozenset({"contractor"}), "ct-b", hash_token(TOKENS["ct-b"])),
        Token("alertmanager", frozenset({"webhook"}), "", hash_token(TOKENS["webhook"])),
    )


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}"}



def base_config(db: str, **overrides: Any) -> Config:
    cfg = Config(db_url=db, tokens=make_tokens(), hold_down=timedelta(minutes=10),
                 reopen_window=timedelta(hours=24))
    return replace(cfg, **overrides)



def channel(name: str, url: str, type: str = "webhook", events: tuple[str, ...] = ("opened", "resolved"),
            **kw: Any) -> ChannelConfig:
    return ChannelConfig(name=name, type=type, events=events, timeout=timedelta(seconds=5), url=url, **kw)



# --- Alertmanager-shaped payloads -------------------------------------------------------------------

PATH = {"village": "v-xiaozhuang", "township": "t-fengquan", "contractor": "ct-a", "area": "urban",
        "agg_switch": "sw-agg-1"}


def cam_labels(cam: str, switch: str = "sw-acc-1", link: str = "fl-1", **kw: str) -> dict[str, str]:
    return {**PATH, "device": cam, "kind": "camera", "role": "bullet", "uplink_switch": switch,
            "access_switch": switch, "fiber_link": link, **kw}


def switch_labels(switch: str = "sw-acc-1", link: str = "fl-1", **kw: str) -> dict[str, str]:
    return {**PATH, "device": switch, "kind": "switch", "role": "access", "uplink_switch": "sw-agg-1",
            "access_switch": switch, "fiber_link": link, **kw}


def am_alert(alertname: str, scope: str, labels: dict[str, str], status: str = "firing",
             severity: str = "critical", starts: datetime = T0, ends: datetime | None = None,
             fingerprint: str | None = None) -> dict[str, Any]:
    full = {"alertname": alertname, "severity": severity, "scope": scope, **labels}
    fp = fingerprint or hashlib.sha256(repr(sorted(full.items())).encode()).hexdigest()[:16]
    return {
        "status": status, "labels": full,
        "annotations": {"summary_zh": f"{labels.get('device', '')} 故障", "summary": f"{alertname} fault",
                        "description_zh": "", "description": "", "runbook_url": ""},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": (ends.isoformat().replace("+00:00", "Z") if ends else "0001-01-01T00:00:00Z"),
        "generatorURL": "http://prometheus.local/graph", "fingerprint": fp,
    }


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    common = alerts[0]["labels"] if alerts else {}
    return {"version": "4", "groupKey": '{}:{alertname="' + common.get("alertname", "") + '"}',
            "truncatedAlerts": 0, "status": status, "receiver": "sharpeyes-tickets",
            "groupLabels": {"alertname": common.get("alertname", "")}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.local", "alerts": list(alerts)}


def cam_down(cam: str, **kw: Any) -> dict[str, Any]:
    labels = kw.pop("labels", None) or cam_labels(cam)
    return am_alert("SharpEyesCameraDown", "device", labels, **kw)


def switch_down(switch: str = "sw-acc-1", **kw: Any) -> dict[str, Any]:
    return am_alert("SharpEyesSwitchDown", "switch", switch_labels(switch), **kw)


def resolved(alert: dict[str, Any], ends: datetime) -> dict[str, Any]:
    return {**alert, "status": "resolved", "endsAt": ends.isoformat().replace("+00:00", "Z")}


async def deliver(svc: TicketService, *alerts: dict[str, Any]) -> dict[str, int]:
    """What the webhook handler does with a notification body."""
    payload = notification(*alerts)
    return await svc.ingest(json.dumps(payload), parse_notification(payload))
