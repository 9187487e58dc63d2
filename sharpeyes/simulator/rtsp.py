# Deliberately separate from the exporter's RTSP prober: a test bed built from the code it tests proves nothing.
"""RTSP responder for many cameras, one listening socket per camera address.

What a monitoring probe sees of a real camera's RTSP server: enough to read one key frame.
- OPTIONS answers without authentication (``Public:`` lists what this server implements).
- DESCRIBE, SETUP, PLAY and TEARDOWN need HTTP-style Digest authentication (RFC 2617 without
  qop, as cameras do; qop=auth is accepted too); without valid credentials: 401 with
  ``WWW-Authenticate: Digest``. DESCRIBE gets an SDP for the stream the URL names (H.264 with the
  encoder's own SPS/PPS, or H.265) plus a G.711 audio track, in the vendor's SDP dialect.
- SETUP ``<stream URL>/trackID=N`` accepts RTP interleaved on the RTSP connection only
  (``RTP/AVP/TCP``; UDP is 461 Unsupported Transport) and opens a session; PLAY (with that
  Session) sends the camera's current still, faults applied, as one H.264 IDR access unit in
  RTP (:mod:`sharpeyes.simulator.h264`), then nothing more; TEARDOWN ends the session. An H.265
  stream plays without sending anything (no H.265 encoder here).
- Other RTSP methods: 405 (with ``Allow``); unknown methods: 501.
- Faults from :class:`~simulator.state.DeviceState`: not responsive (hung / powered off) → the
  connection is accepted and nothing is ever answered (nor sent); ``credentials_broken`` → every
  authenticated request is 401; ``encoder_stalled`` → DESCRIBE and PLAY are 503 (no media).

This module also owns the vendors' stream URL layout (:func:`stream_path`), which the ONVIF
responder uses for GetStreamUri, so both always agree.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit

from sharpeyes.simulator import h264
from sharpeyes.simulator.state import Credentials, DeviceState, StreamConfig
from sharpeyes.simulator.stills import Stills

__all__ = ["RtspServers", "stream_index", "stream_path"]

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 16 * 1024
NONCE_LIFETIME_S = 300.0
IMPLEMENTED = ("OPTIONS", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN")
KNOWN_METHODS = frozenset({"ANNOUNCE", "GET_PARAMETER", "PAUSE", "RECORD", "REDIRECT", "SET_PARAMETER"})
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 454: "Session Not Found", 455: "Method Not Valid in This State",
           461: "Unsupported Transport", 501: "Not Implemented", 503: "Service Unavailable",
           505: "RTSP Version Not Supported"}
_TRACK = re.compile(r"/trackID=(\d+)/?$")
_INTERLEAVED = re.compile(r"interleaved=(\d{1,3})(?:-(\d{1,3}))?")


# ---------------------------------------------------------------- vendor stream URL layout

def stream_path(vendor: str, index: int) -> str:
    """Path (with query) of stream ``index`` (0 = main, 1 = sub) in the vendor's URL scheme."""
    if vendor == "hikvision":
        return f"/Streaming/Channels/{101 + index}"
    if vendor == "dahua":
        return f"/cam/realmonitor?channel=1&subtype={index}"
    if vendor == "uniview":
        return f"/media/video{index + 1}"
    return f"/stream{index + 1}"


_HIK_PATH = re.compile(r"/(?:Streaming|ISAPI/Streaming)/[Cc]hannels/(\d+)/?$")
_UNV_PATH = re.compile(r"/media/video(\d+)/?$")
_GENERIC_PATH = re.compile(r"/stream(\d+)/?$")


def stream_index(vendor: str, url: str) -> int | None:
    """Which stream a request URL names (inverse of :func:`stream_path`); None if it names none."""
    parts = urlsplit(url)
    index: int | None = None
    if vendor == "hikvision":
        if m := _HIK_PATH.match(parts.path):
            channel = int(m.group(1))
            index = channel % 100 - 1 if channel >= 100 else channel - 1
    elif vendor == "dahua":
        if parts.path.rstrip("/") == "/cam/realmonitor":
            query = parse_qs(parts.query)
            if query.get("channel", ["1"])[0] == "1":
                subtype = query.get("subtype", ["0"])[0]
                index = int(subtype) if subtype.isdigit() else None
    elif m := (_UNV_PATH if vendor == "uniview" else _GENERIC_PATH).match(parts.path):
        index = int(m.group(1)) - 1
    return index


# ---------------------------------------------------------------- SDP per vendor

