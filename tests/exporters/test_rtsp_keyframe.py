"""The snapshot prober's RTSP key-frame path: SDP and RTSP replies of real cameras
(tests/fixtures/rtsp, see SOURCES.tsv), RTP H.264 depacketizing (RFC 6184) with hostile input,
and one whole session against a loopback server replaying the real Hikvision replies.

RTP packets here are built by the test from RFC 3550/6184, apart from the code under test."""

from __future__ import annotations

import asyncio
import base64
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from sharpeyes.exporters.snapshot import h264_rtp as rtp
from sharpeyes.exporters.snapshot.http import FetchError
from sharpeyes.exporters.snapshot.rtsp_keyframe import (
    _Rtsp,
    _session_id,
    _video_channel,
    decode_keyframe,
    fetch_keyframe,
    stream_target,
)
from tests import runnet
from tests.simulator.test_rtsp_sim import sps_resolution

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rtsp"
SPS, PPS = bytes([0x67, 0x42, 0x00, 0x1E, 0xAB]), bytes([0x68, 0xCE, 0x3C, 0x80])
IDR = bytes([0x65]) + bytes(range(1, 200))


def packet(payload: bytes, seq: int = 1, ts: int = 9000, marker: bool = False, pt: int = 96) -> bytes:
    return bytes([0x80, (0x80 if marker else 0) | pt]) + seq.to_bytes(2, "big") + ts.to_bytes(4, "big") + \
        b"\x12\x34\x56\x78" + payload


def stap_a(*units: bytes) -> bytes:
    return b"\x78" + b"".join(len(u).to_bytes(2, "big") + u for u in units)


def fu_a(nal: bytes, size: int) -> list[bytes]:
    body = nal[1:]
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    return [bytes([(nal[0] & 0xE0) | 28, (0x80 if i == 0 else 0) | (0x40 if i == len(chunks) - 1 else 0)
                   | (nal[0] & 0x1F)]) + c for i, c in enumerate(chunks)]


def feed(assembler: rtp.KeyframeAssembler, payloads: list[bytes], first_seq: int = 1,
         ts: int = 9000) -> list[list[bytes] | None]:
    return [assembler.push(rtp.parse_rtp(packet(p, first_seq + i, ts, i == len(payloads) - 1)))
            for i, p in enumerate(payloads)]


def reader_of(data: bytes) -> _Rtsp:
    reader = asyncio.StreamReader(limit=8192)
    reader.feed_data(data)
    reader.feed_eof()
    return _Rtsp(reader, None, "", "", 1 << 20)  # type: ignore[arg-type]  # reading only


# ---------------------------------------------------------------- real captures

async def test_hikvision_describe_capture() -> None:
    reply = await reader_of((FIXTURES / "retina_hikvision_describe.txt").read_bytes())._reply()
    assert reply.status == 200 and len(reply.body) == 902
    track = rtp.parse_sdp(reply.body.decode(), reply.headers["content-base"])
    assert track.control == ("rtsp://192.168.5.106:554/Streaming/Channels/101/trackID=1"
                             "?transportmode=unicast&profile=Profile_1")
    sps, pps = track.parameter_sets
    assert sps[0] & 0x1F == 7 and sps[1] == 77 and pps[0] & 0x1F == 8  # Main, whatever profile-level-id says
    assert sps_resolution(sps) == (1920, 1080)  # as its a=x-dimensions


async def test_dahua_describe_capture_relative_control_after_a_query() -> None:
    reply = await reader_of((FIXTURES / "retina_dahua_describe_h264_aac_onvif.txt").read_bytes())._reply()
    track = rtp.parse_sdp(reply.body.decode(), reply.headers["content-base"])
    assert track.control == "rtsp://192.168.5.111:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif/trackID=0"
    assert track.payload_type == 96 and track.parameter_sets[0][1] == 100  # High


@pytest.mark.parametrize(("name", "session"), [("retina_hikvision_setup.txt", "708345999"),
                                               ("retina_dahua_setup.txt", "634214675641")])
async def test_setup_captures(name: str, session: str) -> None:
    reply = await reader_of((FIXTURES / name).read_bytes())._reply()
    assert (reply.status, _session_id(reply), _video_channel(reply)) == (200, session, 0)


@pytest.mark.parametrize("name", ["retina_hikvision_play.txt", "retina_dahua_play.txt"])
async def test_play_captures(name: str) -> None:
    assert (await reader_of((FIXTURES / name).read_bytes())._reply()).status == 200


