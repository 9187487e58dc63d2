"""Browser sessions: the cookie, CSRF checks, the language switch and security headers."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from sharpeyes.tickets import people
from sharpeyes.tickets.service import TicketService
from sharpeyes.tickets.web.i18n import LANGS, lang_of

COOKIE = "se_session"
PRE_COOKIE = "se_pre"  # login form's double-submit CSRF token (there is no session yet)
LANG_COOKIE = "se_lang"
CSP = ("default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER = "se_user"


def secure(request: web.Request, svc: TicketService) -> bool:
    return svc.cfg.web.secure_cookies or request.secure


def set_cookie(resp: web.StreamResponse, request: web.Request, svc: TicketService, name: str, value: str,
               max_age: int | None = None, samesite: str = "Lax") -> None:
    resp.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite=samesite,
                    secure=secure(request, svc))


def lang(request: web.Request) -> str:
    q = request.query.get("lang")
    return q if q in LANGS else lang_of(request.cookies.get(LANG_COOKIE))


async def current(request: web.Request, svc: TicketService) -> people.LoggedIn | None:
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    now = svc.clock.now()
    return await svc.read(lambda s: people.find_session(s, now, token))


def csrf_ok(expected: str, given: object) -> bool:
    return isinstance(given, str) and bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def new_pre_token() -> str:
    return secrets.token_urlsafe(32)


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    resp = await handler(request)
    if request.path.startswith("/app"):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Cache-Control", "no-store")
        q = request.query.get("lang")
        if q in LANGS:
            resp.set_cookie(LANG_COOKIE, q, max_age=365 * 86400, path="/", samesite="Lax")
    return resp
