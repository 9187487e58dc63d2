"""snmp_switch on more real switches (tests/fixtures/snmp, sources in its SOURCES.tsv): a second
Comware capture with transceiver rows, a Huawei stack whose members repeat ifNames, and the optics
of Ruijie, TP-Link, ZTE and Maipu switches — read where a capture shows the vendor's table,
reported as unreadable where the exporter does not interpret the vendor's optics.

Every expected value below is read from the capture named next to it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.probers.base import Module, PortInfo, Target
from sharpeyes.exporters.probers.snmp_switch import SnmpSwitchProber
from sharpeyes.exporters.snmp import optics
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.fake import FakeTransport, load_snmprec
from sharpeyes.exporters.snmp.family import detect_family
from sharpeyes.exporters.snmp.ifmib import NameTable, resolve
from sharpeyes.exporters.snmp.probing import SnmpSettings

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "snmp"
A5500 = HERE / "comware5_hp-a5500.snmprec"
STACK = HERE / "huawei_s5720_stack_dup_ifname.snmprec"
RUIJIE = HERE / "ruijie_s6150.snmprec"
TPLINK_DDM = HERE / "tplink_t2600g-28ts_ddm.snmprec"
ZTE = HERE / "zte_zxr10-5928_iftable_only.snmprec"
MAIPU = HERE / "maipu_mypower-s3220.snmprec"
AUTO = Module("snmp_switch", "snmp_switch", 10.0, SnmpSettings(auth=SnmpAuth(version=2, community="public")))
LOGGER = "sharpeyes.exporters.probers.snmp_switch"


def _switch(sid: str, vendor: str, ports: tuple[PortInfo, ...]) -> Target:
    return Target(id=sid, ip="10.20.0.1", kind="switch", vendor=vendor, ports=ports)


def _value(out: TextWriter, metric: str, port: str) -> str | None:
    found = [s.rsplit(" ", 1)[1] for s in out.samples(metric) if f'port="{port}"' in s]
    assert len(found) <= 1
    return found[0] if found else None


def _if_index(out: TextWriter, port: str) -> str | None:
    found = [s.split('if_index="')[1].split('"')[0] for s in out.samples("sharpeyes_port_up") if f'port="{port}"' in s]
    return found[0] if found else None


async def _probe(path: Path, vendor: str, ports: tuple[PortInfo, ...]) -> tuple[TextWriter, FakeTransport]:
    fake = FakeTransport.from_snmprec(path)
    out = TextWriter()
    await SnmpSwitchProber(fake)(_switch("sw", vendor, ports), AUTO, 10, out)
    return out, fake


# -- H3C / HP Comware: a second capture, Comware 5 --------------------------------------------


async def test_hp_a5500_comware5_optics() -> None:
    """HP A5500-24G EI, Comware 5.20.99 (sysObjectID 25506.11.1.24): GigabitEthernet1/0/26 holds a
    1000_BASE_LX_SFP with hh3cTransceiverCurRXPower -1045 and CurTXPower -540 (0.01 dBm; the row's
    own TX limits -300 / -950 bracket it). The inventory calls the vendor "hp"."""
    data = load_snmprec(A5500)
    descr = bytes(data["1.3.6.1.2.1.1.1.0"]).decode()  # type: ignore[arg-type]
    assert "Comware" in descr and detect_family(data["1.3.6.1.2.1.1.2.0"], descr, "hp") == "h3c"
    ports = (PortInfo("GigabitEthernet1/0/26", "fiber", link="fl-26"), PortInfo("GigabitEthernet1/0/1", "copper"))
    out, _ = await _probe(A5500, "hp", ports)
    assert _value(out, "sharpeyes_optical_rx_power_dbm", "GigabitEthernet1/0/26") == "-10.45"
    assert _value(out, "sharpeyes_optical_tx_power_dbm", "GigabitEthernet1/0/26") == "-5.4"
    assert _value(out, "sharpeyes_port_up", "GigabitEthernet1/0/26") == "1"
    assert out.samples("sharpeyes_switch_optics_info") == [
        'sharpeyes_switch_optics_info{family="h3c",unit="centi_dbm",source="family"} 1'
    ]
    assert out.samples("sharpeyes_switch_optics_unreadable_ports") == ["sharpeyes_switch_optics_unreadable_ports 0"]


def test_hp_enterprise_11_is_comware_only_when_sysdescr_says_so() -> None:
    """No public capture shows a Comware switch under HP's enterprise 11; the ones there are
    ProCurve-line switches, such as the HP V1810-48G (11.2.3.7.11.134, eCos) — a name one digit
    from the Comware V1910 (25506.11.1.85). It stays on the standard path whatever the inventory says."""
    data = load_snmprec(HERE / "procurve_hp-v1810.snmprec")
    descr = bytes(data["1.3.6.1.2.1.1.1.0"]).decode()  # type: ignore[arg-type]
    assert detect_family(data["1.3.6.1.2.1.1.2.0"], descr, "hp") == "generic"
    assert detect_family(data["1.3.6.1.2.1.1.2.0"], "HP Comware Platform Software", "hp") == "h3c"


# -- a stack whose members repeat ifNames: ENTITY-MIB tells them apart --------------------------


async def test_stack_duplicate_ifnames_resolved_by_entity_port_names() -> None:
    """Huawei S5720 stack (V200R010): ifIndex 6 and 112 both say GigabitEthernet2/0/1 in ifName and
    ifDescr (and 7 / 113 GigabitEthernet2/0/2); their physical entities (entAliasMapping) are named
    GigabitEthernet0/0/1 (under "MPU Board 0") and GigabitEthernet2/0/1 (under "MPU Board 2")."""
    ports = (
        PortInfo("GigabitEthernet2/0/1", "copper", device="cam-a"),
        PortInfo("GigabitEthernet0/0/1", "copper", device="cam-b"),
        PortInfo("GigabitEthernet2/0/2", "copper", device="cam-c"),
        PortInfo("GigabitEthernet1/0/1", "copper", device="cam-d"),  # unique ifName, ifIndex 58
    )
    out, fake = await _probe(STACK, "huawei", ports)
    assert {p.name: _if_index(out, p.name) for p in ports} == {
        "GigabitEthernet2/0/1": "112", "GigabitEthernet0/0/1": "6", "GigabitEthernet2/0/2": "113",
        "GigabitEthernet1/0/1": "58",
    }
    assert _value(out, "sharpeyes_port_receive_bytes_total", "GigabitEthernet2/0/1") == "4160821198"
    assert _value(out, "sharpeyes_port_receive_bytes_total", "GigabitEthernet0/0/1") == "349698427"
    assert out.samples("sharpeyes_switch_ambiguous_ports") == ["sharpeyes_switch_ambiguous_ports 0"]
    assert out.samples("sharpeyes_switch_unresolved_ports") == ["sharpeyes_switch_unresolved_ports 0"]
    assert optics.ENT_PHYSICAL_NAME in fake.walks()


async def test_entity_names_only_walked_when_ifname_and_ifdescr_do_not_settle_it() -> None:
    out, fake = await _probe(STACK, "huawei", (PortInfo("GigabitEthernet1/0/1", "copper"),))
    assert _if_index(out, "GigabitEthernet1/0/1") == "58"
    assert optics.ENT_PHYSICAL_NAME not in fake.walks()


def test_a_later_column_only_picks_among_the_duplicates() -> None:
    """The stack's tables: a name that several ifNames carry is never moved to an interface
    outside those by a later column."""
    data = load_snmprec(STACK)
    by_name = NameTable.of({6: "GigabitEthernet2/0/1", 112: "GigabitEthernet2/0/1"})
    by_entity = NameTable.of({6: "GigabitEthernet0/0/1", 112: "GigabitEthernet2/0/1"})
    assert data["1.3.6.1.2.1.47.1.1.1.1.7.69533774"] == b"GigabitEthernet2/0/1"
    assert resolve(["GigabitEthernet2/0/1"], [by_name, by_entity]).found == {"GigabitEthernet2/0/1": 112}
    elsewhere = NameTable.of({58: "GigabitEthernet2/0/1"})
    got = resolve(["GigabitEthernet2/0/1"], [by_name, elsewhere])
    assert got.found == {} and got.ambiguous == {"GigabitEthernet2/0/1": [6, 58, 112]}


# -- Ruijie: RUIJIE-FIBER-MIB ------------------------------------------------------------------


async def test_ruijie_fiber_mib_sentinels() -> None:
    """Ruijie S6150-24VS8CQ-X: every ruijieFiberTable row reads RX/TX -10000 ("invalid", says the
    MIB) with ruijieFiberDDMSupportStatus false(2); the table's index is the ifIndex (its
    ruijieFiberPortDescr equals ifDescr). No reading, and none mistaken for -100 dBm."""
    data = load_snmprec(RUIJIE)
    for i in (1, 2, 25):
        assert data[f"{optics.RUIJIE_RX_POWER}.{i}"] == optics.RUIJIE_INVALID
        assert data[f"1.3.6.1.4.1.4881.1.1.10.2.105.1.1.1.2.{i}"] == data[f"1.3.6.1.2.1.2.2.1.2.{i}"]
    ports = (PortInfo("TFGigabitEthernet 0/1", "fiber", link="fl-1"), PortInfo("Hu0/25", "fiber", link="fl-25"))
    out, fake = await _probe(RUIJIE, "", ports)
    assert f"{optics.RUIJIE_RX_POWER}.25" in fake.gets()
    assert out.samples("sharpeyes_optical_rx_power_dbm") == []
    assert out.samples("sharpeyes_optical_tx_power_dbm") == []
    assert _value(out, "sharpeyes_port_up", "Hu0/25") == "0"
    assert out.samples("sharpeyes_switch_optics_info") == [
        'sharpeyes_switch_optics_info{family="ruijie",unit="centi_dbm",source="family"} 1'
    ]
    assert out.samples("sharpeyes_switch_optics_unreadable_ports") == ["sharpeyes_switch_optics_unreadable_ports 0"]
    assert optics.ruijie_power_dbm(data[f"{optics.RUIJIE_RX_POWER}.1"]) is None  # -10000 even with DDM


# -- TP-Link JetStream: TPLINK-DDMSTATUS-MIB ----------------------------------------------------


def test_tplink_ddm_status_in_milliwatts() -> None:
    """TP-Link T2600G-28TS (sysObjectID 11863.5.33): ddmStatusTable by ifIndex (49177 = port 1/0/25,
    as the JetStream captures' ifDescr "gigabitEthernet 1/0/25" shows). TX "0.398000" / RX
    "0.251200" mW; ports 1/0/27-28 "N/A" (no module). The capture's thresholds are mW too: TX
    low/high alarm 0.0631 / 1.0 = -12 / 0 dBm. This capture has no IF-MIB rows, so the optics are
    read as the prober reads them, from the capture's values by ifIndex."""
    data = load_snmprec(TPLINK_DDM)
    descr = bytes(data["1.3.6.1.2.1.1.1.0"]).decode()  # type: ignore[arg-type]
    assert detect_family(data["1.3.6.1.2.1.1.2.0"], descr, "") == "tplink"
    tp = optics.optics_for("tplink")
    assert sorted(tp.oids([49177])) == [f"{optics.TPLINK_DDM_TX_POWER}.49177", f"{optics.TPLINK_DDM_RX_POWER}.49177"]
    assert data["1.3.6.1.4.1.11863.6.96.1.7.1.1.1.49177"] == b"1/0/25"  # ddmStatusPort
    assert tp.read(49177, data) == (-6.0, -4.0)
    assert tp.read(49178, data) == (-6.0, -3.99)
    assert tp.read(49179, data) == (None, None)
    assert tp.read(49180, data) == (None, None)
    assert tp.readable(49177)
    low, high = (data[f"1.3.6.1.4.1.11863.6.96.1.5.1.1.{c}.49177"] for c in (3, 2))
    assert (optics.tplink_power(low), optics.tplink_power(high)) == (-12.0, 0.0)


# -- ZTE and Maipu: optics the exporter cannot read are reported, never silently skipped ----------


async def test_zte_optics_are_reported_unreadable(caplog: pytest.LogCaptureFixture) -> None:
    """ZTE ZXR10 5928 (sysObjectID 3902.3.100.20) answering only the 32-bit ifTable: the 10G
    uplink xgei_2/1 (ifDescr "xgei_2/1 UPLINK") is found and its traffic read; its optics cannot be
    (no public capture carries a ZTE transceiver table), which the probe says."""
    caplog.set_level(logging.WARNING, LOGGER)
    ports = (PortInfo("xgei_2/1", "fiber", link="fl-up"), PortInfo("gei_1/1", "copper", device="cam-1"))
    out, _ = await _probe(ZTE, "", ports)
    assert _if_index(out, "xgei_2/1") == "6"
    assert _value(out, "sharpeyes_port_receive_bytes_total", "xgei_2/1") == "1184835953"
    # ifSpeed saturated at 2^32-1 on the 10G port and no ifHighSpeed: no speed; 1000000000 on gei_1/1
    assert _value(out, "sharpeyes_port_speed_bytes", "xgei_2/1") is None
    assert float(_value(out, "sharpeyes_port_speed_bytes", "gei_1/1") or "nan") == 125_000_000
    assert out.samples("sharpeyes_optical_rx_power_dbm") == []
    assert out.samples("sharpeyes_switch_optics_unreadable_ports") == ["sharpeyes_switch_optics_unreadable_ports 1"]
    assert out.samples("sharpeyes_switch_optics_info") == [
        'sharpeyes_switch_optics_info{family="zte",unit="none",source="unsupported"} 1'
    ]
    assert [r.getMessage() for r in caplog.records] == [
        "switch sw: optical power of 1 fiber port(s) cannot be read "
        "(optics of the zte family are not interpreted): xgei_2/1"
    ]


async def test_maipu_optics_are_reported_unreadable() -> None:
    """Maipu MyPower S3220 (sysObjectID 5651.1.102.21): gi0/25 as a fiber port."""
    ports = (PortInfo("gi0/25", "fiber", link="fl-25"), PortInfo("gi0/1", "copper"))
    out, _ = await _probe(MAIPU, "maipu", ports)
    assert _value(out, "sharpeyes_port_up", "gi0/25") is not None
    assert out.samples("sharpeyes_switch_optics_unreadable_ports") == ["sharpeyes_switch_optics_unreadable_ports 1"]
    assert 'family="maipu",unit="none",source="unsupported"' in out.samples("sharpeyes_switch_optics_info")[0]


async def test_generic_switch_without_a_sensor_for_the_port_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    """The TP-Link TD-W8901G capture says nothing of its vendor (sysObjectID 1.3.6.1.4.1.1.2.3.4.5)
    and the inventory writes an unknown one: the standard ENTITY-SENSOR-MIB path finds no sensor
    for the port, which is counted and logged too."""
    caplog.set_level(logging.WARNING, LOGGER)
    out, _ = await _probe(HERE / "tplink_td-w8901g_iftable_only.snmprec", "acme", (PortInfo("enet0", "fiber"),))
    assert _value(out, "sharpeyes_port_up", "enet0") == "1"
    assert 'family="generic"' in out.samples("sharpeyes_switch_optics_info")[0]
    assert out.samples("sharpeyes_switch_optics_unreadable_ports") == ["sharpeyes_switch_optics_unreadable_ports 1"]
    assert [r.getMessage() for r in caplog.records] == [
        "switch sw: optical power of 1 fiber port(s) cannot be read "
        "(no optical sensor or row ties to the port): enet0"
    ]