def _video_lines(stream: StreamConfig) -> tuple[str, str]:
    """(rtpmap, fmtp) attribute values for payload type 96."""
    if stream.encoding == "H265":
        return "96 H265/90000", ""
    sps, pps = h264.parameter_sets(stream)  # the encoder's own, as PLAY sends them in-band
    sets = ",".join(base64.b64encode(nal).decode() for nal in (sps, pps))
    return ("96 H264/90000",
            f"96 profile-level-id={sps[1:4].hex().upper()}; packetization-mode=1; sprop-parameter-sets={sets}")


def build_sdp(state: DeviceState, stream: StreamConfig, url: str, session_id: int) -> str:
    """The SDP a camera of ``state.vendor`` returns for DESCRIBE of ``url``."""
    rtpmap, fmtp = _video_lines(stream)
    base = url.rstrip("/")
    kbps = stream.bitrate_kbps
    if state.vendor == "dahua":
        lines = ["v=0", f"o=- {session_id} {session_id} IN IP4 0.0.0.0", "s=Media Server",
                 "c=IN IP4 0.0.0.0", "t=0 0", "a=control:*", "a=packetization-supported:DH",
                 "a=rtppayload-supported:DH", "a=range:npt=now-",
                 "m=video 0 RTP/AVP 96", "a=control:trackID=0", f"a=framerate:{stream.frame_rate:.6f}",
                 f"a=rtpmap:{rtpmap}", *([f"a=fmtp:{fmtp}"] if fmtp else []), "a=recvonly",
                 "m=audio 0 RTP/AVP 8", "a=control:trackID=1", "a=rtpmap:8 PCMA/8000", "a=recvonly"]
    else:
        name = "Media Presentation" if state.vendor == "hikvision" else "RTSP Session"
        lines = ["v=0", f"o=- {session_id} {session_id + 1} IN IP4 {state.ip}", f"s={name}",
                 "e=NONE", f"b=AS:{kbps + 50}", "t=0 0", f"a=control:{base}/",
                 "m=video 0 RTP/AVP 96", "c=IN IP4 0.0.0.0", f"b=AS:{kbps}", "a=recvonly",
                 f"a=x-dimensions:{stream.width},{stream.height}", f"a=control:{base}/trackID=1",
                 f"a=rtpmap:{rtpmap}", *([f"a=fmtp:{fmtp}"] if fmtp else []),
                 "m=audio 0 RTP/AVP 8", "c=IN IP4 0.0.0.0", "b=AS:50", "a=recvonly",
                 f"a=control:{base}/trackID=2", "a=rtpmap:8 PCMA/8000"]
    return "\r\n".join(lines) + "\r\n"


# ---------------------------------------------------------------- digest authentication

_AUTH_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _realm(state: DeviceState) -> str:
    if state.vendor == "hikvision":
        return "IP Camera(%s)" % (state.serial[-5:] or "00000")
    if state.vendor == "dahua":
        return f"Login to {state.serial or state.device_id}"
    return "RTSP server"


class _NonceIssuer:
    """Stateless nonces: a timestamp signed with a per-process key, valid for NONCE_LIFETIME_S."""

    def __init__(self) -> None:
        self._key = os.urandom(16)

    def issue(self) -> str:
        stamp = f"{int(time.monotonic() * 1000):x}"
        return stamp + hmac.new(self._key, stamp.encode(), "sha1").hexdigest()[:16]

    def valid(self, nonce: str) -> bool:
        stamp, sig = nonce[:-16], nonce[-16:]
        good = hmac.new(self._key, stamp.encode(), "sha1").hexdigest()[:16]
        if not stamp or not hmac.compare_digest(sig, good):
            return False
        try:
            age = time.monotonic() - int(stamp, 16) / 1000
        except ValueError:
            return False
        return 0 <= age <= NONCE_LIFETIME_S


def _digest_ok(header: str, method: str, creds: Credentials, realm: str, nonces: _NonceIssuer) -> bool:
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "digest":
        return False
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
              for m in _AUTH_PARAM.finditer(rest)}
    nonce, uri, response = params.get("nonce", ""), params.get("uri", ""), params.get("response", "")
    if params.get("username") != creds.username or params.get("realm") != realm or not nonces.valid(nonce):
        return False
    ha1 = _md5(f"{creds.username}:{realm}:{creds.password}")
    ha2 = _md5(f"{method}:{uri}")
    if params.get("qop"):
        nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
        expected = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{params['qop']}:{ha2}")
    else:
        expected = _md5(f"{ha1}:{nonce}:{ha2}")
    return hmac.compare_digest(expected, response.lower())


# ---------------------------------------------------------------- protocol

_SERVER_HEADER = {"hikvision": "Rtsp Server/3.0", "dahua": "Rtsp Server/3.0", "uniview": "Rtsp Server/2.0"}


