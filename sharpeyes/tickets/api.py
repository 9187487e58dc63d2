"""HTTP API (aiohttp): Alertmanager webhook, ticket REST API, CSV export, /metrics, /openapi.json.

Errors are JSON ``{"error": "...", "field": "..."}`` with a 4xx status; an unexpected exception is
logged here and answered with a bare 500 — never a traceback to the client.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError

from sharpeyes.inventory.spreadsheet.cells import csv_safe
from sharpeyes.tickets import webhook
from sharpeyes.tickets.auth import Authenticator, Principal
from sharpeyes.tickets.lifecycle import ConflictError, RequestError
from sharpeyes.tickets.notify.channels import build_channels
from sharpeyes.tickets.notify.outbox import OutboxWorker
from sharpeyes.tickets.openapi import spec
from sharpeyes.tickets.service import FILTER_KEYS, Forbidden, NotFound, TicketService, parse_filters
from sharpeyes.tickets.views import CSV_COLUMNS, csv_row

log = logging.getLogger("sharpeyes.tickets.api")
MAX_BODY = 32 * 1024 * 1024
SERVICE = web.AppKey("service", TicketService)
AUTH = web.AppKey("auth", Authenticator)
WORKER = web.AppKey("worker", OutboxWorker)
ACTION_FIELDS: dict[str, dict[str, tuple[type, bool]]] = {
    # field: (type, required)
    "acknowledge": {"note": (str, False)},
    "start": {"note": (str, False)},
    "comment": {"text": (str, True)},
    "close": {"cause_category": (str, True), "parts_replaced": (list, False), "note": (str, True)},
    "reopen": {"reason": (str, True)},
    "arrive": {"note": (str, False)},
    "approve": {"note": (str, False)},
    "reject": {"reason": (str, True)},
    "assign": {"assignee": (str, False)},  # "" or absent: unassigned
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    return web.json_response(body, status=status)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RequestError as e:
        return error(400, e.message, e.field)
    except NotFound as e:
        return error(404, str(e))
    except Forbidden as e:
        return error(403, str(e))
    except ConflictError as e:
        return error(409, str(e))
    except web.HTTPException as e:
        if e.status < 400:
            raise
        resp = error(e.status, e.reason)
        if "WWW-Authenticate" in e.headers:
            resp.headers["WWW-Authenticate"] = e.headers["WWW-Authenticate"]
        return resp
    except DBAPIError as e:
        log.error("database error on %s %s: %s", request.method, request.path, e.__class__.__name__)
        return error(503, "database unavailable, retry later")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error(500, "internal error")


def principal(request: web.Request, *roles: str) -> Principal:
    p = request.app[AUTH].authenticate(request.headers.get("Authorization"))
    if p is None:
        raise web.HTTPUnauthorized(reason="missing or invalid bearer token",
                                   headers={"WWW-Authenticate": "Bearer"})
    if not p.roles & set(roles):
        raise Forbidden(f"token {p.name!r} may not use this endpoint")
    return p


async def json_body(request: web.Request, allow_empty: bool = False) -> Any:
    raw = await request.read()
    if not raw.strip() and allow_empty:
        return {}
    return parse_json(raw)


def parse_json(raw: bytes) -> Any:
    """A request body as JSON; anything undecodable (nested too deep for the parser included) is
    a 400, never a 500 that Alertmanager would retry forever."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("body", "invalid JSON") from None
    except RecursionError:
        raise RequestError("body", "JSON nested too deeply") from None


def validate_action(action: str, body: Any) -> dict[str, Any]:
    spec_ = ACTION_FIELDS[action]
    if not isinstance(body, dict):
        raise RequestError("body", "expected a JSON object")
    for key in body:
        if key not in spec_:
            raise RequestError(key, f"unknown field (allowed: {', '.join(spec_) or 'none'})")
    for key, (typ, required) in spec_.items():
        if key not in body:
            if required:
                raise RequestError(key, "required")
            continue
        value = body[key]
        if typ is str:
            if not isinstance(value, str):
                raise RequestError(key, "expected a string")
            if required and not value.strip():
                raise RequestError(key, "must not be empty")
            if len(value) > 10000:
                raise RequestError(key, "too long (at most 10000 characters)")
        elif not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise RequestError(key, "expected a list of strings")
    return body


# --- handlers ----------------------------------------------------------------------------------


