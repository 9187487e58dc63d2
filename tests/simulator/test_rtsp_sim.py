"""The simulated cameras' RTSP, spoken to over a raw socket."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest

from sharpeyes.simulator.state import DeviceState
from tests.simulator.sim_helpers import PASSWORD, RTSP_PORT, TRT, USER, post, soap_request

MakeState = Callable[..., DeviceState]


class Rtsp:
    """A bare RTSP/1.0 client: one connection, requests with increasing CSeq."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.cseq = reader, writer, 0

    @classmethod
    async def connect(cls, ip: str) -> Rtsp:
        return cls(*await asyncio.open_connection(ip, RTSP_PORT))

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                      timeout: float = 5.0) -> tuple[int, dict[str, str], str]:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: sharpeyes-test",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await asyncio.wait_for(self.response(), timeout)

    async def response(self) -> tuple[int, dict[str, str], str]:
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        version, code, _ = head[0].split(" ", 2)
        assert version == "RTSP/1.0"
        pairs = (line.partition(":") for line in head[1:] if line)
        headers = {k.strip().lower(): v.strip() for k, _, v in pairs}
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return int(code), headers, body.decode()

    def close(self) -> None:
        self.writer.close()


def digest_header(challenge: str, method: str, url: str, user: str = USER, password: str = PASSWORD) -> str:
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    ha1 = hashlib.md5(f"{user}:{params['realm']}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{url}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{params['nonce']}:{ha2}".encode()).hexdigest()
    return (f'Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
            f'uri="{url}", response="{response}"')


async def describe(client: Rtsp, url: str, password: str = PASSWORD) -> tuple[int, dict[str, str], str]:
    code, headers, _ = await client.request("DESCRIBE", url, {"Accept": "application/sdp"})
    assert code == 401 and headers["www-authenticate"].startswith("Digest ")
    auth = digest_header(headers["www-authenticate"], "DESCRIBE", url, password=password)
    return await client.request("DESCRIBE", url, {"Accept": "application/sdp", "Authorization": auth})


# ---------------------------------------------------------------- a small SDP / H.264 SPS reader

def parse_sdp(text: str) -> tuple[dict[str, list[str]], list[dict[str, list[str]]]]:
    """(session fields, [media sections]) — each a dict from field letter (or a=name) to values."""
    assert text.endswith("\r\n")
    session: dict[str, list[str]] = {}
    media: list[dict[str, list[str]]] = []
    current = session
    for line in text.split("\r\n")[:-1]:
        assert re.fullmatch(r"[a-z]=.*", line), line
        kind, value = line[0], line[2:]
        if kind == "m":
            current = {}
            media.append(current)
        key = f"a={value.split(':', 1)[0]}" if kind == "a" else kind
        current.setdefault(key, []).append(value.split(":", 1)[1] if kind == "a" and ":" in value else value)
    assert session["v"] == ["0"] and "o" in session and "s" in session and "t" in session
    return session, media


class BitReader:
    def __init__(self, data: bytes) -> None:
        self.bits = "".join(f"{b:08b}" for b in data)
        self.pos = 0

    def u(self, n: int) -> int:
        value = int(self.bits[self.pos:self.pos + n], 2)
        self.pos += n
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + (self.u(zeros) if zeros else 0)


def sps_resolution(nal: bytes) -> tuple[int, int]:
    assert nal[0] & 0x1F == 7  # SPS
    rbsp = re.sub(b"\x00\x00\x03", b"\x00\x00", nal[1:])
    r = BitReader(rbsp)
    profile = r.u(8)
    r.u(16)
    r.ue()
    if profile in (100, 110, 122, 244):
        assert r.ue() == 1
        r.ue(), r.ue(), r.u(1)
        assert r.u(1) == 0
    r.ue()
    poc_type = r.ue()
    assert poc_type in (0, 2)  # 0: an lsb field follows; 2: nothing (x264 without B-frames)
    if poc_type == 0:
        r.ue()
    r.ue(), r.u(1)
    width_mbs, height_units = r.ue() + 1, r.ue() + 1
    assert r.u(1) == 1  # frame_mbs_only
    r.u(1)
    crop = [r.ue() for _ in range(4)] if r.u(1) else [0, 0, 0, 0]
    return width_mbs * 16 - 2 * (crop[0] + crop[1]), height_units * 16 - 2 * (crop[2] + crop[3])


# ---------------------------------------------------------------- tests

async def test_options_lists_methods_without_auth(make_state: MakeState, serve: Any) -> None:
    state = make_state()
    await serve([state])
    client = await Rtsp.connect(state.ip)
    try:
        code, headers, _ = await client.request("OPTIONS", f"rtsp://{state.ip}:{RTSP_PORT}/Streaming/Channels/101")
    finally:
        client.close()
    assert code == 200 and headers["cseq"] == "1"
    assert {m.strip() for m in headers["public"].split(",")} >= {"OPTIONS", "DESCRIBE"}


