"""ONVIF prober tests.

Replay: every vendor capture in ../shared/fixtures/onvif (read in place, never copied) is
served by a local aiohttp "camera" per SOAP operation; it checks the WS-UsernameToken
PasswordDigest, Created freshness against *the camera's* clock (the captured one) and nonce
replay, answers GetSystemDateAndTime without auth, and answers operations it has no capture for
with the captured ter:ActionNotSupported fault. The real onvif-zeep-async client runs through our
transport against it. The recording fake covers call patterns and caching.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from lxml import etree

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.onvif import quirks
from sharpeyes.exporters.onvif.auth import OnvifAuth, OnvifAuthConfigError
from sharpeyes.exporters.onvif.errors import OnvifMalformedError
from sharpeyes.exporters.onvif.fake import FakeCameras
from sharpeyes.exporters.onvif.lean_transport import LeanFactory, LeanOnvifTransport, SharedHttp
from sharpeyes.exporters.onvif.model import CameraClock, EncoderConfig, Profile
from sharpeyes.exporters.onvif.pool import OnvifPool
from sharpeyes.exporters.onvif.zeep_transport import ZeepOnvifTransport, zeep_factory
from sharpeyes.exporters.probers.base import Module, ProbeError, Target
from sharpeyes.exporters.probers.onvif import OnvifProber, OnvifSettings
from tests.conftest import require_fixtures, shared_fixtures

FIXTURES = shared_fixtures("onvif")


@pytest.fixture(autouse=True)
def _onvif_captures() -> None:
    require_fixtures("onvif")


SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TT = "http://www.onvif.org/ver10/schema"
MEDIA2 = "http://www.onvif.org/ver20/media/wsdl"
PASSWORD = "Cam-pass-9f3!"
AUTH = OnvifAuth("admin", PASSWORD)


def _captured_utc(xml: bytes) -> float | None:
    root = etree.fromstring(xml)
    utc = root.find(f".//{{{TT}}}UTCDateTime")
    if utc is None:
        return None
    v = {e.tag.split("}")[1]: int(e.text) for e in utc.iter() if e.text and e.text.strip().isdigit()}
    return dt.datetime(v["Year"], v["Month"], v["Day"], v["Hour"], v["Minute"], v["Second"],
                       tzinfo=dt.UTC).timestamp()


def fault_not_authorized() -> bytes:
    """ter:NotAuthorized built from a real fault capture (Hikvision OEM), subcode swapped."""
    root = etree.parse(str(FIXTURES / "easy_onvif_oem-hikvision_enp1a14-ir-25x/SoapFault.xml")).getroot()
    sub = root.find(f".//{{{SOAP12}}}Subcode")
    assert sub is not None
    sub.find(f"{{{SOAP12}}}Value").text = "ter:NotAuthorized"  # type: ignore[union-attr]
    for nested in sub.findall(f"{{{SOAP12}}}Subcode"):
        sub.remove(nested)
    root.find(f".//{{{SOAP12}}}Text").text = "Sender not Authorized"  # type: ignore[union-attr]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


ACTION_NOT_SUPPORTED = (FIXTURES / "easy_onvif_oem-hikvision_ipg-8150pss/SoapFault.xml")
OPERATION_PROHIBITED = (FIXTURES / "easy_onvif_oem-hikvision_enp1a14-ir-25x/SoapFault.xml")


class CaptureCamera:
    """One camera replaying one vendor directory. ``overrides[op] = (status, body)``."""

    def __init__(self, vendor: str, window: float = 30.0, clock: float | None = None,
                 overrides: dict[str, tuple[int, bytes]] | None = None, password: str = PASSWORD) -> None:
        self.files = {p.stem: p.read_bytes() for p in (FIXTURES / vendor).glob("*.xml")}
        self.overrides = overrides or {}
        self.password = password
        self.window = window
        base = _captured_utc(self.files["GetSystemDateAndTime.xml".removesuffix(".xml")]) \
            if "GetSystemDateAndTime" in self.files else None
        self.clock_base = clock if clock is not None else (base if base is not None else time.time())
        self.started = time.time()
        self.requests: list[str] = []
        self.auth_rejections = 0
        self.nonces: set[bytes] = set()
        self.served: set[str] = set()

    def camera_now(self) -> float:
        return self.clock_base + (time.time() - self.started)

    def _auth_ok(self, root: etree._Element) -> bool:
        token = root.find(f".//{{{WSSE}}}UsernameToken")
        if token is None:
            return False
        user = token.findtext(f"{{{WSSE}}}Username")
        digest = token.findtext(f"{{{WSSE}}}Password")
        nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "")
        created = token.findtext(f"{{{WSU}}}Created") or ""
        expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + self.password.encode()).digest())
        if user != "admin" or digest is None or digest.encode() != expected or nonce in self.nonces:
            return False
        self.nonces.add(nonce)
        when = dt.datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
        return abs(when - self.camera_now()) <= self.window

    async def handle(self, request: web.Request) -> web.Response:
        root = etree.fromstring(await request.read())
        op_el = root.find(f"{{{SOAP12}}}Body")[0]  # type: ignore[index]
        qname = etree.QName(op_el)
        op = ("Media2_" if qname.namespace == MEDIA2 else "") + qname.localname
        self.requests.append(op)
        if op != "GetSystemDateAndTime" and not self._auth_ok(root):
            self.auth_rejections += 1
            return self._reply(400, fault_not_authorized())
        if op in self.overrides:
            return self._reply(*self.overrides[op])
        if op not in self.files:
            return self._reply(500, ACTION_NOT_SUPPORTED.read_bytes())
        self.served.add(op)
        return self._reply(200, self.files[op])

    @staticmethod
    def _reply(status: int, body: bytes) -> web.Response:
        return web.Response(status=status, body=body, content_type="application/soap+xml")


@pytest.fixture
async def serve() -> AsyncIterator:
    runners: list[web.AppRunner] = []

    async def start(cam: CaptureCamera) -> int:
        app = web.Application()
        app.router.add_post("/{tail:.*}", cam.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    yield start
    for runner in runners:
        await runner.cleanup()


# Every replay runs through both transports: the lean one the exporter uses and the zeep one.
@pytest.fixture(params=["lean", "zeep"])
async def prober(request: pytest.FixtureRequest) -> AsyncIterator[OnvifProber]:
    p = OnvifProber(factory=LeanFactory() if request.param == "lean" else zeep_factory)
    yield p
    await p.aclose()


def module(**settings: object) -> Module:
    return Module("onvif", "onvif", 10.0, OnvifSettings.from_dict(settings, "modules.onvif.onvif"))


def target(port: int, auth: OnvifAuth | None = AUTH, ip: str = "127.0.0.1", dev: str = "cam-1") -> Target:
    return Target(id=dev, ip=ip, kind="camera", auth=auth, onvif_port=port)


def samples(out: TextWriter, name: str) -> list[str]:
    return out.samples(name)


def value(out: TextWriter, name: str) -> float:
    (line,) = out.samples(name)
    return float(line.rsplit(" ", 1)[1])


# vendor -> (device_info labels in contract order, {profile token: (encoding, bytes/s, fps, w, h)})
EXPECTED = {
    "agsh-onvif": (("360Vision", "HD_PREDATOR", "PREDATOR_HD_1_11_03", "00000000", "HD_PREDATOR"),
                   {"main": ("H264", 125000, 5, 1920, 1080)}),
    "easy_onvif_dlink_dcs-6511": (("D-Link Corporation", "DCS-6511", "1.16.00", "F07D68099FCA",
                                   "F07D68099FCA"),
                                  {"Profile1": ("H264", 512000, 7, 1280, 1024),
                                   "Profile2": ("H264", 256000, 30, 640, 480)}),
    "easy_onvif_generic_gx728mf-ir28": (("NONE", "GX728MF-IR28", "IPC_G6106-B0005P11D1812C03",
                                         "210235T8HQ3197000191", "GX728MF-IR28"),
                                        {"media_profile1": ("H264", 512000, 20, 3840, 2160),
                                         "media_profile2": ("H264", 48000, 20, 720, 576),
                                         "media_profile3": ("H264", 16000, 20, 352, 288)}),
    "easy_onvif_ipd-h4k8m05-bs": (("", "IPD-H4K8M05-BS", "V1.04.10-190309", "071D3E36963F", "1.0"),
                                  {"MainStream": ("H264", 640000, 25, 2592, 1944),
                                   "SubStream": ("H264", 128000, 25, 640, 480)}),
    "easy_onvif_oem-hikvision_enp1a14-ir-25x": (("ONVIF", "ENP1A14-IR/25X", "V5.5.3 build 180822",
                                                 "ENP1A14-IR/25X20190430AAWRD14878498W", "88"),
                                                {"Profile_1": ("H265", 1024000, 25, 2560, 1440),
                                                 "Profile_2": ("H265", 128000, 10, 704, 480)}),
    "easy_onvif_oem-hikvision_ipg-8150pss": (("ONVIF_IPNC", "IPG-8150PSS", "1.3.0-20210203CN-PT",
                                              "I207215E7840DFDA9877E8B",
                                              "8FE1887A-72EE-403f-9385-5a58aed534cf"),
                                             {"PROFILE_000": ("H264", 256000, 20, 2560, 1920),
                                              "PROFILE_001": ("H264", 64000, 20, 800, 448)}),
    "easy_onvif_sunba-405_xiongmai-xm530": (("H264", "XM530_50X50-WG_8M",
                                             "V5.00.R02.L5330747.10010.349917..ONVIF 16.12",
                                             "f0d2d8a9c5380a0f", "00001"),
                                            {"000": ("H264", 275625, 12, 2592, 1944),
                                             "001": ("H264", 68875, 12, 704, 480)}),
    "easy_onvif_sunba_performance-series": (("SUNBA", "Performance-Series",
                                             "QIPC-B2202.3.73.C06290.NB.230628",
                                             "210231T2H63235000045", "Performance-Series"),
                                            {"media_profile1": ("H264", 768000, 12, 2592, 1944),
                                             "media_profile2": ("H264", 128000, 25, 720, 576),
                                             "media_profile3": ("H264", 16000, 25, 352, 288)}),
}


@pytest.mark.parametrize("vendor", sorted(EXPECTED))
async def test_vendor_capture_replay(vendor: str, serve, prober: OnvifProber) -> None:
    cam = CaptureCamera(vendor)
    port = await serve(cam)
    out = TextWriter()
    assert await prober(target(port), module(), 10.0, out) is True

    info, profiles = EXPECTED[vendor]
    labels = dict(zip(("manufacturer", "model", "firmware_version", "serial_number", "hardware_id"), info,
                      strict=True))
    assert samples(out, "sharpeyes_onvif_device_info") == [
        "sharpeyes_onvif_device_info{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "} 1"]
    # The captured clocks are months to years behind ours: the offset says so, and the digest
    # still passes because the offset shifts the UsernameToken Created time into the camera's window.
    assert value(out, "sharpeyes_onvif_clock_offset_seconds") == pytest.approx(
        cam.clock_base - time.time(), abs=5)
    assert value(out, "sharpeyes_onvif_auth_success") == 1
    assert cam.auth_rejections == 0
    got = {}
    for line in samples(out, "sharpeyes_onvif_encoder_bitrate_limit_bytes_per_second"):
        token = line.split('profile="')[1].split('"')[0]
        got[token] = line
    assert sorted(got) == sorted(profiles)
    for token, (enc, bps, fps, w, h) in profiles.items():
        lab = f'{{profile="{token}",encoding="{enc}"}}'
        assert f"sharpeyes_onvif_encoder_bitrate_limit_bytes_per_second{lab} {bps}" in out.render()
        assert f"sharpeyes_onvif_encoder_frame_rate{lab} {fps}" in out.render()
        assert f"sharpeyes_onvif_encoder_width_pixels{lab} {w}" in out.render()
        assert f"sharpeyes_onvif_encoder_height_pixels{lab} {h}" in out.render()
    assert {"GetSystemDateAndTime", "GetDeviceInformation", "GetProfiles"} <= set(cam.requests)


async def test_enp1a14_unconfigured_third_stream_has_no_encoder_samples(serve, prober: OnvifProber) -> None:
    cam = CaptureCamera("easy_onvif_oem-hikvision_enp1a14-ir-25x")
    out = TextWriter()
    await prober(target(await serve(cam)), module(), 10.0, out)
    assert "Profile_3" not in out.render()
    assert "GetVideoEncoderConfigurations" not in cam.requests  # nothing incomplete to look up


async def test_second_probe_reuses_client_and_device_info(serve, prober: OnvifProber) -> None:
    cam = CaptureCamera("easy_onvif_oem-hikvision_ipg-8150pss")
    port = await serve(cam)
    for _ in range(2):
        assert await prober(target(port), module(), 10.0, TextWriter())
    assert cam.requests.count("GetDeviceInformation") == 1
    assert cam.requests.count("GetServices") == 1  # XAddrs discovered once per cached client
    assert cam.requests.count("GetSystemDateAndTime") == 2
    assert cam.requests.count("GetProfiles") == 2
    assert len(prober.pool) == 1


async def test_go2rtc_dahua_capture_without_device_operations(serve, prober: OnvifProber) -> None:
    cam = CaptureCamera("go2rtc_dahua")  # only GetCapabilities/GetSnapshotUri/GetStreamUri captured
    out = TextWriter()
    with pytest.raises(ProbeError) as err:
        await prober(target(await serve(cam)), module(), 10.0, out)
    assert err.value.reason == "protocol"  # no GetSystemDateAndTime: ActionNotSupported
    assert samples(out, "sharpeyes_onvif_clock_offset_seconds") == []
    assert samples(out, "sharpeyes_onvif_device_info") == []


async def test_clock_outside_window_without_adjust_reports_clock_and_auth_failure(serve, prober) -> None:
    cam = CaptureCamera("easy_onvif_oem-hikvision_ipg-8150pss")  # clock: 2024-02-20
    out = TextWriter()
    with pytest.raises(ProbeError) as err:
        await prober(target(await serve(cam)), module(adjust_time=False), 10.0, out)
    assert err.value.reason == "auth"
    assert value(out, "sharpeyes_onvif_clock_offset_seconds") < -86400
    assert value(out, "sharpeyes_onvif_auth_success") == 0
    assert cam.auth_rejections >= 1


async def test_wrong_password_is_auth_zero_and_secret_not_leaked(serve, prober: OnvifProber) -> None:
    cam = CaptureCamera("easy_onvif_sunba_performance-series", password="other")
    out = TextWriter()
    with pytest.raises(ProbeError) as err:
        await prober(target(await serve(cam)), module(), 10.0, out)
    assert err.value.reason == "auth"
    assert value(out, "sharpeyes_onvif_auth_success") == 0
    assert samples(out, "sharpeyes_onvif_clock_offset_seconds")  # unauthenticated, still there
    assert PASSWORD not in str(err.value) and PASSWORD not in out.render()
    assert PASSWORD not in repr(prober.pool._sessions)


async def test_http_401_is_auth_failure(serve, prober: OnvifProber) -> None:
    cam = CaptureCamera("easy_onvif_dlink_dcs-6511", clock=time.time(),
                        overrides={"GetDeviceInformation": (401, b"")})
    out = TextWriter()
    with pytest.raises(ProbeError) as err:
        await prober(target(await serve(cam)), module(), 10.0, out)
    assert err.value.reason == "auth"
    assert value(out, "sharpeyes_onvif_auth_success") == 0


async def test_action_not_supported_skips_optional_operation(serve, prober: OnvifProber) -> None:
    cam = CaptureCamera("easy_onvif_sunba_performance-series",
                        overrides={"GetProfiles": (500, ACTION_NOT_SUPPORTED.read_bytes())})
    out = TextWriter()
    assert await prober(target(await serve(cam)), module(), 10.0, out) is True
    assert samples(out, "sharpeyes_onvif_encoder_frame_rate") == []
    assert samples(out, "sharpeyes_onvif_device_info")


async def test_gsoap_not_implemented_fault_is_not_supported(serve, prober: OnvifProber) -> None:
    gsoap = (FIXTURES / "easy_onvif_ipd-h4k8m05-bs/SoapFault.xml").read_bytes()
    cam = CaptureCamera("easy_onvif_ipd-h4k8m05-bs", overrides={"GetProfiles": (500, gsoap)})
    assert await prober(target(await serve(cam)), module(), 10.0, TextWriter()) is True


async def test_operation_prohibited_is_protocol_failure(serve, prober: OnvifProber) -> None:
    cam = CaptureCamera("easy_onvif_oem-hikvision_enp1a14-ir-25x",
                        overrides={"GetProfiles": (400, OPERATION_PROHIBITED.read_bytes())})
    out = TextWriter()
    with pytest.raises(ProbeError) as err:
        await prober(target(await serve(cam)), module(), 10.0, out)
    assert err.value.reason == "protocol"
    assert samples(out, "sharpeyes_onvif_device_info")
    assert samples(out, "sharpeyes_onvif_clock_offset_seconds")


async def test_truncated_xml_is_malformed(serve, prober: OnvifProber) -> None:
    whole = (FIXTURES / "easy_onvif_generic_gx728mf-ir28/GetDeviceInformation.xml").read_bytes()
    cam = CaptureCamera("easy_onvif_generic_gx728mf-ir28",
                        overrides={"GetDeviceInformation": (200, whole[: len(whole) // 2])})
    out = TextWriter()
    with pytest.raises(ProbeError) as err:
        await prober(target(await serve(cam)), module(), 10.0, out)
    assert err.value.reason == "malformed"
    assert samples(out, "sharpeyes_onvif_encoder_width_pixels")  # profiles still probed


def _edit_clock(xml: bytes, drop_utc: bool = False, minute: str | None = None) -> bytes:
    root = etree.fromstring(xml)
    utc = root.find(f".//{{{TT}}}UTCDateTime")
    assert utc is not None
    if drop_utc:
        utc.getparent().remove(utc)  # type: ignore[union-attr]
    if minute is not None:
        utc.find(f"{{{TT}}}Time/{{{TT}}}Minute").text = minute  # type: ignore[union-attr]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


async def test_invalid_date_is_malformed_not_a_crash(serve, prober: OnvifProber) -> None:
    # minute 61, as in python-onvif-zeep-async/PullMessagesResponse_invalid_TerminationTime.xml
    vendor = "easy_onvif_oem-hikvision_ipg-8150pss"
    bad = _edit_clock((FIXTURES / vendor / "GetSystemDateAndTime.xml").read_bytes(), minute="61")
    cam = CaptureCamera(vendor, clock=time.time(), overrides={"GetSystemDateAndTime": (200, bad)})
    out = TextWriter()
    with pytest.raises(ProbeError) as err:
        await prober(target(await serve(cam)), module(), 10.0, out)
    assert err.value.reason == "malformed"
    assert samples(out, "sharpeyes_onvif_clock_offset_seconds") == []
    assert value(out, "sharpeyes_onvif_auth_success") == 1  # camera clock is right, only its report is not


async def test_local_time_only_camera_through_real_client(serve, prober: OnvifProber) -> None:
    vendor = "easy_onvif_oem-hikvision_ipg-8150pss"  # TZ "CST-08:00"
    no_utc = _edit_clock((FIXTURES / vendor / "GetSystemDateAndTime.xml").read_bytes(), drop_utc=True)
    cam = CaptureCamera(vendor, overrides={"GetSystemDateAndTime": (200, no_utc)})
    out = TextWriter()
    assert await prober(target(await serve(cam)), module(), 10.0, out)
    expected = cam.clock_base - time.time()
    assert value(out, "sharpeyes_onvif_clock_offset_seconds") == pytest.approx(expected, abs=5)


def _clock_from_capture(xml: bytes) -> tuple[CameraClock, CameraClock]:
    """(as captured, with UTCDateTime dropped) for a GetSystemDateAndTime capture."""
    root = etree.fromstring(xml)

    def parts(tag: str) -> tuple[int, int, int, int, int, int]:
        e = root.find(f".//{{{TT}}}{tag}")
        assert e is not None
        y, mo, d, h, mi, s = (int(e.findtext(f".//{{{TT}}}{x}") or 0)
                              for x in ("Year", "Month", "Day", "Hour", "Minute", "Second"))
        return (y, mo, d, h, mi, s)

    tz = root.findtext(f".//{{{TT}}}TZ") or ""
    full = CameraClock(parts("UTCDateTime"), parts("LocalDateTime"), tz, False, 0.0)
    return full, CameraClock(None, full.local, tz, False, 0.0)


CLOCK_CAPTURES = sorted(p.parent.name for p in FIXTURES.glob("*/GetSystemDateAndTime.xml")
                        if b"LocalDateTime" in p.read_bytes())


@pytest.mark.parametrize("vendor", CLOCK_CAPTURES)
def test_utc_derived_from_local_time_and_tz_matches_capture(vendor: str) -> None:
    full, local_only = _clock_from_capture((FIXTURES / vendor / "GetSystemDateAndTime.xml").read_bytes())
    derived = quirks.camera_utc(local_only).timestamp()
    reported = quirks.camera_utc(full).timestamp()
    assert derived == reported


@pytest.mark.parametrize("tz, local, utc", [
    ("CST-08:00", (2024, 2, 20, 21, 0, 0), (2024, 2, 20, 13, 0, 0)),
    ("CST5CDT,M3.2.0/2,M11.1.0/2", (2023, 7, 1, 12, 0, 0), (2023, 7, 1, 16, 0, 0)),  # DST: UTC-4
    ("AEST-10AEDT,M10.1.0,M4.1.0/3", (2024, 1, 10, 12, 0, 0), (2024, 1, 10, 1, 0, 0)),  # southern DST
    ("MoroccoStandardTime0", (2014, 12, 24, 19, 14, 37), (2014, 12, 24, 19, 14, 37)),
])
def test_posix_tz_cases(tz: str, local: tuple[int, ...], utc: tuple[int, ...]) -> None:
    got = quirks.utc_from_local(dt.datetime(*local), tz)  # type: ignore[arg-type]
    assert got == dt.datetime(*utc)  # type: ignore[arg-type]


@pytest.mark.parametrize("parts", [(2024, 13, 1, 0, 0, 0), (2024, 2, 30, 0, 0, 0), (2024, 1, 1, 24, 0, 0)])
def test_impossible_dates_are_malformed(parts: tuple[int, int, int, int, int, int]) -> None:
    with pytest.raises(OnvifMalformedError):
        quirks.clock_offset_seconds(CameraClock(parts, None, "", False, 0.0))


def test_unparseable_tz_without_utc_is_malformed() -> None:
    with pytest.raises(OnvifMalformedError):
        quirks.camera_utc(CameraClock(None, (2024, 1, 1, 0, 0, 0), "???", False, 0.0))


async def test_encoder_lookup_uses_agsh_get_video_encoder_configurations(serve, prober: OnvifProber) -> None:
    """A profile whose encoder lacks RateControl triggers GetVideoEncoderConfigurations (agsh capture,
    which has an empty FrameRateLimit: that config must not crash the probe)."""
    vendor = "agsh-onvif"
    root = etree.fromstring((FIXTURES / vendor / "GetProfiles.xml").read_bytes())
    rc = root.find(f".//{{{TT}}}RateControl")
    assert rc is not None
    rc.getparent().remove(rc)  # type: ignore[union-attr]
    cam = CaptureCamera(vendor, overrides={"GetProfiles": (200, etree.tostring(root))})
    out = TextWriter()
    try:
        await prober(target(await serve(cam)), module(), 10.0, out)
    except ProbeError as exc:
        assert exc.reason == "malformed"
    assert "GetVideoEncoderConfigurations" in cam.requests
    assert 'sharpeyes_onvif_encoder_width_pixels{profile="main",encoding="H264"} 1920' in out.render()


async def test_refused_and_timeout_are_reasons(prober: OnvifProber) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(ProbeError) as err:
        await prober(target(port), module(), 5.0, TextWriter())
    assert err.value.reason == "refused"
    listener = socket.socket()  # accepts (backlog) but never answers
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        t0 = time.monotonic()
        with pytest.raises(ProbeError) as err:
            await prober(target(listener.getsockname()[1], dev="cam-2"), module(), 0.5, TextWriter())
        assert err.value.reason == "timeout"
        assert time.monotonic() - t0 < 3
    finally:
        listener.close()


# Every capture is either served by the replay above or listed here with why the prober never asks.
NOT_ASKED = {
    "GetSnapshotUri", "GetStreamUri", "GetVideoSources", "Media2_GetProfiles", "Media2_GetSnapshotUri",
    "Media2_GetStreamUri", "Media2_GetVideoEncoderConfigurations",  # we use Media (ver10) only
    "SoapFault", "SoapFault_template",  # served as overrides above / hand-written mock, not a capture
    "PullMessagesResponse_invalid_TerminationTime", "CreatePullPointSubscriptionResponse_missing_address",
}
ASKED = {"GetSystemDateAndTime", "GetDeviceInformation", "GetServices", "GetCapabilities", "GetProfiles",
         "GetVideoEncoderConfigurations"}


def test_every_capture_is_accounted_for() -> None:
    stems = {p.stem for p in FIXTURES.glob("*/*.xml")}
    assert stems <= ASKED | NOT_ASKED, f"new capture(s) to replay: {sorted(stems - ASKED - NOT_ASKED)}"


async def test_wsdl_documents_parsed_once_for_many_cameras(serve, monkeypatch) -> None:
    from onvif import client as onvif_client

    from sharpeyes.exporters.onvif import zeep_transport

    monkeypatch.setattr(onvif_client, "_DOCUMENT_CACHE", {})
    monkeypatch.setattr(zeep_transport, "_warmed", set())
    loads: list[str] = []
    original = onvif_client.DocumentWithDeferredLoad.original_load

    def counting(self, url, *a, **kw):  # type: ignore[no-untyped-def]
        loads.append(url)
        return original(self, url, *a, **kw)

    monkeypatch.setattr(onvif_client.DocumentWithDeferredLoad, "original_load", counting)
    cam = CaptureCamera("easy_onvif_sunba_performance-series")
    port = await serve(cam)
    prober = OnvifProber(factory=zeep_factory)
    try:
        import asyncio

        results = await asyncio.gather(*(prober(target(port, dev=f"cam-{i}"), module(), 20.0, TextWriter())
                                         for i in range(20)))
    finally:
        await prober.aclose()
    assert all(results)
    assert sorted(Path(u).name for u in loads) == ["devicemgmt.wsdl", "media.wsdl"]


# ---- recording fake: which operations are called -----------------------------------------------------


def fake_prober(**flags: object) -> tuple[OnvifProber, FakeCameras]:
    cams = FakeCameras(**flags)
    return OnvifProber(OnvifPool(cams.factory, max_size=2)), cams


async def test_fake_call_sequence_and_device_info_cache() -> None:
    prober, cams = fake_prober(clock_offset=-600.0)
    out = TextWriter()
    assert await prober(target(80), module(), 5.0, out)
    assert await prober(target(80), module(), 5.0, TextWriter())
    (cam,) = cams.transports
    assert cam.calls == ["GetSystemDateAndTime", "GetDeviceInformation", "GetProfiles",
                         "GetSystemDateAndTime", "GetProfiles"]
    assert cam.clock_offsets_set[0] == pytest.approx(-600, abs=2)
    assert value(out, "sharpeyes_onvif_clock_offset_seconds") == pytest.approx(-600, abs=2)
    line = ('sharpeyes_onvif_encoder_bitrate_limit_bytes_per_second'
            '{profile="Profile_1",encoding="H264"} 512000')
    assert line in out.render()
    await prober.aclose()
    assert cam.closed


async def test_fake_profiles_off_always_checks_auth() -> None:
    prober, cams = fake_prober()
    for _ in range(2):
        await prober(target(80), module(profiles=False), 5.0, TextWriter())
    assert cams.transports[0].calls == ["GetSystemDateAndTime", "GetDeviceInformation"] * 2


async def test_fake_auth_fail_skips_profiles() -> None:
    prober, cams = fake_prober(auth_fail=True)
    out = TextWriter()
    with pytest.raises(ProbeError) as err:
        await prober(target(80), module(), 5.0, out)
    assert err.value.reason == "auth"
    assert cams.transports[0].calls == ["GetSystemDateAndTime", "GetDeviceInformation"]
    assert value(out, "sharpeyes_onvif_auth_success") == 0


async def test_fake_incomplete_encoder_looked_up_once() -> None:
    stub = (Profile("P1", "main", EncoderConfig("VE1", "H265")), Profile("P2", "sub", None))
    full = (EncoderConfig("VE1", "H265", 1920, 1080, 25.0, 2048),)
    prober, cams = fake_prober(profile_list=stub, encoder_configs=full)
    out = TextWriter()
    assert await prober(target(80), module(), 5.0, out)
    assert cams.transports[0].calls.count("GetVideoEncoderConfigurations") == 1
    assert 'sharpeyes_onvif_encoder_width_pixels{profile="P1",encoding="H265"} 1920' in out.render()
    prober2, cams2 = fake_prober(profile_list=stub, encoder_configs=full)
    await prober2(target(80), module(encoder=False), 5.0, TextWriter())
    assert "GetVideoEncoderConfigurations" not in cams2.transports[0].calls


async def test_fake_timeout_and_malformed_reasons() -> None:
    prober, _ = fake_prober(timeout_on=frozenset({"GetProfiles"}))
    with pytest.raises(ProbeError) as err:
        await prober(target(80), module(), 5.0, TextWriter())
    assert err.value.reason == "timeout"
    prober, _ = fake_prober(clock_malformed=True)
    with pytest.raises(ProbeError) as err:
        await prober(target(80), module(), 5.0, TextWriter())
    assert err.value.reason == "malformed"


async def test_pool_is_bounded_and_closes_evicted() -> None:
    prober, cams = fake_prober()
    for i in range(3):
        await prober(target(80, dev=f"cam-{i}"), module(), 5.0, TextWriter())
    assert len(prober.pool) == 2
    assert cams.transports[0].closed is True
    # a new password for the same camera replaces its client
    await prober(target(80, dev="cam-2", auth=OnvifAuth("admin", "new")), module(), 5.0, TextWriter())
    assert cams.transports[2].closed and len(prober.pool) == 2
    await prober.aclose()
    assert all(c.closed for c in cams.transports)


# ---- settings and auth -------------------------------------------------------------------------------


def test_settings_strict() -> None:
    assert OnvifSettings.from_dict({}, "m") == OnvifSettings()
    with pytest.raises(ValueError, match=r"m: unknown key\(s\) profile"):
        OnvifSettings.from_dict({"profile": True}, "m")
    with pytest.raises(ValueError, match=r"m\.encoder: expected bool"):
        OnvifSettings.from_dict({"encoder": "yes"}, "m")


def test_auth_repr_masks_password(monkeypatch, tmp_path) -> None:
    a = OnvifAuth("admin", "hunter2")
    assert "hunter2" not in repr(a) and "<secret>" in repr(a) and "hunter2" not in str(a)
    monkeypatch.setenv("CAM_PW", "envpw")
    assert OnvifAuth.from_dict({"username": "u", "password_env": "CAM_PW"}).password == "envpw"
    f = tmp_path / "pw"
    f.write_text("filepw\n")
    assert OnvifAuth.from_dict({"username": "u", "password_file": str(f)}).password == "filepw"
    with pytest.raises(OnvifAuthConfigError, match=r"auth\.password:"):
        OnvifAuth.from_dict({"username": "u", "password": "a", "password_env": "CAM_PW"})
    with pytest.raises(OnvifAuthConfigError, match=r"auth\.pasword"):
        OnvifAuth.from_dict({"username": "u", "pasword": "a"})
    assert "hunter2" not in repr(ZeepOnvifTransport("127.0.0.1", 80, a))
    assert "hunter2" not in repr(LeanOnvifTransport(SharedHttp(), "127.0.0.1", 80, a))
