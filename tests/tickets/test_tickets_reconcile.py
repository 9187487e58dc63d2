"""Reconciliation with the real Alertmanager: an alert that resolves while inhibited gets no resolved
notification (Alertmanager mutes it, then drops it from its group), and only the service's own check
of Alertmanager's active alerts resolves it. Real binaries: prometheus-alertmanager with the project's
generated config (its monitoring-blind inhibition) and the ticket service as a process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sharpeyes.stack.stack import Process, http_json
from tests.runnet import free_port
from tests.tickets.tickets_testlib import cam_labels

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # real processes and Alertmanager's 30 s group maintenance


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


class Setup:
    def __init__(self, tmp: Path, reconcile: bool) -> None:
        am = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        alerts = shutil.which("sharpeyes-alerts")
        if am is None or alerts is None:
            pytest.fail("prometheus-alertmanager and sharpeyes-alerts are needed (scripts/setup.sh)")
        self.tmp, self.reconcile, tickets_port, am_port = tmp, reconcile, free_port(), free_port()
        self.am_url, self.tickets_url = f"http://127.0.0.1:{am_port}", f"http://127.0.0.1:{tickets_port}"
        (tmp / "webhook.token").write_text("tok-webhook\n")
        (tmp / "district.token").write_text("tok-district\n")
        extra = (f"alertmanager: {{urls: ['{self.am_url}'], reconcile_interval: 1s, min_uptime: 0s}}\n"
                 if reconcile else "")
        (tmp / "tickets.yaml").write_text(f"""
listen: 127.0.0.1:{tickets_port}
db: sqlite:///{tmp / 'tickets.sqlite3'}
hold_down: 1s
tick_interval: 1s
{extra}tokens:
  - {{name: alertmanager, role: webhook, token_file: {tmp / 'webhook.token'}}}
  - {{name: district-centre, role: district, token_file: {tmp / 'district.token'}}}
""")
        subprocess.run([alerts, "build", "--out", str(tmp / "alerts"), "--group-wait", "1s",
                        "--group-interval", "2s", "--repeat-interval", "1h",
                        "--tickets-url", f"{self.tickets_url}/api/v1/alertmanager",
                        "--tickets-credentials-file", str(tmp / "webhook.token")],
                       check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.procs = [
            Process("tickets", [sys.executable, "-m", "sharpeyes.tickets", "serve", "--config.file",
                                str(tmp / "tickets.yaml")], f"{self.tickets_url}/healthz", tmp / "tickets.log",
                    {"PYTHONPATH": str(ROOT)}),
            Process("am", [am, f"--config.file={tmp / 'alerts' / 'alertmanager.yml'}", f"--storage.path={tmp / 'am'}",
                           f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                    f"{self.am_url}/-/ready", tmp / "am.log"),
        ]

    def post(self, labels: dict[str, str], starts: datetime, ends: datetime) -> None:
        http_json(f"{self.am_url}/api/v2/alerts", method="POST", body=[{
            "labels": labels, "annotations": {"summary_zh": "故障", "summary": "fault"},
            "startsAt": _iso(starts), "endsAt": _iso(ends)}])

    def groups(self) -> float:
        with urllib.request.urlopen(f"{self.am_url}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        return sum(float(ln.split()[-1]) for ln in text.splitlines()
                   if ln.startswith("alertmanager_dispatcher_aggregation_groups"))

    def ticket(self) -> dict[str, Any] | None:
        """The camera's ticket (the blind alert opens a monitoring ticket of its own)."""
        found = [t for t in http_json(f"{self.tickets_url}/api/v1/tickets?state=open,acknowledged,in_progress,"
                                      "resolved,closed,merged", token="tok-district")["tickets"]
                 if t["root_key"] == "device:cam-1"]
        if not found:
            return None
        return dict(http_json(f"{self.tickets_url}/api/v1/tickets/{found[0]['id']}", token="tok-district"))


def _wait(what: str, cond: Any, timeout: float) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := cond():
            return value
        time.sleep(0.2)  # polling a condition
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(params=[True, False], ids=["reconcile", "without"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    s = Setup(tmp_path, reconcile=request.param)
    try:
        for p in s.procs:
            p.start(tmp_path)
        for p in s.procs:
            p.wait_ready(60)
        yield s
    finally:
        for p in reversed(s.procs):
            p.stop()


def test_alert_resolved_while_inhibited(setup: Setup) -> None:
    now = datetime.now(UTC)
    cam = {"alertname": "CameraOffline", "severity": "critical", "scope": "device", **cam_labels("cam-1")}
    blind = {"alertname": "SharpeyesProbeScrapesFailing", "severity": "critical", "scope": "monitoring"}
    setup.post(cam, now, now + timedelta(hours=1))
    _wait("the camera's ticket", lambda: setup.ticket(), 30)
    setup.post(blind, now, now + timedelta(hours=1))  # the monitoring goes blind: every device alert muted
    _wait("the camera alert inhibited", lambda: [
        a for a in http_json(f"{setup.am_url}/api/v2/alerts?inhibited=true")
        if a["labels"]["alertname"] == "CameraOffline" and a["status"]["inhibitedBy"]], 30)
    repaired = datetime.now(UTC)
    setup.post(cam, now, repaired)  # the camera is repaired while muted
    if setup.reconcile:  # resolved while the monitoring is still blind: only the check can have done it
        t = _wait("the ticket resolved", lambda: (x := setup.ticket()) and x["state"] == "resolved" and x, 30)
        assert [a["status"] for a in t["alerts"]] == ["resolved"]
        assert [e["action"] for e in t["history"]].count("reconcile") == 1
        return
    # what the check is for: Alertmanager flushes the camera's group with the resolution muted, then
    # drops the resolved alert and with it the group (removed at its 30 s maintenance; the monitoring
    # group is the one left)
    _wait("the camera's group flushed and gone", lambda: setup.groups() == 1, 45)
    setup.post(blind, now, datetime.now(UTC))  # then the monitoring sees again
    # another alert of the camera's group is notified, and the muted resolution never comes
    rtsp = {**cam, "alertname": "CameraRtspDown"}
    setup.post(rtsp, repaired, repaired + timedelta(hours=1))
    t = _wait("the group's next notification", lambda: (x := setup.ticket()) and len(x["alerts"]) == 2 and x, 30)
    assert {a["alertname"]: a["status"] for a in t["alerts"]} == {"CameraOffline": "firing",
                                                                  "CameraRtspDown": "firing"}
    assert t["state"] == "open"