def test_sdp_with_the_video_fmtp_under_the_audio_section() -> None:
    track = rtp.parse_sdp((FIXTURES / "go2rtc_bug_sdp2.sdp").read_text(), "rtsp://10.0.0.1/live")
    assert track.control == "rtsp://10.0.0.1/live/track0"
    assert [n[0] & 0x1F for n in track.parameter_sets] == [7, 8]


def test_sdp_with_spaces_and_an_odd_application_track() -> None:
    track = rtp.parse_sdp((FIXTURES / "go2rtc_bug_sdp4_mercury.sdp").read_text(), "rtsp://10.0.0.94/stream1")
    assert track.control == "rtsp://10.0.0.94/stream1/track1" and len(track.parameter_sets) == 2


async def test_gw_security_sprop_nals_ending_with_a_start_code() -> None:
    reply = await reader_of((FIXTURES / "retina_gw_main_describe.txt").read_bytes())._reply()
    track = rtp.parse_sdp(reply.body.decode(), reply.headers["content-base"])
    assert track.control == "rtsp://192.168.1.110:5050/H264?channel=1&subtype=0&unicast=true&proto=Onvif/video"
    sps, pps = track.parameter_sets
    assert not sps.endswith(b"\x00\x00\x00\x01") and not pps.endswith(b"\x00\x00\x00\x01")
    assert sps_resolution(sps) == (1920, 1080) and pps[0] & 0x1F == 8


def test_sprop_bytes_that_are_no_parameter_set_are_left_out() -> None:
    junk = ",".join(base64.b64encode(b).decode() for b in (b"\xe9\x00\xf0\x04", bytes(4), SPS, b"\x65\x01"))
    assert rtp.sprop_parameter_sets(f"96 packetization-mode=1;sprop-parameter-sets={junk}") == (SPS,)


