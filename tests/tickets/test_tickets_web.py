"""The web app over HTTP on both databases: login, sessions and CSRF; what contractor B's technician
can reach of contractor A (nothing, through every page and API route); escaping; photos."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from sharpeyes.tickets import people
from sharpeyes.tickets.api import build_app
from sharpeyes.tickets.config import WebConfig
from sharpeyes.tickets.service import TicketService
from sharpeyes.tickets.web.pages import FORM_ACTIONS, THROTTLE
from tests.tickets.tickets_testlib import auth, cam_down, cam_labels, deliver, resolved

PW = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"
Client = TestClient[Any, Any]


def jpeg_with_gps() -> bytes:
    im = Image.new("RGB", (320, 240), (40, 90, 160))
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation, kept
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (35.0, 18.0, 5.0), "E", (113.0, 52.0, 9.0)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85, exif=exif.tobytes())
    return buf.getvalue()


@pytest.fixture
async def svc(make_service: Any, db_url: str, tmp_path: Path) -> AsyncIterator[TicketService]:
    s: TicketService = make_service(db_url)
    s.cfg = replace(s.cfg, web=WebConfig(data_dir=str(tmp_path / "data"), photo_max_bytes=200_000,
                                         prometheus_url="http://127.0.0.1:9"))
    with s.store.transaction() as tx:
        for name, role, ct in (("tech-a", "technician", "ct-a"), ("tech-b", "technician", "ct-b"),
                               ("mgr-a", "manager", "ct-a"), ("sup", "supervisor", ""), ("adm", "admin", "")):
            people.add_user(tx, s.clock.now(), name, role, PW, ct)
    yield s


def hostile_alert() -> dict[str, Any]:
    """A camera whose name (in the alert's summary, shown as the ticket title) carries a script."""
    alert = cam_down("cam-a", labels=cam_labels("cam-a", device_name=HOSTILE))
    alert["annotations"]["summary_zh"] = f"摄像机离线：{HOSTILE}"
    return alert


async def seed(svc: TicketService) -> tuple[int, int]:
    await deliver(svc, hostile_alert())
    await deliver(svc, cam_down("cam-b", labels=cam_labels("cam-b", "sw-b", "fl-b", contractor="ct-b",
                                                             township="t-shanhe")))
    with svc.store.session() as s:
        from sqlalchemy import select

        from sharpeyes.tickets.models import Ticket
        by = {t.contractor: t.id for t in s.scalars(select(Ticket))}
    return by["ct-a"], by["ct-b"]


async def client_for(svc: TicketService, throttle: people.LoginThrottle | None = None) -> Client:
    app = build_app(svc, background=False)
    if throttle is not None:
        app[THROTTLE] = throttle
    c = TestClient(TestServer(app))
    await c.start_server()
    return c


async def login(c: Client, user: str, password: str = PW) -> str:
    """Logs in; returns the session's CSRF token (read from the list page's logout form)."""
    r = await c.get("/app/login")
    pre = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert pre
    r = await c.post("/app/login", data={"csrf": pre.group(1), "username": user, "password": password},
                     allow_redirects=False)
    assert r.status == 303, await r.text()
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    r = await c.get("/app/")
    m = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert m
    return m.group(1)


async def test_login_requires_csrf_and_right_password(svc: TicketService) -> None:
    c = await client_for(svc)
    try:
        r = await c.get("/app/", allow_redirects=False)
        assert r.status == 303 and r.headers["Location"] == "/app/login"
        await c.get("/app/login")
        r = await c.post("/app/login", data={"username": "tech-a", "password": PW}, allow_redirects=False)
        assert r.status == 403  # no CSRF token
        r = await c.get("/app/login")
        pre = re.search(r'name="csrf" value="([^"]+)"', await r.text())
        assert pre
        r = await c.post("/app/login", data={"csrf": pre.group(1), "username": "tech-a", "password": "nope"},
                         allow_redirects=False)
        assert r.status == 401 and "se_session" not in r.cookies
        csrf = await login(c, "tech-a")
        assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
        r = await c.post("/app/logout", data={"csrf": csrf}, allow_redirects=False)
        assert r.status == 303
        r = await c.get("/app/", allow_redirects=False)
        assert r.status == 303
    finally:
        await c.close()


async def test_login_is_throttled_per_address(svc: TicketService) -> None:
    c = await client_for(svc, people.LoginThrottle(limit=2, window=60))
    try:
        codes = []
        for _ in range(3):
            r = await c.get("/app/login")
            pre = re.search(r'name="csrf" value="([^"]+)"', await r.text())
            assert pre
            r = await c.post("/app/login", data={"csrf": pre.group(1), "username": "tech-a", "password": "x"},
                             allow_redirects=False)
            codes.append(r.status)
        assert codes == [401, 401, 429]
    finally:
        await c.close()


async def test_contractor_b_reaches_nothing_of_a(svc: TicketService) -> None:
    a, b = await seed(svc)
    ca = await client_for(svc)
    cb = await client_for(svc)
    try:
        csrf_a = await login(ca, "tech-a")
        fd = FormData()
        fd.add_field("csrf", csrf_a)
        fd.add_field("kind", "before")
        fd.add_field("photo", jpeg_with_gps(), filename="x.jpg", content_type="image/jpeg")
        r = await ca.post(f"/app/t/{a}/photos", data=fd, allow_redirects=False)
        assert r.status == 303 and "error" not in r.headers["Location"]
        page = await (await ca.get(f"/app/t/{a}")).text()
        pid = re.search(rf"/app/t/{a}/photos/(\d+)", page)
        assert pid
        csrf_b = await login(cb, "tech-b")
        listing = await (await cb.get("/app/")).text()
        assert f'href="/app/t/{b}"' in listing and f'href="/app/t/{a}"' not in listing
        assert f'/app/t/{a}"' not in await (await cb.get("/app/?view=all")).text()
        assert "ct-a" not in await (await cb.get("/app/breaches")).text()
        assert (await cb.get(f"/app/t/{a}")).status == 404
        assert (await cb.get(f"/app/t/{a}/photos/{pid.group(1)}")).status == 404
        assert (await cb.get(f"/app/t/{b}/photos/{pid.group(1)}")).status == 404  # photo id under own ticket
        for action in FORM_ACTIONS:
            r = await cb.post(f"/app/t/{a}/{action}", allow_redirects=False,
                              data={"csrf": csrf_b, "note": "x", "text": "x", "reason": "x",
                                    "cause_category": "fiber", "assignee": "tech-b"})
            assert r.status in (403, 404), action  # 403: the role may not do it at all
        fd = FormData()
        fd.add_field("csrf", csrf_b)
        fd.add_field("kind", "after")
        fd.add_field("photo", jpeg_with_gps(), filename="y.jpg", content_type="image/jpeg")
        assert (await cb.post(f"/app/t/{a}/photos", data=fd, allow_redirects=False)).status == 404
        assert (await cb.get("/app/admin")).status == 403
        # the API with contractor B's token: same answer
        for path in (f"/api/v1/tickets/{a}", f"/api/v1/tickets/{a}/photos/{pid.group(1)}"):
            assert (await cb.get(path, headers=auth("ct-b"))).status == 404
        listed = await (await cb.get("/api/v1/tickets", headers=auth("ct-b"))).json()
        assert [t["id"] for t in listed["tickets"]] == [b]
        csv_text = await (await cb.get("/api/v1/tickets.csv", headers=auth("ct-b"))).text()
        assert "cam-a" not in csv_text and "cam-b" in csv_text
        for action in ("acknowledge", "arrive", "comment", "close"):
            r = await cb.post(f"/api/v1/tickets/{a}/{action}", headers=auth("ct-b"),
                              json={"text": "x"} if action == "comment" else {})
            assert r.status in (400, 404), action
        # nothing happened to A's ticket
        hist = (await (await ca.get(f"/api/v1/tickets/{a}", headers=auth("ct-a"))).json())["history"]
        assert [h["actor"] for h in hist if h["actor"] != "system"] == ["tech-a"]
        assert (await ca.get(f"/api/v1/tickets/{a}/photos/{pid.group(1)}", headers=auth("ct-a"))).status == 200
    finally:
        await ca.close()
        await cb.close()


async def test_posts_without_csrf_are_refused(svc: TicketService) -> None:
    a, _ = await seed(svc)
    c = await client_for(svc)
    try:
        await login(c, "tech-a")
        for action in ("acknowledge", "arrive", "comment"):
            r = await c.post(f"/app/t/{a}/{action}", data={"text": "x"}, allow_redirects=False)
            assert r.status == 403, action
            r = await c.post(f"/app/t/{a}/{action}", data={"text": "x", "csrf": "forged"}, allow_redirects=False)
            assert r.status == 403, action
        d = await (await c.get(f"/api/v1/tickets/{a}", headers=auth("district"))).json()
        assert d["state"] == "open" and [h["action"] for h in d["history"]] == ["open"]
    finally:
        await c.close()


async def test_hostile_label_is_escaped(svc: TicketService) -> None:
    a, _ = await seed(svc)
    c = await client_for(svc)
    try:
        await login(c, "sup")
        await deliver(svc, cam_down(HOSTILE, labels=cam_labels(HOSTILE, "sw-x", "fl-x")))
        for url in (f"/app/t/{a}", "/app/", f"/app/t/{a + 2}"):
            page = await (await c.get(url)).text()
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
            assert "<script" not in page, url
    finally:
        await c.close()


async def test_field_work_through_the_pages(svc: TicketService) -> None:
    a, _ = await seed(svc)
    c, s = await client_for(svc), await client_for(svc)
    try:
        csrf = await login(c, "tech-a")
        page = await (await c.get(f"/app/t/{a}")).text()
        assert "实时状态暂不可用" in page  # Prometheus at a closed port: the page still renders
        for action, data in (("acknowledge", {}), ("arrive", {}), ("comment", {"text": "光缆被挖断"})):
            r = await c.post(f"/app/t/{a}/{action}", data={"csrf": csrf, **data}, allow_redirects=False)
            assert r.status == 303 and r.headers["Location"] == f"/app/t/{a}", action
        fd = FormData()
        fd.add_field("csrf", csrf)
        fd.add_field("kind", "after")
        fd.add_field("photo", b"GIF89a not a photo", filename="evil.jpg", content_type="image/jpeg")
        r = await c.post(f"/app/t/{a}/photos", data=fd, allow_redirects=False)
        assert "error=" in r.headers["Location"]
        r = await c.post(f"/app/t/{a}/close", data={"csrf": csrf, "cause_category": "fiber", "note": "熔接"},
                         allow_redirects=False)
        assert "error=" in r.headers["Location"]  # alert still firing
        await deliver(svc, resolved(hostile_alert(), svc.clock.now()))
        r = await c.post(f"/app/t/{a}/close", allow_redirects=False,
                         data={"csrf": csrf, "cause_category": "fiber", "note": "熔接", "parts_replaced": "SC头, 尾纤"})
        assert r.headers["Location"] == f"/app/t/{a}"
        csrf_s = await login(s, "sup")
        r = await s.post(f"/app/t/{a}/approve", data={"csrf": csrf_s}, allow_redirects=False)
        assert r.headers["Location"] == f"/app/t/{a}"
        d = await (await c.get(f"/api/v1/tickets/{a}", headers=auth("district"))).json()
        assert d["review"] == "approved" and d["parts_replaced"] == ["SC头", "尾纤"]
        assert [h["action"] for h in d["history"] if h["actor"] != "system"] == [
            "acknowledge", "start", "arrive", "comment", "close", "approve"]
    finally:
        await c.close()
        await s.close()


async def test_photo_loses_gps_and_is_stored_under_a_random_name(svc: TicketService, tmp_path: Path) -> None:
    a, _ = await seed(svc)
    c = await client_for(svc)
    try:
        csrf = await login(c, "tech-a")
        fd = FormData()
        fd.add_field("csrf", csrf)
        fd.add_field("kind", "before")
        fd.add_field("photo", jpeg_with_gps(), filename="../../etc/passwd.jpg", content_type="image/jpeg")
        await c.post(f"/app/t/{a}/photos", data=fd, allow_redirects=False)
        files = list((tmp_path / "data" / "photos").rglob("*"))
        stored = [f for f in files if f.is_file()]
        assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}\.jpg", stored[0].name)
        page = await (await c.get(f"/app/t/{a}")).text()
        pid = re.search(rf"/app/t/{a}/photos/(\d+)", page)
        assert pid
        r = await c.get(f"/app/t/{a}/photos/{pid.group(1)}")
        body = await r.read()
        assert r.content_type == "image/jpeg"
        im = Image.open(io.BytesIO(body))
        assert im.size == (320, 240) and 0x8825 not in im.getexif() and im.getexif()[0x0112] == 1
        big = io.BytesIO()
        Image.effect_noise((600, 600), 80).convert("RGB").save(big, "PNG")
        assert len(big.getvalue()) > 200_000
        fd = FormData()
        fd.add_field("csrf", csrf)
        fd.add_field("kind", "before")
        fd.add_field("photo", big.getvalue(), filename="big.png", content_type="image/png")
        r = await c.post(f"/app/t/{a}/photos", data=fd, allow_redirects=False)
        assert "error=" in r.headers["Location"]
    finally:
        await c.close()


