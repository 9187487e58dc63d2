"""Alertmanager as an HA pair in front of the ticket service, with the real binaries.

Two peers gossip over loopback; every alert is posted to both (as every rule evaluator does, through
Alertmanager's v2 API); the peer that does the notifying is killed -9 mid-storm. Users rely on:
nothing lost (the survivor notifies what the dead peer had not), nothing duplicated (one ticket per
fault, every alert exactly once) although both peers delivered to the same webhook.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sharpeyes.alerts.ha import cluster_flags
from sharpeyes.stack.stack import Process, http_json
from tests.runnet import free_port

ROOT = Path(__file__).resolve().parents[2]
SWITCHES, CAMS, DOWN_SWITCHES = 16, 3, 6  # 48 camera alerts + 6 switch alerts
PATH = {"township": "t-fengquan", "village": "v-xiaozhuang", "contractor": "ct-a", "area": "urban",
        "agg_switch": "sw-agg-1"}


def storm(now: datetime) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Alerts as Prometheus posts them, and the root key each notified one's ticket must have (by device)."""
    alerts, expected = [], {}

    def alert(name: str, scope: str, labels: dict[str, str], started: int) -> dict[str, Any]:
        return {"labels": {"alertname": name, "severity": "critical", "scope": scope, **PATH, **labels},
                "annotations": {"summary_zh": "故障", "summary": "fault"},
                "startsAt": (now - timedelta(seconds=started)).isoformat().replace("+00:00", "Z"),
                "endsAt": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
                "generatorURL": "http://127.0.0.1:9090/graph"}

    for s in range(SWITCHES):
        sw, link = f"sw-acc-{s:02d}", f"fl-{s:02d}"
        down = s < DOWN_SWITCHES
        if down:
            alerts.append(alert("SwitchDown", "switch", {"device": sw, "kind": "switch", "role": "access",
                                                         "uplink_switch": "sw-agg-1", "access_switch": sw,
                                                         "fiber_link": link}, 60 + s))
            expected[sw] = f"switch:{sw}"
        for c in range(CAMS):
            cam = f"cam-{s:02d}-{c}"
            alerts.append(alert("CameraOffline", "device", {"device": cam, "kind": "camera", "role": "bullet",
                                                            "uplink_switch": sw, "access_switch": sw,
                                                            "fiber_link": link}, 60 + s))
            if not down:  # a down access switch's cameras are inhibited in Alertmanager: never notified
                expected[cam] = f"device:{cam}"
    # interleave so both halves of the storm hold switches and cameras
    return alerts[::2] + alerts[1::2], expected


