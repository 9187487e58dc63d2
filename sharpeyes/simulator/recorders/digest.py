"""HTTP Digest authentication as recorders do it (RFC 7616, MD5, qop="auth"), server side.

Nonces are stateless (an HMAC of their issue time with a per-process key) and expire; a request
without credentials or with a wrong response gets 401 and a fresh challenge, as Hikvision and Dahua
firmware answer.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time

_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')
_KEY = os.urandom(16)
NONCE_TTL = 300.0


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def new_nonce(now: float | None = None) -> str:
    stamp = f"{(time.time() if now is None else now):.0f}"
    return stamp + "." + hmac.new(_KEY, stamp.encode(), "sha256").hexdigest()[:24]


def nonce_fresh(nonce: str, now: float | None = None) -> bool:
    stamp, _, mac = nonce.partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(mac, hmac.new(_KEY, stamp.encode(), "sha256").hexdigest()[:24]):
        return False
    return (time.time() if now is None else now) - int(stamp) < NONCE_TTL


def challenge(realm: str) -> str:
    return f'Digest realm="{realm}", qop="auth", nonce="{new_nonce()}", algorithm=MD5, stale="FALSE"'


def verify(header: str | None, method: str, realm: str, username: str, password: str) -> bool:
    if not header or not header.startswith("Digest "):
        return False
    p = {m[0]: m[1] or m[2] for m in _PARAM.findall(header[7:])}
    if p.get("username") != username or p.get("realm") != realm or not nonce_fresh(p.get("nonce", "")):
        return False
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{p.get('uri', '')}")
    if p.get("qop") == "auth":
        expected = _md5(f"{ha1}:{p['nonce']}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}")
    else:
        expected = _md5(f"{ha1}:{p['nonce']}:{ha2}")
    return hmac.compare_digest(expected, p.get("response", ""))