@dataclass(slots=True)
class _Session:
    """What one connection has SETUP: the stream, the interleaved channel, the session id."""

    id: str = ""
    index: int = 0
    channel: int = 0
    video: bool = False  # the SETUP named the video track (audio: set up, never sent)
    play: bool = False  # set by PLAY, taken by the connection, which then sends the key frame


def video_track(vendor: str) -> int:
    """trackID of the video in the vendor's SDP (see build_sdp)."""
    return 0 if vendor == "dahua" else 1


class _RtspProtocol(asyncio.Protocol):
    def __init__(self, servers: RtspServers, state: DeviceState) -> None:
        self._servers = servers
        self._state = state
        self._buf = b""
        self._transport: asyncio.Transport | None = None
        self._session = _Session()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._servers._connections.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._servers._connections.discard(self._transport)

    def data_received(self, data: bytes) -> None:
        if not self._state.responsive:  # hung or off: swallow everything, answer nothing
            self._buf = b""
            return
        self._buf += data
        while self._transport is not None and not self._transport.is_closing():
            request = self._take_request()
            if request is None:
                break
            self._transport.write(self._servers.answer(self._state, *request, session=self._session))
            if self._session.play:
                self._session.play = False
                self._servers.play(self._state, self._session, self._transport)
        if len(self._buf) > MAX_REQUEST_BYTES and self._transport is not None:
            self._transport.close()

    def _take_request(self) -> tuple[str, dict[str, str]] | None:
        """Pop one complete request (request line, headers) off the buffer; skip interleaved data."""
        while self._buf.startswith(b"$") and len(self._buf) >= 4:
            size = 4 + int.from_bytes(self._buf[2:4], "big")
            if len(self._buf) < size:
                return None
            self._buf = self._buf[size:]
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self._buf[:end].decode("utf-8", "replace").split("\r\n")
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0) if headers.get(
            "content-length", "0").isdigit() else 0
        if len(self._buf) < end + 4 + length:
            return None
        self._buf = self._buf[end + 4 + length:]
        return head[0], headers


