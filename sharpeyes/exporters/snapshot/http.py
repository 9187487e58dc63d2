"""HTTP GET of a camera still: Basic or Digest (RFC 7616) credentials, a byte limit, a deadline.

Hikvision and Dahua answer a snapshot GET with ``401`` and ``WWW-Authenticate: Digest`` (qop=auth,
MD5); others accept Basic. We send no credentials on the first request and answer the challenge
the camera gives, so a password never travels in Basic form to a camera that asked for Digest.
Only the address the caller resolved is dialled (``snapshot_target``): a snapshot URI naming a
different host is refused before any request, so credentials never reach another machine.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import aiohttp

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_DIGESTS = ("MD5", "SHA-256")
# Addresses a camera may advertise for itself (its LAN configuration): RFC 1918, loopback, link-local, ULA.
_OWN_ADDRESSES = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
    "::1/128", "fc00::/7", "fe80::/10"))


class FetchError(Exception):
    """``reason`` is a ProbeError reason (auth, protocol, malformed, timeout, refused, unreachable)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes
    seconds: float
    content_type: str


def snapshot_target(uri: str, camera_ip: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """The URL to GET: the camera's URI aimed at ``camera_ip``, or FetchError for another host.

    Cameras report the address they were configured with (a 192.168.x LAN address behind NAT:
    the Hikvision and generic captures), so a private or loopback address is the camera talking
    about itself and is replaced by the inventory address; a public address or a host name is
    somebody else and is refused.
    """
    parts = urlsplit(uri)
    if parts.scheme not in schemes or not parts.hostname:
        raise FetchError("protocol", f"URI is not {'/'.join(schemes)}: {uri[:80]!r}")
    host = parts.hostname
    if host != camera_ip:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            raise FetchError("protocol", f"snapshot URI names another host ({host[:60]})") from None
        if not any(addr in net for net in _OWN_ADDRESSES if net.version == addr.version):
            raise FetchError("protocol", f"snapshot URI names another host ({host})")
    netloc = camera_ip if ":" not in camera_ip else f"[{camera_ip}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def parse_challenge(header: str) -> dict[str, str]:
    scheme, _, rest = header.strip().partition(" ")
    params = {k.lower(): (q if q else u) for k, q, u in _PARAM.findall(rest)}
    params["scheme"] = scheme.lower()
    return params


def digest_authorization(challenge: dict[str, str], method: str, uri: str, username: str, password: str,
                         cnonce: str | None = None, nc: int = 1) -> str:
    """RFC 7616 Authorization header for a Digest challenge (MD5, SHA-256, their -sess, qop auth)."""
    algorithm = challenge.get("algorithm", "MD5").upper()
    base = algorithm.removesuffix("-SESS")
    if base not in ("MD5", "SHA-256"):
        raise FetchError("auth", f"unsupported Digest algorithm {algorithm}")
    h = hashlib.md5 if base == "MD5" else hashlib.sha256

    def hx(text: str) -> str:
        return h(text.encode()).hexdigest()

    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    cnonce = cnonce or os.urandom(8).hex()
    ha1 = hx(f"{username}:{realm}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = hx(f"{ha1}:{nonce}:{cnonce}")
    ha2 = hx(f"{method}:{uri}")
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if "auth" in qops:
        ncs = f"{nc:08x}"
        response = hx(f"{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={ncs}", f'cnonce="{cnonce}"']
    elif qops:
        raise FetchError("auth", f"unsupported Digest qop {challenge.get('qop')}")
    else:
        response = hx(f"{ha1}:{nonce}:{ha2}")
    fields.append(f'response="{response}"')
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    fields.append(f"algorithm={challenge.get('algorithm', 'MD5')}")
    return "Digest " + ", ".join(fields)


async def fetch_still(session: aiohttp.ClientSession, url: str, username: str, password: str,
                      max_bytes: int) -> Fetched:
    """GET the still, answering one auth challenge; the caller bounds the time (asyncio.timeout)."""
    started = time.monotonic()
    path = urlsplit(url)
    req_uri = path.path + (f"?{path.query}" if path.query else "")
    headers: dict[str, str] = {}
    for attempt in (1, 2):
        try:
            async with session.get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status == 401 and attempt == 1 and username:
                    headers["Authorization"] = _answer(resp.headers.getall("WWW-Authenticate", []), req_uri,
                                                       username, password)
                    await _read_bounded(resp, 65536)  # the 401 page, drained so the connection is reused
                    continue
                if resp.status in (401, 403):
                    raise FetchError("auth", f"HTTP {resp.status} for the snapshot")
                if resp.status != 200:
                    raise FetchError("protocol", f"HTTP {resp.status} for the snapshot")
                ctype = resp.headers.get("Content-Type", "")
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise FetchError("malformed", f"snapshot of {resp.content_length} bytes exceeds {max_bytes}")
                body = await _read_bounded(resp, max_bytes)
                return Fetched(body, time.monotonic() - started, ctype)
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            raise FetchError("refused" if refused else "unreachable", f"snapshot: {exc.os_error}") from None
        except aiohttp.ClientError as exc:
            raise FetchError("protocol", f"snapshot: {type(exc).__name__}") from None
    raise FetchError("auth", "the camera refused our credentials for the snapshot")


def _answer(challenges: list[str], uri: str, username: str, password: str) -> str:
    parsed = [parse_challenge(c) for c in challenges]
    for ch in parsed:  # prefer Digest: the password itself never crosses the wire
        if ch["scheme"] == "digest" and ch.get("algorithm", "MD5").upper().removesuffix("-SESS") in _DIGESTS:
            return digest_authorization(ch, "GET", uri, username, password)
    if any(ch["scheme"] == "basic" for ch in parsed):
        return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    raise FetchError("auth", "401 without a Basic or Digest challenge")


async def _read_bounded(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError("malformed", f"snapshot exceeds {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
