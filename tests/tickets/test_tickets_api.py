"""REST API over HTTP: tokens and roles, 4xx naming the field, CSV, OpenAPI, metrics."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sharpeyes.tickets.api import build_app
from sharpeyes.tickets.service import TicketService
from tests.tickets.tickets_testlib import auth, cam_down, cam_labels, notification, switch_down


@pytest.fixture
async def client(make_service: Any, sqlite_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    svc: TicketService = make_service(sqlite_url)
    async with TestClient(TestServer(build_app(svc, background=False))) as c:
        yield c


async def post_alerts(c: TestClient[Any, Any], *alerts: dict[str, Any]) -> dict[str, Any]:
    r = await c.post("/api/v1/alertmanager", json=notification(*alerts), headers=auth("webhook"))
    assert r.status == 200, await r.text()
    data: dict[str, Any] = await r.json()
    return data


async def seed(c: TestClient[Any, Any]) -> tuple[int, int]:
    """A ticket for contractor A and one for contractor B; returns their ids."""
    await post_alerts(c, cam_down("cam-a"))
    await post_alerts(c, cam_down("cam-b", labels=cam_labels("cam-b", "sw-b", "fl-b", contractor="ct-b",
                                                             township="t-shanhe")))
    r = await c.get("/api/v1/tickets", headers=auth("district"))
    by = {t["contractor"]: t["id"] for t in (await r.json())["tickets"]}
    return by["ct-a"], by["ct-b"]


async def test_webhook_requires_its_token(client: TestClient[Any, Any]) -> None:
    body = notification(cam_down("cam-1"))
    r = await client.post("/api/v1/alertmanager", json=body)
    assert r.status == 401 and (await r.json())["error"] and r.headers["WWW-Authenticate"] == "Bearer"
    r = await client.post("/api/v1/alertmanager", json=body, headers={"Authorization": "Bearer nope"})
    assert r.status == 401
    r = await client.post("/api/v1/alertmanager", json=body, headers=auth("district"))
    assert r.status == 403
    r = await client.get("/api/v1/tickets", headers=auth("webhook"))
    assert r.status == 403


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda p: p.update(version="3"), "version"),
    (lambda p: p.update(alerts={}), "alerts"),
    (lambda p: p["alerts"][0].update(status="weird"), "alerts[0].status"),
    (lambda p: p["alerts"][0].update(startsAt="yesterday"), "alerts[0].startsAt"),
    (lambda p: p["alerts"][0]["labels"].pop("alertname"), "alerts[0].labels.alertname"),
    (lambda p: p["alerts"][0]["labels"].update(device=7), "alerts[0].labels.device"),
])
async def test_bad_webhook_payload_names_the_field(client: TestClient[Any, Any], mutate: Any,
                                                   field: str) -> None:
    body = notification(cam_down("cam-1"))
    mutate(body)
    r = await client.post("/api/v1/alertmanager", json=body, headers=auth("webhook"))
    assert r.status == 400
    assert (await r.json())["field"] == field


async def test_invalid_json_is_400(client: TestClient[Any, Any]) -> None:
    r = await client.post("/api/v1/alertmanager", data=b"{not json", headers=auth("webhook"))
    assert r.status == 400 and (await r.json())["field"] == "body"


async def test_contractor_sees_and_acts_on_own_zone_only(client: TestClient[Any, Any]) -> None:
    a, b = await seed(client)
    r = await client.get("/api/v1/tickets", headers=auth("ct-a"))
    assert [t["id"] for t in (await r.json())["tickets"]] == [a]
    r = await client.get(f"/api/v1/tickets/{b}", headers=auth("ct-a"))
    assert r.status == 404
    r = await client.post(f"/api/v1/tickets/{b}/acknowledge", json={}, headers=auth("ct-a"))
    assert r.status == 404
    r = await client.get("/api/v1/tickets?contractor=ct-b", headers=auth("ct-a"))
    assert r.status == 403 and "contractor" in (await r.json())["error"]
    r = await client.post(f"/api/v1/tickets/{a}/acknowledge", json={"note": "收到"}, headers=auth("ct-a"))
    assert r.status == 200
    detail = await r.json()
    assert detail["state"] == "acknowledged" and detail["history"][-1]["actor"] == "contractor-a"
    # the district centre sees both
    r = await client.get("/api/v1/tickets", headers=auth("district"))
    assert len((await r.json())["tickets"]) == 2
    r = await client.get("/api/v1/tickets?contractor=ct-b&township=t-shanhe", headers=auth("district"))
    assert [t["id"] for t in (await r.json())["tickets"]] == [b]


@pytest.mark.parametrize(("action", "body", "field"), [
    ("comment", {}, "text"),
    ("comment", {"text": "  "}, "text"),
    ("comment", {"text": 5}, "text"),
    ("comment", {"text": "ok", "colour": "red"}, "colour"),
    ("close", {"note": "x"}, "cause_category"),
    ("close", {"cause_category": "fiber", "note": "x", "parts_replaced": "SC"}, "parts_replaced"),
    ("reopen", {}, "reason"),
    ("acknowledge", [], "body"),
])
async def test_bad_action_body_names_the_field(client: TestClient[Any, Any], action: str, body: Any,
                                               field: str) -> None:
    a, _ = await seed(client)
    r = await client.post(f"/api/v1/tickets/{a}/{action}", json=body, headers=auth("district"))
    assert r.status == 400
    assert (await r.json())["field"] == field


@pytest.mark.parametrize(("query", "field"), [
    ("state=nope", "state"), ("severity=info", "severity"), ("breached=maybe", "breached"),
    ("limit=0", "limit"), ("limit=x", "limit"), ("colour=red", "colour"),
])
async def test_bad_filter_names_the_field(client: TestClient[Any, Any], query: str, field: str) -> None:
    r = await client.get(f"/api/v1/tickets?{query}", headers=auth("district"))
    assert r.status == 400 and (await r.json())["field"] == field


async def test_conflict_and_unknown_routes_are_json(client: TestClient[Any, Any]) -> None:
    a, _ = await seed(client)
    r = await client.post(f"/api/v1/tickets/{a}/close", json={"cause_category": "fiber", "note": "done"},
                          headers=auth("district"))
    assert r.status == 409 and "firing" in (await r.json())["error"]
    r = await client.get("/api/v1/tickets/999999", headers=auth("district"))
    assert r.status == 404
    r = await client.post(f"/api/v1/tickets/{a}/explode", json={}, headers=auth("district"))
    assert r.status == 404 and r.content_type == "application/json"


async def test_internal_error_is_a_bare_500(client: TestClient[Any, Any],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(*_: Any) -> Any:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(TicketService, "list_tickets", boom)
    r = await client.get("/api/v1/tickets", headers=auth("district"))
    assert r.status == 500
    text = await r.text()
    assert json.loads(text) == {"error": "internal error"}
    assert "Traceback" not in text and "passwd" not in text


async def test_csv_export(client: TestClient[Any, Any]) -> None:
    await post_alerts(client, switch_down(), cam_down("cam-1"))
    await seed(client)
    r = await client.get("/api/v1/tickets.csv", headers=auth("ct-a"))
    assert r.status == 200 and r.content_type == "text/csv"
    raw = await r.read()
    assert raw.startswith("\ufeff".encode())  # BOM: spreadsheet programs read UTF-8 correctly
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {row["contractor"] for row in rows} == {"ct-a"}
    sw = next(row for row in rows if row["root_key"] == "switch:sw-acc-1")
    assert sw["devices"] == "cam-1;cam-a;sw-acc-1"  # cam-a hangs off the same switch
    assert sw["opened_at"].endswith("+08:00") and sw["response_breached"] == "false"


async def test_openapi_is_valid_and_covers_routes(client: TestClient[Any, Any]) -> None:
    r = await client.get("/openapi.json")
    spec = await r.json()
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)
    for path in ("/api/v1/alertmanager", "/api/v1/tickets", "/api/v1/tickets.csv", "/api/v1/tickets/{id}",
                 "/api/v1/tickets/{id}/acknowledge", "/api/v1/tickets/{id}/close",
                 "/api/v1/tickets/{id}/reopen", "/api/v1/tickets/{id}/comment", "/api/v1/tickets/{id}/arrive",
                 "/api/v1/tickets/{id}/approve", "/api/v1/tickets/{id}/reject", "/api/v1/tickets/{id}/assign",
                 "/api/v1/tickets/{id}/photos/{photo}"):
        assert path in spec["paths"]


async def test_metrics(client: TestClient[Any, Any]) -> None:
    await post_alerts(client, switch_down(), cam_down("cam-1"))
    await post_alerts(client, switch_down(), cam_down("cam-1"))
    text = await (await client.get("/metrics")).text()
    assert 'sharpeyes_tickets_open{age="0-2h",contractor="ct-a",severity="critical"} 1.0' in text
    assert "sharpeyes_tickets_webhook_notifications_total 2.0" in text
    assert "sharpeyes_tickets_webhook_notifications_deduplicated_total 1.0" in text
    assert 'sharpeyes_tickets_webhook_alerts_total{result="new"} 2.0' in text
    assert "tok-" not in text
