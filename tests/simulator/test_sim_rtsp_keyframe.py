"""A simulated camera without an ONVIF snapshot URI: the exporter's snapshot prober reads one H.264
key frame of its RTSP main stream instead (GetStreamUri, DESCRIBE/SETUP/PLAY with Digest, RTP
over the RTSP connection, PyAV), and the picture is judged like a fetched still. The simulator's
encoder and packetizer share no code with the exporter's client."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from lxml import etree

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.probers.base import Module, ProbeError, Target
from sharpeyes.exporters.probers.snapshot import SnapshotProber, SnapshotSettings
from sharpeyes.simulator.state import NO_SNAPSHOT_MODELS, DeviceState
from tests.simulator.sim_helpers import ONVIF_PORT, PASSWORD, SOAP12, TER, TRT, USER, post, soap_request

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "onvif"


def _module(tmp_path: Path) -> Module:
    return Module("snapshot", "snapshot", 10.0,
                  SnapshotSettings.from_dict({"state_dir": str(tmp_path)}, "modules.snapshot.snapshot"))


async def _probe(prober: SnapshotProber, state: Any, tmp_path: Path, timeout: float = 10.0) -> TextWriter:
    out = TextWriter()
    target = Target(state.device_id, state.ip, "camera", auth=OnvifAuth(USER, PASSWORD), onvif_port=ONVIF_PORT)
    await prober(target, _module(tmp_path), timeout, out)
    return out


def _value(out: TextWriter, name: str) -> float:
    return float(next(s for s in out.samples(name)).rsplit(" ", 1)[1])


def _faults(out: TextWriter) -> set[str]:
    return {re.search(r'check="(\w+)"', s).group(1) for s in out.samples("sharpeyes_vqd_check_fault")  # type: ignore[union-attr]
            if s.endswith(" 1")}


def test_a_model_without_snapshot_support_gets_the_flag() -> None:
    class Dev:
        id, ip, kind, vendor, model = "cam-1", "127.0.0.9", "camera", "uniview", next(iter(NO_SNAPSHOT_MODELS))

    assert DeviceState.from_device(Dev()).snapshot is False
    Dev.model = "IPC2124LB-SF40KM-G"
    assert DeviceState.from_device(Dev()).snapshot is True


async def test_get_snapshot_uri_is_action_not_supported_like_the_real_capture(make_state, serve) -> None:
    state = make_state("hikvision", snapshot=False)
    await serve([state])
    reply = await post(state.ip, soap_request("<trt:GetSnapshotUri><trt:ProfileToken>Profile_1</trt:ProfileToken>"
                                              "</trt:GetSnapshotUri>"))
    capture = etree.parse(str(FIXTURES / "easy_onvif_oem-hikvision_ipg-8150pss" / "SoapFault.xml"))

    def qname(el: Any) -> tuple[str | None, str]:  # a prefixed value, its prefix resolved
        prefix, _, local = (el.text or "").strip().partition(":")
        return el.nsmap.get(prefix), local

    def shape(root: Any) -> tuple[object, ...]:
        fault = root.find(f".//{{{SOAP12}}}Fault")
        return (qname(fault.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value")),
                qname(fault.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")),
                fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text"))

    assert reply.status == 500
    assert shape(reply.root) == shape(capture.getroot())
    assert shape(capture.getroot())[1] == (TER, "ActionNotSupported")


@pytest.mark.parametrize("vendor", ["uniview", "hikvision", "dahua"])
async def test_key_frame_over_rtsp_is_judged_like_a_still(vendor: str, make_state, serve, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    state = make_state(vendor, snapshot=False)
    await serve([state])
    prober = SnapshotProber()
    try:
        started = time.perf_counter()
        out = await _probe(prober, state, tmp_path)
        first_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        out = await _probe(prober, state, tmp_path)  # URI cached: RTSP + decode + checks only
        again_ms = (time.perf_counter() - started) * 1000
    finally:
        await prober.aclose()
    text = out.render()
    assert 'sharpeyes_vqd_snapshot_source_info{source="rtsp"} 1' in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian prometheus) is required"
    res = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert _value(out, "sharpeyes_vqd_image_intact") == 1, _faults(out)
    assert _value(out, "sharpeyes_vqd_snapshot_size_bytes") > 10_000
    still = cv2.imdecode(np.fromfile(str(tmp_path / state.device_id / "last.jpg"), np.uint8), cv2.IMREAD_COLOR)
    assert still is not None and still.shape == (1080, 1920, 3)
    fetch_ms = _value(out, "sharpeyes_vqd_snapshot_fetch_duration_seconds") * 1000
    with capsys.disabled():
        print(f"\n{vendor}: key frame over RTSP fetched in {fetch_ms:.0f} ms"
              f" (probe {first_ms:.0f} ms first, {again_ms:.0f} ms with the URI cached)")


async def test_video_loss_over_rtsp_is_a_fault(make_state, serve, tmp_path: Path) -> None:
    state = make_state("hikvision", snapshot=False)
    state.extra["image_fault"] = ("video_loss", 3)
    await serve([state])
    prober = SnapshotProber()
    try:
        out = await _probe(prober, state, tmp_path)
    finally:
        await prober.aclose()
    assert 'source="rtsp"' in out.render()
    assert _value(out, "sharpeyes_vqd_image_intact") == 0 and "video_loss" in _faults(out)


@pytest.mark.parametrize(("fault", "reason"), [("encoder_stalled", "protocol"), ("hung", "timeout"),
                                               ("credentials_broken", "auth")])
async def test_rtsp_faults_are_probe_failures(fault: str, reason: str, make_state, serve, tmp_path: Path) -> None:
    state = make_state("uniview", snapshot=False)
    await serve([state])
    prober = SnapshotProber()
    try:
        await _probe(prober, state, tmp_path)  # the stream URI is now cached: ONVIF is not asked again
        setattr(state, fault, True)
        with pytest.raises(ProbeError) as err:
            await _probe(prober, state, tmp_path, timeout=2.0)
    finally:
        await prober.aclose()
    assert err.value.reason == reason, err.value


async def test_cameras_with_a_snapshot_still_use_http(make_state, serve, tmp_path: Path) -> None:
    state = make_state("uniview")
    await serve([state])
    prober = SnapshotProber()
    try:
        out = await _probe(prober, state, tmp_path)
    finally:
        await prober.aclose()
    assert 'sharpeyes_vqd_snapshot_source_info{source="http"} 1' in out.render()
    assert TRT  # the Media namespace the GetSnapshotUri above was asked in