def metric(url: str, name: str, **labels: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if m and all(f'{k}="{v}"' in (m.group(1) or "") for k, v in labels.items()):
            total += float(m.group(2))
    return total


def post_alerts(url: str, alerts: list[dict[str, Any]]) -> bool:
    try:
        http_json(f"{url}/api/v2/alerts", method="POST", body=alerts)
        return True
    except (urllib.error.URLError, OSError):
        return False  # a dead peer: Prometheus logs it and carries on with the others


def wait_for(what: str, cond: Any, timeout: float) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := cond():
            return value
        time.sleep(0.2)  # polling a condition
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


class Pair:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.am = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        if self.am is None:
            pytest.fail("prometheus-alertmanager not found (scripts/setup.sh installs it)")
        self.tickets_port = free_port()
        self.db = tmp / "tickets.sqlite3"
        (tmp / "webhook.token").write_text("tok-webhook\n")
        (tmp / "district.token").write_text("tok-district\n")
        (tmp / "tickets.yaml").write_text(f"""
listen: 127.0.0.1:{self.tickets_port}
db: sqlite:///{self.db}
hold_down: 1h
tick_interval: 1s
tokens:
  - {{name: alertmanager, role: webhook, token_file: {tmp / 'webhook.token'}}}
  - {{name: district-centre, role: district, token_file: {tmp / 'district.token'}}}
""")
        alerts = shutil.which("sharpeyes-alerts")
        if alerts is None:
            pytest.fail("sharpeyes-alerts is not on PATH (install the package)")
        subprocess.run([alerts, "build", "--out", str(tmp / "alerts"),
                        "--group-wait", "1s", "--group-interval", "2s", "--repeat-interval", "1h",
                        "--tickets-url", f"http://127.0.0.1:{self.tickets_port}/api/v1/alertmanager",
                        "--tickets-credentials-file", str(tmp / "webhook.token")],
                       check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.web = [free_port(), free_port()]
        self.gossip = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
        self.procs: list[Process] = []

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.web[i]}"

    def start(self) -> None:
        env = {"PYTHONPATH": str(ROOT)}
        tickets = Process("tickets", [sys.executable, "-m", "sharpeyes.tickets", "serve", "--config.file",
                                      str(self.tmp / "tickets.yaml")],
                          f"http://127.0.0.1:{self.tickets_port}/healthz", self.tmp / "tickets.log", env)
        self.procs.append(tickets)
        for i in (0, 1):
            argv = [str(self.am), f"--config.file={self.tmp / 'alerts' / 'alertmanager.yml'}",
                    f"--storage.path={self.tmp / f'am{i}'}", f"--web.listen-address=127.0.0.1:{self.web[i]}",
                    f"--web.external-url=http://127.0.0.1:{self.web[i]}",
                    *cluster_flags(self.gossip[i], self.gossip, peer_timeout="3s", gossip_interval="100ms",
                                   pushpull_interval="2s")]
            self.procs.append(Process(f"am{i}", argv, f"{self.url(i)}/-/ready", self.tmp / f"am{i}.log"))
        for p in self.procs:
            p.start(self.tmp)
        for p in self.procs:
            p.wait_ready(60)

    def stop(self) -> None:
        for p in self.procs:
            p.stop()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    p = Pair(tmp_path)
    try:
        p.start()
        yield p
    finally:
        p.stop()


def _clustered(pair: Pair) -> bool:
    return all(len(http_json(f"{pair.url(i)}/api/v2/status")["cluster"]["peers"]) == 2 for i in (0, 1))


@pytest.mark.slow  # two real Alertmanagers and the ticket service
def test_kill_one_peer_mid_storm_loses_and_duplicates_nothing(pair: Pair) -> None:
    wait_for("both peers to see each other", lambda: _clustered(pair), 30)
    alerts, expected = storm(datetime.now(UTC))
    first, second = alerts[: len(alerts) // 2], alerts[len(alerts) // 2:]
    for batch in (first[i:i + 5] for i in range(0, len(first), 5)):
        assert post_alerts(pair.url(0), batch) and post_alerts(pair.url(1), batch)

    sent = "alertmanager_notifications_total"
    # the peer first in the cluster's order notifies at once, the other waits peer_timeout: kill the
    # one that is delivering, after it delivered and before the storm is over
    def delivering() -> int | None:
        counts = [metric(pair.url(i), sent, integration="webhook") for i in (0, 1)]
        return max((0, 1), key=lambda i: counts[i]) if any(counts) else None

    busy = wait_for("a peer to deliver to the ticket service", lambda: (d := delivering()) is not None and (d,), 30)[0]
    survivor = 1 - busy
    before_kill = metric(pair.url(busy), sent, integration="webhook")
    proc = pair.procs[1 + busy].proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)

    for batch in (second[i:i + 5] for i in range(0, len(second), 5)):
        assert not post_alerts(pair.url(busy), batch)
        assert post_alerts(pair.url(survivor), batch)

    def all_stored() -> bool:
        return len(pair.rows("SELECT fingerprint FROM alerts")) >= len(expected)

    wait_for("every alert of the storm in the ticket store", all_stored, 90)
    stored = dict(pair.rows("SELECT json_extract(a.labels, '$.device'), t.root_key FROM alerts a "
                            "JOIN tickets t ON t.id = a.ticket_id"))
    assert stored == expected
    assert len(pair.rows("SELECT fingerprint FROM alerts")) == len(expected)  # each alert exactly once
    roots = pair.rows("SELECT root_key, count(*) FROM tickets WHERE state != 'merged' GROUP BY root_key")
    assert {k for k, _ in roots} == set(expected.values())
    assert all(n == 1 for _, n in roots), [r for r in roots if r[1] != 1]

    after = metric(pair.url(survivor), sent, integration="webhook")
    assert before_kill > 0 and after > 0, "both peers must have delivered for the test to mean anything"
    tickets_url = f"http://127.0.0.1:{pair.tickets_port}"
    dup = metric(tickets_url, "sharpeyes_tickets_webhook_alerts_total", result="duplicate")
    print(f"\npeer {busy} delivered {before_kill:.0f} notifications before kill -9, peer {survivor} "
          f"{after:.0f}; ticket service counted {dup:.0f} duplicate alerts; "
          f"{len(alerts)} alerts → {len(roots)} tickets")


def test_cluster_flags_join_the_others_and_refuse_a_lone_or_wildcard_peer() -> None:
    flags = cluster_flags("127.0.0.1:9094", ["127.0.0.1:9094", "127.0.0.2:9094"], peer_timeout="3s")
    assert flags == ["--cluster.listen-address=127.0.0.1:9094", "--cluster.advertise-address=127.0.0.1:9094",
                     "--cluster.peer-timeout=3s", "--cluster.peer=127.0.0.2:9094"]
    with pytest.raises(ValueError, match="at least one other peer"):
        cluster_flags("127.0.0.1:9094", ["127.0.0.1:9094"])
    with pytest.raises(ValueError, match="explicit HOST:PORT"):
        cluster_flags(":9094", ["127.0.0.2:9094"])
