"""End to end: the REAL Prometheus scrapes our exporter, which probes the REAL simulator.

Started as subprocesses, each awaited by polling (never a fixed sleep):
- ``sharpeyes-sim run --inventory inventory/sample/fengquan --township luwangfen`` (needs root and
  nftables), on its own control port, nftables table and SNMP/ONVIF/RTSP ports, so that it does
  not collide with a simulator serving the whole district on the default ports;
- ``sharpeyes-exporter`` with the simulator's generated secrets (``SHARPEYES_SECRETS``), a config
  that is the embedded default plus the test's SNMP port, and an inventory that is the sample
  district reduced to Luwangfen (district.yaml + townships/luwangfen.yaml, cameras pointed at the
  test's ONVIF/RTSP ports): Prometheus then scrapes only what the simulator serves;
- ``prometheus`` with the config written by ``sharpeyes-exporter promconfig --interval-scale 0.2``
  (icmp every 3 s, snmp/rtsp 6 s, onvif 60 s, inventory 12 s), a temporary TSDB, a free port.

Luwangfen's switches are all H3C; its path to the core adds ``core-1``, a Huawei: both vendors'
optics are checked on the fiber link between them. The test polls the Prometheus HTTP API until
every condition holds (or the deadline passes) and then asserts each one with its details.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sharpeyes.inventory import Inventory, load_inventory
from tests.runnet import RunNet, free_port

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "sharpeyes" / "exporters" / "default.yml"
TOWNSHIP = "luwangfen"
PROMETHEUS = shutil.which("prometheus")
SNAPSHOT_INTERVAL = "30s"  # shipped: 10m; 0.2 scale would make it 120 s, two of which the tests would wait
DEADLINE_S = 100.0  # the slowest condition: a fault seen in the snapshot after the one under way
RATE_TOLERANCE = 0.25

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None,
                       reason="the simulator needs root and nftables"),
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus binary not installed"),
    pytest.mark.skipif(shutil.which("sharpeyes-sim") is None or shutil.which("sharpeyes-exporter") is None,
                       reason="sharpeyes-sim / sharpeyes-exporter not installed"),
]


# ----------------------------------------------------------------------------- helpers


def http(method: str, url: str, timeout: float = 5) -> tuple[int, bytes]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


class Proc:
    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = log
        self._fh = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=self._fh, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, start_new_session=True)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def await_ready(self, check: Callable[[], bool], what: str, limit: float = 60) -> None:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.proc.returncode}) before {what}:\n{self.tail()}")
            if check():
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: not {what} after {limit:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._fh.close()


@dataclass
class Stack:
    inv: Inventory  # the full sample district
    devices: dict[str, Any]  # active Luwangfen device id -> Device
    control: str
    prometheus: str
    sim: Proc
    exporter: str

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"http://{self.prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        status, body = http("GET", url, timeout=10)
        assert status == 200, f"query {promql!r}: HTTP {status} {body[:300]!r}"
        doc = json.loads(body)
        assert doc["status"] == "success", doc
        return list(doc["data"]["result"])

    def by_instance(self, promql: str) -> dict[str, float]:
        return {r["metric"].get("instance", ""): float(r["value"][1]) for r in self.query(promql)}

    def sim_api(self, path: str) -> Any:
        status, body = http("GET", f"http://{self.control}{path}", timeout=10)
        assert status == 200, f"simulator {path}: HTTP {status} {body[:300]!r}"
        return json.loads(body)


def reduced_inventory(dest: Path, onvif_port: int, rtsp_port: int, sample: Path) -> None:
    """The sample district (this run's copy) cut to Luwangfen, its cameras' ONVIF/RTSP at the test ports."""
    (dest / "townships").mkdir(parents=True)
    shutil.copy(sample / "district.yaml", dest / "district.yaml")
    doc = yaml.safe_load((sample / "townships" / f"{TOWNSHIP}.yaml").read_text(encoding="utf-8"))

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("kind") == "camera":
                node["rtsp_port"] = rtsp_port
                node["onvif_port"] = onvif_port
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    visit(doc)
    (dest / "townships" / f"{TOWNSHIP}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                                                         encoding="utf-8")


def exporter_config(dest: Path, snmp_port: int) -> None:
    """The embedded default config with the SNMP modules pointed at the simulator's test port and
    the VQD state directory (baselines, stills) in the test's directory."""
    doc = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for name in ("snmp_camera", "snmp_switch"):
        doc["modules"][name].setdefault(name, {})["port"] = snmp_port
    doc["modules"]["snapshot"]["snapshot"]["state_dir"] = str(dest.parent / "vqd")
    dest.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


# ----------------------------------------------------------------------------- the stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, run_sample_dir: Path, run_net: RunNet) -> Iterator[Stack]:
    sample = run_sample_dir  # the sample district on this run's addresses
    tmp = tmp_path_factory.mktemp("e2e")
    control = f"127.0.0.1:{free_port()}"
    exporter = f"127.0.0.1:{free_port()}"
    prometheus = f"127.0.0.1:{free_port()}"
    snmp_port, onvif_port, rtsp_port = free_port(socket.SOCK_DGRAM), free_port(), free_port()
    secrets = tmp / "sim-secrets.yaml"  # generated by the simulator at start
    procs: list[Proc] = []
    try:
        sim = Proc("sharpeyes-sim", [
            "sharpeyes-sim", "run", "--inventory", str(sample), "--township", TOWNSHIP,
            "--web.listen-address", control, "--nft-table", run_net.table("e2e_prom"),
            "--snmp-port", str(snmp_port), "--onvif-port", str(onvif_port), "--rtsp-port", str(rtsp_port),
            "--log.level", "warn",
        ], tmp / "sim.log", {"SHARPEYES_SIM_SECRETS": str(secrets)})
        procs.append(sim)

        def sim_ready() -> bool:
            status, body = http("GET", f"http://{control}/api/health", timeout=1)
            return status == 200 and bool(json.loads(body).get("ready"))

        sim.await_ready(sim_ready, "ready (control API /api/health)")

        inv_dir, config = tmp / "inventory", tmp / "exporter.yml"
        reduced_inventory(inv_dir, onvif_port, rtsp_port, sample)
        exporter_config(config, snmp_port)
        exp = Proc("sharpeyes-exporter", [
            "sharpeyes-exporter", "--config.file", str(config), "--inventory", str(inv_dir),
            "--web.listen-address", exporter, "--log.level", "warn",
        ], tmp / "exporter.log", {"SHARPEYES_SECRETS": str(secrets)})
        procs.append(exp)
        exp.await_ready(lambda: http("GET", f"http://{exporter}/-/ready", 1)[0] == 200, "ready (/-/ready)")

        prom_yml = tmp / "prometheus.yml"
        subprocess.run(["sharpeyes-exporter", "promconfig", "--interval-scale", "0.2",
                        "--module-interval", f"snapshot={SNAPSHOT_INTERVAL}", "--exporter", exporter,
                        "--out", str(prom_yml)], cwd=ROOT, check=True, capture_output=True, timeout=60)
        prom = Proc("prometheus", [
            str(PROMETHEUS), "--config.file", str(prom_yml), "--storage.tsdb.path", str(tmp / "tsdb"),
            "--web.listen-address", prometheus, "--log.level", "warn",
        ], tmp / "prometheus.log")
        procs.append(prom)
        prom.await_ready(lambda: http("GET", f"http://{prometheus}/-/ready", 1)[0] == 200, "ready (/-/ready)")

        inv = load_inventory(sample)
        devices = {d.id: d for d in inv.active_devices() if d.township == TOWNSHIP}
        yield Stack(inv, devices, control, prometheus, sim, exporter)
    finally:
        for p in reversed(procs):
            p.stop()


# ----------------------------------------------------------------------------- the checks


@dataclass
class Check:
    name: str
    run: Callable[[], list[str]]  # problems; empty when the condition holds


def checks(s: Stack) -> list[Check]:
    cams = {i: d for i, d in s.devices.items() if d.kind == "camera"}

    def icmp() -> list[str]:
        up = s.by_instance('probe_success{job="sharpeyes_icmp"}')
        bad = sorted(i for i in s.devices if up.get(i) != 1)
        return [f"{len(bad)} of {len(s.devices)} devices without icmp probe_success 1, e.g. {bad[:5]}"] if bad else []

    def uptime() -> list[str]:
        got = s.by_instance('sharpeyes_uptime_seconds{job="sharpeyes_snmp_camera"}')
        sim = {d["id"]: d["uptime_s"] for d in s.sim_api(f"/api/devices?kind=camera&township={TOWNSHIP}")}
        out = [f"{i}: no sharpeyes_uptime_seconds" for i in sorted(cams) if i not in got][:5]
        # sysUpTime is read at the scrape (at most one interval, 6 s, before "now")
        out += [f"{i}: sysUpTime {got[i]:.0f} s vs simulator {sim[i]:.0f} s" for i in sorted(cams)
                if i in got and i in sim and not -2 <= sim[i] - got[i] <= 30][:5]
        return out

    def bitrate() -> list[str]:
        rates = {r["metric"]["port_device"]: float(r["value"][1]) for r in s.query(
            'rate(sharpeyes_port_receive_bytes_total{job="sharpeyes_snmp_switch",port_device=~"cam-.+"}[30s])')}
        out = [f"{i}: no receive-bytes rate on its switch port" for i in sorted(cams) if i not in rates][:5]
        for i in sorted(cams):
            if i not in rates:
                continue
            want = s.sim_api(f"/api/devices/{i}")["model_rate_bytes_per_s"]
            if not rates[i] > 0 or abs(rates[i] - want) > RATE_TOLERANCE * want:
                out.append(f"{i}: port rate {rates[i]:.0f} B/s vs simulator bitrate {want:.0f} B/s")
        return out[:8]

    def optics() -> list[str]:
        # the fiber link between Luwangfen's (H3C) aggregation and the (Huawei) core: both ends
        links = [lk for lk in s.inv.links.values() if {lk.a.switch, lk.b.switch} == {"core-1", "agg-luwangfen-1"}]
        if not links:
            return ["no fiber link core-1 <-> agg-luwangfen-1 in the inventory"]
        link = links[0]
        got = {(r["metric"]["instance"], r["metric"]["port"]): float(r["value"][1]) for r in s.query(
            f'sharpeyes_optical_rx_power_dbm{{job="sharpeyes_snmp_switch",port_link="{link.id}"}}')}
        out = []
        for end in (link.a, link.b):
            vendor = s.inv.devices[end.switch].vendor
            value = got.get((end.switch, end.port))
            if value is None:
                out.append(f"{vendor} {end.switch} {end.port}: no optical Rx power for link {link.id}")
            elif not -30 < value < 3:
                out.append(f"{vendor} {end.switch} {end.port}: implausible Rx power {value} dBm")
        vendors = {s.inv.devices[r["metric"]["instance"]].vendor for r in s.query(
            'count by (instance) (sharpeyes_optical_rx_power_dbm{job="sharpeyes_snmp_switch"})')}
        if not {"huawei", "h3c"} <= vendors:
            out.append(f"optical Rx power only from {sorted(vendors)}")
        return out

    def onvif() -> list[str]:
        got = {r["metric"]["instance"]: r["metric"]
               for r in s.query('sharpeyes_onvif_device_info{job="sharpeyes_onvif"}')}
        out = [f"{i}: no sharpeyes_onvif_device_info" for i in sorted(cams) if i not in got]
        out = [f"{len(out)} of {len(cams)} cameras without onvif device_info, e.g. {out[:3]}"] if out else []
        out += [f"{i}: onvif model {got[i].get('model')!r}, simulated {d.model!r}" for i, d in sorted(cams.items())
                if i in got and got[i].get("model") != d.model][:5]
        return out

    def snapshot() -> list[str]:
        # every simulated camera's still is fetched (ONVIF GetSnapshotUri + Digest GET) and judged
        intact = s.by_instance('sharpeyes_vqd_image_intact{job="sharpeyes_snapshot"}')
        missing = sorted(i for i in cams if i not in intact)
        out = [f"{len(missing)} of {len(cams)} cameras without sharpeyes_vqd_image_intact, e.g. {missing[:3]}"] \
            if missing else []
        # a healthy simulated district: no image fault (learning stills judge the absolute checks)
        out += [f"{i}: image not intact in a healthy district" for i in sorted(intact) if intact[i] != 1][:5]
        checks_seen = {r["metric"]["check"] for r in s.query('sharpeyes_vqd_check_score{job="sharpeyes_snapshot"}')}
        if intact and not {"video_loss", "frozen", "snow"} <= checks_seen:
            out.append(f"check scores only for {sorted(checks_seen)}")
        if intact:
            cam = sorted(intact)[0]
            status, body = http("GET", f"http://{s.exporter}/vqd/{cam}/last.jpg")
            if status != 200 or body[:2] != b"\xff\xd8":
                out.append(f"exporter /vqd/{cam}/last.jpg: HTTP {status}, {body[:20]!r}")
        return out

    def rtsp() -> list[str]:
        got = s.by_instance('sharpeyes_rtsp_status_code{job="sharpeyes_rtsp"}')
        return [f"{i}: rtsp status {got.get(i)}" for i in sorted(cams) if got.get(i) not in (200, 401)][:5]

    def device_info() -> list[str]:
        got = {r["metric"]["device"]: r["metric"] for r in s.query(
            f'sharpeyes_device_info{{job="sharpeyes_inventory",township="{TOWNSHIP}"}}')}
        out = [f"{i}: no sharpeyes_device_info" for i in sorted(s.devices) if i not in got][:5]
        out += [f"{i}: device_info model {got[i].get('model')!r} kind {got[i].get('kind')!r}"
                for i, d in sorted(s.devices.items())
                if i in got and (got[i].get("model") != d.model or got[i].get("kind") != d.kind)][:5]
        return out

    return [Check("icmp probe_success", icmp), Check("snmp_camera uptime", uptime),
            Check("camera port bitrate", bitrate), Check("optics both vendors", optics),
            Check("onvif device_info", onvif), Check("rtsp status", rtsp), Check("snapshot vqd", snapshot),
            Check("inventory device_info", device_info)]


def test_prometheus_scrapes_every_module(stack: Stack) -> None:
    assert len(stack.devices) > 300, "the sample district's Luwangfen should have ~394 active devices"
    pending = checks(stack)
    problems: dict[str, list[str]] = {}
    end = time.monotonic() + DEADLINE_S
    while pending and time.monotonic() < end:
        still = []
        for c in pending:
            found = c.run()
            if found:
                problems[c.name] = found
                still.append(c)
            else:
                problems.pop(c.name, None)
        pending = still
        if pending:
            time.sleep(2)  # poll interval of the API, not a wait for a condition
    assert not problems, f"conditions not met within {DEADLINE_S:.0f} s:\n" + "\n".join(
        f"- {name}: " + "; ".join(p) for name, p in problems.items())


def test_injected_image_faults_reach_prometheus(stack: Stack) -> None:
    """Faults that need no baseline (a lost picture, a dark one) show in the next still's verdicts."""
    cams = sorted(i for i, d in stack.devices.items() if d.kind == "camera")
    injected = {cams[0]: ("video_loss", 2), cams[1]: ("too_dark", 3)}
    for cam, (fault, severity) in injected.items():
        body = json.dumps({"type": fault, "target": cam, "params": {"severity": severity}}).encode()
        req = urllib.request.Request(f"http://{stack.control}/api/faults", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 201
    try:
        missing: dict[str, str] = {}
        end = time.monotonic() + DEADLINE_S
        while time.monotonic() < end:
            missing = {}
            for cam, (fault, _) in injected.items():
                got = stack.by_instance(f'sharpeyes_vqd_check_fault{{job="sharpeyes_snapshot",check="{fault}"}}')
                if got.get(cam) != 1:
                    missing[cam] = f"{fault}: {got.get(cam)}"
            if not missing:
                break
            time.sleep(2)  # poll interval of the API, not a wait for a condition
        assert not missing, f"image faults not seen within {DEADLINE_S:.0f} s: {missing}"
        intact = stack.by_instance('sharpeyes_vqd_image_intact{job="sharpeyes_snapshot"}')
        assert all(intact.get(cam) == 0 for cam in injected)
    finally:
        http("DELETE", f"http://{stack.control}/api/faults")
