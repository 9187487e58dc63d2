"""Hostile webhook and API input is a 400 (Alertmanager retries a 500 forever); a storm
notification is applied in batches so the single writer is not held by it; a seeded fuzz of the
webhook parser."""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from sharpeyes.tickets import service as service_mod
from sharpeyes.tickets.api import build_app
from sharpeyes.tickets.lifecycle import RequestError
from sharpeyes.tickets.models import InboxNotification
from sharpeyes.tickets.service import TicketService
from sharpeyes.tickets.webhook import parse_notification
from tests.tickets.tickets_testlib import auth, cam_down, cam_labels, notification

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def client(make_service: Any, sqlite_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    svc: TicketService = make_service(sqlite_url)
    async with TestClient(TestServer(build_app(svc, background=False))) as c:
        yield c


@pytest.mark.parametrize("field", ["startsAt", "endsAt"])
async def test_time_past_datetime_max_in_utc_is_400(client: TestClient[Any, Any], field: str) -> None:
    body = notification(cam_down("cam-1", status="resolved" if field == "endsAt" else "firing"))
    body["alerts"][0][field] = "9999-12-31T23:59:59-10:00"
    r = await client.post("/api/v1/alertmanager", json=body, headers=auth("webhook"))
    assert r.status == 400, await r.text()
    assert (await r.json())["field"] == f"alerts[0].{field}"


async def test_body_nested_100000_levels_is_400(client: TestClient[Any, Any]) -> None:
    deep = b'{"version": "4", "alerts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = await client.post("/api/v1/alertmanager", data=deep, headers=auth("webhook"))
    assert r.status == 400
    assert (await r.json())["field"] == "body"


@pytest.mark.parametrize("value", [str(1 << 70), "9" * 40, "\u00b2", "\u0663"])
async def test_offset_beyond_64_bits_or_not_ascii_is_400(client: TestClient[Any, Any], value: str) -> None:
    r = await client.get("/api/v1/tickets", params={"offset": value}, headers=auth("district"))
    assert r.status == 400
    assert (await r.json())["field"] == "offset"


async def test_csv_export_makes_formula_text_inert(client: TestClient[Any, Any]) -> None:
    """A device named like a formula (from a contractor's sheet or a label) exports as text."""
    payload = "=cmd|' /C calc'!A0"
    await client.post("/api/v1/alertmanager", json=notification(cam_down("x", labels=cam_labels(payload))),
                      headers=auth("webhook"))  # fmt: skip
    r = await client.get("/api/v1/tickets.csv", headers=auth("district"))
    rows = list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    cells = [c for row in rows[1:] for c in row]
    assert any(c.startswith("'=cmd") for c in cells)
    assert not any(c.startswith("=") for c in cells)


# -- storm notifications ---------------------------------------------------------------------------


def storm(n: int) -> list[dict[str, Any]]:
    return [
        cam_down(f"cam-{i:04d}", labels=cam_labels(f"cam-{i:04d}", f"sw-{i // 20}", f"fl-{i // 20}"))
        for i in range(n)
    ]


async def test_storm_is_applied_in_batches_other_notifications_interleave(
    make_service: Any, sqlite_url: str
) -> None:
    svc: TicketService = make_service(sqlite_url)
    n = service_mod.INGEST_BATCH * 3 + 7
    big = notification(*storm(n))
    small = notification(cam_down("cam-other", labels=cam_labels("cam-other", "sw-other", "fl-other")))
    done: list[str] = []

    async def deliver(name: str, payload: dict[str, Any]) -> dict[str, int]:
        counts = await svc.ingest(json.dumps(payload), parse_notification(payload))
        done.append(name)
        return counts

    big_task = asyncio.create_task(deliver("storm", big))
    while not done and not await svc.read(lambda s: s.scalars(select(InboxNotification)).first()):
        await asyncio.sleep(0.005)  # the storm's first transaction has committed
    small_counts = await deliver("small", small)
    big_counts = await big_task
    assert done == ["small", "storm"]  # the small one did not wait for the whole storm
    assert small_counts == {"new": 1}
    assert big_counts == {"new": n}
    rows = await svc.read(lambda s: [(r.status, r.error) for r in s.scalars(select(InboxNotification))])
    assert sorted(rows) == [("processed", ""), ("processed", "")]


async def test_interrupted_storm_is_reapplied_by_the_tick(make_service: Any, sqlite_url: str, clock: Any) -> None:
    """A storm whose process died midway stays "processing"; once stale the tick applies it all."""
    svc: TicketService = make_service(sqlite_url)
    n = service_mod.INGEST_BATCH + 50
    payload = notification(*storm(n))
    alerts = parse_notification(payload)

    def crash_after_first_batch(tx: Any) -> None:
        tx.session.add(
            InboxNotification(received_at=tx.now, body=json.dumps(payload), status="processing", attempts=1, error="")
        )
        from sharpeyes.tickets import webhook

        webhook.ingest(tx, alerts[: service_mod.INGEST_BATCH])

    await svc.write(crash_after_first_batch)
    await svc.tick()
    assert await svc.read(lambda s: s.scalars(select(InboxNotification.status)).one()) == "processing"
    clock.advance(service_mod.STALE_PROCESSING * 2)
    await svc.tick()
    assert await svc.read(lambda s: s.scalars(select(InboxNotification.status)).one()) == "processed"
    again = await svc.ingest(json.dumps(payload), alerts)
    assert again == {"duplicate": n}  # every alert of the storm is in


def test_storm_benchmark_quick_mode() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_ticket_ingest
    finally:
        sys.path.remove(str(ROOT / "bench"))
    r = bench_ticket_ingest.main(["--quick"])
    assert r["writes"] >= 4  # 500 alerts: stored, 3 batches, marked processed (+ the small one)
    assert r["small_wait"] < r["total"]


# -- fuzz ----------------------------------------------------------------------------------------------

_ATOMS: list[Any] = [
    None, True, 0, -1, 1 << 70, 1e308, "", "4", "firing", "resolved", "9999-12-31T23:59:59-10:00",
    "0001-01-01T00:00:00Z", "2025-03-01T00:00:00+14:00", "\ud800", "x" * 100, [], {},
]  # fmt: skip


def _mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if rng.random() < 0.15 or depth > 6:
        return rng.choice(_ATOMS)
    if isinstance(value, dict):
        out = {k: _mutate(rng, v, depth + 1) if rng.random() < 0.3 else v for k, v in value.items()}
        if rng.random() < 0.2 and out:
            out.pop(rng.choice(list(out)))
        if rng.random() < 0.1:
            out[rng.choice(["fingerprint", "labels", "extra", "startsAt"])] = rng.choice(_ATOMS)
        return out
    if isinstance(value, list):
        out_l = [_mutate(rng, v, depth + 1) if rng.random() < 0.3 else v for v in value]
        if rng.random() < 0.1:
            out_l.append(rng.choice(_ATOMS))
        return out_l
    return value


def test_fuzz_the_webhook_parser_only_field_errors() -> None:
    """5,000 mutated Alertmanager notifications: each parses or raises RequestError, nothing else."""
    from sharpeyes.tickets.api import parse_json

    rng = random.Random(20261207)
    seed = notification(cam_down("cam-1"), cam_down("cam-2", status="resolved"))
    parsed = rejected = 0
    for _ in range(5000):
        candidate = _mutate(rng, copy.deepcopy(seed))
        raw = json.dumps(candidate).encode()
        if rng.random() < 0.2:  # byte-level damage too
            cut = bytearray(raw)
            cut[rng.randrange(len(cut))] = rng.randrange(256)
            raw = bytes(cut)
        try:
            parse_notification(parse_json(raw))
            parsed += 1
        except RequestError:
            rejected += 1
    assert parsed > 50 and rejected > 1000
