# ruff: noqa: F811, E501  (fixtures imported from test_onvif are redefined as parameters; exact samples)
"""ONVIF replies that lie: the "no limit" encoder sentinel (AXIS reports BitrateLimit 2147483647
kbit/s), a reply of the wrong operation, and WS-Security secrets in zeep's debug log. Every reply
is a real capture served by test_onvif's CaptureCamera, at most with one value or element swapped."""

from __future__ import annotations

import logging
import re

import pytest

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.probers.base import ProbeError
from sharpeyes.exporters.probers.onvif import OnvifProber
from tests.exporters.test_onvif import FIXTURES, PASSWORD, CaptureCamera, module, prober, samples, serve, target  # noqa: F401

DLINK = "easy_onvif_dlink_dcs-6511"
# AXIS's "no limit": BitrateLimit 2147483647 (2^31-1) kbit/s, the value an AXIS camera reports and
# accepts for an unlimited profile (tests/fixtures/onvif/SOURCES.tsv names the public source).
AXIS_NO_LIMIT = "2147483647"


def with_value(vendor: str, op: str, old: str, new: str) -> bytes:
    body = (FIXTURES / vendor / f"{op}.xml").read_text(encoding="utf-8")
    assert body.count(old) == 1, old
    return body.replace(old, new).encode()


async def test_unlimited_bitrate_sentinel_is_a_flag_not_268_gb_per_second(serve, prober: OnvifProber) -> None:
    profiles = with_value(
        DLINK, "GetProfiles", "<tt:BitrateLimit>4096</tt:BitrateLimit>", f"<tt:BitrateLimit>{AXIS_NO_LIMIT}</tt:BitrateLimit>"
    )
    cam = CaptureCamera(DLINK, overrides={"GetProfiles": (200, profiles)})
    out = TextWriter()
    assert await prober(target(await serve(cam)), module(), 10.0, out)
    bitrates = samples(out, "sharpeyes_onvif_encoder_bitrate_limit_bytes_per_second")
    assert bitrates == ['sharpeyes_onvif_encoder_bitrate_limit_bytes_per_second{profile="Profile2",encoding="H264"} 256000']
    assert samples(out, "sharpeyes_onvif_encoder_bitrate_unlimited") == [
        'sharpeyes_onvif_encoder_bitrate_unlimited{profile="Profile1",encoding="H264"} 1'
    ]
    # the other fields of the unlimited profile are still real values
    assert 'sharpeyes_onvif_encoder_width_pixels{profile="Profile1",encoding="H264"} 1280' in out.render()
    assert "GetVideoEncoderConfigurations" not in cam.requests  # "unlimited" is a complete answer


@pytest.mark.parametrize(
    ("old", "new", "metric"),
    [
        ("<tt:Width>1280</tt:Width>", "<tt:Width>0</tt:Width>", "sharpeyes_onvif_encoder_width_pixels"),
        ("<tt:FrameRateLimit>7</tt:FrameRateLimit>", f"<tt:FrameRateLimit>{AXIS_NO_LIMIT}</tt:FrameRateLimit>", "sharpeyes_onvif_encoder_frame_rate"),
        ("<tt:BitrateLimit>4096</tt:BitrateLimit>", "<tt:BitrateLimit>-1</tt:BitrateLimit>", "sharpeyes_onvif_encoder_bitrate_limit_bytes_per_second"),
    ],
)  # fmt: skip
async def test_other_encoder_sentinels_give_no_series(
    serve, prober: OnvifProber, old: str, new: str, metric: str
) -> None:
    cam = CaptureCamera(DLINK, overrides={"GetProfiles": (200, with_value(DLINK, "GetProfiles", old, new))})
    out = TextWriter()
    assert await prober(target(await serve(cam)), module(), 10.0, out)
    assert [s for s in samples(out, metric) if 'profile="Profile1"' in s] == []
    assert [s for s in samples(out, metric) if 'profile="Profile2"' in s] != []


async def test_reply_of_another_operation_is_malformed(serve, prober: OnvifProber) -> None:
    """A GetCapabilitiesResponse (a real one) answering GetDeviceInformation: no empty-label
    device_info, no auth_success 1, reason malformed."""
    wrong = (FIXTURES / DLINK / "GetCapabilities.xml").read_bytes()
    cam = CaptureCamera(DLINK, overrides={"GetDeviceInformation": (200, wrong)})
    out = TextWriter()
    with pytest.raises(ProbeError) as info:
        await prober(target(await serve(cam)), module(profiles=False), 10.0, out)
    assert info.value.reason == "malformed"
    assert "GetCapabilitiesResponse" in str(info.value) and "GetDeviceInformationResponse" in str(info.value)
    assert samples(out, "sharpeyes_onvif_device_info") == []
    assert samples(out, "sharpeyes_onvif_auth_success") == []


async def test_zeep_debug_log_carries_no_ws_security_secrets(
    serve, prober: OnvifProber, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cam = CaptureCamera(DLINK)
    assert await prober(target(await serve(cam)), module(), 10.0, TextWriter())
    posts = [r.getMessage() for r in caplog.records if "HTTP Post" in r.getMessage()]
    signed = [p for p in posts if "UsernameToken" in p]
    assert signed and any("GetDeviceInformation" in p for p in signed)  # the requests are still logged
    for p in signed:
        assert "<wsse:Username>[redacted]</wsse:Username>" in p
        assert re.search(r"<wsse:Password [^>]*PasswordDigest\">\[redacted\]</wsse:Password>", p)
        assert re.search(r"<wsse:Nonce [^>]*>\[redacted\]</wsse:Nonce>", p)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert ">admin<" not in text and PASSWORD not in text
