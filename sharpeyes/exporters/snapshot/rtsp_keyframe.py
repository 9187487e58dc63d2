"""One H.264 key frame from a camera's RTSP stream, for cameras without an ONVIF snapshot URI.

RTSP/1.0 (RFC 2326) over one TCP connection, media interleaved on it (``RTP/AVP/TCP``): DESCRIBE
(answering the camera's Digest challenge with the snapshot's Digest code), SETUP of the H.264
track, PLAY, then RTP until the first complete IDR access unit, TEARDOWN. Every byte read from
the connection counts against ``max_bytes``: a camera streaming forever without a key frame, or
a hostile one, ends the probe. The caller bounds the time (asyncio.timeout). Failures are
FetchError with a ProbeError reason: protocol (an RTSP status, no H.264 track), malformed (not
RTSP, broken RTP, too many bytes), auth, refused, unreachable.

Decoding (:func:`decode_keyframe`) is separate and CPU bound: the prober runs it in a thread.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from sharpeyes.exporters.snapshot import h264_rtp as rtp
from sharpeyes.exporters.snapshot.http import FetchError, digest_authorization, parse_challenge, snapshot_target

TRANSPORT = "RTP/AVP/TCP;unicast;interleaved=0-1"
_LINE_LIMIT = 8192
_MAX_HEADERS = 64
_USER_AGENT = "sharpeyes-exporter"


@dataclass(frozen=True, slots=True)
class Keyframe:
    units: tuple[bytes, ...]  # SPS, PPS (from the SDP, then in-band ones) and the IDR access unit
    seconds: float  # connect to the last packet of the key frame
    size: int  # bytes read from the connection


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class _Rtsp:
    """One RTSP connection: requests with CSeq, Digest answered once, every byte counted."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 username: str, password: str, max_bytes: int) -> None:
        self.reader, self.writer = reader, writer
        self.username, self.password = username, password
        self.budget = max_bytes
        self.read = 0
        self.cseq = 0
        self.challenge: dict[str, str] | None = None
        self.session = ""

    def _count(self, n: int) -> None:
        self.read += n
        if self.read > self.budget:
            raise FetchError("malformed", f"RTSP: more than {self.budget} bytes without a key frame")

    async def _exactly(self, n: int) -> bytes:
        try:
            data = await self.reader.readexactly(n)
        except asyncio.IncompleteReadError:
            raise FetchError("malformed", "RTSP: connection closed mid-message") from None
        self._count(n)
        return data

    async def _line(self) -> bytes:
        try:
            line = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            raise FetchError("malformed", "RTSP: connection closed mid-message") from None
        except asyncio.LimitOverrunError:
            raise FetchError("malformed", "RTSP: header line too long") from None
        self._count(len(line))
        return line

    def send(self, method: str, url: str, headers: dict[str, str] | None = None) -> None:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", f"User-Agent: {_USER_AGENT}"]
        if self.challenge is not None:
            lines.append("Authorization: " + digest_authorization(
                self.challenge, method, url, self.username, self.password, nc=self.cseq))
        if self.session:
            lines.append(f"Session: {self.session}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None) -> _Reply:
        """Send, read the reply (skipping interleaved data); a 401 is answered once with Digest."""
        for _ in (1, 2):
            self.send(method, url, headers)
            reply = await self._reply()
            if reply.status != 401 or self.challenge is not None or not self.username:
                break
            self.challenge = _digest_challenge(reply.headers.get("www-authenticate", ""))
        if reply.status == 401:
            raise FetchError("auth", f"RTSP {method}: the camera refused our credentials")
        if reply.status != 200:
            raise FetchError("protocol", f"RTSP {method}: status {reply.status}")
        return reply

    async def _reply(self) -> _Reply:
        while True:
            first = await self._exactly(1)
            if first == b"$":
                await self._skip_frame()
                continue
            return await self._message(first)

    async def _skip_frame(self) -> None:
        head = await self._exactly(3)
        await self._exactly(int.from_bytes(head[1:3], "big"))

    async def _message(self, first: bytes) -> _Reply:
        status = _status(first + await self._line())
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS):
            line = (await self._line()).decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        else:
            raise FetchError("malformed", f"RTSP: more than {_MAX_HEADERS} header lines")
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > rtp.MAX_SDP_BYTES:
            raise FetchError("malformed", f"RTSP: Content-Length {length[:20]!r}")
        return _Reply(status, headers, await self._exactly(int(length)))

    async def frame(self) -> tuple[int, bytes]:
        """The next interleaved frame (channel, data); RTSP messages in between are read and ignored."""
        while True:
            first = await self._exactly(1)
            if first != b"$":
                await self._message(first)  # e.g. a server's keep-alive request: not ours to answer
                continue
            head = await self._exactly(3)
            return head[0], await self._exactly(int.from_bytes(head[1:3], "big"))


def _status(line: bytes) -> int:
    parts = line.split(b" ", 2)
    if len(parts) < 2 or parts[0] != b"RTSP/1.0" or not parts[1].isdigit() or len(parts[1]) != 3:
        raise FetchError("malformed", f"not an RTSP status line: {line[:60]!r}")
    return int(parts[1])


