"""A storm notification against the ticket service's single writer.

Ingests one Alertmanager notification of N camera-down alerts (N/20 access switches) into a fresh
SQLite store and, while it runs, delivers a small notification for another device. Prints the
total ingest time, the longest single write transaction (how long the writer is held at once) and
how long the small notification waited — what every other notification and action feels.

    python bench/bench_ticket_ingest.py [--alerts 10000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sharpeyes.tickets.config import Config
from sharpeyes.tickets.lifecycle import Tx
from sharpeyes.tickets.service import TicketService
from sharpeyes.tickets.store import Store
from sharpeyes.tickets.webhook import parse_notification

T = TypeVar("T")
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def camera_down(i: int) -> dict[str, Any]:
    switch = f"sw-acc-{i // 20}"
    labels = {
        "alertname": "SharpEyesCameraDown", "severity": "critical", "scope": "device",
        "village": f"v-{i // 200}", "township": "t-fengquan", "contractor": "ct-a", "area": "urban",
        "agg_switch": "sw-agg-1", "device": f"cam-{i:05d}", "kind": "camera", "role": "bullet",
        "uplink_switch": switch, "access_switch": switch, "fiber_link": f"fl-{i // 20}",
    }  # fmt: skip
    return {
        "status": "firing", "labels": labels, "annotations": {"summary": "camera down"},
        "startsAt": T0.isoformat(), "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"fp{i:014d}",
    }  # fmt: skip


def payload(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "sharpeyes-tickets", "alerts": alerts}


class TimedService(TicketService):
    """Records how long each write transaction holds the writer thread."""

    holds: list[float]

    def _write_sync(self, fn: Callable[[Tx], T]) -> tuple[T, Tx]:
        start = time.perf_counter()
        try:
            return super()._write_sync(fn)
        finally:
            self.holds.append(time.perf_counter() - start)


async def run(n: int, db: Path) -> dict[str, float]:
    store = Store(f"sqlite:///{db}")
    store.migrate()
    cfg = Config(db_url=f"sqlite:///{db}", hold_down=timedelta(minutes=10), reopen_window=timedelta(hours=24))
    svc = TimedService(cfg, store)
    svc.holds = []
    big = payload([camera_down(i) for i in range(n)])
    small = payload([camera_down(n + 100_000)])
    try:
        start = time.perf_counter()
        storm = asyncio.create_task(svc.ingest(json.dumps(big), parse_notification(big)))
        await asyncio.sleep(0.05)  # the storm is on the writer
        t_small = time.perf_counter()
        await svc.ingest(json.dumps(small), parse_notification(small))
        small_wait = time.perf_counter() - t_small
        counts = await storm
        total = time.perf_counter() - start
    finally:
        svc.close()
        store.dispose()
    assert counts.get("new", 0) == n, counts
    return {"total": total, "longest_hold": max(svc.holds), "small_wait": small_wait, "writes": len(svc.holds)}


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--alerts", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="500 alerts (what the test runs)")
    args = ap.parse_args(argv)
    n = 500 if args.quick else args.alerts
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(run(n, Path(tmp) / "tickets.sqlite3"))
    print(
        f"{n} alerts in one notification: ingest {r['total']:.2f} s in {r['writes']:.0f} write(s); "
        f"longest writer hold {r['longest_hold']:.2f} s; a concurrent 1-alert notification waited "
        f"{r['small_wait']:.2f} s"
    )
    return r


if __name__ == "__main__":
    main()
