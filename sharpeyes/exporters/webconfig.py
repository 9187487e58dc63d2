"""``--web.config.file``: TLS and basic auth in Prometheus exporter-toolkit's web-config.yml format,
so that one file works for this exporter, node_exporter, snmp_exporter and blackbox_exporter:

    tls_server_config:
      cert_file: server.crt        # paths relative to this file
      key_file: server.key
      client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default), VerifyClientCertIfGiven
      client_ca_file: clients-ca.crt
      min_version: TLS12           # TLS10..TLS13; default TLS12
      max_version: TLS13
    http_server_config:
      headers: {X-Frame-Options: deny}
    basic_auth_users:
      prometheus: $2y$10$...       # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\\n')

Read strictly: unknown keys and the toolkit options this server cannot honour (cipher_suites,
curve_preferences, client_allowed_sans, RequestClientCert) are file:line errors, never silently
ignored. bcrypt is slow on purpose (~50 ms at cost 10) and Prometheus sends the same credentials with
every scrape, so a verified (user, password) pair is remembered by its SHA-256 (as exporter-toolkit
does); a wrong password is checked by bcrypt every time, off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import yaml
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from sharpeyes.yamlnodes import FieldError, MappingReader, Problem, Problems, compose_file, read_text, to_bool

TOP_KEYS = frozenset({"tls_server_config", "http_server_config", "basic_auth_users"})
TLS_KEYS = frozenset({"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version"})
UNSUPPORTED_TLS = frozenset({"cert", "key", "client_ca", "cipher_suites", "curve_preferences",
                             "prefer_server_cipher_suites", "client_allowed_sans"})  # fmt: skip
TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
AUTH_CACHE_SIZE = 1024
# checked when the user is unknown, so that a wrong name costs the same time as a wrong password
_DUMMY_HASH = bcrypt.hashpw(b"sharpeyes-no-such-user", bcrypt.gensalt(10))


class WebConfigError(Exception):
    """The web config is invalid; ``problems`` lists every error with file:line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        n = len(problems)
        super().__init__(f"{n} error{'s' if n != 1 else ''} in web config:\n" + "\n".join(map(str, problems)))


@dataclass
class WebConfig:
    ssl_context: ssl.SSLContext | None = None
    users: dict[str, bytes] = field(default_factory=dict)  # user -> bcrypt hash
    headers: dict[str, str] = field(default_factory=dict)
    _verified: dict[tuple[str, bytes], None] = field(default_factory=dict, repr=False)

    async def check(self, header: str | None) -> bool:
        """Whether an Authorization header carries a configured user and its password."""
        creds = _basic(header)
        if creds is None:
            return False
        user, password = creds
        key = (user, hashlib.sha256(password).digest())
        if key in self._verified:
            return True
        hashed = self.users.get(user)
        ok = await asyncio.to_thread(_checkpw, password, hashed if hashed is not None else _DUMMY_HASH)
        if ok and hashed is not None:
            if len(self._verified) >= AUTH_CACHE_SIZE:
                self._verified.pop(next(iter(self._verified)))
            self._verified[key] = None
            return True
        return False

    def middleware(self) -> Middleware:
        @web.middleware
        async def web_config(request: web.Request, handler: Handler) -> web.StreamResponse:
            if self.users and not await self.check(request.headers.get("Authorization")):
                resp: web.StreamResponse = web.Response(
                    status=401, text="Unauthorized\n", headers={"WWW-Authenticate": 'Basic realm="sharpeyes"'}
                )
            else:
                resp = await handler(request)
            for name, value in self.headers.items():
                resp.headers[name] = value
            return resp

        return web_config


def _checkpw(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:
        return False


def _basic(header: str | None) -> tuple[str, bytes] | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = raw.partition(b":")
    if not sep:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None


def _bcrypt_hash(v: str) -> str:
    if not (v.startswith(("$2a$", "$2b$", "$2y$")) and len(v) == 60):
        raise FieldError("not a bcrypt hash ($2y$10$... , 60 characters; make one with htpasswd -nBC 10 USER)")
    return v


def load_web_config(path: str | Path) -> WebConfig:
    """Read and check a web config file (certificates are loaded now). Raises WebConfigError."""
    file = Path(path)
    shown = str(file)
    problems = Problems()
    text = read_text(file, shown, problems)
    root = compose_file(shown, text, problems) if text is not None else None
    cfg = WebConfig()
    if root is not None and not (isinstance(root, yaml.ScalarNode) and root.value == ""):
        top = MappingReader(shown, root, "", problems)
        top.reject_unknown(TOP_KEYS)
        tls = top.mapping("tls_server_config", "tls_server_config")
        if tls is not None:
            cfg.ssl_context = _tls(tls, file.parent, problems)
        http = top.mapping("http_server_config", "http_server_config")
        if http is not None:
            http.reject_unknown({"headers", "http2"})
            if "http2" in http.values:
                http.scalar("http2", to_bool)  # accepted for compatibility; HTTP/1.1 is served
            headers = http.mapping("headers", "http_server_config headers")
            if headers is not None:
                cfg.headers = {k: str(headers.scalar(k)) for k in headers.values}
        users = top.mapping("basic_auth_users", "basic_auth_users")
        if users is not None:
            for name in users.values:
                hashed = users.scalar(name, _bcrypt_hash)
                if hashed is not None:
                    cfg.users[name] = hashed.encode()
    if problems:
        raise WebConfigError(list(problems))
    return cfg


def _tls(r: MappingReader, base: Path, problems: Problems) -> ssl.SSLContext | None:
    for key in r.values:
        if key in UNSUPPORTED_TLS:
            r.error(key, "not supported by this exporter")
        elif key not in TLS_KEYS:
            r.error(key, "unknown key")
    cert, key = r.scalar("cert_file"), r.scalar("key_file")
    client_auth = r.scalar("client_auth_type", default="NoClientCert")
    if client_auth is not None and client_auth not in CLIENT_AUTH:
        r.error("client_auth_type", f"{client_auth!r} is not one of {', '.join(CLIENT_AUTH)}")
        client_auth = None
    ca = r.scalar("client_ca_file", default="")
    versions = []
    for name, default in (("min_version", "TLS12"), ("max_version", "TLS13")):
        v = r.scalar(name, default=default)
        if v not in TLS_VERSIONS:
            r.error(name, f"{v!r} is not one of {', '.join(TLS_VERSIONS)}")
        versions.append(TLS_VERSIONS.get(v))
    if client_auth == "RequireAndVerifyClientCert" and not ca:
        r.error("client_ca_file", "required with client_auth_type RequireAndVerifyClientCert")
    if problems or cert is None or key is None or client_auth is None or None in versions:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    assert versions[0] is not None and versions[1] is not None
    ctx.minimum_version, ctx.maximum_version = versions[0], versions[1]
    try:
        ctx.load_cert_chain(base / cert, base / key)
    except (OSError, ssl.SSLError) as exc:
        r.error("cert_file", f"cannot load certificate {cert} and key {key}: {exc}")
        return None
    ctx.verify_mode = CLIENT_AUTH[client_auth]
    if ca:
        try:
            ctx.load_verify_locations(base / ca)
        except (OSError, ssl.SSLError) as exc:
            r.error("client_ca_file", f"cannot load {ca}: {exc}")
            return None
    return ctx
