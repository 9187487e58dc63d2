"""The exporter's HTTP core: /probe resolution and failure handling, timeouts, concurrency, reloads,
http_sd, /metrics and /inventory/metrics (checked with promtool), shutdown.

Probers here are fakes from one factory-like settings class (delay, fail reason, crash, hang), so
every failure mode is one keyword; the real probers are tested in their own files.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sharpeyes.contract import MODULES, SAMPLE_DISTRICT
from sharpeyes.exporters.app import Exporter
from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.inventory_state import InventoryState
from sharpeyes.exporters.probers import ProberEntry
from sharpeyes.exporters.probers.base import MetricWriter, Module, PortInfo, ProbeError, Target
from sharpeyes.exporters.probers.icmp import strict_settings
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.inventory.sd import LABELS
from tests.exporters.exporters_testlib import secret_values

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = SAMPLE_DISTRICT
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")
Client = TestClient[Any, Any]


# ----------------------------------------------------------------------------------- fake probers

@dataclass(frozen=True, slots=True)
class FakeSettings:
    delay: float = 0.0  # seconds the probe takes
    fail: str = ""  # raise ProbeError(fail) after writing a sample
    crash: bool = False  # raise a plain exception (a prober bug)
    obey_timeout: bool = False  # False: ignore the timeout argument (the handler must cut it off)

    @classmethod
    def from_dict(cls, d: Any, where: str) -> FakeSettings:
        return strict_settings(cls, d, where)


@dataclass
class Recorder:
    calls: list[tuple[Target, Module, float]] = field(default_factory=list)
    running: int = 0
    max_running: int = 0
    closed: int = 0

    async def probe(self, target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
        s: FakeSettings = module.settings
        self.calls.append((target, module, timeout))
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            out.gauge("fake_probe_seen", "The fake prober ran.", 1, {"target": target.id})
            if s.delay:
                await asyncio.sleep(min(s.delay, timeout) if s.obey_timeout else s.delay)
            if s.crash:
                raise RuntimeError("prober bug")
            if s.fail:
                raise ProbeError(s.fail, "fake failure")
            return True
        finally:
            self.running -= 1

    async def aclose(self) -> None:
        self.closed += 1


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def table(rec: Recorder) -> dict[str, ProberEntry]:
    return {
        "fake": ProberEntry(rec.probe, FakeSettings, None, rec.aclose),
        "fake_snmp": ProberEntry(rec.probe, FakeSettings, "snmp", rec.aclose),
        "fake_onvif": ProberEntry(rec.probe, FakeSettings, "onvif"),
    }


CONFIG = """\
insecure_literal_secrets: true
modules:
  ok: {prober: fake, timeout: 2s}
  icmp: {prober: fake, timeout: 2s}
  snmp_switch: {prober: fake_snmp, timeout: 5s}
  snmp_camera: {prober: fake_snmp, timeout: 5s, adhoc_targets: [127.0.0.0/24], adhoc_auths: [cams-legacy]}
  onvif: {prober: fake_onvif, timeout: 5s}
  slow: {prober: fake, timeout: 10s, fake: {delay: 30}}
  slow_obeying: {prober: fake, timeout: 10s, fake: {delay: 30, obey_timeout: true}}
  refused: {prober: fake, fake: {fail: refused}}
  crash: {prober: fake, fake: {crash: true}}
  narrow: {prober: fake, timeout: 5s, max_concurrency: 3, fake: {delay: 0.2}}
  adhoc: {prober: fake_snmp, auth: switches-v2c, adhoc_targets: [127.0.0.0/24]}
auths:
  cams-v3:
    snmp: {version: 3, username: u3, auth_password: app-test-auth-1, priv_password: app-test-priv-1}
    onvif: {username: admin, password: app-test-onvif-1}
  cams-legacy:
    snmp: {version: 2, community: app-test-comm-1}
    onvif: {username: admin, password: app-test-onvif-2}
  switches-v3:
    snmp: {version: 3, username: s3, auth_password: app-test-auth-2, priv_password: app-test-priv-2}
  switches-v2c:
    snmp: {version: 2, community: app-test-comm-2}
  platforms:
    snmp: {version: 2, community: app-test-comm-3}
