"""H.264 over RTP, receive side: the SDP's video track and one IDR access unit from RTP packets.

Pure functions and one small state machine, no I/O (the RTSP session is rtsp_keyframe.py).
- SDP (RFC 4566/6184): the first ``m=video`` whose rtpmap is H264, its control URL resolved
  against the base, and the SPS/PPS of ``sprop-parameter-sets``. Real cameras put spaces after
  the fmtp semicolons (Hikvision), advertise absolute control URLs with a query (Hikvision), or
  put the video's fmtp line in another section (tests/fixtures/rtsp/SOURCES.tsv): all accepted.
- RTP (RFC 3550) and its H.264 payload (RFC 6184): single NAL units, STAP-A, FU-A. A packet that
  is not RTP version 2, is shorter than its header, or carries a NAL/aggregate whose lengths run
  past the packet is rejected (:class:`RtpError`); a sequence gap or a fragment without its start
  spoils the access unit being built, which is then dropped and the next one awaited.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

STAP_A, FU_A = 24, 28
NAL_IDR, NAL_SPS, NAL_PPS = 5, 7, 8
MAX_SDP_BYTES = 64 * 1024
MAX_PARAMETER_SET = 4096  # an SPS/PPS is tens of bytes
_RTPMAP = re.compile(r"(\d+)\s+H264/90000", re.IGNORECASE)


class RtpError(ValueError):
    """Hostile or broken RTP/SDP; ``reason`` is a ProbeError reason (malformed, protocol)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class H264Track:
    control: str  # absolute URL to SETUP
    payload_type: int
    parameter_sets: tuple[bytes, ...]  # SPS and PPS NAL units from sprop-parameter-sets


# ---------------------------------------------------------------- SDP

def _sections(sdp: str) -> list[list[str]]:
    """The session section, then one list of lines per ``m=`` section."""
    out: list[list[str]] = [[]]
    for line in sdp.replace("\r\n", "\n").split("\n"):
        line = line.strip()
        if line.startswith("m="):
            out.append([])
        if line:
            out[-1].append(line)
    return out


def _attr(lines: list[str], name: str) -> list[str]:
    prefix = f"a={name}:"
    return [line[len(prefix):].strip() for line in lines if line.lower().startswith(prefix)]


def _video_section(sections: list[list[str]]) -> tuple[list[str], int]:
    for lines in sections[1:]:
        if not lines[0].startswith("m=video"):
            continue
        for value in _attr(lines, "rtpmap"):
            if m := _RTPMAP.fullmatch(value):
                return lines, int(m.group(1))
    raise RtpError("protocol", "the SDP has no H.264 video track")


def sprop_parameter_sets(fmtp: str) -> tuple[bytes, ...]:
    """The SPS and PPS NAL units of ``sprop-parameter-sets`` in an fmtp value ("96 a=b; c=d")."""
    for param in fmtp.partition(" ")[2].split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() != "sprop-parameter-sets":
            continue
        try:
            units = [base64.b64decode(part, validate=True) for part in value.split(",") if part]
        except (binascii.Error, ValueError):
            raise RtpError("malformed", f"sprop-parameter-sets is not base64: {value[:60]!r}") from None
        return tuple(u for u in map(_without_start_code, units) if is_parameter_set(u))
    return ()


def _without_start_code(nal: bytes) -> bytes:
    """GW Security firmwares end each sprop NAL with an Annex-B start code
    (tests/fixtures/rtsp/retina_gw_main_describe.txt)."""
    return nal.removesuffix(b"\x00\x00\x00\x01")


def is_parameter_set(nal: bytes) -> bool:
    """An SPS or PPS NAL header. Bytes that are none (some firmwares put raw RBSP or zeros in
    sprop-parameter-sets) are left out: the camera's in-band parameter sets are used instead."""
    return len(nal) >= 2 and not nal[0] & 0x80 and nal[0] & 0x1F in (NAL_SPS, NAL_PPS)


def parse_sdp(sdp: str, base: str) -> H264Track:
    """The H.264 track of a DESCRIBE answer; ``base`` is Content-Base (or the DESCRIBE URL)."""
    sections = _sections(sdp)
    video, pt = _video_section(sections)
    fmtps = [f for f in _attr(video, "fmtp") if f.split(" ", 1)[0] == str(pt)]
    if not fmtps:  # some firmwares write the video's fmtp under the audio section
        fmtps = [f for lines in sections for f in _attr(lines, "fmtp") if f.split(" ", 1)[0] == str(pt)]
    sets = sprop_parameter_sets(fmtps[0]) if fmtps else ()
    control = (_attr(video, "control") or ["*"])[0]
    return H264Track(resolve_control(base, control), pt, sets)


def resolve_control(base: str, control: str) -> str:
    """The track's URL. A relative control is appended to the base as text, not joined as a URL:
    Dahua's base has a query (``...realmonitor?channel=1&subtype=0/``) and wants ``.../trackID=0``
    after it, which URL joining would drop."""
    if control == "*" or not control:
        return base
    if control.lower().startswith("rtsp://"):
        return control
    return base.rstrip("/") + "/" + control


# ---------------------------------------------------------------- RTP

@dataclass(frozen=True, slots=True)
class RtpPacket:
    marker: bool
    payload_type: int
    sequence: int
    timestamp: int
    payload: bytes


