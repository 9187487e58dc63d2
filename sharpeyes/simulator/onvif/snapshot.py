"""Snapshot stills over HTTP GET at the URI GetSnapshotUri advertises, behind HTTP Digest auth.

Written for the simulator from RFC 7616 and how Hikvision/Dahua answer (``401`` with
``WWW-Authenticate: Digest realm=..., qop="auth", nonce=...``, MD5); it shares no code with the
exporter's client. Nonces are ours, kept (bounded) for ``ttl`` seconds, and a nonce count may
only grow, so a replayed Authorization is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections import OrderedDict

from sharpeyes.simulator.state import Credentials

_FIELD = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


class DigestGuard:
    def __init__(self, realm: str = "IP Camera", ttl: float = 300.0, max_nonces: int = 65536) -> None:
        self.realm = realm
        self.ttl = ttl
        self.max_nonces = max_nonces
        self._nonces: OrderedDict[str, tuple[float, int]] = OrderedDict()  # nonce -> (issued, last nc)

    def challenge(self) -> str:
        nonce = os.urandom(16).hex()
        self._nonces[nonce] = (time.monotonic(), 0)
        while len(self._nonces) > self.max_nonces:
            self._nonces.popitem(last=False)
        return f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", algorithm=MD5, stale="FALSE"'

    def verify(self, header: str, method: str, path_qs: str, creds: Credentials) -> bool:
        if not header.startswith("Digest "):
            return False
        f = {k: (a if a else b) for k, a, b in _FIELD.findall(header[7:])}
        nonce = f.get("nonce", "")
        known = self._nonces.get(nonce)
        if known is None or time.monotonic() - known[0] > self.ttl:
            return False
        try:
            nc = int(f.get("nc", ""), 16)
        except ValueError:
            return False
        if nc <= known[1] or f.get("uri") != path_qs or f.get("username") != creds.username:
            return False
        if f.get("qop") != "auth" or f.get("realm") != self.realm:
            return False

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha1 = md5(f"{creds.username}:{self.realm}:{creds.password}")
        ha2 = md5(f"{method}:{path_qs}")
        if f.get("response") != md5(f"{ha1}:{nonce}:{f['nc']}:{f.get('cnonce', '')}:auth:{ha2}"):
            return False
        self._nonces[nonce] = (known[0], nc)
        return True
