"""The snapshot (VQD) prober against real HTTP servers: Digest and Basic cameras, hostile answers.

The ONVIF half is the recording fake (its GetSnapshotUri is pinned separately against the real
Hikvision capture below); the HTTP half is a real aiohttp server per test. The server's Digest
check is written here from RFC 7616, apart from the exporter's client code it tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data as skdata
from aiohttp import web

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.fake import FakeCameras
from sharpeyes.exporters.onvif.lean_transport import LeanFactory
from sharpeyes.exporters.onvif.quirks import clock_offset_seconds
from sharpeyes.exporters.onvif.zeep_transport import zeep_factory
from sharpeyes.exporters.probers.base import Module, ProbeError, Target
from sharpeyes.exporters.probers.snapshot import SnapshotProber, SnapshotSettings
from sharpeyes.exporters.snapshot.http import FetchError, snapshot_target
from tests.exporters.test_onvif import ACTION_NOT_SUPPORTED, CaptureCamera, serve  # noqa: F401  (fixture)
from tests.exporters.test_onvif import AUTH as CAPTURE_AUTH

AUTH = OnvifAuth("admin", "S3cr3t-onvif-v3")
REALM = "IP Camera(C6291)"  # Hikvision's realm shape


def still(seed: int = 0) -> bytes:
    img = cv2.resize(cv2.cvtColor(skdata.coffee(), cv2.COLOR_RGB2BGR), (1280, 720))
    noise = np.random.default_rng(seed).normal(0, 2, img.shape)
    return cv2.imencode(".jpg", np.clip(img + noise, 0, 255).astype(np.uint8))[1].tobytes()


class Camera:
    """A snapshot endpoint answering like Hikvision (Digest) or a generic camera (Basic)."""

    def __init__(self, scheme: str = "digest", body: bytes | None = None, hang: bool = False,
                 content_type: str = "image/jpeg", status: int = 200) -> None:
        self.scheme, self.body, self.hang = scheme, body, hang
        self.content_type, self.status = content_type, status
        self.nonces: set[str] = set()
        self.authorized = 0
        self.authorization_headers: list[str] = []

    def _ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        self.authorization_headers.append(header)
        if self.scheme == "basic":
            import base64
            return header == "Basic " + base64.b64encode(f"{AUTH.username}:{AUTH.password}".encode()).decode()
        if not header.startswith("Digest "):
            return False
        p = dict((k, a or b) for k, a, b in re.findall(r'(\w+)="?(?:([^",]*)"|([^\s,]*))', header[7:]))
        if p.get("nonce") not in self.nonces or p.get("uri") != request.path_qs:
            return False
        md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
        ha1 = md5(f"{AUTH.username}:{REALM}:{AUTH.password}")
        ha2 = md5(f"GET:{p['uri']}")
        want = md5(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")
        return p.get("response") == want

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.hang:
            await asyncio.sleep(3600)
        if not self._ok(request):
            nonce = os.urandom(8).hex()
            self.nonces.add(nonce)
            challenge = (f'Digest qop="auth", realm="{REALM}", nonce="{nonce}", stale="FALSE"'
                         if self.scheme == "digest" else 'Basic realm="camera"')
            return web.Response(status=401, text="<html><body>401 - Unauthorized</body></html>",
                                content_type="text/html", headers={"WWW-Authenticate": challenge})
        self.authorized += 1
        body = self.body if self.body is not None else still(self.authorized)
        return web.Response(status=self.status, body=body, content_type=self.content_type)


@pytest.fixture
async def http() -> AsyncIterator:
    runners: list[web.AppRunner] = []

    async def start(cam: Camera) -> int:
        app = web.Application()
        app.router.add_get("/{tail:.*}", cam.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5)  # a hanging camera handler is cut at cleanup
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    yield start
    for runner in runners:
        await runner.cleanup()


def module(tmp_path: Path, **kw: object) -> Module:
    settings = SnapshotSettings.from_dict({"state_dir": str(tmp_path / "vqd"), **kw}, "modules.snapshot.snapshot")
    return Module("snapshot", "snapshot", 10.0, settings)


async def probe_once(tmp_path: Path, port: int, uri: str | None = None, timeout: float = 5.0,
                     **kw: object) -> tuple[TextWriter, SnapshotProber]:
    cams = FakeCameras(snapshot=uri or f"http://192.168.1.64:{port}/ISAPI/Streaming/channels/101/picture")
    prober = SnapshotProber(cams.factory)
    out = TextWriter()
    try:
        await prober(Target("cam-1", "127.0.0.1", "camera", auth=AUTH), module(tmp_path, **kw), timeout, out)
    finally:
        await prober.aclose()
    return out, prober


def value(out: TextWriter, name: str, check: str = "") -> float:
    lines = [s for s in out.samples(name) if not check or f'check="{check}"' in s]
    (line,) = lines
    return float(line.rsplit(" ", 1)[1])


async def test_digest_camera_still_is_judged_and_kept(tmp_path: Path, http) -> None:
    cam = Camera("digest")
    port = await http(cam)
    out, _ = await probe_once(tmp_path, port)
    assert cam.authorized == 1
    assert not any(AUTH.password in h for h in cam.authorization_headers)  # Digest: no password on the wire
    assert value(out, "sharpeyes_vqd_image_intact") == 1
    assert value(out, "sharpeyes_vqd_check_fault", "video_loss") == 0
    assert value(out, "sharpeyes_vqd_baseline_ready") == 0  # first still: learning
    assert value(out, "sharpeyes_vqd_snapshot_size_bytes") > 10_000
    assert (tmp_path / "vqd" / "cam-1" / "last.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert (tmp_path / "vqd" / "cam-1" / "reference-day.jpg").exists()


async def test_vqd_list_shows_what_a_camera_learnt(tmp_path: Path, http, capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    from sharpeyes.exporters.cli import VQD_FIELDS, main

    await probe_once(tmp_path, await http(Camera("digest")))
    state = str(tmp_path / "vqd")
    assert main(["vqd", "list", "--vqd.state-dir", state, "-o", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["camera"], row["day_samples"], row["night_samples"], row["problem"]) == ("cam-1", 1, 0, None)
    assert row["day_reference"] and row["night_reference"] is None and row["last_still"] and row["learning_since"]
    assert main(["vqd", "list", "--vqd.state-dir", state, "-o", "csv"]) == 0
    [back] = csv.DictReader(capsys.readouterr().out.splitlines())
    assert list(back) == list(VQD_FIELDS) and back["day_reference"] == row["day_reference"]
    assert main(["vqd", "list", "--vqd.state-dir", state]) == 0
    header, line = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["CAMERA", "LEARNING_SINCE", "DAY_SAMPLES"] and line.split()[0] == "cam-1"


def test_probe_output_passes_promtool(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from sharpeyes.exporters.probers.snapshot import _Result, write_diagnosis
    from sharpeyes.vqd import Baseline, Frame, analyze, decode_still

    out = TextWriter()
    write_diagnosis(out, _Result(analyze(Frame(decode_still(still())), Baseline("c", 0), 1), 5))
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian prometheus) is required"
    res = subprocess.run([promtool, "check", "metrics"], input=out.render(), capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_rebaseline_command_forgets_a_camera(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sharpeyes.exporters.cli import main

    (tmp_path / "cam-7").mkdir()
    (tmp_path / "cam-7" / "baseline.npz").write_bytes(b"x")
    assert main(["vqd", "list", "--vqd.state-dir", str(tmp_path), "--output", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["camera"] == "cam-7" and row["problem"].startswith("baseline unreadable")
    assert (tmp_path / "cam-7" / "baseline.npz").exists()  # listing changes nothing
    assert main(["vqd", "rebaseline", "cam-7", "--vqd.state-dir", str(tmp_path)]) == 0
    assert not (tmp_path / "cam-7").exists()
    assert main(["vqd", "rebaseline", "../etc", "--vqd.state-dir", str(tmp_path)]) == 2


async def test_basic_camera_and_frozen_second_still(tmp_path: Path, http) -> None:
    cam = Camera("basic", body=still(7))
    port = await http(cam)
    await probe_once(tmp_path, port)
    await asyncio.sleep(1.1)  # the frozen check compares stills at least a second apart
    out, _ = await probe_once(tmp_path, port)
    assert value(out, "sharpeyes_vqd_check_fault", "frozen") == 1
    assert value(out, "sharpeyes_vqd_image_intact") == 0


@pytest.mark.parametrize(("kind", "reason"), [
    ("html", "malformed"), ("truncated", "malformed"), ("huge", "malformed"), ("wrong_password", "auth"),
    ("hang", "timeout"), ("http500", "protocol"),
])
async def test_bad_answers_are_probe_failures_with_a_reason(tmp_path: Path, http, kind: str, reason: str) -> None:
    good = still()
    cam = {
        "html": Camera(body=b"<html><body>Please log in</body></html>", content_type="text/html"),
        "truncated": Camera(body=good[: len(good) // 2]),
        "huge": Camera(body=b"\xff\xd8" + b"\0" * (50 * 1024 * 1024)),
        "wrong_password": Camera(),
        "hang": Camera(hang=True),
        "http500": Camera(status=500),
    }[kind]
    if kind == "wrong_password":
        cam.nonces = set()
        cam._ok = lambda request: False  # type: ignore[method-assign]
    port = await http(cam)
    with pytest.raises(ProbeError) as err:
        await probe_once(tmp_path, port, timeout=2.0)
    assert err.value.reason == reason
    assert AUTH.password not in str(err.value)


@pytest.mark.parametrize("uri", ["http://203.0.113.9/snap.jpg", "http://evil.example.com/snap.jpg",
                                 "ftp://127.0.0.1/snap.jpg"])
async def test_snapshot_uri_naming_another_host_is_refused(tmp_path: Path, uri: str) -> None:
    with pytest.raises(ProbeError) as err:
        await probe_once(tmp_path, 9, uri=uri)
    assert err.value.reason == "protocol"


def test_lan_address_of_the_camera_itself_is_dialled_at_the_inventory_address() -> None:
    # the Hikvision capture advertises http://192.168.1.182/onvif-http/snapshot?Profile_1
    assert snapshot_target("http://192.168.1.182/onvif-http/snapshot?Profile_1", "10.20.0.5") == \
        "http://10.20.0.5/onvif-http/snapshot?Profile_1"
    assert snapshot_target("http://192.168.1.127:85/images/snapshot.jpg", "10.20.0.6") == \
        "http://10.20.0.6:85/images/snapshot.jpg"
    with pytest.raises(FetchError):
        snapshot_target("http://8.8.8.8/x.jpg", "10.20.0.6")


TRANSPORTS = {"zeep": zeep_factory, "lean": LeanFactory()}


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
async def test_transport_reads_the_hikvision_snapshot_uri_capture(serve, kind: str) -> None:  # noqa: F811
    cam = CaptureCamera("easy_onvif_oem-hikvision_enp1a14-ir-25x")
    port = await serve(cam)
    transport = TRANSPORTS[kind]("127.0.0.1", port, CAPTURE_AUTH)
    transport.set_clock_offset(clock_offset_seconds(await transport.system_date_and_time()))
    try:
        assert await transport.snapshot_uri("Profile_1") == "http://192.168.1.182/onvif-http/snapshot?Profile_1"
    finally:
        await transport.aclose()


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
@pytest.mark.parametrize("vendor", ["easy_onvif_oem-hikvision_enp1a14-ir-25x", "easy_onvif_generic_gx728mf-ir28"])
async def test_media2_snapshot_uri_when_media_has_none(serve, vendor: str, kind: str) -> None:  # noqa: F811
    # Media (ver10) answers ActionNotSupported: the URI comes from the camera's Media2 capture
    cam = CaptureCamera(vendor, overrides={"GetSnapshotUri": (500, ACTION_NOT_SUPPORTED.read_bytes())})
    port = await serve(cam)
    transport = TRANSPORTS[kind]("127.0.0.1", port, CAPTURE_AUTH)
    transport.set_clock_offset(clock_offset_seconds(await transport.system_date_and_time()))
    want = {"easy_onvif_oem-hikvision_enp1a14-ir-25x": "http://192.168.1.182/onvif-http/snapshot?Profile_1",
            "easy_onvif_generic_gx728mf-ir28": "http://192.168.1.127:85/images/snapshot.jpg"}[vendor]
    try:
        token = (await transport.profiles())[0].token
        assert await transport.snapshot_uri(token) == want
    finally:
        await transport.aclose()
    assert "Media2_GetSnapshotUri" in cam.served and cam.auth_rejections == 0


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
async def test_transport_reads_the_hikvision_stream_uri_capture(serve, kind: str) -> None:  # noqa: F811
    # what a camera without a snapshot is asked instead (the RTSP key-frame path)
    cam = CaptureCamera("easy_onvif_oem-hikvision_enp1a14-ir-25x")
    port = await serve(cam)
    transport = TRANSPORTS[kind]("127.0.0.1", port, CAPTURE_AUTH)
    transport.set_clock_offset(clock_offset_seconds(await transport.system_date_and_time()))
    try:
        uri = await transport.stream_uri("Profile_1")
    finally:
        await transport.aclose()
    assert uri == "rtsp://192.168.1.182:554/Streaming/Channels/101?transportmode=mcast&profile=Profile_1"
    assert "GetStreamUri" in cam.served


@pytest.mark.parametrize("flags", [{"unsupported": frozenset({"GetSnapshotUri"})}, {"snapshot": ""}])
async def test_no_snapshot_uri_asks_for_the_stream_uri_and_dials_rtsp(tmp_path: Path, flags: dict) -> None:
    from tests import runnet

    closed = runnet.free_port()  # nothing listens: the RTSP attempt is refused at the inventory address
    cams = FakeCameras(stream=f"rtsp://192.168.1.64:{closed}/Streaming/Channels/101", **flags)
    prober = SnapshotProber(cams.factory)
    try:
        with pytest.raises(ProbeError) as err:
            await prober(Target("cam-1", "127.0.0.1", "camera", auth=AUTH), module(tmp_path), 5.0, TextWriter())
    finally:
        await prober.aclose()
    assert cams.transports[0].calls[-2:] == ["GetSnapshotUri", "GetStreamUri"]
    assert err.value.reason == "refused" and f"127.0.0.1:{closed}" in err.value.detail
