# A deliberate copy, apart from the exporter's RTP H.264 code: a test bed built from the code it tests proves nothing.
"""A camera's picture as H.264 over RTP: one IDR frame encoded with libx264 (PyAV), packetized.

Encoding (:func:`encode_idr`): the still (a BGR picture) becomes one IDR access unit at the
stream's resolution and H.264 profile, with SPS and PPS in-band ahead of the slice, as Hikvision
and Dahua cameras send them before every key frame. x264's own SEI (its version banner) is
dropped: a camera sends none of it. The parameter sets depend only on the encoder settings and
the stream's size, never on the picture, so :func:`parameter_sets` (what DESCRIBE's SDP
advertises) is the same encoder's output for a blank picture, cached per stream.

Packetization (:func:`rtp_packets`, RFC 6184 mode 1): SPS and PPS together in one STAP-A, NAL
units up to ``MTU`` bytes as single-NAL packets, larger ones as FU-A fragments; the marker bit on
the access unit's last packet; the 90 kHz timestamp given by the caller. :func:`interleave` puts
packets in RTSP interleaved frames (RFC 2326 §10.12: ``$``, channel, 16-bit length).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from sharpeyes.simulator.state import StreamConfig

MTU = 1400  # payload bytes per RTP packet, as cameras keep under an Ethernet MTU
_SEI, _SPS, _PPS, _STAP_A, _FU_A = 6, 7, 8, 24, 28


def _encoder(stream: StreamConfig):  # type: ignore[no-untyped-def]
    import av

    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = stream.width, stream.height, "yuv420p"
    codec.time_base = Fraction(1, max(1, stream.frame_rate))
    codec.framerate = Fraction(max(1, stream.frame_rate), 1)
    codec.options = {"preset": "superfast", "tune": "zerolatency", "profile": stream.h264_profile.lower(),
                     "x264-params": "keyint=1:repeat-headers=1"}
    return codec


def split_annex_b(data: bytes) -> list[bytes]:
    """NAL units of an Annex-B byte stream (3- or 4-byte start codes)."""
    units, i = [], data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        i = data.find(b"\x00\x00\x01", start)
        end = len(data) if i < 0 else (i - 1 if data[i - 1] == 0 else i)
        if end > start:
            units.append(data[start:end])
    return units


def encode_idr(picture: np.ndarray, stream: StreamConfig) -> list[bytes]:
    """NAL units of one IDR access unit (SPS, PPS, slices) showing ``picture`` (BGR, any size)."""
    import av

    codec = _encoder(stream)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="bgr24")
    frame = frame.reformat(width=stream.width, height=stream.height, format="yuv420p")
    data = b"".join(bytes(p) for p in [*codec.encode(frame), *codec.encode(None)])
    return [nal for nal in split_annex_b(data) if nal[0] & 0x1F != _SEI]


def parameter_sets(stream: StreamConfig) -> tuple[bytes, bytes]:
    """(SPS, PPS) the encoder writes for this stream: what the SDP's sprop-parameter-sets says."""
    return _parameter_sets(stream.width, stream.height, stream.frame_rate, stream.h264_profile)


@lru_cache(maxsize=16)
def _parameter_sets(width: int, height: int, frame_rate: int, profile: str) -> tuple[bytes, bytes]:
    stream = StreamConfig("", "H264", width, height, frame_rate, 0, h264_profile=profile)
    units = encode_idr(np.zeros((16, 16, 3), np.uint8), stream)
    sps = next(nal for nal in units if nal[0] & 0x1F == _SPS)
    pps = next(nal for nal in units if nal[0] & 0x1F == _PPS)
    return sps, pps


def _rtp(seq: int, timestamp: int, ssrc: int, marker: bool, payload: bytes) -> bytes:
    header = bytes([0x80, (0x80 if marker else 0) | 96]) + (seq & 0xFFFF).to_bytes(2, "big")
    return header + (timestamp & 0xFFFFFFFF).to_bytes(4, "big") + ssrc.to_bytes(4, "big") + payload


def _payloads(units: list[bytes]) -> list[bytes]:
    sets = [nal for nal in units if nal[0] & 0x1F in (_SPS, _PPS)]
    out = []
    if sets:
        nri = max(nal[0] & 0x60 for nal in sets)
        out.append(bytes([nri | _STAP_A]) + b"".join(len(n).to_bytes(2, "big") + n for n in sets))
    for nal in (n for n in units if n[0] & 0x1F not in (_SPS, _PPS)):
        if len(nal) <= MTU:
            out.append(nal)
            continue
        indicator, kind = (nal[0] & 0xE0) | _FU_A, nal[0] & 0x1F
        chunks = [nal[i:i + MTU - 2] for i in range(1, len(nal), MTU - 2)]
        for i, chunk in enumerate(chunks):
            flags = (0x80 if i == 0 else 0) | (0x40 if i == len(chunks) - 1 else 0)
            out.append(bytes([indicator, flags | kind]) + chunk)
    return out


def rtp_packets(units: list[bytes], first_seq: int, timestamp: int, ssrc: int) -> list[bytes]:
    """RTP packets (payload type 96) of one access unit; the marker bit on the last."""
    payloads = _payloads(units)
    return [_rtp(first_seq + i, timestamp, ssrc, i == len(payloads) - 1, p) for i, p in enumerate(payloads)]


def interleave(channel: int, packets: list[bytes]) -> bytes:
    return b"".join(b"$" + bytes([channel]) + len(p).to_bytes(2, "big") + p for p in packets)
