"""The contractors' web app: server-rendered pages over the same service, store and lifecycle as the API.

Every POST carries the session's CSRF token; every ticket read goes through the scoped query (a
ticket outside a person's reach is a 404 page, like in the API). Templates autoescape everything.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import jinja2
from aiohttp import web
from sqlalchemy import select

from sharpeyes.tickets import people
from sharpeyes.tickets.lifecycle import CAUSE_CATEGORIES, ConflictError, RequestError
from sharpeyes.tickets.models import PERSON_ROLES, User
from sharpeyes.tickets.scope import may
from sharpeyes.tickets.service import Forbidden, NotFound, TicketService
from sharpeyes.tickets.web import live, queries
from sharpeyes.tickets.web.i18n import helpers
from sharpeyes.tickets.web.photos import KINDS, PhotoError, clean
from sharpeyes.tickets.web.session import (
    COOKIE,
    PRE_COOKIE,
    csrf_ok,
    current,
    lang,
    new_pre_token,
    set_cookie,
)

HERE = Path(__file__).parent
SERVICE = web.AppKey("web_service", TicketService)
THROTTLE = web.AppKey("web_throttle", people.LoginThrottle)
HTTP = web.AppKey("web_http", aiohttp.ClientSession)
ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                         trim_blocks=True, lstrip_blocks=True)
FORM_ACTIONS = ("acknowledge", "arrive", "comment", "close", "approve", "reject", "assign")
VQD_URL = re.compile(r"^https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~%-]+)*/vqd/[A-Za-z0-9._:-]+/"
                     r"(last|reference)\.jpg$")
MAX_FORM = 64 * 1024


def render(request: web.Request, name: str, status: int = 200, **ctx: Any) -> web.Response:
    ln = lang(request)
    html = ENV.get_template(name).render(**helpers(ln), path=request.path, **ctx)
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


async def require(request: web.Request) -> people.LoggedIn:
    me = await current(request, request.app[SERVICE])
    if me is None:
        raise web.HTTPSeeOther("/app/login")
    return me


async def form(request: web.Request, me: people.LoggedIn) -> dict[str, str]:
    if request.content_length is not None and request.content_length > MAX_FORM:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM, actual_size=request.content_length)
    data = await request.post()
    if not csrf_ok(me.csrf, data.get("csrf")):
        raise web.HTTPForbidden(reason="CSRF token missing or wrong")
    return {k: v for k, v in data.items() if isinstance(v, str)}


# --- login --------------------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    if await current(request, svc) is not None:
        raise web.HTTPSeeOther("/app/")
    pre = new_pre_token()
    resp = render(request, "login.html", pre=pre, error="")
    set_cookie(resp, request, svc, PRE_COOKIE, pre, max_age=3600, samesite="Strict")
    return resp


async def login(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    data = await request.post()
    if not csrf_ok(request.cookies.get(PRE_COOKIE, ""), data.get("csrf")):
        raise web.HTTPForbidden(reason="CSRF token missing or wrong")
    username, password = str(data.get("username", "")).strip().lower(), str(data.get("password", ""))
    pre = new_pre_token()
    if not request.app[THROTTLE].allow(request.remote or ""):
        resp = render(request, "login.html", status=429, pre=pre, error="too_many")
    else:
        now, ttl = svc.clock.now(), svc.cfg.web.session_ttl

        def check(tx: Any) -> str | None:
            u = people.verify_login(tx.session, now, username, password)
            return None if u is None else people.open_session(tx.session, now, u, ttl)

        token = await svc.write(check)
        if token is not None:
            resp = web.HTTPSeeOther("/app/")
            set_cookie(resp, request, svc, COOKIE, token, max_age=int(ttl.total_seconds()))
            resp.del_cookie(PRE_COOKIE, path="/")
            raise resp
        resp = render(request, "login.html", status=401, pre=pre, error="login_failed")
    set_cookie(resp, request, svc, PRE_COOKIE, pre, max_age=3600, samesite="Strict")
    return resp


async def logout(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    me = await require(request)
    await form(request, me)
    token = request.cookies.get(COOKIE, "")
    await svc.write(lambda tx: people.close_session(tx.session, token))
    resp = web.HTTPSeeOther("/app/login")
    resp.del_cookie(COOKIE, path="/")
    raise resp


# --- tickets ------------------------------------------------------------------------------------


def time_left(due: datetime, start: datetime, now: datetime, ln: str) -> tuple[str, str]:
    """('3小时12分', 'soon') — the text and its colour class: late, soon (last quarter), ok."""
    secs = int((due - now).total_seconds())
    span = max((due - start).total_seconds(), 1)
    cls = "late" if secs < 0 else "soon" if secs < span / 4 else "ok"
    m = abs(secs) // 60
    d, h, mm = m // 1440, m % 1440 // 60, m % 60
    if ln == "zh":
        text = (f"{d}天" if d else "") + (f"{h}小时" if h or d else "") + f"{mm}分"
    else:
        text = (f"{d}d" if d else "") + (f"{h}h" if h or d else "") + f"{mm}m"
    return text, cls


async def ticket_list(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    me = await require(request)
    view = "all" if request.query.get("view") == "all" else "open"
    rows = await queries.queue(svc, me.principal, view)
    now, ln = svc.clock.now(), lang(request)
    for r in rows:
        r["left"], r["cls"] = time_left(r["due"], r["sla_start"], now, ln)
    return render(request, "list.html", me=me, rows=rows, view=view)


def vqd_links(alerts: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(device, kind, url) for the video-quality stills an alert's labels or annotations point to."""
    out: list[tuple[str, str, str]] = []
    for a in alerts:
        for v in (*a["labels"].values(), *a["annotations"].values()):
            if isinstance(v, str) and VQD_URL.match(v) and all(v != u for _, _, u in out):
                kind = "vqd_last" if v.endswith("/last.jpg") else "vqd_ref"
                out.append((a["subject"], kind, v))
    return out