@pytest.mark.parametrize(("vendor", "path", "size"), [
    ("hikvision", "/Streaming/Channels/101", (1920, 1080)),
    ("hikvision", "/Streaming/Channels/102", (704, 576)),
    ("dahua", "/cam/realmonitor?channel=1&subtype=0", (1920, 1080)),
    ("dahua", "/cam/realmonitor?channel=1&subtype=1", (704, 576)),
    ("uniview", "/media/video1", (1920, 1080)),
])
async def test_describe_with_digest_returns_a_valid_sdp(
        vendor: str, path: str, size: tuple[int, int], make_state: MakeState, serve: Any) -> None:
    state = make_state(vendor)
    await serve([state])
    url = f"rtsp://{state.ip}:{RTSP_PORT}{path}"
    client = await Rtsp.connect(state.ip)
    try:
        code, headers, body = await describe(client, url)
    finally:
        client.close()
    assert code == 200 and headers["content-type"] == "application/sdp"
    assert headers["cseq"] == "2"
    _, media = parse_sdp(body)
    video = [m for m in media if m["m"][0].startswith("video ")]
    assert len(video) == 1 and video[0]["m"] == ["video 0 RTP/AVP 96"]
    assert video[0]["a=rtpmap"] == ["96 H264/90000"]
    sets = re.search(r"sprop-parameter-sets=([^;\s]+)", video[0]["a=fmtp"][0])
    assert sets is not None
    sps, pps = (base64.b64decode(part) for part in sets.group(1).split(","))
    assert pps[0] & 0x1F == 8
    assert sps_resolution(sps) == size
    assert any(m["m"][0].startswith("audio ") for m in media)


async def test_describe_without_or_with_wrong_credentials_is_401(
        make_state: MakeState, serve: Any) -> None:
    state = make_state("dahua")
    await serve([state])
    url = f"rtsp://{state.ip}:{RTSP_PORT}/cam/realmonitor?channel=1&subtype=0"
    client = await Rtsp.connect(state.ip)
    try:
        code, _, _ = await describe(client, url, password="wrong")
        assert code == 401
        state.credentials_broken = True
        code, _, _ = await describe(client, url)
        assert code == 401
        state.credentials_broken = False
        code, _, _ = await describe(client, url)
        assert code == 200
    finally:
        client.close()


async def test_stream_uri_from_onvif_is_served_by_rtsp(make_state: MakeState, serve: Any) -> None:
    state = make_state("hikvision")
    await serve([state])
    reply = await post(state.ip, soap_request(
        "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP"
        "</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>Profile_2</trt:ProfileToken>"
        "</trt:GetStreamUri>"))
    uri = reply.payload.findtext(f"{{{TRT}}}MediaUri/{{http://www.onvif.org/ver10/schema}}Uri")
    assert uri is not None and uri.startswith(f"rtsp://{state.ip}:{RTSP_PORT}/")
    client = await Rtsp.connect(state.ip)
    try:
        code, _, body = await describe(client, uri)
    finally:
        client.close()
    assert code == 200 and "a=x-dimensions:704,576" in body


async def test_faults_and_other_methods(make_state: MakeState, serve: Any) -> None:
    state = make_state("uniview")
    await serve([state])
    base = f"rtsp://{state.ip}:{RTSP_PORT}"
    client = await Rtsp.connect(state.ip)
    try:
        assert (await client.request("PAUSE", f"{base}/media/video1/trackID=1"))[0] == 405
        assert (await client.request("SETUP", f"{base}/media/video1/trackID=1"))[0] == 401
        assert (await client.request("FROB", f"{base}/media/video1"))[0] == 501
        assert (await describe(client, f"{base}/no/such/stream"))[0] == 404
        state.encoder_stalled = True
        assert (await describe(client, f"{base}/media/video1"))[0] == 503
    finally:
        client.close()


async def test_pipelined_requests_each_get_an_answer(make_state: MakeState, serve: Any) -> None:
    state = make_state()
    await serve([state])
    client = await Rtsp.connect(state.ip)
    try:
        url = f"rtsp://{state.ip}:{RTSP_PORT}/Streaming/Channels/101"
        client.writer.write(b"".join(f"OPTIONS {url} RTSP/1.0\r\nCSeq: {i}\r\n\r\n".encode() for i in (7, 8)))
        first = await asyncio.wait_for(client.response(), 5)
        second = await asyncio.wait_for(client.response(), 5)
    finally:
        client.close()
    assert (first[0], first[1]["cseq"], second[0], second[1]["cseq"]) == (200, "7", 200, "8")