def parse_rtp(data: bytes) -> RtpPacket:
    """One RTP packet (RFC 3550 §5.1): version 2, CSRCs, extension and padding honoured."""
    if len(data) < 12 or data[0] >> 6 != 2:
        raise RtpError("malformed", f"not an RTP packet ({len(data)} bytes)")
    start = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:  # header extension: 4-byte header, length in 32-bit words
        if len(data) < start + 4:
            raise RtpError("malformed", "RTP header extension past the packet")
        start += 4 + 4 * int.from_bytes(data[start + 2:start + 4], "big")
    end = len(data) - (data[-1] if data[0] & 0x20 else 0)
    if start >= end:
        raise RtpError("malformed", "RTP packet without payload")
    return RtpPacket(bool(data[1] & 0x80), data[1] & 0x7F, int.from_bytes(data[2:4], "big"),
                     int.from_bytes(data[4:8], "big"), data[start:end])


def stap_a_units(payload: bytes) -> list[bytes]:
    """NAL units of a STAP-A payload (RFC 6184 §5.7.1): 16-bit size, NAL, repeated."""
    units, i = [], 1
    while i < len(payload):
        if i + 2 > len(payload):
            raise RtpError("malformed", "STAP-A size field cut off")
        size = int.from_bytes(payload[i:i + 2], "big")
        if size == 0 or i + 2 + size > len(payload):
            raise RtpError("malformed", f"STAP-A unit of {size} bytes past the packet")
        units.append(payload[i + 2:i + 2 + size])
        i += 2 + size
    return units


@dataclass(slots=True)
class KeyframeAssembler:
    """Feed RTP packets of the H.264 track; ``push`` returns the first complete IDR access unit.

    An access unit ends at the marker bit (or when the timestamp changes). ``max_bytes`` bounds
    the unit being built; beyond it the stream is refused as hostile. The latest in-band SPS/PPS
    are kept across units and put ahead of the key frame: cameras send them as packets of their
    own, some stamped with the previous picture's timestamp or with a marker bit of their own.
    """

    max_bytes: int
    units: list[bytes] = field(default_factory=list)
    size: int = 0
    fragment: bytearray | None = None
    timestamp: int | None = None
    next_seq: int | None = None
    damaged: bool = False
    parameter_sets: dict[int, bytes] = field(default_factory=dict)  # NAL type -> latest SPS/PPS

    def push(self, pkt: RtpPacket) -> list[bytes] | None:
        if self.timestamp is not None and pkt.timestamp != self.timestamp:
            self._reset()  # a new picture without the previous one's marker
        if self.next_seq is not None and pkt.sequence != self.next_seq:
            self.damaged = True
        self.next_seq = (pkt.sequence + 1) & 0xFFFF
        self.timestamp = pkt.timestamp
        self._payload(pkt.payload)
        if not pkt.marker:
            return None
        unit = self.units if not self.damaged and self.fragment is None else []
        self._reset()
        if not any(nal[0] & 0x1F == NAL_IDR for nal in unit):
            return None
        return [*(p for p in self.parameter_sets.values() if p not in unit), *unit]

    def _reset(self) -> None:
        self.units, self.size, self.fragment, self.timestamp, self.damaged = [], 0, None, None, False

    def _add(self, nal: bytes) -> None:
        self.size += len(nal)
        if self.size > self.max_bytes:
            raise RtpError("malformed", f"an access unit larger than {self.max_bytes} bytes")
        if is_parameter_set(nal) and len(nal) <= MAX_PARAMETER_SET:
            self.parameter_sets[nal[0] & 0x1F] = nal
        self.units.append(nal)

    def _payload(self, payload: bytes) -> None:
        kind = payload[0] & 0x1F
        if payload[0] & 0x80:
            raise RtpError("malformed", "H.264 NAL header with the forbidden bit set")
        if kind != FU_A and self.fragment is not None:  # a fragmented NAL left without its end
            self.fragment, self.damaged = None, True
        if 1 <= kind <= 23:
            self._add(payload)
        elif kind == STAP_A:
            for nal in stap_a_units(payload):
                self._add(nal)
        elif kind == FU_A:
            self._fragment(payload)
        else:  # STAP-B, MTAP, FU-B: not in packetization-mode 1
            raise RtpError("malformed", f"H.264 RTP payload type {kind} not allowed in mode 1")

    def _fragment(self, payload: bytes) -> None:
        if len(payload) < 3:
            raise RtpError("malformed", "FU-A shorter than its headers")
        start, end = payload[1] & 0x80, payload[1] & 0x40
        if start:
            self.damaged |= self.fragment is not None  # the previous fragmented NAL never ended
            self.fragment = bytearray([(payload[0] & 0xE0) | (payload[1] & 0x1F)])
        elif self.fragment is None:  # its start was lost: the picture is spoilt
            self.damaged = True
            return
        self.fragment += payload[2:]
        if len(self.fragment) + self.size > self.max_bytes:
            raise RtpError("malformed", f"an access unit larger than {self.max_bytes} bytes")
        if end:
            nal, self.fragment = bytes(self.fragment), None
            self._add(nal)


def annex_b(units: list[bytes] | tuple[bytes, ...]) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + nal for nal in units)
