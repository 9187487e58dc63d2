# Deliberately separate from the exporter's ONVIF client: a test bed built from the code it tests proves nothing.
"""WS-Security UsernameToken checking, as an ONVIF camera does it.

PasswordDigest = Base64(SHA1(nonce + created + password)) (OASIS UsernameToken Profile 1.0 §3.1),
PasswordText compared as is. ``Created`` must lie within ``window_s`` of the *camera's own* clock
(so a camera whose clock drifted rejects a client with a correct clock, like real ones do), and a
nonce is accepted once per camera.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import time
from dataclasses import dataclass
from enum import Enum

from lxml import etree

from sharpeyes.simulator.state import Credentials

__all__ = ["AuthFailure", "NonceCache", "UsernameToken", "find_username_token", "verify"]

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


class AuthFailure(Enum):
    """Why a token was refused (for the simulator's own debug log; the client only sees NotAuthorized)."""

    MISSING = "no UsernameToken"
    MALFORMED = "malformed UsernameToken"
    UNKNOWN_USER = "unknown user"
    BAD_PASSWORD = "wrong password"
    STALE = "Created outside the freshness window"
    REPLAY = "nonce replayed"


@dataclass(frozen=True, slots=True)
class UsernameToken:
    username: str
    password: str
    digest: bool  # PasswordDigest (True) or PasswordText
    nonce: bytes | None
    created: str | None


def find_username_token(header: etree._Element | None) -> UsernameToken | AuthFailure | None:
    """The UsernameToken in a SOAP Header; None when there is none; MALFORMED when unusable."""
    if header is None:
        return None
    token = header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        return None
    user = token.find(f"{{{WSSE}}}Username")
    password = token.find(f"{{{WSSE}}}Password")
    if user is None or password is None:
        return AuthFailure.MALFORMED
    nonce_el = token.find(f"{{{WSSE}}}Nonce")
    created_el = token.find(f"{{{WSU}}}Created")
    if created_el is None:  # some clients put Created in the wsse namespace
        created_el = token.find(f"{{{WSSE}}}Created")
    nonce = None
    if nonce_el is not None:
        try:
            nonce = base64.b64decode((nonce_el.text or "").strip(), validate=True)
        except (binascii.Error, ValueError):
            return AuthFailure.MALFORMED
    ptype = password.get("Type", "")
    return UsernameToken(
        username=(user.text or "").strip(),
        password=(password.text or "").strip(),
        digest=ptype.endswith("#PasswordDigest"),
        nonce=nonce,
        created=(created_el.text or "").strip() if created_el is not None else None,
    )


def _parse_created(value: str) -> float | None:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


class NonceCache:
    """Nonces seen per camera, each remembered for ``ttl_s`` (then Created is stale anyway)."""

    def __init__(self, ttl_s: float, max_per_camera: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.max_per_camera = max_per_camera
        self._seen: dict[str, dict[bytes, float]] = {}

    def check_and_add(self, camera: str, nonce: bytes) -> bool:
        """True if ``nonce`` is new for ``camera`` (and remember it); False if it is a replay."""
        now = time.monotonic()
        seen = self._seen.setdefault(camera, {})
        while seen:  # insertion order == expiry order: drop expired entries from the front
            first = next(iter(seen))
            if seen[first] > now and len(seen) < self.max_per_camera:
                break
            del seen[first]
        if nonce in seen:
            return False
        seen[nonce] = now + self.ttl_s
        return True


def verify(token: UsernameToken, creds: Credentials, camera_now: float, window_s: float,
           nonces: NonceCache, camera: str) -> AuthFailure | None:
    """None if the token authenticates ``creds`` on ``camera`` at the camera's clock ``camera_now``."""
    if not hmac.compare_digest(token.username.encode(), creds.username.encode()):
        return AuthFailure.UNKNOWN_USER
    if not token.digest:
        ok = hmac.compare_digest(token.password.encode(), creds.password.encode())
        return None if ok else AuthFailure.BAD_PASSWORD
    if token.nonce is None or not token.created:
        return AuthFailure.MALFORMED
    created = _parse_created(token.created)
    if created is None:
        return AuthFailure.MALFORMED
    digest = hashlib.sha1(token.nonce + token.created.encode() + creds.password.encode()).digest()
    if not hmac.compare_digest(base64.b64encode(digest), token.password.encode()):
        return AuthFailure.BAD_PASSWORD
    if abs(created - camera_now) > window_s:
        return AuthFailure.STALE
    if not nonces.check_and_add(camera, token.nonce):
        return AuthFailure.REPLAY
    return None