def _digest_challenge(header: str) -> dict[str, str]:
    challenge = parse_challenge(header)
    if challenge["scheme"] != "digest":  # never Basic: RTSP is clear text
        raise FetchError("auth", "RTSP 401 without a Digest challenge")
    return challenge


def _session_id(reply: _Reply) -> str:
    session = reply.headers.get("session", "").split(";", 1)[0].strip()
    if not session or len(session) > 256 or any(c in session for c in "\r\n"):
        raise FetchError("protocol", "RTSP SETUP: no usable Session header")
    return session


def _video_channel(reply: _Reply) -> int:
    """The interleaved channel the camera chose for RTP (it may differ from what we asked)."""
    for part in reply.headers.get("transport", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "interleaved":
            first = value.split("-", 1)[0]
            if first.isdigit() and int(first) < 256:
                return int(first)
            raise FetchError("malformed", f"RTSP SETUP: Transport interleaved={value[:20]!r}")
    if "RTP/AVP/TCP" not in reply.headers.get("transport", "").upper():
        raise FetchError("protocol", "RTSP SETUP: the camera did not accept RTP over TCP")
    return 0


async def _open(ip: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await asyncio.open_connection(ip, port, limit=_LINE_LIMIT)
    except ConnectionRefusedError:
        raise FetchError("refused", f"RTSP {ip}:{port} refused the connection") from None
    except OSError as exc:
        raise FetchError("unreachable", f"RTSP {ip}:{port}: {exc.strerror or exc}") from None


async def fetch_keyframe(url: str, username: str, password: str, max_bytes: int) -> Keyframe:
    """The first IDR access unit of ``url`` (already aimed at the camera's inventory address)."""
    started = time.monotonic()
    parts = urlsplit(url)
    reader, writer = await _open(parts.hostname or "", parts.port or 554)
    conn = _Rtsp(reader, writer, username, password, max_bytes)
    try:
        units = await _session(conn, url, max_bytes)
        return Keyframe(units, time.monotonic() - started, conn.read)
    except ConnectionError:
        raise FetchError("malformed", "RTSP: connection reset") from None
    finally:
        writer.close()


async def _session(conn: _Rtsp, url: str, max_bytes: int) -> tuple[bytes, ...]:
    described = await conn.request("DESCRIBE", url, {"Accept": "application/sdp"})
    base = described.headers.get("content-base") or described.headers.get("content-location") or url
    try:
        track = rtp.parse_sdp(described.body.decode("utf-8", "replace"), base)
    except rtp.RtpError as exc:
        raise FetchError(exc.reason, f"RTSP DESCRIBE: {exc.detail}") from None
    setup = await conn.request("SETUP", track.control, {"Transport": TRANSPORT})
    conn.session = _session_id(setup)
    channel = _video_channel(setup)
    await conn.request("PLAY", base, {"Range": "npt=0.000-"})
    try:
        unit = await _first_idr(conn, channel, track.payload_type, max_bytes)
    except rtp.RtpError as exc:
        raise FetchError(exc.reason, f"RTSP stream: {exc.detail}") from None
    conn.send("TEARDOWN", base)  # no need to wait: we close right after
    return (*track.parameter_sets, *unit)


async def _first_idr(conn: _Rtsp, channel: int, payload_type: int, max_bytes: int) -> list[bytes]:
    assembler = rtp.KeyframeAssembler(max_bytes)
    while True:  # ends: a key frame, the byte budget, the caller's deadline, or a closed connection
        ch, data = await conn.frame()
        if ch != channel:
            continue  # RTCP (channel + 1) or another track
        pkt = rtp.parse_rtp(data)
        if pkt.payload_type != payload_type:
            continue
        if (unit := assembler.push(pkt)) is not None:
            return unit


def decode_keyframe(units: tuple[bytes, ...] | list[bytes]) -> np.ndarray:
    """BGR picture of the key frame (PyAV's H.264 decoder); FetchError("malformed") when it has none."""
    import av

    if not any(nal and nal[0] & 0x1F == rtp.NAL_SPS for nal in units):
        raise FetchError("malformed", "key frame without an SPS (none in the SDP nor in the stream)")
    codec = av.CodecContext.create("h264", "r")
    try:
        frames = [*codec.decode(av.Packet(rtp.annex_b(units))), *codec.decode(None)]
    except av.FFmpegError as exc:
        raise FetchError("malformed", f"H.264 key frame does not decode: {exc}") from None
    if not frames:
        raise FetchError("malformed", "H.264 key frame decodes to no picture")
    return np.asarray(frames[0].to_ndarray(format="bgr24"))


def stream_target(uri: str, camera_ip: str, default_port: int) -> str:
    """The RTSP URL to dial: the camera's stream URI aimed at ``camera_ip`` (see snapshot_target)."""
    url = snapshot_target(uri, camera_ip, ("rtsp",))
    parts = urlsplit(url)
    if parts.port is None:
        url = urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default_port}"))
    return url
