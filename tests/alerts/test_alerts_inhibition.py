"""Topology inhibition against a real Alertmanager (prometheus-alertmanager 0.25) on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sharpeyes.alerts import build
from sharpeyes.alerts.config import Config
from tests.alerts.alerts_testlib import require

DEADLINE_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        text = resp.read().decode()
    return json.loads(text) if text.strip().startswith(("[", "{")) else text


def wait_for(what: str, check: Callable[[], Any]) -> Any:
    """Poll ``check`` until it returns a truthy value; fail after DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (urllib.error.URLError, ConnectionError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}: {last!r}")


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    binary = require("prometheus-alertmanager")
    token = tmp_path / "token"
    token.write_text("test-token\n")
    cfg = Config().with_alertmanager(
        group_wait="1s",
        group_interval="1s",
        tickets_url=f"http://127.0.0.1:{free_port()}/api/v1/alertmanager",
        tickets_credentials_file=str(token),
    )
    build.write(cfg, tmp_path / "out")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'out' / build.ALERTMANAGER_FILE}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"alertmanager exited: {(tmp_path / 'alertmanager.log').read_text()}")
            return "OK" in str(http(f"{url}/-/ready"))

        wait_for("alertmanager /-/ready", ready)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def camera(device: str, link: str, access: str, village: str) -> dict[str, str]:
    return {
        "alertname": "CameraOffline",
        "severity": "critical",
        "scope": "device",
        "device": device,
        "kind": "camera",
        "role": "bullet",
        "fiber_link": link,
        "uplink_switch": access,
        "access_switch": access,
        "agg_switch": "agg-t1",
        "village": village,
        "township": "t1",
        "contractor": "ctr-a",
        "area": "rural",
    }


def post(url: str, alerts: list[dict[str, str]]) -> None:
    http(
        f"{url}/api/v2/alerts", [{"labels": labels, "annotations": {"summary": "test"}} for labels in alerts]
    )


def states(url: str) -> dict[str, dict[str, Any]]:
    out = {}
    for a in http(f"{url}/api/v2/alerts"):
        out[f"{a['labels']['alertname']}/{a['labels'].get('device') or a['labels'].get('fiber_link')}"] = a[
            "status"
        ]
    return out


def test_fiber_link_down_inhibits_the_cameras_on_that_link_only(alertmanager: str) -> None:
    link_down = {
        "alertname": "FiberLinkDown",
        "severity": "critical",
        "scope": "fiber_link",
        "fiber_link": "fl-t1-v1",
        "township": "t1",
        "contractor": "ctr-net",
        "area": "rural",
    }
    cams = [camera(f"cam-v1-{n}", "fl-t1-v1", "acc-v1", "v1") for n in (1, 2, 3)]
    other = camera("cam-v2-1", "fl-t1-v2", "acc-v2", "v2")
    post(alertmanager, [link_down, *cams, other])

    def inhibited() -> dict[str, dict[str, Any]] | None:
        st = states(alertmanager)
        done = all(st.get(f"CameraOffline/cam-v1-{n}", {}).get("inhibitedBy") for n in (1, 2, 3))
        return st if done else None

    st = wait_for("the three cameras to be inhibited", inhibited)
    for n in (1, 2, 3):
        assert st[f"CameraOffline/cam-v1-{n}"]["state"] == "suppressed"
    assert st["CameraOffline/cam-v2-1"]["state"] == "active"
    assert st["CameraOffline/cam-v2-1"]["inhibitedBy"] == []
    assert st["FiberLinkDown/fl-t1-v1"]["inhibitedBy"] == []


def test_inhibition_chains_and_ignores_empty_labels(alertmanager: str) -> None:
    # the aggregation switch behind a broken link is itself inhibited, yet still inhibits its cameras
    link_down = {
        "alertname": "FiberLinkDown",
        "severity": "critical",
        "scope": "fiber_link",
        "fiber_link": "fl-core-t1",
        "township": "t1",
    }
    agg_down = {
        "alertname": "SwitchDown",
        "severity": "critical",
        "scope": "switch",
        "device": "agg-t1",
        "kind": "switch",
        "role": "aggregation",
        "fiber_link": "fl-core-t1",
        "agg_switch": "agg-t1",
        "township": "t1",
    }
    cam = camera("cam-v2-2", "fl-t1-v2", "acc-v2", "v2")
    # a village alert without a village label must not inhibit a camera that also lacks one
    village_blank = {
        "alertname": "VillageOffline",
        "severity": "critical",
        "scope": "village",
        "township": "t9",
    }
    cam_blank = {
        "alertname": "CameraOffline",
        "severity": "critical",
        "scope": "device",
        "device": "cam-t9-1",
        "township": "t9",
        "fiber_link": "fl-t9-x",
    }
    post(alertmanager, [link_down, agg_down, cam, village_blank, cam_blank])

    def settled() -> dict[str, dict[str, Any]] | None:
        st = states(alertmanager)
        keys = ("SwitchDown/agg-t1", "CameraOffline/cam-v2-2")
        return st if all(st.get(k, {}).get("inhibitedBy") for k in keys) else None

    st = wait_for("agg switch and camera to be inhibited", settled)
    assert st["CameraOffline/cam-v2-2"]["state"] == "suppressed"
    assert st["CameraOffline/cam-t9-1"]["state"] == "active"
    assert st["CameraOffline/cam-t9-1"]["inhibitedBy"] == []