"""
APP_SECRETS = ["app-test-auth-1", "app-test-priv-1", "app-test-onvif-1", "app-test-comm-1",
               "app-test-onvif-2", "app-test-auth-2", "app-test-priv-2", "app-test-comm-2", "app-test-comm-3"]


@pytest.fixture(scope="session")
def sample_state() -> InventoryState:
    return InventoryState.load(SAMPLE)


@pytest.fixture
def cached_inventory(sample_state: InventoryState, monkeypatch: pytest.MonkeyPatch) -> None:
    """Load the sample district once per session (it takes a second); other directories load for real."""
    real = InventoryState.load

    def load(directory: str | Path | None) -> InventoryState:
        if directory is None or Path(directory) == SAMPLE:
            return sample_state
        return real(directory)

    monkeypatch.setattr(InventoryState, "load", staticmethod(load))


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "exporter.yml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
async def client(config_file: Path, table: dict[str, ProberEntry],
                 cached_inventory: None) -> AsyncIterator[Client]:
    exporter = Exporter(config_file, None, probers=table, poll_interval=0)
    async with TestClient(TestServer(exporter.make_app())) as c:
        c.exporter = exporter  # type: ignore[attr-defined]
        yield c


def exporter_of(c: Client) -> Exporter:
    return c.exporter  # type: ignore[attr-defined,no-any-return]


def samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


async def probe(c: Client, query: str, timeout_header: str | None = None) -> tuple[int, str]:
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": timeout_header} if timeout_header else {}
    r = await c.get(f"/probe?{query}", headers=headers)
    return r.status, await r.text()


def first(sample_state: InventoryState, pred: Callable[[Any], bool]) -> Any:
    return next(d for d in sample_state.inventory.active_devices() if pred(d))


# ----------------------------------------------------------------------------------------- 400s

@pytest.mark.parametrize(("query", "header", "message"), [
    ("target=core-1", None, "Module parameter is missing"),
    ("module=nope&target=core-1", None, "Unknown module 'nope'"),
    ("module=ok", None, "Target parameter is missing"),
    ("module=ok&target=cam-does-not-exist", None,
     "Unknown target 'cam-does-not-exist' (not an inventory device id nor an IP address)"),
    ("module=snmp_switch&target=platform-district", None,
     "Module 'snmp_switch' does not apply to platform 'platform-district' (kinds: switch)"),
    ("module=ok&target=127.0.0.1&auth=nobody", None, "Unknown auth profile 'nobody'"),
    ("module=ok&target=core-1", "soon", "Failed to parse timeout from Prometheus header "
                                        "X-Prometheus-Scrape-Timeout-Seconds: 'soon'"),
    ("module=ok&target=core-1", "-1", "X-Prometheus-Scrape-Timeout-Seconds must be positive, got '-1'"),
])
async def test_bad_requests_are_400_with_the_reason(client: Client, rec: Recorder, query: str,
                                                    header: str | None, message: str) -> None:
    status, body = await probe(client, query, header)
    assert (status, body) == (400, message + "\n")
    assert rec.calls == []


# ------------------------------------------------------------------------------------ resolution

async def test_successful_probe_output(client: Client) -> None:
    status, body = await probe(client, "module=ok&target=core-1")
    assert status == 200
    s = samples(body)
    assert s['fake_probe_seen{target="core-1"}'] == 1
    assert s["probe_success"] == 1
    assert 0 <= s["probe_duration_seconds"] < 1
    assert not any(k.startswith("sharpeyes_probe_error_info") for k in s)


async def test_camera_target_carries_inventory_facts_and_its_auth_section(
        client: Client, rec: Recorder, sample_state: InventoryState) -> None:
    cam = first(sample_state, lambda d: d.kind == "camera" and d.auth == "cams-v3")
    assert (await probe(client, f"module=snmp_camera&target={cam.id}"))[0] == 200
    assert (await probe(client, f"module=onvif&target={cam.id}"))[0] == 200
    (snmp_target, module, _), (onvif_target, _, _) = rec.calls
    assert (snmp_target.id, snmp_target.ip, snmp_target.kind, snmp_target.vendor, snmp_target.model) == \
        (cam.id, cam.ip, "camera", cam.vendor, cam.model)
    assert (snmp_target.rtsp_port, snmp_target.onvif_port) == (cam.rtsp_port, cam.onvif_port)
    assert isinstance(snmp_target.auth, SnmpAuth) and snmp_target.auth.username == "u3"
    assert onvif_target.auth.username == "admin"
    assert module.name == "snmp_camera" and isinstance(module.settings, FakeSettings)


async def test_switch_target_lists_the_ports_the_inventory_knows(
        client: Client, rec: Recorder, sample_state: InventoryState) -> None:
    inv = sample_state.inventory
    sw = first(sample_state, lambda d: d.kind == "switch" and d.role == "access"
               and any(c.uplink and c.uplink.switch == d.id for c in inv.devices.values()))
    await probe(client, f"module=snmp_switch&target={sw.id}")
    target = rec.calls[0][0]
    by_name = {p.name: p for p in target.ports}
    children = [(d.id, d.uplink.port) for d in inv.devices.values()
                if d.uplink and d.uplink.switch == sw.id and d.status != "planned"]
    assert children
    for child, port in children:
        assert by_name[port].device == child
    links = [(link.id, end.port) for link in inv.links.values() for end in (link.a, link.b)
             if end.switch == sw.id]
    assert links, "an access switch has a fiber uplink"
    for link_id, port in links:
        assert by_name[port].link == link_id
        assert by_name[port].media == "fiber"
    assert len(by_name) == len(target.ports)
    assert all(isinstance(p, PortInfo) for p in target.ports)


async def test_adhoc_ip_with_auth_profile(client: Client, rec: Recorder) -> None:
    assert (await probe(client, "module=snmp_camera&target=127.0.0.9&auth=cams-legacy"))[0] == 200
    assert (await probe(client, "module=adhoc&target=127.0.0.10"))[0] == 200  # the module's default auth
    (t1, _, _), (t2, _, _) = rec.calls
    assert (t1.id, t1.ip, t1.kind, t1.ports) == ("127.0.0.9", "127.0.0.9", "", ())
    assert t1.auth.community == "app-test-comm-1"
    assert t2.auth.community == "app-test-comm-2"


async def test_unknown_profile_in_inventory_is_an_auth_failure_not_an_error(
        client: Client, rec: Recorder, sample_state: InventoryState,
        caplog: pytest.LogCaptureFixture) -> None:
    snap = exporter_of(client).snapshot
    assert snap is not None
    del snap.config.auths["cams-legacy"]
    cam = first(sample_state, lambda d: d.kind == "camera" and d.auth == "cams-legacy")
    caplog.set_level(logging.DEBUG)
    status, body = await probe(client, f"module=snmp_camera&target={cam.id}")
    assert status == 200 and rec.calls == []
    s = samples(body)
    assert s["probe_success"] == 0 and s['sharpeyes_probe_error_info{reason="auth"}'] == 1
    assert "auth profile 'cams-legacy' is not defined" in caplog.text


# ------------------------------------------------------------------------ failures are data, not 500

async def test_probe_error_becomes_reason(client: Client) -> None:
    status, body = await probe(client, "module=refused&target=core-1")
    s = samples(body)
    assert status == 200
    assert (s["probe_success"], s['sharpeyes_probe_error_info{reason="refused"}']) == (0, 1)
    assert s['fake_probe_seen{target="core-1"}'] == 1  # samples written before the failure are kept


async def test_crashing_prober_is_never_a_500(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    status, body = await probe(client, "module=crash&target=core-1")
    assert status == 200
    s = samples(body)
    assert s["probe_success"] == 0
    assert not any(k.startswith("sharpeyes_probe_error_info") for k in s)
    assert "prober fake crashed on core-1" in caplog.text
    metrics = await (await client.get("/metrics")).text()
    assert 'sharpeyes_exporter_probe_failures_total{module="crash",reason="internal"} 1.0' in metrics


async def test_prober_writing_garbage_is_never_a_500(client: Client, table: dict[str, ProberEntry],
                                                     rec: Recorder) -> None:
    async def bad(target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
        out.counter("not_a_counter", "bad name", 1)  # TextWriter refuses: ValueError inside the prober
        return True

    table["fake"] = ProberEntry(bad, FakeSettings)
    status, body = await probe(client, "module=ok&target=core-1")
    assert status == 200 and samples(body)["probe_success"] == 0


# -------------------------------------------------------------------------------------- timeouts

async def test_prober_is_cut_off_before_the_scrape_timeout(client: Client) -> None:
    start = time.monotonic()
    status, body = await probe(client, "module=slow&target=core-1", timeout_header="1.5")
    elapsed = time.monotonic() - start
    assert status == 200
    assert 0.9 <= elapsed < 1.5 - 0.4, elapsed  # header 1.5 s - 0.5 s offset = 1.0 s budget
    s = samples(body)
    assert (s["probe_success"], s['sharpeyes_probe_error_info{reason="timeout"}']) == (0, 1)
    assert s["probe_duration_seconds"] <= 1.05


async def test_prober_gets_min_of_module_timeout_and_header(client: Client, rec: Recorder) -> None:
    await probe(client, "module=ok&target=core-1", timeout_header="30")  # module timeout 2 s wins
    await probe(client, "module=ok&target=core-1", timeout_header="1")  # header 1 s - 0.5 s wins
    await probe(client, "module=ok&target=core-1")  # no header: the module timeout
    budgets = [round(t, 3) for _, _, t in rec.calls]
    assert budgets == [1.9, 0.45, 1.9]  # minus a small grace so the prober reports its own timeout


async def test_prober_obeying_its_timeout_reports_it(client: Client) -> None:
    status, body = await probe(client, "module=slow_obeying&target=core-1", timeout_header="1")
    assert status == 200 and samples(body)["probe_success"] == 1  # finished (its own way) in budget


def test_budget_rules(config_file: Path, table: dict[str, ProberEntry], cached_inventory: None) -> None:
    ex = Exporter(config_file, None, probers=table, timeout_offset=0.5)
    ex.load()
    assert ex.snapshot is not None
    m = ex.snapshot.config.modules["slow"]
    assert ex.budget(m, None) == 10
    assert ex.budget(m, "") == 10
    assert ex.budget(m, "4") == 3.5
    assert ex.budget(m, "0.4") == 0.2  # below the offset: half the scrape timeout


# ----------------------------------------------------------------------------------- concurrency

async def test_concurrency_is_bounded_per_module(client: Client, rec: Recorder) -> None:
    results = await asyncio.gather(*(probe(client, f"module=narrow&target={t}")
                                     for t in ["core-1"] * 10))
    assert all(s == 200 and samples(b)["probe_success"] == 1 for s, b in results)
    assert rec.max_running == 3


async def test_queue_wait_is_bounded_by_the_deadline(client: Client, rec: Recorder) -> None:
    # 3 slots, 0.2 s each, 0.5 s budget: 9 probes cannot all get a slot in time
    results = await asyncio.gather(*(probe(client, "module=narrow&target=core-1", "1") for _ in range(9)))
    success = [samples(b)["probe_success"] for _, b in results]
    assert 0 < sum(success) < 9
    timed_out = [b for _, b in results if samples(b)["probe_success"] == 0]
    assert all('sharpeyes_probe_error_info{reason="timeout"} 1' in b for b in timed_out)


async def test_dead_devices_do_not_delay_live_ones(client: Client) -> None:
    dead = [asyncio.ensure_future(probe(client, "module=slow&target=core-1", "5")) for _ in range(50)]
    await asyncio.sleep(0.05)
    start = time.monotonic()
    status, body = await probe(client, "module=ok&target=core-1")
    assert status == 200 and samples(body)["probe_success"] == 1
    assert time.monotonic() - start < 0.5
    metrics = await (await client.get("/metrics")).text()
    assert 'sharpeyes_exporter_probes_in_flight{module="slow"} 50.0' in metrics
    for task in dead:
        task.cancel()
    await asyncio.gather(*dead, return_exceptions=True)


# ------------------------------------------------------------------------------- own metrics, SD

async def test_own_metrics(client: Client) -> None:
    await probe(client, "module=ok&target=core-1")
    await probe(client, "module=refused&target=core-1")
    text = await (await client.get("/metrics")).text()
    for line in ('sharpeyes_exporter_probes_total{module="ok",result="success"} 1.0',
                 'sharpeyes_exporter_probes_total{module="refused",result="failure"} 1.0',
                 'sharpeyes_exporter_probes_total{module="slow",result="success"} 0.0',
                 'sharpeyes_exporter_probe_failures_total{module="refused",reason="refused"} 1.0',
                 'sharpeyes_exporter_probe_duration_seconds_count{module="ok"} 1.0',
                 "sharpeyes_exporter_config_last_reload_successful 1.0",
                 "sharpeyes_exporter_inventory_last_reload_successful 1.0",
                 'sharpeyes_exporter_inventory_devices{kind="camera",status="active"} 2236.0',
                 'sharpeyes_exporter_probes_in_flight{module="ok"} 0.0'):
        assert line in text
    assert "process_resident_memory_bytes" in text
    assert "fake_probe_seen" not in text and "probe_success" not in text  # per-probe samples stay on /probe


async def test_http_sd(client: Client, sample_state: InventoryState) -> None:
    r = await client.get("/sd?module=snmp_switch")
    assert r.status == 200 and r.content_type == "application/json"
    groups = await r.json()
    switches = [d for d in sample_state.inventory.active_devices() if d.kind == "switch"]
    assert len(groups) == len(switches)
    for g in groups:
        assert len(g["targets"]) == 1 and set(g["labels"]) == set(LABELS)
        assert g["labels"]["device"] == g["targets"][0] and g["labels"]["kind"] == "switch"
    cams = await (await client.get("/sd?module=onvif")).json()
    assert {g["labels"]["kind"] for g in cams} == {"camera"}
    icmp = await (await client.get("/sd?module=icmp")).json()
    assert len(icmp) == sum(1 for _ in sample_state.inventory.active_devices())
    cam = next(g for g in cams if g["labels"]["access_switch"])
    assert cam["labels"]["uplink_switch"] == cam["labels"]["access_switch"]
    r = await client.get("/sd?module=nope")
    assert (r.status, await r.text()) == (400, "Unknown module 'nope'\n")


async def test_inventory_metrics_rendered_once_per_load(client: Client) -> None:
    a = await client.get("/inventory/metrics")
    b = await client.get("/inventory/metrics")
    text = await a.text()
    assert text == await b.text()
    assert text.count("sharpeyes_device_info{") == 2703  # 2692 + the 11 township recorders added for recording
    assert "sharpeyes_fiber_link_info{" in text


# --------------------------------------------------------------------------- township shards

async def _shard(config_file: Path, table: dict[str, ProberEntry], townships: list[str]) -> Client:
    exporter = Exporter(config_file, None, probers=table, poll_interval=0, townships=townships)
    c: Client = TestClient(TestServer(exporter.make_app()))
    await c.start_server()
    c.exporter = exporter  # type: ignore[attr-defined]
    return c


async def test_township_shard_probes_lists_and_publishes_only_its_devices(
        config_file: Path, table: dict[str, ProberEntry], cached_inventory: None, rec: Recorder,
        sample_state: InventoryState) -> None:
    inv = sample_state.inventory
    mine = {d.id for d in inv.active_devices() if d.township == "baodong"}
    cam = first(sample_state, lambda d: d.kind == "camera" and d.township == "baodong")
    agg = first(sample_state, lambda d: d.role == "aggregation" and d.township == "baodong")
    foreign = first(sample_state, lambda d: d.kind == "camera" and d.township == "baoxi")
    c = await _shard(config_file, table, ["baodong"])
    try:
        assert (await probe(c, f"module=ok&target={cam.id}"))[0] == 200
        assert (await probe(c, f"module=snmp_switch&target={agg.id}"))[0] == 200  # its aggregation switch
        for dev, township in ((foreign, "baoxi"), (inv.devices["core-1"], "(none)")):
            status, body = await probe(c, f"module=ok&target={dev.id}")
            assert (status, body) == (400, f"target {dev.id!r} is not in this exporter's townships (baodong); "
                                           f"its township: {township}\n")
        status, body = await probe(c, f"module=ok&target={foreign.ip}")  # nor by its address
        assert status == 400 and "outside this exporter's townships (baodong)" in body
        assert (await probe(c, "module=ok&target=127.0.0.1"))[0] == 200  # ad-hoc addresses still work
        assert [t.id for t, _, _ in rec.calls] == [cam.id, agg.id, "127.0.0.1"]

        icmp = await (await c.get("/sd?module=icmp")).json()
        assert {g["targets"][0] for g in icmp} == mine
        assert {g["labels"]["township"] for g in icmp} == {"baodong"}
        cams = await (await c.get("/sd?module=onvif")).json()
        assert {g["targets"][0] for g in cams} == {d for d in mine if inv.devices[d].kind == "camera"}

        text = await (await c.get("/inventory/metrics")).text()
        assert text.count("sharpeyes_device_info{") == len(mine)
        assert 'township="baoxi"' not in text and 'device="core-1"' not in text
        links = {ln.id for ln in inv.links.values() if ln.active and ln.township == "baodong"}
        assert text.count("sharpeyes_fiber_link_info{") == len(links) > 0

        own = await (await c.get("/metrics")).text()
        cams_here = sum(1 for d in inv.devices.values() if d.kind == "camera" and d.township == "baodong"
                        and d.status == "active")
        assert f'sharpeyes_exporter_inventory_devices{{kind="camera",status="active"}} {cams_here:.1f}' in own
        assert "probing baodong" in await (await c.get("/")).text()
    finally:
        await c.close()


async def test_district_shard_is_the_devices_without_a_township(
        config_file: Path, table: dict[str, ProberEntry], cached_inventory: None,
        sample_state: InventoryState) -> None:
    district = {d.id for d in sample_state.inventory.active_devices() if d.township == ""}
    assert "core-1" in district and "platform-district" in district
    c = await _shard(config_file, table, [""])
    try:
        assert (await probe(c, "module=ok&target=core-1"))[0] == 200
        agg = first(sample_state, lambda d: d.role == "aggregation")
        status, body = await probe(c, f"module=ok&target={agg.id}")
        assert status == 400 and 'townships ("" (district level))' in body
        icmp = await (await c.get("/sd?module=icmp")).json()
        assert {g["targets"][0] for g in icmp} == district
    finally:
        await c.close()
    both = await _shard(config_file, table, ["baodong", ""])
    try:
        icmp = await (await both.get("/sd?module=icmp")).json()
        assert {g["labels"]["township"] for g in icmp} == {"baodong", ""}
    finally:
        await both.close()


def test_unknown_township_fails_the_load(config_file: Path, table: dict[str, ProberEntry],
                                         cached_inventory: None) -> None:
    from sharpeyes.inventory import InventoryError

    with pytest.raises(InventoryError, match="no township 'atlantis'"):
        Exporter(config_file, None, probers=table, poll_interval=0, townships=["baodong", "atlantis"]).load()


def test_cli_config_check_with_township(demo_secrets: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "sharpeyes.exporters.cli", "--config.check", "--inventory.township",
                         "baodong"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ", probing baodong (" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "sharpeyes.exporters.cli", "--config.check", "--inventory.township",
                          "atlantis"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and "no township 'atlantis'" in bad.stderr and "Traceback" not in bad.stderr


async def test_landing_config_health(client: Client) -> None:
    landing = await (await client.get("/")).text()
    assert "/probe?module=ok&amp;target=" in landing and "/metrics" in landing
    config = await (await client.get("/config")).text()
    assert "<secret>" in config
    for secret in APP_SECRETS:
        assert secret not in config
    assert (await client.get("/-/healthy")).status == 200
    assert (await client.get("/-/ready")).status == 200
    assert (await client.get("/-/reload")).status == 405  # GET must not reload


# ---------------------------------------------------------------------------------- promtool

async def _promtool_metrics(text: str) -> None:
    assert PROMTOOL is not None
    proc = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True,
                          timeout=30)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()


@needs_promtool
async def test_promtool_accepts_probe_metrics_and_inventory_output(client: Client) -> None:
    await probe(client, "module=ok&target=core-1")
    for path in ("/probe?module=ok&target=core-1", "/probe?module=refused&target=core-1",
                 "/probe?module=crash&target=core-1", "/metrics", "/inventory/metrics"):
        await _promtool_metrics(await (await client.get(path)).text())


@needs_promtool
async def test_promtool_accepts_a_real_icmp_probe(cached_inventory: None, demo_secrets: Path) -> None:
    exporter = Exporter(None, None, poll_interval=0)
    async with TestClient(TestServer(exporter.make_app())) as c:
        status, body = await probe(c, "module=icmp&target=127.0.0.1", "3")
        assert status == 200 and "sharpeyes_icmp_packets_sent 5" in body
        await _promtool_metrics(body)


# ------------------------------------------------------------------------------------- reloads

BROKEN = "modules:\n  ok: {prober: fake, timout: 2s}\n"


async def test_reload_endpoint_keeps_old_config_on_error(client: Client, config_file: Path) -> None:
    config_file.write_text(BROKEN)
    r = await client.post("/-/reload")
    body = await r.text()
    assert r.status == 500
    assert "config reload failed, keeping the old one" in body and "field 'timout': unknown key" in body
    assert (await probe(client, "module=narrow&target=core-1"))[0] == 200  # old config still serves
    metrics = await (await client.get("/metrics")).text()
    assert "sharpeyes_exporter_config_last_reload_successful 0.0" in metrics
    config_file.write_text(CONFIG.replace("  ok: {prober: fake, timeout: 2s}", "  ok2: {prober: fake}"))
    r = await client.post("/-/reload")
    assert r.status == 200
    assert (await probe(client, "module=ok2&target=core-1"))[0] == 200
    assert (await probe(client, "module=ok&target=core-1"))[0] == 400
    metrics = await (await client.get("/metrics")).text()
    assert "sharpeyes_exporter_config_last_reload_successful 1.0" in metrics


async def _wait_for(cond: Callable[[], bool], timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_sighup_reloads(client: Client, config_file: Path) -> None:
    ex = exporter_of(client)
    old = ex.snapshot
    config_file.write_text(BROKEN)
    os.kill(os.getpid(), signal.SIGHUP)
    await _wait_for(lambda: ex.metrics.config_ok._value.get() == 0)
    assert ex.snapshot is old
    config_file.write_text(CONFIG + "  extra: {}\n")
    os.kill(os.getpid(), signal.SIGHUP)
    await _wait_for(lambda: ex.snapshot is not old)
    assert ex.snapshot is not None and "extra" in ex.snapshot.config.auths
    assert ex.metrics.config_ok._value.get() == 1


async def test_reload_storm_while_probing(client: Client, config_file: Path) -> None:
    ex = exporter_of(client)
    stop = asyncio.Event()
    results: list[tuple[int, str]] = []

    async def prober_loop() -> None:
        while not stop.is_set():
            results.append(await probe(client, "module=ok&target=core-1", "2"))

    loops = [asyncio.ensure_future(prober_loop()) for _ in range(8)]
    reloads = []
    for i in range(100):
        if i % 10 == 9:
            config_file.write_text(BROKEN if i % 20 == 9 else CONFIG)
        if i % 3 == 0:
            os.kill(os.getpid(), signal.SIGHUP)
        else:
            reloads.append(asyncio.ensure_future(client.post("/-/reload")))
        await asyncio.sleep(0.002)
    statuses = [r.status for r in await asyncio.gather(*reloads)]
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*loops)
    config_file.write_text(CONFIG)
    assert (await client.post("/-/reload")).status == 200
    assert set(statuses) <= {200, 500}
    assert len(results) > 50
    assert all(s == 200 and samples(b)["probe_success"] == 1 for s, b in results)
    attempts = sum(s.value for m in ex.metrics.reloads.collect() for s in m.samples
                   if s.name.endswith("_total"))
    assert attempts < 100  # coalesced
    assert (await probe(client, "module=ok&target=core-1"))[0] == 200


async def test_inventory_directory_is_watched(tmp_path: Path, config_file: Path,
                                              table: dict[str, ProberEntry]) -> None:
    inv_dir = tmp_path / "inv"
    shutil.copytree(SAMPLE, inv_dir)
    exporter = Exporter(config_file, inv_dir, probers=table, poll_interval=0.05)
    async with TestClient(TestServer(exporter.make_app())) as c:
        first_snap = exporter.snapshot
        district = inv_dir / "district.yaml"
        text = district.read_text()
        district.write_text(text.replace("model: S7706", "model: S7706-NEW"))
        await _wait_for(lambda: exporter.snapshot is not first_snap)
        sd = await (await c.get("/sd?module=snmp_switch")).json()
        assert next(g for g in sd if g["targets"] == ["core-1"])["labels"]["model"] == "S7706-NEW"
        assert "S7706-NEW" in await (await c.get("/inventory/metrics")).text()
        good = exporter.snapshot
        district.write_text(text.replace("ip: 127.16.0.1", "ip: 999.16.0.1"))
        await _wait_for(lambda: exporter.metrics.inventory_ok._value.get() == 0)
        assert exporter.snapshot is good  # the broken inventory is not served
        assert (await probe(c, "module=ok&target=core-1"))[0] == 200


async def test_shutdown_closes_each_prober_once(config_file: Path, table: dict[str, ProberEntry],
                                                rec: Recorder, cached_inventory: None) -> None:
    exporter = Exporter(config_file, None, probers=table, poll_interval=0)
    async with TestClient(TestServer(exporter.make_app())):
        pass
    assert rec.closed == 1  # "fake" and "fake_snmp" share one aclose


# ----------------------------------------------------------------------- secrets never leak

async def test_no_secret_in_any_output_or_log(cached_inventory: None, demo_secrets: Path,
                                              caplog: pytest.LogCaptureFixture,
                                              sample_state: InventoryState) -> None:
    """Real probers against devices that do not answer: errors, logs, /config, /metrics stay clean."""
    caplog.set_level(logging.DEBUG)
    exporter = Exporter(None, None, poll_interval=0)
    seen = []
    cam = first(sample_state, lambda d: d.kind == "camera" and d.auth == "cams-v3")
    async with TestClient(TestServer(exporter.make_app())) as c:
        for q in (f"module=snmp_camera&target={cam.id}", f"module=onvif&target={cam.id}",
                  "module=snmp_switch&target=core-1", "module=snmp_camera&target=127.0.0.1&auth=cams-legacy"):
            seen.append((await probe(c, q, "1.0"))[1])
        for path in ("/metrics", "/config", "/", "/sd?module=onvif"):
            seen.append(await (await c.get(path)).text())
        seen.append(await (await c.post("/-/reload")).text())
    everything = "\n".join(seen) + caplog.text
    assert "probe_success 0" in everything
    for secret in secret_values():
        assert secret not in everything


# ----------------------------------------------------------------------------------- the binary

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_config_check(demo_secrets: Path, tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "sharpeyes.exporters.cli", "--config.check"], capture_output=True,
                        text=True, cwd=ROOT, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("config OK: <embedded default.yml>: 6 modules")
    bad = tmp_path / "bad.yml"
    bad.write_text("modules:\n  x: {prober: icmp, timeout: 5}\n")
    fail = subprocess.run([sys.executable, "-m", "sharpeyes.exporters.cli", "--config.file", str(bad),
                           "--config.check"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert fail.returncode == 2 and fail.stdout == ""  # a configuration error
    assert fail.stderr.splitlines() == [
        f"sharpeyes-exporter: error: invalid config: {bad}:2: module x: field 'timeout': '5' is not a duration "
        "(e.g. 500ms, 10s, 1m30s, 2h, 30d)"]
    dump = subprocess.run([sys.executable, "-m", "sharpeyes.exporters.cli", "--config.dump"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert dump.returncode == 0 and "<secret>" in dump.stdout
    for secret in secret_values():
        assert secret not in dump.stdout + dump.stderr


def test_cli_config_check_of_the_shipped_default_on_a_fresh_install(demo_secrets: Path, tmp_path: Path) -> None:
    """Outside the checkout and without any simulator file: the default reads only $SHARPEYES_SECRETS."""
    env = {k: v for k, v in os.environ.items() if k != "SHARPEYES_SECRETS"}
    env["PYTHONPATH"] = str(ROOT)
    argv = [sys.executable, "-m", "sharpeyes.exporters.cli", "--config.check"]
    unset = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert unset.returncode == 2 and unset.stdout == ""
    assert len(unset.stderr.splitlines()) == 1, unset.stderr
    assert "environment variable SHARPEYES_SECRETS" in unset.stderr and "is not set" in unset.stderr
    ok = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=60,
                        env={**env, "SHARPEYES_SECRETS": str(demo_secrets)})
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"config OK: <embedded default.yml>: {len(MODULES)} modules")
    missing = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=60,
                             env={**env, "SHARPEYES_SECRETS": str(tmp_path / "absent.yaml")})
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1, missing.stderr
    assert f"cannot read {tmp_path / 'absent.yaml'}" in missing.stderr


def test_cli_serves_reloads_on_sighup_and_stops_cleanly(demo_secrets: Path, tmp_path: Path) -> None:
    import urllib.request

    port = _free_port()
    log = tmp_path / "exporter.log"
    with open(log, "w") as fh:
        cmd = [sys.executable, "-m", "sharpeyes.exporters.cli", "--web.listen-address", f"127.0.0.1:{port}",
               "--log.level", "debug"]
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/healthy", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < end, log.read_text()
                time.sleep(0.1)
        req = urllib.request.Request(f"{base}/probe?module=icmp&target=127.0.0.1",
                                     headers={"X-Prometheus-Scrape-Timeout-Seconds": "3"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert b"probe_success 1" in r.read()
        proc.send_signal(signal.SIGHUP)
        end = time.monotonic() + 10
        while "reloaded config" not in log.read_text():
            assert time.monotonic() < end, log.read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for secret in secret_values():
        assert secret not in log.read_text()


def test_text_writer_is_the_probe_writer() -> None:
    # the handler renders with the same TextWriter the probers are written against
    w = TextWriter()
    w.gauge("probe_success", "x", 1)
    assert w.render().endswith("probe_success 1\n")


@pytest.fixture(autouse=True)
def _dedent_check() -> None:
    assert textwrap.dedent(CONFIG) == CONFIG