class RtspServers:
    """One RTSP listening socket per camera; ``port`` overrides every camera's ``rtsp_port``."""

    def __init__(self, states: Iterable[DeviceState], secrets: Mapping[str, Credentials],
                 port: int | None = None, stills: Stills | None = None) -> None:
        self._states = [s for s in states if s.kind == "camera"]
        self.stills = stills or Stills()  # shared with ONVIF's snapshots: a frozen camera is frozen in both
        self._tasks: set[asyncio.Task[None]] = set()
        self._secrets = secrets
        self._port = port
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Transport] = set()
        self._nonces = _NonceIssuer()
        self._session_id = int(time.time())

    def port_of(self, state: DeviceState) -> int:
        return self._port if self._port is not None else state.rtsp_port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            for state in self._states:
                server = await loop.create_server(
                    lambda st=state: _RtspProtocol(self, st),  # type: ignore[misc]
                    host=state.ip, port=self.port_of(state), reuse_address=True, backlog=64)
                self._servers.append(server)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        for transport in list(self._connections):
            transport.abort()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    # -- request handling (pure: request in, bytes out; PLAY marks the session for play())
    def answer(self, state: DeviceState, request_line: str, headers: dict[str, str],
               session: _Session | None = None) -> bytes:
        parts = request_line.split()
        cseq = headers.get("cseq")
        if len(parts) != 3 or cseq is None:
            return self._response(state, 400, cseq, {})
        method, url, version = parts
        if version != "RTSP/1.0":
            return self._response(state, 505, cseq, {})
        if method == "OPTIONS":
            return self._response(state, 200, cseq, {"Public": ", ".join(IMPLEMENTED)})
        if method in IMPLEMENTED and not self._authorized(state, method, headers):
            return self._challenge(state, cseq)
        if method == "DESCRIBE":
            return self._describe(state, url, cseq)
        if method in ("SETUP", "PLAY", "TEARDOWN"):
            return self._media(state, method, url, cseq, headers, session or _Session())
        if method in KNOWN_METHODS:
            return self._response(state, 405, cseq, {"Allow": ", ".join(IMPLEMENTED)})
        return self._response(state, 501, cseq, {})

    def _authorized(self, state: DeviceState, method: str, headers: dict[str, str]) -> bool:
        creds = self._secrets.get(state.auth_profile)
        auth = headers.get("authorization", "")
        return (creds is not None and not state.credentials_broken and bool(auth)
                and _digest_ok(auth, method, creds, _realm(state), self._nonces))

    def _challenge(self, state: DeviceState, cseq: str) -> bytes:
        challenge = f'Digest realm="{_realm(state)}", nonce="{self._nonces.issue()}", stale="FALSE"'
        return self._response(state, 401, cseq, {"WWW-Authenticate": challenge})

    def _describe(self, state: DeviceState, url: str, cseq: str) -> bytes:
        index = stream_index(state.vendor, url)
        if index is None or not 0 <= index < len(state.streams):
            return self._response(state, 404, cseq, {})
        if state.encoder_stalled:
            return self._response(state, 503, cseq, {})
        sdp = build_sdp(state, state.streams[index], url, self._session_id).encode()
        extra = {"Content-Type": "application/sdp", "Content-Base": url.rstrip("/") + "/",
                 "Content-Length": str(len(sdp))}
        return self._response(state, 200, cseq, extra) + sdp

    def _media(self, state: DeviceState, method: str, url: str, cseq: str, headers: dict[str, str],
               session: _Session) -> bytes:
        if method == "SETUP":
            return self._setup(state, url, cseq, headers.get("transport", ""), session)
        if not session.id:
            return self._response(state, 455, cseq, {})
        if headers.get("session", "").split(";")[0].strip() != session.id:
            return self._response(state, 454, cseq, {})
        if method == "PLAY":
            if state.encoder_stalled:
                return self._response(state, 503, cseq, {})
            session.play = session.video
        return self._response(state, 200, cseq, {"Session": session.id})

    def _setup(self, state: DeviceState, url: str, cseq: str, transport: str, session: _Session) -> bytes:
        track = _TRACK.search(url)
        index = stream_index(state.vendor, url[:track.start()]) if track else None
        if track is None or index is None or not 0 <= index < len(state.streams):
            return self._response(state, 404, cseq, {})
        if "RTP/AVP/TCP" not in transport.upper():  # UDP is not simulated: interleaved TCP only
            return self._response(state, 461, cseq, {})
        m = _INTERLEAVED.search(transport)
        channel = int(m.group(1)) if m else 0
        if channel > 254:
            return self._response(state, 400, cseq, {})
        session.id = session.id or os.urandom(8).hex().upper()
        session.index = index
        if int(track.group(1)) == video_track(state.vendor):
            session.video, session.channel = True, channel
        reply = {"Transport": f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1};ssrc={os.urandom(4).hex()}",
                 "Session": f"{session.id};timeout=60"}
        return self._response(state, 200, cseq, reply)

    # -- media: one key frame per PLAY
    def play(self, state: DeviceState, session: _Session, transport: asyncio.Transport) -> None:
        task = asyncio.get_running_loop().create_task(self._send_keyframe(state, session, transport))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_keyframe(self, state: DeviceState, session: _Session, transport: asyncio.Transport) -> None:
        """The camera's current picture (faults applied) as one IDR access unit; nothing more is sent."""
        stream = state.streams[session.index]
        if stream.encoding != "H264":  # no H.265 encoder here: the session plays, silently
            return
        try:
            units = await asyncio.to_thread(self.keyframe_units, state, stream)
        except Exception:  # a simulator bug must not pass for a camera fault: log it, send nothing
            log.exception("RTSP %s: no key frame", state.device_id)
            return
        if transport.is_closing() or not state.responsive:
            return
        timestamp = int(state.clock() * 90000)
        packets = h264.rtp_packets(units, int.from_bytes(os.urandom(2), "big"), timestamp,
                                   int.from_bytes(os.urandom(4), "big"))
        transport.write(h264.interleave(session.channel, packets))

    def keyframe_units(self, state: DeviceState, stream: StreamConfig) -> list[bytes]:
        import cv2
        import numpy as np

        jpeg = self.stills.still(state.device_id, state.device_id, state.clock(), stream.width, stream.height,
                                 state.extra.get("image_fault"))
        picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if picture is None:
            raise RuntimeError(f"{state.device_id}: the rendered still does not decode")
        started = time.perf_counter()
        units = h264.encode_idr(picture, stream)
        log.debug("RTSP %s: %dx%d key frame encoded in %.1f ms", state.device_id, stream.width, stream.height,
                  (time.perf_counter() - started) * 1000)
        return units

    def _response(self, state: DeviceState, code: int, cseq: str | None, extra: dict[str, str]) -> bytes:
        lines = [f"RTSP/1.0 {code} {REASONS[code]}"]
        if cseq is not None:
            lines.append(f"CSeq: {cseq}")
        lines.append(f"Date: {formatdate(state.clock(), usegmt=True)}")
        if server := _SERVER_HEADER.get(state.vendor):
            lines.append(f"Server: {server}")
        lines += [f"{name}: {value}" for name, value in extra.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()
