"""RTSP responder: OPTIONS and DESCRIBE for many cameras, one listening socket per camera address.

What a monitoring probe sees of a real camera's RTSP server, and no more: no media is streamed.
- OPTIONS answers without authentication (``Public:`` lists what this server implements).
- DESCRIBE needs HTTP-style Digest authentication (RFC 2617 without qop, as cameras do; qop=auth
  is accepted too); without valid credentials it answers 401 with ``WWW-Authenticate: Digest``.
  A valid request gets an SDP for the stream the URL names (H.264 with real SPS/PPS for the
  stream's resolution, or H.265) plus a G.711 audio track, in the vendor's SDP dialect.
- Other RTSP methods: 405 (with ``Allow``); unknown methods: 501.
- Faults from :class:`~simulator.state.DeviceState`: not responsive (hung / powered off) → the
  connection is accepted and nothing is ever answered; ``credentials_broken`` → every DESCRIBE is
  401; ``encoder_stalled`` → DESCRIBE is 503 (no media available).

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
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit

from simulator.state import Credentials, DeviceState, StreamConfig

__all__ = ["RtspServers", "h264_parameter_sets", "stream_index", "stream_path"]

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 16 * 1024
NONCE_LIFETIME_S = 300.0
IMPLEMENTED = ("OPTIONS", "DESCRIBE")
KNOWN_METHODS = frozenset({"ANNOUNCE", "GET_PARAMETER", "PAUSE", "PLAY", "RECORD", "REDIRECT", "SETUP",
                           "SET_PARAMETER", "TEARDOWN"})
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 501: "Not Implemented", 503: "Service Unavailable",
           505: "RTSP Version Not Supported"}


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


# ---------------------------------------------------------------- H.264 parameter sets

class _BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> None:
        self.bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    def ue(self, value: int) -> None:  # Exp-Golomb
        code = value + 1
        self.u(2 * code.bit_length() - 1, code)

    def rbsp(self) -> bytes:
        bits = [*self.bits, 1]  # rbsp_stop_one_bit
        bits += [0] * (-len(bits) % 8)
        raw = bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))
        out = bytearray()  # emulation prevention: 00 00 0x (x <= 3) -> 00 00 03 0x
        for byte in raw:
            if len(out) >= 2 and out[-1] == 0 and out[-2] == 0 and byte <= 3:
                out.append(3)
            out.append(byte)
        return bytes(out)


_PROFILE_IDC = {"Baseline": 66, "Main": 77, "High": 100}


def h264_parameter_sets(stream: StreamConfig) -> tuple[bytes, bytes, int, int]:
    """(SPS NAL, PPS NAL, profile_idc, level_idc) describing the stream's resolution."""
    profile = _PROFILE_IDC.get(stream.h264_profile, 77)
    level = 40 if stream.width * stream.height > 1280 * 720 else 30
    mbs_w, mbs_h = -(-stream.width // 16), -(-stream.height // 16)
    sps = _BitWriter()
    sps.u(8, profile)
    sps.u(8, 0)  # constraint flags + reserved
    sps.u(8, level)
    sps.ue(0)  # seq_parameter_set_id
    if profile == 100:
        sps.ue(1)  # chroma_format_idc 4:2:0
        sps.ue(0)  # bit_depth_luma_minus8
        sps.ue(0)  # bit_depth_chroma_minus8
        sps.u(1, 0)  # qpprime_y_zero_transform_bypass_flag
        sps.u(1, 0)  # seq_scaling_matrix_present_flag
    sps.ue(0)  # log2_max_frame_num_minus4
    sps.ue(0)  # pic_order_cnt_type
    sps.ue(2)  # log2_max_pic_order_cnt_lsb_minus4
    sps.ue(1)  # max_num_ref_frames
    sps.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    sps.ue(mbs_w - 1)
    sps.ue(mbs_h - 1)
    sps.u(1, 1)  # frame_mbs_only_flag
    sps.u(1, 1)  # direct_8x8_inference_flag
    crop_right, crop_bottom = (mbs_w * 16 - stream.width) // 2, (mbs_h * 16 - stream.height) // 2
    sps.u(1, 1 if crop_right or crop_bottom else 0)
    if crop_right or crop_bottom:
        for value in (0, crop_right, 0, crop_bottom):
            sps.ue(value)
    sps.u(1, 0)  # vui_parameters_present_flag
    pps = _BitWriter()
    pps.ue(0)  # pic_parameter_set_id
    pps.ue(0)  # seq_parameter_set_id
    pps.u(1, 0)  # entropy_coding_mode_flag (CAVLC)
    pps.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    pps.ue(0)  # num_slice_groups_minus1
    pps.ue(0)  # num_ref_idx_l0_default_active_minus1
    pps.ue(0)  # num_ref_idx_l1_default_active_minus1
    pps.u(1, 0)  # weighted_pred_flag
    pps.u(2, 0)  # weighted_bipred_idc
    pps.ue(0)  # pic_init_qp_minus26 (se 0 == ue 0)
    pps.ue(0)  # pic_init_qs_minus26
    pps.ue(0)  # chroma_qp_index_offset
    pps.u(1, 1)  # deblocking_filter_control_present_flag
    pps.u(1, 0)  # constrained_intra_pred_flag
    pps.u(1, 0)  # redundant_pic_cnt_present_flag
    return b"\x67" + sps.rbsp(), b"\x68" + pps.rbsp(), profile, level


# ---------------------------------------------------------------- SDP per vendor

def _video_lines(stream: StreamConfig) -> tuple[str, str]:
    """(rtpmap, fmtp) attribute values for payload type 96."""
    if stream.encoding == "H265":
        return "96 H265/90000", ""
    sps, pps, profile, level = h264_parameter_sets(stream)
    sets = ",".join(base64.b64encode(nal).decode() for nal in (sps, pps))
    return ("96 H264/90000",
            f"96 profile-level-id={profile:02X}00{level:02X}; packetization-mode=1; "
            f"sprop-parameter-sets={sets}")


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


class _RtspProtocol(asyncio.Protocol):
    def __init__(self, servers: RtspServers, state: DeviceState) -> None:
        self._servers = servers
        self._state = state
        self._buf = b""
        self._transport: asyncio.Transport | None = None

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
            self._transport.write(self._servers.answer(self._state, *request))
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
                 port: int | None = None) -> None:
        self._states = [s for s in states if s.kind == "camera"]
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
        for transport in list(self._connections):
            transport.abort()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    # -- request handling (pure: request in, bytes out)
    def answer(self, state: DeviceState, request_line: str, headers: dict[str, str]) -> bytes:
        parts = request_line.split()
        cseq = headers.get("cseq")
        if len(parts) != 3 or cseq is None:
            return self._response(state, 400, cseq, {})
        method, url, version = parts
        if version != "RTSP/1.0":
            return self._response(state, 505, cseq, {})
        if method == "OPTIONS":
            return self._response(state, 200, cseq, {"Public": ", ".join(IMPLEMENTED)})
        if method == "DESCRIBE":
            return self._describe(state, url, cseq, headers)
        if method in KNOWN_METHODS:
            return self._response(state, 405, cseq, {"Allow": ", ".join(IMPLEMENTED)})
        return self._response(state, 501, cseq, {})

    def _describe(self, state: DeviceState, url: str, cseq: str, headers: dict[str, str]) -> bytes:
        realm = _realm(state)
        creds = self._secrets.get(state.auth_profile)
        auth = headers.get("authorization", "")
        if (creds is None or state.credentials_broken or not auth
                or not _digest_ok(auth, "DESCRIBE", creds, realm, self._nonces)):
            challenge = f'Digest realm="{realm}", nonce="{self._nonces.issue()}", stale="FALSE"'
            return self._response(state, 401, cseq, {"WWW-Authenticate": challenge})
        index = stream_index(state.vendor, url)
        if index is None or not 0 <= index < len(state.streams):
            return self._response(state, 404, cseq, {})
        if state.encoder_stalled:
            return self._response(state, 503, cseq, {})
        sdp = build_sdp(state, state.streams[index], url, self._session_id).encode()
        extra = {"Content-Type": "application/sdp", "Content-Base": url.rstrip("/") + "/",
                 "Content-Length": str(len(sdp))}
        return self._response(state, 200, cseq, extra) + sdp

    def _response(self, state: DeviceState, code: int, cseq: str | None, extra: dict[str, str]) -> bytes:
        lines = [f"RTSP/1.0 {code} {REASONS[code]}"]
        if cseq is not None:
            lines.append(f"CSeq: {cseq}")
        lines.append(f"Date: {formatdate(state.clock(), usegmt=True)}")
        if server := _SERVER_HEADER.get(state.vendor):
            lines.append(f"Server: {server}")
        lines += [f"{name}: {value}" for name, value in extra.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()
