"""People who log in to the web app: accounts, argon2 password hashes, sessions, login throttling.

Only digests are kept: argon2id for passwords, SHA-256 for session cookies. A failed login answers
the same whether the name exists or not, and costs the same time (a dummy hash is verified).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sharpeyes.tickets.auth import Principal
from sharpeyes.tickets.models import ADMIN, MANAGER, PERSON_ROLES, SUPERVISOR, TECHNICIAN, User, WebSession

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
# per account: this many failures in a row lock it for LOCK_FOR
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=5)

_hasher = PasswordHasher()
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


class PeopleError(ValueError):
    """An account field is invalid; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PeopleError("password", f"at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PeopleError("password", f"at most {MAX_PASSWORD} characters")


def validate(username: str, role: str, contractor: str) -> None:
    if not USERNAME.match(username):
        raise PeopleError("username", "2-64 of a-z 0-9 . _ - (starting with a letter or digit)")
    if role not in PERSON_ROLES:
        raise PeopleError("role", f"must be one of {', '.join(PERSON_ROLES)}")
    if role in (TECHNICIAN, MANAGER) and not contractor:
        raise PeopleError("contractor", f"required for role {role}")
    if role in (SUPERVISOR, ADMIN) and contractor:
        raise PeopleError("contractor", f"role {role} belongs to no contractor")


def add_user(s: Session, now: datetime, username: str, role: str, password: str, contractor: str = "",
             zones: list[str] | None = None, display_name: str = "") -> User:
    validate(username, role, contractor)
    check_password(password)
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        raise PeopleError("username", f"{username!r} exists")
    u = User(username=username, display_name=display_name or username, role=role, contractor=contractor,
             zones=sorted(set(zones or ())), password_hash=_hasher.hash(password), active=True,
             failed_logins=0, locked_until=None, created_at=now)
    s.add(u)
    s.flush()
    return u


def set_password(u: User, password: str) -> None:
    check_password(password)
    u.password_hash = _hasher.hash(password)


def principal_of(u: User) -> Principal:
    return Principal(u.username, frozenset({u.role}), u.contractor, frozenset(u.zones or ()))


def verify_login(s: Session, now: datetime, username: str, password: str) -> User | None:
    """The user when the password is right and the account neither locked nor disabled."""
    u = s.scalar(select(User).where(User.username == username)) if len(username) <= 100 else None
    if u is None or len(password) > MAX_PASSWORD:
        _verify(_DUMMY, password[:MAX_PASSWORD])
        return None
    if u.locked_until is not None and u.locked_until > now:
        _verify(_DUMMY, password)
        return None
    if not _verify(u.password_hash, password) or not u.active:
        u.failed_logins += 1
        if u.failed_logins >= MAX_FAILURES:
            u.locked_until, u.failed_logins = now + LOCK_FOR, 0
        return None
    u.failed_logins, u.locked_until = 0, None
    if _hasher.check_needs_rehash(u.password_hash):
        u.password_hash = _hasher.hash(password)
    return u


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(s: Session, now: datetime, u: User, ttl: timedelta) -> str:
    """A new session for the user; returns the cookie value (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    s.execute(delete(WebSession).where(WebSession.expires_at < now))
    s.add(WebSession(digest=_digest(token), user_id=u.id, csrf=secrets.token_urlsafe(32), created_at=now,
                     expires_at=now + ttl))
    return token


@dataclass(frozen=True)
class LoggedIn:
    user_id: int
    principal: Principal
    display_name: str
    csrf: str


def find_session(s: Session, now: datetime, token: str) -> LoggedIn | None:
    if not token or len(token) > 100:
        return None
    row = s.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                    .where(WebSession.digest == _digest(token))).first()
    if row is None:
        return None
    ws, u = row
    if ws.expires_at <= now or not u.active:
        return None
    return LoggedIn(u.id, principal_of(u), u.display_name, ws.csrf)


def close_session(s: Session, token: str) -> None:
    s.execute(delete(WebSession).where(WebSession.digest == _digest(token)))


def close_sessions_of(s: Session, user_id: int) -> None:
    s.execute(delete(WebSession).where(WebSession.user_id == user_id))


class LoginThrottle:
    """At most ``limit`` login attempts per client address in ``window`` seconds (in memory)."""

    def __init__(self, limit: int = 20, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        t = time.monotonic() if now is None else now
        with self._lock:
            if len(self._hits) > 10000:  # bound memory under a spray from many addresses
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > t - self.window}
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= t - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(t)
            return True