def places(svc: TicketService, t: dict[str, Any]) -> tuple[list[dict[str, str]], dict[str, Any] | None]:
    """Device rows (id, name, kind) and the site (name, place, lat, lon, geo link) from the inventory."""
    inv = getattr(svc.assign, "inv", None)
    devices = [{"id": d, "name": "", "kind": ""} for d in t["devices"]]
    if inv is None:
        return devices, None
    for row in devices:
        dev = inv.devices.get(row["id"])
        if dev is not None:
            row["name"], row["kind"] = dev.name, dev.kind
    scope, _, ident = t["root_key"].partition(":")
    anchor = ident if ident in inv.devices else next((d for d in t["devices"] if d in inv.devices), None)
    if scope == "fiber_link" and ident in inv.links:  # the far end: the switch the cut cuts off
        link = inv.links[ident]
        anchor = link.a.switch if link.a.switch in t["devices"] else link.b.switch
    site = inv.sites.get(inv.devices[anchor].site) if anchor in inv.devices else None
    if site is None:
        return devices, None
    village = inv.villages.get(site.village)
    township = inv.townships.get(site.township)
    place = " ".join(x for x in (township.name if township else "", village.name if village else "", site.name) if x)
    geo = f"geo:{site.lat:.6f},{site.lon:.6f}?q={site.lat:.6f},{site.lon:.6f}({quote(place)})"
    return devices, {"name": site.name, "place": place, "lat": site.lat, "lon": site.lon, "geo": geo}


