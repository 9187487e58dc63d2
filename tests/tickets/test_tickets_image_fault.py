"""An image-fault alert, rendered from the real CameraImageFault rule, becomes a ticket that shows the
fault type and links the last and the reference still (what a technician opens on the phone)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.promtests import render
from sharpeyes.alerts.rules import alert_groups
from sharpeyes.tickets.api import build_app
from sharpeyes.tickets.service import TicketService
from tests.tickets.tickets_testlib import am_alert, auth, cam_labels, notification


@pytest.fixture
async def client(make_service: Any, sqlite_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    svc: TicketService = make_service(sqlite_url)
    async with TestClient(TestServer(build_app(svc, background=False))) as c:
        yield c


def image_alert(cam: str, fault: str) -> dict[str, Any]:
    cfg = Config(stills_base_url="http://exporter.district:9430")
    rule = next(r for g in alert_groups(cfg) for r in g["rules"] if r.get("alert") == "CameraImageFault")
    labels = {**cam_labels(cam), "fault": fault, "check": fault, "job": "sharpeyes_snapshot"}
    alert = am_alert("CameraImageFault", rule["labels"]["scope"], labels, severity=rule["labels"]["severity"])
    alert["annotations"] = {k: render(v, {**alert["labels"]}, 1) for k, v in rule["annotations"].items()}
    return alert


async def test_image_fault_ticket_carries_the_fault_and_both_stills(client: TestClient[Any, Any]) -> None:
    r = await client.post("/api/v1/alertmanager", json=notification(image_alert("cam-7", "occluded")),
                          headers=auth("webhook"))
    assert r.status == 200, await r.text()
    r = await client.get("/api/v1/tickets", headers=auth("district"))
    (ticket,) = (await r.json())["tickets"]
    assert "occluded" in ticket["title"] and "occluded" in ticket["title_zh"] and ticket["severity"] == "warning"
    r = await client.get(f"/api/v1/tickets/{ticket['id']}", headers=auth("district"))
    detail = await r.json()
    (alert,) = detail["alerts"]
    assert alert["labels"]["fault"] == "occluded"
    assert alert["annotations"]["still_url"] == "http://exporter.district:9430/vqd/cam-7/last.jpg"
    assert alert["annotations"]["reference_url"] == "http://exporter.district:9430/vqd/cam-7/reference.jpg"