def test_sdp_without_h264_or_with_bad_base64() -> None:
    with pytest.raises(rtp.RtpError, match=r"no H\.264"):
        rtp.parse_sdp("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n", "rtsp://x/")
    with pytest.raises(rtp.RtpError, match="base64"):
        rtp.parse_sdp("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                      "a=fmtp:96 sprop-parameter-sets=Z0%%%,aM4=\r\n", "rtsp://x/")


def test_stream_uri_is_aimed_at_the_inventory_address() -> None:
    assert stream_target("rtsp://192.168.1.64/Streaming/Channels/101", "10.1.2.3", 554) == \
        "rtsp://10.1.2.3:554/Streaming/Channels/101"
    with pytest.raises(FetchError):
        stream_target("rtsp://8.8.8.8:554/live", "10.1.2.3", 554)
    with pytest.raises(FetchError):
        stream_target("http://10.1.2.3/live", "10.1.2.3", 554)


# ---------------------------------------------------------------- depacketizing

def test_single_nal_stap_a_and_fu_a_make_one_access_unit() -> None:
    unit = feed(rtp.KeyframeAssembler(1 << 20), [stap_a(SPS, PPS), *fu_a(IDR, 60)])
    assert unit[:-1] == [None] * (len(unit) - 1)
    assert unit[-1] == [SPS, PPS, IDR]
    assert feed(rtp.KeyframeAssembler(1 << 20), [IDR])[-1] == [IDR]


def test_a_picture_without_idr_is_skipped_and_the_next_idr_returned() -> None:
    a = rtp.KeyframeAssembler(1 << 20)
    assert feed(a, [bytes([0x41, 1, 2, 3])], 1, 100) == [None]  # a P slice, marker set
    assert feed(a, [*fu_a(IDR, 50)], 2, 200)[-1] == [IDR]


def test_parameter_sets_sent_apart_are_put_ahead_of_the_key_frame() -> None:
    # SPS with a marker bit of its own, PPS stamped with the previous picture's time, IDR later
    a = rtp.KeyframeAssembler(1 << 20)
    assert a.push(rtp.parse_rtp(packet(SPS, 1, 100, marker=True))) is None
    assert a.push(rtp.parse_rtp(packet(PPS, 2, 100))) is None
    assert feed(a, fu_a(IDR, 80), 3, 200)[-1] == [SPS, PPS, IDR]


def test_timestamp_change_without_marker_starts_a_new_unit() -> None:
    a = rtp.KeyframeAssembler(1 << 20)
    assert a.push(rtp.parse_rtp(packet(IDR[:10], 1, 100))) is None  # marker lost
    assert a.push(rtp.parse_rtp(packet(IDR, 2, 200, marker=True))) == [IDR]


def test_lost_fragment_start_or_sequence_gap_spoils_the_unit() -> None:
    a = rtp.KeyframeAssembler(1 << 20)
    frags = fu_a(IDR, 50)
    assert feed(a, frags[1:], 1, 100)[-1] is None  # attached mid-NAL
    assert feed(a, [frags[0], frags[2], frags[3]], 10, 200)[-1] is None  # a packet missing in between
    assert feed(a, frags, 13, 300)[-1] == [IDR]  # in sequence again


def test_a_fragment_cut_short_by_another_nal_spoils_the_unit() -> None:
    frags = fu_a(IDR, 50)
    assert feed(rtp.KeyframeAssembler(1 << 20), [frags[0], IDR])[-1] is None  # FU-A end never came
    assert feed(rtp.KeyframeAssembler(1 << 20), [frags[0], *frags])[-1] is None  # restarted mid-NAL


@pytest.mark.parametrize(("data", "match"), [
    (b"\x80\x60\x00", "not an RTP packet"),
    (bytes([0x40, 0x60]) + bytes(12), "not an RTP packet"),  # version 1
    (bytes([0x90, 0x60]) + bytes(10) + b"\x00\x00", "extension past"),
    (bytes([0x80, 0x60]) + bytes(10), "without payload"),
    (bytes([0xA0, 0x60]) + bytes(10) + b"\x65\x05", "without payload"),  # padding eats it all
])
def test_broken_rtp_is_malformed(data: bytes, match: str) -> None:
    with pytest.raises(rtp.RtpError, match=match) as err:
        rtp.parse_rtp(data)
    assert err.value.reason == "malformed"


@pytest.mark.parametrize(("payload", "match"), [
    (b"\x78\x00\x10" + SPS, "past the packet"),  # STAP-A size larger than what follows
    (b"\x78\x00\x05" + SPS + b"\x00", "cut off"),
    (b"\x78\x00\x00", "past the packet"),  # a zero-size unit
    (b"\x7C\x85", "shorter"),  # FU-A without payload
    (b"\x79\x00", "not allowed"),  # STAP-B
    (b"\xE5\x00\x00", "forbidden"),
])
def test_hostile_payloads_are_malformed(payload: bytes, match: str) -> None:
    with pytest.raises(rtp.RtpError, match=match):
        rtp.KeyframeAssembler(1 << 20).push(rtp.parse_rtp(packet(payload, marker=True)))


def test_an_endless_fragment_hits_the_byte_limit() -> None:
    a = rtp.KeyframeAssembler(4096)
    a.push(rtp.parse_rtp(packet(b"\x7C\x85" + bytes(1000), 1)))
    with pytest.raises(rtp.RtpError, match="larger than 4096"):
        for seq in range(2, 10):
            a.push(rtp.parse_rtp(packet(b"\x7C\x05" + bytes(1000), seq)))


# ---------------------------------------------------------------- interleaved framing

async def test_interleaved_frames_skip_rtsp_messages_and_reject_garbage() -> None:
    conn = reader_of(b"$\x01\x00\x02ab" + b"GET_PARAMETER rtsp://x RTSP/1.0\r\nCSeq: 9\r\n\r\n"
                     + b"$\x00\x00\x03xyz" + b"$\x00\x00\x10short")
    assert await conn.frame() == (1, b"ab")
    with pytest.raises(FetchError, match="not an RTSP status line"):  # a request is not a reply
        await conn.frame()
    conn = reader_of(b"$\x00\x00\x03xyz" + b"$\x00\x00\x10short")
    assert await conn.frame() == (0, b"xyz")
    with pytest.raises(FetchError, match="closed mid-message"):
        await conn.frame()
    with pytest.raises(FetchError, match="not an RTSP status line"):
        await reader_of(b"\x00\x01garbage\r\n").frame()


async def test_byte_budget_and_header_bounds() -> None:
    conn = reader_of(b"$\x00\xff\xff" + bytes(65535))
    conn.budget = 1000
    with pytest.raises(FetchError, match="more than 1000 bytes"):
        await conn.frame()
    many = b"RTSP/1.0 200 OK\r\n" + b"X-A: b\r\n" * 100 + b"\r\n"
    with pytest.raises(FetchError, match="header lines"):
        await reader_of(many)._reply()
    with pytest.raises(FetchError, match="Content-Length"):
        await reader_of(b"RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n")._reply()
    with pytest.raises(FetchError, match="too long"):
        await reader_of(b"RTSP/1.0 200 OK\r\nX: " + b"a" * 9000 + b"\r\n\r\n")._reply()


# ---------------------------------------------------------------- decoding

def encode_keyframe(width: int = 320, height: int = 240) -> list[bytes]:
    """One IDR access unit from libx264 (NAL units, SPS and PPS in-band)."""
    import av

    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = Fraction(1, 25)
    codec.options = {"preset": "ultrafast", "x264-params": "keyint=1:repeat-headers=1"}
    img = np.zeros((height, width, 3), np.uint8)
    img[:, : width // 2] = (0, 0, 255)
    frame = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
    data = b"".join(bytes(p) for p in [*codec.encode(frame), *codec.encode(None)])
    return [n for n in re.split(b"\x00\x00\x00\x01|\x00\x00\x01", data) if n and n[0] & 0x1F != 6]


def test_decode_keyframe_gives_the_picture_and_refuses_without_sps() -> None:
    units = encode_keyframe()
    bgr = decode_keyframe(units)
    assert bgr.shape == (240, 320, 3) and bgr[120, 40, 2] > 200 and bgr[120, 280, 2] < 40
    with pytest.raises(FetchError, match="without an SPS"):
        decode_keyframe([n for n in units if n[0] & 0x1F != 7])
    with pytest.raises(FetchError) as err:
        decode_keyframe([units[0], units[1], b"\x65" + bytes(50)])
    assert err.value.reason == "malformed"


# ---------------------------------------------------------------- a whole session, real reply shapes

class ReplayCamera:
    """Answers DESCRIBE/SETUP/PLAY with the Hikvision captures (after one Digest challenge), then
    sends one key frame in interleaved RTP, with an RTCP frame and a P-frame ahead of it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.done = asyncio.Event()

    @staticmethod
    def _capture(name: str, cseq: str) -> bytes:
        text = (FIXTURES / name).read_bytes()
        return re.sub(rb"CSeq: \d+", f"CSeq: {cseq}".encode(), text, count=1)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve(reader, writer)
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()
            self.done.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            text = head.decode()
            self.requests.append(text)
            method, cseq = text.split(" ", 1)[0], re.search(r"CSeq: (\d+)", text).group(1)  # type: ignore[union-attr]
            if "Authorization: Digest" not in text:
                writer.write(f'RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Digest '
                             f'realm="IP Camera(C6291)", nonce="abc"\r\n\r\n'.encode())
            elif method == "TEARDOWN":
                break
            else:
                name = {"DESCRIBE": "describe", "SETUP": "setup", "PLAY": "play"}[method]
                writer.write(self._capture(f"retina_hikvision_{name}.txt", cseq))
                if method == "PLAY":
                    writer.write(self._stream())
            await writer.drain()

    @staticmethod
    def _stream() -> bytes:
        def frame(channel: int, data: bytes) -> bytes:
            return b"$" + bytes([channel]) + len(data).to_bytes(2, "big") + data
        units = encode_keyframe()
        payloads = [stap_a(units[0], units[1]), *(p for n in units[2:] for p in fu_a(n, 1000))]
        out = frame(1, b"\x81\xc8" + bytes(26))  # RTCP sender report on channel 1
        out += frame(0, packet(b"\x41\x9a\x00", 50, 100, marker=True))  # a P slice before the key frame
        out += b"".join(frame(0, packet(p, 51 + i, 200, i == len(payloads) - 1)) for i, p in enumerate(payloads))
        return out


async def test_a_whole_session_against_real_hikvision_replies() -> None:
    cam = ReplayCamera()
    ip = runnet.current().host(200, sub=22)
    server = await asyncio.start_server(cam.handle, ip, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        url = f"rtsp://{ip}:{port}/Streaming/Channels/101"
        frame = await asyncio.wait_for(fetch_keyframe(url, "admin", "pw", 1 << 20), 10)
        await asyncio.wait_for(cam.done.wait(), 5)
    finally:
        server.close()
        await server.wait_closed()
    methods = [r.split(" ", 2)[:2] for r in cam.requests]
    assert [m for m, _ in methods] == ["DESCRIBE", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"]
    assert methods[2][1].endswith("/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1")
    assert "Session: 708345999\r\n" in cam.requests[3]
    assert all('uri="' in r and "Authorization: Digest" in r for r in cam.requests[1:])
    assert [n[0] & 0x1F for n in frame.units[:2]] == [7, 8]  # the SDP's real parameter sets first
    assert decode_keyframe(frame.units).shape == (240, 320, 3)  # the in-band ones, later, win
    assert base64.b64encode(frame.units[0]).decode() == "Z00AKZpkA8ARPyzUBAQFAAADA+gAAOpgBA=="