async def ticket_page(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    me = await require(request)
    tid = int(request.match_info["id"])
    try:
        t = await svc.detail(me.principal, tid)
    except NotFound:
        return render(request, "notfound.html", status=404, me=me)
    devices, site = places(svc, t)
    state = await live.query(request.app[HTTP], svc.cfg.web.prometheus_url, t["devices"],
                             svc.cfg.web.prometheus_timeout.total_seconds())
    for d in devices:
        d["live"] = state.state(d["id"])
    technicians: list[str] = []
    if may(me.principal, "assign"):
        technicians = await svc.read(lambda s: list(s.scalars(select(User.username).where(
            User.contractor == t["contractor"], User.active.is_(True),
            User.role.in_(("technician", "manager"))).order_by(User.username))))
    now = svc.clock.now()
    due = t["response_due"] if t["acknowledged_at"] is None else t["repair_due"]
    left = time_left(datetime.fromisoformat(due), datetime.fromisoformat(t["sla_start"]), now, lang(request))
    can = {a: may(me.principal, a) for a in (*FORM_ACTIONS, "photo")}
    return render(request, "ticket.html", me=me, t=t, devices=devices, site=site, live_ok=state.ok,
                  vqd=vqd_links(t["alerts"]), can=can, causes=CAUSE_CATEGORIES, kinds=KINDS,
                  technicians=technicians, left=left, error=request.query.get("error", "")[:300])


async def ticket_action(request: web.Request) -> web.Response:
    from sharpeyes.tickets.api import ACTION_FIELDS, validate_action

    svc = request.app[SERVICE]
    me = await require(request)
    tid, action = int(request.match_info["id"]), request.match_info["action"]
    data = await form(request, me)
    body: dict[str, Any] = {k: v for k, v in data.items() if k in ACTION_FIELDS[action] and v != ""}
    if action == "close":
        body["parts_replaced"] = [p.strip() for p in data.get("parts_replaced", "").replace("，", ",").split(",")
                                  if p.strip()]
        body.setdefault("note", "")
    if action == "assign":
        body.setdefault("assignee", "")
    return await _act(request, svc, me, tid, lambda: svc.act(me.principal, tid, action,
                                                              validate_action(action, body)))


async def _act(request: web.Request, svc: TicketService, me: people.LoggedIn, tid: int, run: Any) -> web.Response:
    try:
        await run()
    except NotFound:
        return render(request, "notfound.html", status=404, me=me)
    except Forbidden:
        raise web.HTTPForbidden(reason="not allowed for your role") from None
    except (ConflictError, RequestError, PhotoError) as e:
        raise web.HTTPSeeOther(f"/app/t/{tid}?error={quote(str(e)[:200])}#actions") from None
    raise web.HTTPSeeOther(f"/app/t/{tid}")


async def photo_upload(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    me = await require(request)
    tid = int(request.match_info["id"])
    limit = svc.cfg.web.photo_max_bytes
    fields: dict[str, str] = {}
    data = b""
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, aiohttp.BodyPartReader):
            continue
        if part.name == "photo":
            buf = bytearray()
            while chunk := await part.read_chunk(65536):
                buf += chunk
                if len(buf) > limit:
                    raise web.HTTPSeeOther(f"/app/t/{tid}?error={quote('photo too large')}#actions")
            data = bytes(buf)
        elif part.name in ("csrf", "kind"):
            fields[part.name] = (await part.read(decode=True))[:200].decode("utf-8", "replace")
    if not csrf_ok(me.csrf, fields.get("csrf")):
        raise web.HTTPForbidden(reason="CSRF token missing or wrong")

    async def run() -> None:
        photo = await asyncio.to_thread(clean, data, limit, svc.cfg.web.keep_photo_gps)
        await queries.add_photo(svc, me.principal, tid, fields.get("kind", ""), photo)

    return await _act(request, svc, me, tid, run)


async def photo_get(request: web.Request) -> web.StreamResponse:
    svc = request.app[SERVICE]
    me = await require(request)
    try:
        path, ctype = await queries.photo_file(svc, me.principal, int(request.match_info["id"]),
                                               int(request.match_info["pid"]))
    except NotFound:
        return render(request, "notfound.html", status=404, me=me)
    return web.Response(body=await asyncio.to_thread(path.read_bytes), content_type=ctype,
                        headers={"Cache-Control": "private, max-age=3600"})


# --- supervisor and admin -------------------------------------------------------------------------


async def breaches_page(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    me = await require(request)
    local = svc.clock.now().astimezone(svc.cfg.tz)
    since = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = await queries.breaches(svc, me.principal, since)
    inv = getattr(svc.assign, "inv", None)
    names = {c.id: (c.name if lang(request) == "zh" else c.name_en or c.name)
             for c in (inv.contractors.values() if inv is not None else ())}
    return render(request, "breaches.html", me=me, rows=rows, month=since.strftime("%Y-%m"), names=names)


def _admin(me: people.LoggedIn) -> None:
    if "admin" not in me.principal.roles:
        raise web.HTTPForbidden(reason="admins only")


async def admin_page(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    me = await require(request)
    _admin(me)
    users = await svc.read(lambda s: [
        {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
         "contractor": u.contractor, "zones": list(u.zones or ()), "active": u.active}
        for u in s.scalars(select(User).order_by(User.role, User.username))])
    return render(request, "admin.html", me=me, users=users, roles=PERSON_ROLES,
                  error=request.query.get("error", "")[:300])


async def admin_add(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    me = await require(request)
    _admin(me)
    data = await form(request, me)
    zones = [z.strip() for z in data.get("zones", "").replace("，", ",").split(",") if z.strip()]
    try:
        await svc.write(lambda tx: people.add_user(
            tx.session, tx.now, data.get("username", "").strip().lower(), data.get("role", ""),
            data.get("password", ""), data.get("contractor", "").strip(), zones, data.get("display_name", "")))
    except people.PeopleError as e:
        raise web.HTTPSeeOther(f"/app/admin?error={quote(str(e))}") from None
    raise web.HTTPSeeOther("/app/admin")


async def admin_update(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    me = await require(request)
    _admin(me)
    data = await form(request, me)
    uid = int(request.match_info["uid"])
    zones = [z.strip() for z in data.get("zones", "").replace("，", ",").split(",") if z.strip()]

    def run(tx: Any) -> None:
        u = tx.session.get(User, uid)
        if u is None:
            raise people.PeopleError("user", "not found")
        role, contractor = data.get("role", u.role), data.get("contractor", u.contractor).strip()
        people.validate(u.username, role, contractor)
        if u.id == me.user_id and (role != "admin" or data.get("active") != "on"):
            raise people.PeopleError("role", "an admin cannot demote or disable their own account")
        u.role, u.contractor, u.zones, u.active = role, contractor, zones, data.get("active") == "on"
        if data.get("password"):
            people.set_password(u, data["password"])
        people.close_sessions_of(tx.session, u.id)  # new rights take effect at the next login

    try:
        await svc.write(run)
    except people.PeopleError as e:
        raise web.HTTPSeeOther(f"/app/admin?error={quote(str(e))}") from None
    raise web.HTTPSeeOther("/app/admin")


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    return web.FileResponse(HERE / "static" / name, headers={"Cache-Control": "public, max-age=86400"})


async def root(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/app/")


def add_routes(app: web.Application, svc: TicketService) -> None:
    app[SERVICE] = svc
    app[THROTTLE] = people.LoginThrottle()
    r = app.router
    r.add_get("/", root)
    r.add_get("/app/login", login_page)
    r.add_post("/app/login", login)
    r.add_post("/app/logout", logout)
    r.add_get("/app/", ticket_list)
    r.add_get(r"/app/t/{id:\d{1,12}}", ticket_page)
    r.add_post(r"/app/t/{id:\d{1,12}}/{action:(" + "|".join(FORM_ACTIONS) + ")}", ticket_action)
    r.add_post(r"/app/t/{id:\d{1,12}}/photos", photo_upload)
    r.add_get(r"/app/t/{id:\d{1,12}}/photos/{pid:\d{1,12}}", photo_get)
    r.add_get("/app/breaches", breaches_page)
    r.add_get("/app/admin", admin_page)
    r.add_post("/app/admin/users", admin_add)
    r.add_post(r"/app/admin/users/{uid:\d{1,12}}", admin_update)
    r.add_get(r"/app/static/{name:(app\.css)}", static)