async def alertmanager(request: web.Request) -> web.Response:
    principal(request, "webhook")
    raw = await request.read()
    data = parse_json(raw)
    alerts = webhook.parse_notification(data)
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:  # JSON may come as UTF-16/32; keep an equivalent UTF-8 copy
        body = json.dumps(data, ensure_ascii=False)
    counts = await request.app[SERVICE].ingest(body, alerts)
    return web.json_response({"status": "ok", "alerts": counts})


async def list_tickets(request: web.Request) -> web.Response:
    p = principal(request, "district", "contractor")
    f = parse_filters(request.query)
    items = await request.app[SERVICE].list_tickets(p, f)
    return web.json_response({"tickets": items, "limit": f.limit, "offset": f.offset})


async def export_csv(request: web.Request) -> web.Response:
    p = principal(request, "district", "contractor")
    query = {k: v for k, v in request.query.items() if k not in ("limit", "offset")}
    rows = await request.app[SERVICE].export(p, parse_filters(query))
    return web.Response(body=render_csv(rows).encode("utf-8-sig"), content_type="text/csv",
                        charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="tickets.csv"'})


def render_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:  # device names and notes come from people: never a live formula in Excel
        w.writerow([csv_safe(v) if isinstance(v, str) else v for v in csv_row(r)])
    return buf.getvalue()


def _ticket_id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def ticket_detail(request: web.Request) -> web.Response:
    p = principal(request, "district", "contractor")
    return web.json_response(await request.app[SERVICE].detail(p, _ticket_id(request)))


async def ticket_action(request: web.Request) -> web.Response:
    p = principal(request, "district", "contractor")
    action = request.match_info["action"]
    body = validate_action(action, await json_body(request, allow_empty=True))
    return web.json_response(await request.app[SERVICE].act(p, _ticket_id(request), action, body))


async def photo(request: web.Request) -> web.Response:
    from sharpeyes.tickets.web.queries import photo_file

    p = principal(request, "district", "contractor")
    path, ctype = await photo_file(request.app[SERVICE], p, _ticket_id(request), int(request.match_info["pid"]))
    return web.Response(body=path.read_bytes(), content_type=ctype,
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    await svc.refresh_metrics()
    return web.Response(body=generate_latest(svc.metrics.registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(spec(list(ACTION_FIELDS), list(FILTER_KEYS)))


# --- app -----------------------------------------------------------------------------------------


def build_app(service: TicketService, background: bool = True) -> web.Application:
    """The aiohttp application. With ``background`` it runs the tick loop and the outbox worker."""
    from sharpeyes.tickets.web import pages, session

    app = web.Application(middlewares=[errors, session.headers], client_max_size=MAX_BODY)
    app[SERVICE] = service
    app[AUTH] = Authenticator(service.cfg.tokens)
    pages.add_routes(app, service)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_post("/api/v1/alertmanager", alertmanager)
    app.router.add_get("/api/v1/tickets", list_tickets)
    app.router.add_get("/api/v1/tickets.csv", export_csv)
    app.router.add_get(r"/api/v1/tickets/{id:\d{1,12}}", ticket_detail)
    actions = "|".join(ACTION_FIELDS)
    app.router.add_post(r"/api/v1/tickets/{id:\d{1,12}}/{action:(" + actions + ")}", ticket_action)
    app.router.add_get(r"/api/v1/tickets/{id:\d{1,12}}/photos/{pid:\d{1,12}}", photo)
    app.cleanup_ctx.append(_workers(background))
    return app


def _workers(background: bool) -> Callable[[web.Application], Any]:
    async def ctx(app: web.Application) -> Any:
        import asyncio

        service = app[SERVICE]
        from sharpeyes.tickets.web.pages import HTTP

        session = aiohttp.ClientSession()
        app[HTTP] = session
        worker = OutboxWorker(service.store, service.cfg, service.clock,
                              build_channels(service.cfg.channels, session), service.metrics)
        app[WORKER] = worker
        service.on_outbox = worker.wake
        tasks = [asyncio.create_task(worker.run()), asyncio.create_task(service.run_ticks())] \
            if background else []
        am = service.cfg.alertmanager
        if background and am.urls:
            from sharpeyes.tickets import reconcile

            source = reconcile.AlertmanagerAlerts(am.urls, am.min_uptime, am.timeout)
            tasks.append(asyncio.create_task(reconcile.run(reconcile.Reconciler(service, source),
                                                           am.reconcile_interval)))
        yield
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await session.close()

    return ctx
