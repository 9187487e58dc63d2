"""The simulated cameras' RTSP, spoken to over a raw socket."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from sim_helpers import PASSWORD, RTSP_PORT, TRT, USER, post, soap_request

from simulator.state import DeviceState

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
    assert r.ue() == 0  # pic_order_cnt_type
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
        assert (await client.request("SETUP", f"{base}/media/video1/trackID=1"))[0] == 405
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
