"""The alerts a confirmed trap raises, labelled exactly as the rules label them, and their delivery.

SwitchPortDown: ``min by (device, port)`` of the camera's port, ``group_left`` the camera's target
labels from ``sharpeyes_device_info``; FiberLinkDown: ``fiber_link`` plus the link's
``sharpeyes_fiber_link_info`` labels (contract.FIBER_INFO_LABELS). Prometheus drops empty labels, so
do we; it adds its external labels to what it sends, so do we. Same labels, same alert: Alertmanager
merges the trap's early copy and the rule's later one into one alert, one notification, one ticket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiohttp
from prometheus_client import Counter

from sharpeyes.contract import EXTERNAL_LABELS, FIBER_INFO_LABELS, TARGET_LABELS, TRAP_CONFIRMED_ALERTS
from sharpeyes.exporters.probers.base import PortInfo
from sharpeyes.inventory.model import Inventory
from sharpeyes.inventory.sd import link_labels, target_labels

log = logging.getLogger("sharpeyes.exporter.traps")

Alert = dict[str, object]


def _base(alertname: str) -> dict[str, str]:
    severity, scope = TRAP_CONFIRMED_ALERTS[alertname]
    return {**EXTERNAL_LABELS, "alertname": alertname, "severity": severity, "scope": scope}


def port_down_labels(inv: Inventory, port: PortInfo) -> dict[str, str] | None:
    """SwitchPortDown's labels for a camera's port, or None when no active camera is on it."""
    dev = inv.devices.get(port.device)
    if dev is None or dev.kind != "camera" or dev.status != "active":
        return None
    camera = {k: v for k, v in target_labels(inv, dev).items() if k in TARGET_LABELS and v}
    return {**_base("SwitchPortDown"), **camera, "port": port.name}


def link_down_labels(inv: Inventory, link_id: str) -> dict[str, str] | None:
    """FiberLinkDown's labels for an active fiber link (None for an unknown or inactive one)."""
    link = inv.links.get(link_id)
    if link is None or not link.active:
        return None
    info = link_labels(inv, link)
    return {**_base("FiberLinkDown"), "fiber_link": link.id,
            **{k: info[k] for k in FIBER_INFO_LABELS if info.get(k)}}


def annotations_of(labels: dict[str, str]) -> dict[str, str]:
    """Ticket titles until the rule's own annotations replace them (zh-CN first, with English)."""
    g = labels.get
    if labels["alertname"] == "SwitchPortDown":
        return {
            "summary_zh": f"摄像机所在交换机端口断开：{g('uplink_switch', '')} {g('port', '')} → {g('device', '')}"
                          f"（{g('township', '')}/{g('village', '')}，维保单位 {g('contractor', '')}）",
            "summary": f"Switch port down under camera: {g('uplink_switch', '')} {g('port', '')} -> "
                       f"{g('device', '')} ({g('township', '')}/{g('village', '')}, contractor {g('contractor', '')})",
            "source": "snmp-trap, confirmed by an snmp_switch probe",
        }
    return {
        "summary_zh": f"光纤链路中断：{g('fiber_link', '')}（{g('township', '')}，{g('a_switch', '')} ↔ "
                      f"{g('b_switch', '')}，维保单位 {g('contractor', '')}）",
        "summary": f"Fiber link down: {g('fiber_link', '')} ({g('township', '')}, {g('a_switch', '')} <-> "
                   f"{g('b_switch', '')}, contractor {g('contractor', '')})",
        "source": "snmp-trap, confirmed by an snmp_switch probe",
    }


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AlertmanagerClient:
    """POSTs alerts to every Alertmanager of an HA pair (``/api/v2/alerts``), as Prometheus does."""

    def __init__(self, urls: Sequence[str], posted: Counter, timeout: float = 5.0) -> None:
        self.urls = [u.rstrip("/") + "/api/v2/alerts" for u in urls]
        self.posted = posted
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def alert(self, labels: dict[str, str], starts: datetime, ends: datetime) -> Alert:
        return {"labels": labels, "annotations": annotations_of(labels), "startsAt": _iso(starts),
                "endsAt": _iso(ends)}

    async def post(self, alerts: list[Alert]) -> bool:
        """Deliver to every Alertmanager; True when at least one accepted (it gossips to the rest)."""
        if not self.urls:
            return False
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        results = await asyncio.gather(*(self._one(u, alerts) for u in self.urls))
        return any(results)

    async def _one(self, url: str, alerts: list[Alert]) -> bool:
        assert self._session is not None
        try:
            async with self._session.post(url, json=alerts) as resp:
                ok = resp.status == 200
                if not ok:
                    log.warning("Alertmanager %s refused %d alert(s): HTTP %d", url, len(alerts), resp.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("Alertmanager %s unreachable: %s", url, exc or type(exc).__name__)
            ok = False
        self.posted.labels("success" if ok else "failure").inc()
        return ok

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def now() -> datetime:
    return datetime.now(UTC)


def ahead(seconds: float) -> datetime:
    return now() + timedelta(seconds=seconds)