@pytest.mark.parametrize("fault", ["hung", "powered_off"])
async def test_hung_camera_accepts_but_never_answers(fault: str, make_state: MakeState,
                                                     serve: Any) -> None:
    state = make_state(**({"hung": True} if fault == "hung" else {"powered": False}))
    await serve([state])
    client = await Rtsp.connect(state.ip)  # the connection is accepted
    url = f"rtsp://{state.ip}:{RTSP_PORT}/Streaming/Channels/101"
    try:
        with pytest.raises(TimeoutError):
            await client.request("OPTIONS", url, timeout=0.5)
        state.hung, state.powered = False, True
        assert (await client.request("OPTIONS", url))[0] == 200  # answers again once it recovers
    finally:
        client.close()


# ---------------------------------------------------------------- SETUP / PLAY / TEARDOWN

async def authed(client: Rtsp, method: str, url: str, headers: dict[str, str] | None = None
                 ) -> tuple[int, dict[str, str], str]:
    code, got, body = await client.request(method, url, headers)
    if code != 401:
        return code, got, body
    auth = digest_header(got["www-authenticate"], method, url)
    return await client.request(method, url, {**(headers or {}), "Authorization": auth})


async def read_interleaved(client: Rtsp, timeout: float = 10.0) -> list[tuple[int, bytes]]:
    """Interleaved frames up to and including the RTP packet with the marker bit."""
    frames: list[tuple[int, bytes]] = []
    while not frames or not frames[-1][1][1] & 0x80:
        head = await asyncio.wait_for(client.reader.readexactly(4), timeout)
        assert head[:1] == b"$"
        frames.append((head[1], await client.reader.readexactly(int.from_bytes(head[2:], "big"))))
    return frames


async def test_setup_accepts_interleaved_tcp_only_and_play_needs_the_session(make_state: MakeState,
                                                                            serve: Any) -> None:
    state = make_state("hikvision")
    await serve([state])
    url = f"rtsp://{state.ip}:{RTSP_PORT}/Streaming/Channels/102"
    client = await Rtsp.connect(state.ip)
    try:
        assert (await authed(client, "PLAY", url, {"Session": "1"}))[0] == 455
        udp = {"Transport": "RTP/AVP;unicast;client_port=5000-5001"}
        assert (await authed(client, "SETUP", url + "/trackID=1", udp))[0] == 461
        assert (await authed(client, "SETUP", url + "/trackID=9?x", udp))[0] == 404
        code, headers, _ = await authed(client, "SETUP", url + "/trackID=1",
                                        {"Transport": "RTP/AVP/TCP;unicast;interleaved=4-5"})
        assert code == 200 and "interleaved=4-5" in headers["transport"]
        session = headers["session"].split(";")[0]
        assert (await authed(client, "PLAY", url, {"Session": "nope"}))[0] == 454
        assert (await authed(client, "TEARDOWN", url, {"Session": session}))[0] == 200
    finally:
        client.close()


@pytest.mark.parametrize("vendor", ["hikvision", "dahua"])
async def test_play_sends_one_key_frame_matching_the_sdp(vendor: str, make_state: MakeState, serve: Any) -> None:
    state = make_state(vendor)
    await serve([state])
    path = "/Streaming/Channels/101" if vendor == "hikvision" else "/cam/realmonitor?channel=1&subtype=0"
    url = f"rtsp://{state.ip}:{RTSP_PORT}{path}"
    client = await Rtsp.connect(state.ip)
    try:
        _, headers, sdp = await describe(client, url)
        track = re.search(r"a=control:(\S*trackID=\d)", sdp.split("m=video", 1)[1]).group(1)  # type: ignore[union-attr]
        track_url = track if track.startswith("rtsp://") else headers["content-base"] + track
        tcp = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
        code, headers, _ = await authed(client, "SETUP", track_url, tcp)
        assert code == 200
        session = headers["session"].split(";")[0]
        assert (await authed(client, "PLAY", url, {"Session": session}))[0] == 200
        frames = await read_interleaved(client)
    finally:
        client.close()
    assert {ch for ch, _ in frames} == {0}
    packets = [f for _, f in frames]
    assert all(p[0] == 0x80 and p[1] & 0x7F == 96 for p in packets)
    assert [p[1] >> 7 for p in packets] == [0] * (len(packets) - 1) + [1]
    assert len({p[4:8] for p in packets}) == 1  # one picture: one timestamp
    seqs = [int.from_bytes(p[2:4], "big") for p in packets]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
    assert packets[0][12] & 0x1F == 24  # SPS and PPS aggregated (STAP-A) ...
    sps = packets[0][15:15 + int.from_bytes(packets[0][13:15], "big")]
    sprop = re.search(r"sprop-parameter-sets=([^,]+),", sdp).group(1)  # type: ignore[union-attr]
    assert sps == base64.b64decode(sprop)  # ... the very SPS the SDP advertised
    assert sps_resolution(sps) == (1920, 1080)
    fus = [p for p in packets[1:] if p[12] & 0x1F == 28]
    assert fus and all(len(p) <= 12 + 1400 for p in packets) and fus[0][13] & 0x1F == 5  # IDR in FU-A
