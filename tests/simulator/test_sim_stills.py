"""Simulated cameras serve stills at their ONVIF snapshot URI behind Digest auth, and the image
faults of the fault catalogue show in them: checked with the exporter's real snapshot prober
(ONVIF over zeep, RFC 7616 Digest client, VQD), which shares no code with the simulator."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.zeep_transport import zeep_factory
from sharpeyes.exporters.probers.base import Module, ProbeError, Target
from sharpeyes.exporters.probers.snapshot import SnapshotProber, SnapshotSettings
from sharpeyes.simulator.faults import FAULT_TYPES, IMAGE_FAULT_TYPES
from sharpeyes.simulator.stills import IMAGE_FAULTS
from tests.simulator.sim_helpers import ONVIF_PORT, PASSWORD, USER


def _module(tmp_path: Path) -> Module:
    return Module("snapshot", "snapshot", 30.0,
                  SnapshotSettings.from_dict({"state_dir": str(tmp_path)}, "modules.snapshot.snapshot"))


async def _probe(prober: SnapshotProber, state: Any, tmp_path: Path, password: str = PASSWORD) -> TextWriter:
    out = TextWriter()
    target = Target(state.device_id, state.ip, "camera", auth=OnvifAuth(USER, password), onvif_port=ONVIF_PORT)
    await prober(target, _module(tmp_path), 30.0, out)
    return out


def _faults(out: TextWriter) -> set[str]:
    return {re.search(r'check="(\w+)"', s).group(1) for s in out.samples("sharpeyes_vqd_check_fault")  # type: ignore[union-attr]
            if s.endswith(" 1")}


def test_image_faults_are_in_the_catalogue() -> None:
    assert set(IMAGE_FAULT_TYPES) == set(IMAGE_FAULTS)
    for name in IMAGE_FAULT_TYPES:
        assert FAULT_TYPES[name].target == "camera" and "severity" in FAULT_TYPES[name].params


@pytest.mark.parametrize("snapshot", [True, False], ids=["http", "rtsp_keyframe"])
async def test_stills_judged_and_each_injected_fault_found(snapshot: bool, make_state, serve, tmp_path: Path) -> None:
    state = make_state("hikvision", snapshot=snapshot)
    state.clock_offset_s = 0.0
    await serve([state])
    prober = SnapshotProber(zeep_factory)
    try:
        first = await _probe(prober, state, tmp_path)
        assert _faults(first) == set()
        assert f'source="{"http" if snapshot else "rtsp"}"' in first.render()
        for _ in range(6):  # learn the baseline (6 intact stills of this light mode)
            out = await _probe(prober, state, tmp_path)
        assert 'sharpeyes_vqd_baseline_ready 1' in out.render()
        assert _faults(out) == set()
        for fault in ("video_loss", "defocus", "color_cast", "stripes", "displaced", "too_dark"):
            state.extra["image_fault"] = (fault, 3)
            out = await _probe(prober, state, tmp_path)
            assert fault in _faults(out) or (fault == "color_cast" and "sharpeyes_vqd_night_mode 1" in out.render()), \
                (fault, _faults(out))
        state.extra["image_fault"] = ("frozen", 2)
        await _probe(prober, state, tmp_path)
        await asyncio.sleep(1.1)  # stills less than a second apart are not compared
        assert "frozen" in _faults(await _probe(prober, state, tmp_path))
        state.extra["image_fault"] = None
        assert _faults(await _probe(prober, state, tmp_path)) == set()
        stranger = SnapshotProber(zeep_factory)
        with pytest.raises(ProbeError) as err:
            await _probe(stranger, state, tmp_path, password="wrong")
        await stranger.aclose()
        assert err.value.reason == "auth"
    finally:
        await prober.aclose()


async def test_snapshot_needs_digest_and_refuses_a_replay(make_state, serve) -> None:
    state = make_state("dahua")
    await serve([state])
    url = f"http://{state.ip}:{ONVIF_PORT}/onvifsnapshot/media_service/snapshot?channel=1&subtype=0"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            assert resp.status == 401
            challenge = resp.headers["WWW-Authenticate"]
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]
        realm = re.search(r'realm="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]
        uri = url.split(str(ONVIF_PORT), 1)[1]

        def md5(s: str) -> str:
            return hashlib.md5(s.encode()).hexdigest()

        resp_hash = md5(f"{md5(f'{USER}:{realm}:{PASSWORD}')}:{nonce}:00000001:abc:auth:{md5(f'GET:{uri}')}")
        header = (f'Digest username="{USER}", realm="{realm}", nonce="{nonce}", uri="{uri}", qop=auth, '
                  f'nc=00000001, cnonce="abc", response="{resp_hash}"')
        async with http.get(url, headers={"Authorization": header}) as resp:
            assert resp.status == 200 and resp.content_type == "image/jpeg"
            assert (await resp.read())[:2] == b"\xff\xd8"
        async with http.get(url, headers={"Authorization": header}) as resp:  # the same nc again
            assert resp.status == 401
