"""Server time and page weight of the contractors' web app with 10,000 tickets in the store.

    python bench/bench_tickets_web.py [--tickets 10000] [--requests 200] [--db URL ...] [--quick]

Fills a fresh SQLite database (and PostgreSQL at 127.0.0.1:5432 when reachable, or the --db URLs)
with tickets spread over three contractors — a tenth of them open, each with its alerts, affected
devices and history — then asks the running aiohttp app for the ticket list and ticket pages as a
technician and as a supervisor. Server time is measured inside the app (a middleware around the
handler), so the HTTP client's own cost is not counted. Targets: p95 ≤ 100 ms, a page ≤ 150 KB on
the wire (without photos; uncompressed HTML plus the stylesheet). Prometheus is not configured: the
ticket page's live-state query is bounded by ``web.prometheus_timeout`` on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert

from sharpeyes.tickets import people
from sharpeyes.tickets.api import build_app
from sharpeyes.tickets.config import Config, WebConfig
from sharpeyes.tickets.models import Alert, Ticket, TicketEvent
from sharpeyes.tickets.service import TicketService
from sharpeyes.tickets.store import Store

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CONTRACTORS = ("zhongan", "tianwang", "huaxin")
TOWNSHIPS = ("baodong", "baoxi", "fengquan", "luwang", "gaocun", "dakuai")
PW = secrets.token_urlsafe(16)
P95_MS, MAX_KB = 100.0, 150.0


def fill(store: Store, n: int, now: datetime) -> None:
    rng = random.Random(7)
    tickets, alerts, events = [], [], []
    for i in range(1, n + 1):
        active = rng.random() < 0.1
        opened = now - timedelta(minutes=rng.randint(10, 60 * 24 * 60))
        ct, tw = rng.choice(CONTRACTORS), rng.choice(TOWNSHIPS)
        devs = [f"cam-{tw}-{i:05d}-{k:02d}" for k in range(rng.choice((1, 1, 1, 8, 20)))]
        state = rng.choice(("open", "acknowledged", "in_progress")) if active else "closed"
        tickets.append({
            "id": i, "root_key": f"fiber_link:fl-{tw}-{i:05d}" if len(devs) > 1 else f"device:{devs[0]}",
            "state": state, "severity": rng.choice(("critical", "warning")), "alertname": "FiberLinkDown",
            "title_zh": f"光纤链路中断：fl-{tw}-{i:05d}（{tw}，维保单位 {ct}）", "title": f"Fiber link down {i}",
            "subject": devs[0], "contractor": ct, "township": tw, "village": f"{tw}-v{i % 40}", "area": "rural",
            "opened_at": opened, "sla_start": opened, "acknowledged_at": None if state == "open" else opened,
            "response_due": opened + timedelta(hours=2), "repair_due": opened + timedelta(hours=48),
            "response_breached": False, "repair_breached": rng.random() < 0.1, "reopen_count": 0,
            "cause_category": "" if active else "fiber", "parts_replaced": [], "repair_note": "",
            "updated_at": opened, "affected": devs, "assignee": "", "review": "" if active else "approved",
            "closed_at": None if active else opened + timedelta(hours=5)})
        labels = {"alertname": "FiberLinkDown", "severity": "critical", "scope": "fiber_link", "contractor": ct,
                  "township": tw, "fiber_link": f"fl-{tw}-{i:05d}"}
        alerts.append({"fingerprint": f"{i:016x}", "starts_at": opened, "status": "firing" if active else "resolved",
                       "alertname": "FiberLinkDown", "severity": "critical", "scope": "fiber_link",
                       "root_key": f"fiber_link:fl-{tw}-{i:05d}", "subject": devs[0], "labels": labels,
                       "annotations": {"summary_zh": "光纤链路中断", "summary": "Fiber link down"},
                       "ticket_id": i, "first_seen_at": opened, "last_seen_at": opened})
        for k, action in enumerate(("open", "acknowledge", "arrive", "comment", "close", "approve")):
            if active and k > 1:
                break
            events.append({"ticket_id": i, "at": opened + timedelta(minutes=10 * k), "actor": "system" if k == 0
                           else "tech", "action": action, "from_state": "", "to_state": "",
                           "detail": {"text": "现场检查，熔接光纤"} if action == "comment" else {}})
    with store.transaction() as s:
        for table, rows in ((Ticket, tickets), (Alert, alerts), (TicketEvent, events)):
            for j in range(0, len(rows), 2000):
                s.execute(insert(table), rows[j:j + 2000])
        people.add_user(s, now, "tech", "technician", PW, "zhongan", ["baodong", "baoxi"])
        people.add_user(s, now, "sup", "supervisor", PW)


def timing_middleware(times: dict[str, list[float]]) -> Any:
    @web.middleware
    async def mw(request: web.Request, handler: Any) -> web.StreamResponse:
        t0 = time.perf_counter()
        resp = await handler(request)
        key = "list" if request.path == "/app/" else "ticket" if request.path.startswith("/app/t/") else ""
        if key:
            times.setdefault(key, []).append((time.perf_counter() - t0) * 1000)
        return resp

    return mw


async def run_one(url: str, n: int, requests: int) -> dict[str, Any]:
    store = Store(url)
    store.migrate()
    now = datetime.now(UTC)
    t0 = time.monotonic()
    fill(store, n, now)
    fill_s = time.monotonic() - t0
    svc = TicketService(replace(Config(db_url=url), web=WebConfig(data_dir=tempfile.mkdtemp())), store)
    app = build_app(svc, background=False)
    times: dict[str, list[float]] = {}
    app.middlewares.append(timing_middleware(times))
    out: dict[str, Any] = {"fill_s": fill_s}
    async with TestClient(TestServer(app)) as c:
        css = len(await (await c.get("/app/static/app.css")).read())
        for who in ("tech", "sup"):
            r = await c.get("/app/login")
            pre = re.search(r'name="csrf" value="([^"]+)"', await r.text())
            assert pre
            r = await c.post("/app/login", data={"csrf": pre.group(1), "username": who, "password": PW})
            listing = await r.read()
            ids = [int(x) for x in re.findall(rb'href="/app/t/(\d+)"', listing)]
            assert ids, f"{who} sees no tickets"
            times.clear()
            sizes = {"list": len(listing), "ticket": 0}
            for k in range(requests):
                await c.get("/app/")
                body = await (await c.get(f"/app/t/{ids[k % len(ids)]}")).read()
                sizes["ticket"] = max(sizes["ticket"], len(body))
            for page in ("list", "ticket"):
                xs = sorted(times[page])
                out[f"{who}_{page}"] = {"p50": statistics.median(xs), "p95": xs[int(0.95 * (len(xs) - 1))],
                                        "kb": (sizes[page] + css) / 1024}
            c.session.cookie_jar.clear()
    svc.close()
    store.dispose()
    return out


def pg_database() -> str | None:
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except Exception:
        return None
    name = f"sharpeyes_bench_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=200, help="requests per page and role")
    ap.add_argument("--db", action="append", help="database URL (repeatable; default: SQLite and PostgreSQL)")
    ap.add_argument("--quick", action="store_true", help="500 tickets, 20 requests, SQLite only")
    args = ap.parse_args(argv)
    if args.quick:
        args.tickets, args.requests = 500, 20
    tmp = Path(tempfile.mkdtemp(prefix="bench-tickets-web-"))
    dbs: list[tuple[str, str]] = [(u.split(":")[0], u) for u in args.db or ()]
    cleanup: list[str] = []
    if not dbs:
        dbs.append(("sqlite", f"sqlite:///{tmp / 'tickets.sqlite3'}"))
        pg = None if args.quick else pg_database()
        if pg:
            dbs.append(("postgresql", pg))
            cleanup.append(pg)
        elif not args.quick:
            print("postgresql: not reachable at 127.0.0.1:5432, skipped")
    ok = True
    try:
        for name, url in dbs:
            res = asyncio.run(run_one(url, args.tickets, args.requests))
            print(f"{name}: {args.tickets} tickets (filled in {res['fill_s']:.1f} s), {args.requests} requests each")
            for key in ("tech_list", "tech_ticket", "sup_list", "sup_ticket"):
                r = res[key]
                good = r["p95"] <= P95_MS and r["kb"] <= MAX_KB
                ok &= good
                print(f"  {key:12} server p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
                      f"weight {r['kb']:6.1f} KB  {'ok' if good else 'OVER TARGET'}")
    finally:
        for url in cleanup:
            drop_pg(url)
    print(f"targets: p95 <= {P95_MS:.0f} ms, page <= {MAX_KB:.0f} KB: {'met' if ok else 'NOT met'}")
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
