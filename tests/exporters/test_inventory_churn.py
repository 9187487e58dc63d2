"""Inventory churn frees per-device state: a reload that removes a township's devices shrinks
the ONVIF pool (real lean transport to the inventory addresses, answering or not), the switch walk cache (real
SnmpSwitchProber over the Huawei S5720 capture) and the SNMPv3 engine table to the devices left."""

from __future__ import annotations

import shutil
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.exporters.app import Exporter
from sharpeyes.exporters.onvif.lean_transport import LeanFactory
from sharpeyes.exporters.probers import ProberEntry
from sharpeyes.exporters.probers.onvif import OnvifProber, OnvifSettings
from sharpeyes.exporters.probers.snmp_switch import SnmpSwitchProber
from sharpeyes.exporters.snmp import v3
from sharpeyes.exporters.snmp.fake import FakeTransport
from sharpeyes.exporters.snmp.probing import SnmpSettings
from sharpeyes.exporters.snmp.udp import UdpTransport
from sharpeyes.inventory import load_inventory

CONFIG = """\
insecure_literal_secrets: true
modules:
  onvif: {prober: onvif, timeout: 5s}
  snmp_switch: {prober: snmp_switch, timeout: 5s}
auths:
  cams-v3:
    onvif: {username: admin, password: churn-test-1}
  cams-legacy:
    onvif: {username: admin, password: churn-test-2}
  switches-v3:
    snmp: {version: 2, community: churn-test-3}
  switches-v2c:
    snmp: {version: 2, community: churn-test-4}
  platforms:
    snmp: {version: 2, community: churn-test-5}
"""
GONE, KEPT = "baodong", "dakuai"


async def test_reload_removing_a_township_shrinks_every_per_device_cache(tmp_path: Path,
                                                                        snmp_fixtures: Path) -> None:
    inv_dir = tmp_path / "inv"
    shutil.copytree(SAMPLE_DISTRICT, inv_dir)
    config = tmp_path / "exporter.yml"
    config.write_text(CONFIG)
    devices = list(load_inventory(inv_dir).active_devices())
    picked = {t: [d for d in devices if d.township == t] for t in (GONE, KEPT)}
    onvif = OnvifProber(factory=LeanFactory())
    switches = SnmpSwitchProber(FakeTransport.from_snmprec(snmp_fixtures / "huawei_s5720.snmprec"))
    table = {
        "onvif": ProberEntry(onvif, OnvifSettings, "onvif", onvif.aclose, onvif.retain),
        "snmp_switch": ProberEntry(switches, SnmpSettings, "snmp", None, switches.retain),
    }
    exporter = Exporter(config, inv_dir, probers=table, poll_interval=0)
    async with TestClient(TestServer(exporter.make_app())) as c:
        probed: dict[str, set[str]] = {"camera": set(), "switch": set()}
        for devs in picked.values():
            for kind, module in (("camera", "onvif"), ("switch", "snmp_switch")):
                for d in [d for d in devs if d.kind == kind][:15]:
                    r = await c.get(f"/probe?module={module}&target={d.id}",
                                    headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"})
                    assert r.status == 200, await r.text()
                    probed[kind].add(d.id)
        assert {k[0] for k in onvif.pool._sessions} == probed["camera"]
        assert set(switches.cache) == probed["switch"]
        assert len(probed["camera"]) == 30 and len(probed["switch"]) > 2

        (inv_dir / "townships" / f"{GONE}.yaml").unlink()
        assert (await c.post("/-/reload")).status == 200
        kept = {d.id for d in picked[KEPT]}
        assert {k[0] for k in onvif.pool._sessions} == probed["camera"] & kept
        assert set(switches.cache) == probed["switch"] & kept
        assert len(onvif.pool) == 15


def test_snmpv3_engine_table_keeps_only_inventory_hosts() -> None:
    udp = UdpTransport()
    for host in ("127.16.0.2", "127.16.0.3", "127.17.1.9"):
        udp._engines[(host, 161)] = v3.EngineState(b"\x80\x00\x07\xdb\x03" + host.encode(), 1, 100, 0.0)
    assert udp.retain({"127.16.0.3"}) == 2
    assert list(udp._engines) == [("127.16.0.3", 161)]