async def test_admin_manages_people_and_only_admin(svc: TicketService) -> None:
    c, t = await client_for(svc), await client_for(svc)
    try:
        csrf = await login(c, "adm")
        r = await c.post("/app/admin/users", allow_redirects=False, data={
            "csrf": csrf, "username": "wang.fang", "role": "technician", "contractor": "ct-a",
            "zones": "t-fengquan，t-east", "password": "another long password", "display_name": "王芳"})
        assert r.headers["Location"] == "/app/admin"
        r = await c.post("/app/admin/users", allow_redirects=False, data={
            "username": "nocsrf", "role": "admin", "password": "another long password"})
        assert r.status == 403
        page = await (await c.get("/app/admin")).text()
        assert "wang.fang" in page and "nocsrf" not in page and "t-east,t-fengquan" in page
        await login(t, "wang.fang", "another long password")
        with svc.store.session() as s:
            from sqlalchemy import select

            from sharpeyes.tickets.models import User
            me = s.scalar(select(User.id).where(User.username == "adm"))
            wf = s.scalar(select(User.id).where(User.username == "wang.fang"))
            assert me is not None and wf is not None
        r = await c.post(f"/app/admin/users/{me}", allow_redirects=False,
                         data={"csrf": csrf, "role": "technician", "contractor": "ct-a", "active": "on"})
        assert "error=" in r.headers["Location"]  # no self-demotion
        # disabling an account ends its sessions at once
        r = await c.post(f"/app/admin/users/{wf}", allow_redirects=False,
                         data={"csrf": csrf, "role": "technician", "contractor": "ct-a", "zones": ""})
        assert r.headers["Location"] == "/app/admin"
        assert (await t.get("/app/", allow_redirects=False)).status == 303
        # a technician is not an admin
        csrf_t = await login(t, "tech-a")
        assert (await t.get("/app/admin")).status == 403
        r = await t.post("/app/admin/users", data={"csrf": csrf_t, "username": "x1", "role": "admin",
                                                    "password": "another long password"})
        assert r.status == 403
    finally:
        await c.close()
        await t.close()
