"""snmp_camera / snmp_switch against the recording fake loaded with real captures
(../shared/fixtures/snmp, read in place): exact values and exactly which OIDs were asked."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.probers.base import Module, PortInfo, ProbeError, Target
from sharpeyes.exporters.probers.snmp_camera import SnmpCameraProber
from sharpeyes.exporters.probers.snmp_switch import COLUMNS, IF_NAME, SYS_UPTIME, SnmpSwitchProber
from sharpeyes.exporters.snmp import optics
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.ber import NO_SUCH_INSTANCE, Value
from sharpeyes.exporters.snmp.fake import FakeTransport, load_snmprec
from sharpeyes.exporters.snmp.ifmib import IF_ALIAS, IF_DESCR, SYS_DESCR, SYS_OBJECT_ID
from sharpeyes.exporters.snmp.probing import SnmpSettings

AUTH = SnmpAuth(version=2, community="public")
SWITCH = Module("snmp_switch", "snmp_switch", 10.0, SnmpSettings(auth=AUTH))
CAMERA = Module("snmp_camera", "snmp_camera", 10.0, SnmpSettings(auth=AUTH))

HW_PORTS = (
    PortInfo("XGigabitEthernet0/0/1", "fiber", link="fl-agg-1"),  # ifIndex 54, entPhysicalIndex 67469390
    PortInfo("XGigabitEthernet0/0/3", "fiber", link="fl-agg-2"),  # ifIndex 56, no module (-1)
    PortInfo("GigabitEthernet0/0/1", "copper", device="cam-0001"),  # ifIndex 6
)
H3C_PORTS = (
    PortInfo("Ten-GigabitEthernet9/0/10", "fiber", link="fl-9-10"),  # ifIndex 13, LX SFP with DDM
    PortInfo("Ten-GigabitEthernet9/0/16", "fiber", link="fl-9-16"),  # ifIndex 19, no DDM (2147483647)
    PortInfo("GigabitEthernet2/0/1", "copper", device="cam-0002"),  # ifIndex 68
)


def _cols(*if_indexes: int) -> list[str]:
    return [f"{c}.{i}" for i in if_indexes for c in COLUMNS]


def _hw_optics(*ents: int) -> list[str]:
    columns = (optics.HW_OPTICAL_RX_POWER, optics.HW_OPTICAL_TX_POWER, optics.HW_OPTICAL_TEMPERATURE)
    return [f"{col}.{e}" for e in ents for col in columns]


SYSTEM = [SYS_UPTIME, SYS_OBJECT_ID, SYS_DESCR]  # the first probe of a switch learns its family
HW_WALKS = [IF_NAME, *optics.HuaweiOptics().discovery]


@pytest.fixture
def huawei(snmp_fixtures: Path) -> FakeTransport:
    return FakeTransport.from_snmprec(snmp_fixtures / "huawei_s5720.snmprec")


@pytest.fixture
def h3c(snmp_fixtures: Path) -> FakeTransport:
    return FakeTransport.from_snmprec(snmp_fixtures / "h3c_comware_hp-ff5700.snmprec")


def _switch(vendor: str, ports: tuple[PortInfo, ...]) -> Target:
    return Target(id=f"sw-{vendor}", ip="10.20.0.1", kind="switch", vendor=vendor, ports=ports)


# -- optics quirks, pinned on the captures ---------------------------------------------------


def test_huawei_optical_power_is_microwatts_on_s5720(snmp_fixtures: Path) -> None:
    """The lane column (hwEntityOpticalLaneRxPower/TxPower, .32/.33) reports the same reading as
    text in 0.01 dBm; it agrees with .8/.9 read as µW for every module in the capture."""
    data = load_snmprec(snmp_fixtures / "huawei_s5720.snmprec")
    checked = 0
    for column, lane in ((optics.HW_OPTICAL_RX_POWER, ".32"), (optics.HW_OPTICAL_TX_POWER, ".33")):
        lane_col = optics.HW_OPTICAL_RX_POWER.rsplit(".", 1)[0] + lane
        for oid, raw in data.items():
            if not oid.startswith(column + ".") or raw == -1:
                continue
            text = data[lane_col + oid[len(column) :]]
            assert isinstance(text, bytes)
            dbm = optics.huawei_reading(raw, "uw")
            assert isinstance(dbm, float) and abs(dbm - float(text) / 100) < 0.02, (oid, raw, text)
            checked += 1
    assert checked == 6  # three modules, RX and TX


def test_huawei_power_conversions() -> None:
    assert optics.huawei_reading(536, "uw") == -2.71
    assert optics.huawei_reading(591, "uw") == -2.28
    assert optics.huawei_reading(1000, "uw") == 0.0
    assert optics.huawei_reading(-1, "uw") == optics.ABSENT
    assert optics.huawei_reading(0, "uw", 39) == optics.DARK
    assert optics.huawei_reading(0, "uw", -255) == optics.ABSENT  # an all-zero row: no diagnostics
    assert optics.huawei_reading(-135, "uw") == optics.ABSENT  # negative cannot be µW
    assert optics.huawei_reading(NO_SUCH_INSTANCE, "uw") == optics.ABSENT
    assert optics.huawei_reading(-250, "centi_dbm") == -2.5
    assert optics.huawei_reading(-4000, "centi_dbm", 27) == optics.DARK
    assert optics.huawei_reading(-1, "centi_dbm", -255) == optics.ABSENT


def test_h3c_power_conversions(snmp_fixtures: Path) -> None:
    data = load_snmprec(snmp_fixtures / "h3c_comware_hp-ff5700.snmprec")
    assert optics.h3c_power_dbm(data[f"{optics.H3C_CUR_RX_POWER}.13"]) == -10.05
    assert optics.h3c_power_dbm(data[f"{optics.H3C_CUR_TX_POWER}.13"]) == -5.41
    assert optics.h3c_power_dbm(data[f"{optics.H3C_CUR_RX_POWER}.19"]) is None  # 2147483647
    readings = [
        optics.h3c_power_dbm(v) for o, v in data.items() if o.startswith(optics.H3C_CUR_RX_POWER + ".")
    ]
    present = [r for r in readings if r is not None]
    assert len(present) == 22 and all(-15 < r < 0 for r in present)  # plausible LX receive levels
    assert not optics.h3c_is_copper(data[f"{optics.H3C_TRANSCEIVER_TYPE}.13"])  # b"1000_BASE_LX_SFP"
    # no copper SFP in the capture: names as Comware prints them in `display transceiver`
    assert optics.h3c_is_copper(b"1000_BASE_T_AN_SFP")
    assert optics.h3c_is_copper(b"Copper")


def test_entity_sensor_scale_and_precision() -> None:
    # RFC 3433: value × 10^(3·(scale − 9)) × 10^(−precision)
    assert optics.entity_sensor_dbm(-45, 9, 1) == -4.5
    assert optics.entity_sensor_dbm(-2301, 8, 0) == -2.301  # milli
    assert optics.entity_sensor_dbm(-45, 9, 1, status=2) is None  # unavailable
    assert optics.entity_sensor_dbm(NO_SUCH_INSTANCE, 9, 1) is None


def test_alias_mapping_on_the_huawei_capture(snmp_fixtures: Path) -> None:
    data = load_snmprec(snmp_fixtures / "huawei_s5720.snmprec")
    rows = [(o, v) for o, v in data.items() if o.startswith(optics.ENT_ALIAS_MAPPING + ".")]
    mapping = optics.parse_alias_mapping(rows)
    assert mapping[54] == 67469390 and mapping[57] == 67469582 and mapping[4] == 67403854


# -- snmp_switch -----------------------------------------------------------------------------


async def test_huawei_switch_first_probe(huawei: FakeTransport) -> None:
    prober = SnmpSwitchProber(huawei)
    out = TextWriter()
    assert await prober(_switch("huawei", HW_PORTS), SWITCH, 10, out) is True

    assert huawei.walks() == HW_WALKS
    assert huawei.gets() == [*SYSTEM, *_cols(54, 56, 6), *_hw_optics(67469390, 67469518)]
    assert out.samples("sharpeyes_uptime_seconds") == ["sharpeyes_uptime_seconds 281568.05"]
    x1 = 'port="XGigabitEthernet0/0/1",if_index="54",port_device="",port_link="fl-agg-1"'
    x3 = 'port="XGigabitEthernet0/0/3",if_index="56",port_device="",port_link="fl-agg-2"'
    ge = 'port="GigabitEthernet0/0/1",if_index="6",port_device="cam-0001",port_link=""'
    assert out.samples("sharpeyes_port_up") == [
        f"sharpeyes_port_up{{{x1}}} 1",
        f"sharpeyes_port_up{{{x3}}} 0",
        f"sharpeyes_port_up{{{ge}}} 0",
    ]
    assert out.samples("sharpeyes_port_speed_bytes")[0] == f"sharpeyes_port_speed_bytes{{{x1}}} 1250000000"
    assert out.samples("sharpeyes_port_receive_bytes_total")[0] == (
        f"sharpeyes_port_receive_bytes_total{{{x1}}} 34313072"
    )
    assert out.samples("sharpeyes_port_transmit_bytes_total")[0] == (
        f"sharpeyes_port_transmit_bytes_total{{{x1}}} 38642106"
    )
    assert out.samples("sharpeyes_optical_rx_power_dbm") == [f"sharpeyes_optical_rx_power_dbm{{{x1}}} -2.71"]
    assert out.samples("sharpeyes_optical_tx_power_dbm") == [f"sharpeyes_optical_tx_power_dbm{{{x1}}} -2.28"]
    assert len(out.samples("sharpeyes_port_transmit_discards_total")) == 3


async def test_cached_probe_is_one_get_and_no_walk(huawei: FakeTransport) -> None:
    prober = SnmpSwitchProber(huawei)
    target = _switch("huawei", HW_PORTS)
    await prober(target, SWITCH, 10, TextWriter())
    huawei.reset_calls()
    huawei.set("1.3.6.1.2.1.31.1.1.1.6.54", 34313072 + 125_000)
    huawei.set(SYS_UPTIME, 28156805 + 3000)
    out = TextWriter()
    await prober(target, SWITCH, 10, out)
    assert huawei.walks() == []
    assert [c.op for c in huawei.calls] == ["get"]
    assert huawei.gets() == [SYS_UPTIME, *_cols(54, 56, 6), *_hw_optics(67469390, 67469518)]
    assert out.samples("sharpeyes_port_receive_bytes_total")[0].endswith(" 34438072")
    assert out.samples("sharpeyes_uptime_seconds") == ["sharpeyes_uptime_seconds 281598.05"]


async def test_reboot_renumbers_ports_and_triggers_a_rewalk(huawei: FakeTransport) -> None:
    prober = SnmpSwitchProber(huawei)
    target = _switch("huawei", HW_PORTS)
    await prober(target, SWITCH, 10, TextWriter())
    # the switch reboots and XGigabitEthernet0/0/1 comes back as ifIndex 55's old number swapped
    huawei.set(SYS_UPTIME, 1234)
    huawei.set(f"{IF_NAME}.54", b"XGigabitEthernet0/0/2")
    huawei.set(f"{IF_NAME}.55", b"XGigabitEthernet0/0/1")
    huawei.reset_calls()
    out = TextWriter()
    await prober(target, SWITCH, 10, out)
    assert huawei.walks() == HW_WALKS
    assert huawei.gets() == [
        SYS_UPTIME,
        *_cols(54, 56, 6),
        *_hw_optics(67469390, 67469518),  # the stale plan, discarded
        *SYSTEM,
        *_cols(55, 56, 6),
        *_hw_optics(67469454, 67469518),
    ]
    assert out.samples("sharpeyes_uptime_seconds") == ["sharpeyes_uptime_seconds 12.34"]
    rx = out.samples("sharpeyes_optical_rx_power_dbm")
    assert rx == [
        'sharpeyes_optical_rx_power_dbm{port="XGigabitEthernet0/0/1",if_index="55",port_device="",'
        'port_link="fl-agg-1"} -2.19'
    ]


async def test_missing_port_is_rewalked_at_most_every_interval(huawei: FakeTransport) -> None:
    now = [1000.0]
    prober = SnmpSwitchProber(huawei, clock=lambda: now[0])
    ports = (*HW_PORTS[2:], PortInfo("GigabitEthernet0/0/99", "copper", device="cam-9"))
    target = _switch("huawei", ports)
    out = TextWriter()
    await prober(target, SWITCH, 10, out)
    # a missing port: every name column, the entity port names (entAliasMapping, entPhysicalName) included
    assert huawei.walks() == [IF_NAME, IF_DESCR, "1.3.6.1.2.1.47.1.3.2.1.2", "1.3.6.1.2.1.47.1.1.1.1.7", IF_ALIAS]
    assert len(out.samples("sharpeyes_port_up")) == 1  # the missing port emits nothing
    huawei.reset_calls()
    now[0] += 60
    await prober(target, SWITCH, 10, TextWriter())
    assert huawei.walks() == []
    now[0] += 600
    huawei.set(f"{IF_NAME}.71", b"GigabitEthernet0/0/99")  # the port appears (a new card)
    huawei.set("1.3.6.1.2.1.2.2.1.8.71", 1)
    huawei.reset_calls()
    out = TextWriter()
    await prober(target, SWITCH, 10, out)
    assert huawei.walks() == [IF_NAME]  # found by ifName: no ifDescr / ifAlias walk
    assert out.samples("sharpeyes_port_up")[1] == (
        'sharpeyes_port_up{port="GigabitEthernet0/0/99",if_index="71",port_device="cam-9",port_link=""} 1'
    )


async def test_h3c_switch(h3c: FakeTransport) -> None:
    prober = SnmpSwitchProber(h3c)
    out = TextWriter()
    assert await prober(_switch("h3c", H3C_PORTS), SWITCH, 10, out)
    assert h3c.walks() == [IF_NAME]  # H3C optics are indexed by ifIndex: nothing to discover
    h3c_optics = [
        f"{col}.{i}"
        for i in (13, 19)
        for col in (optics.H3C_CUR_RX_POWER, optics.H3C_CUR_TX_POWER, optics.H3C_TRANSCEIVER_TYPE)
    ]
    assert h3c.gets() == [*SYSTEM, *_cols(13, 19, 68), *h3c_optics]
    lbl = 'port="Ten-GigabitEthernet9/0/10",if_index="13",port_device="",port_link="fl-9-10"'
    assert out.samples("sharpeyes_optical_rx_power_dbm") == [
        f"sharpeyes_optical_rx_power_dbm{{{lbl}}} -10.05"
    ]
    assert out.samples("sharpeyes_optical_tx_power_dbm") == [f"sharpeyes_optical_tx_power_dbm{{{lbl}}} -5.41"]
    assert out.samples("sharpeyes_port_receive_bytes_total")[0] == (
        f"sharpeyes_port_receive_bytes_total{{{lbl}}} 3631158395478"
    )
    assert out.samples("sharpeyes_uptime_seconds") == ["sharpeyes_uptime_seconds 22501335.31"]


async def test_h3c_copper_transceiver_in_a_fiber_port_has_no_optics(h3c: FakeTransport) -> None:
    h3c.set(f"{optics.H3C_TRANSCEIVER_TYPE}.13", b"1000_BASE_T_AN_SFP")
    out = TextWriter()
    await SnmpSwitchProber(h3c)(_switch("h3c", H3C_PORTS[:1]), SWITCH, 10, out)
    assert out.samples("sharpeyes_optical_rx_power_dbm") == []
    assert len(out.samples("sharpeyes_port_up")) == 1


# Built after Cisco's ENTITY-MIB layout (port -> transceiver -> sensors): none of our captures
# carries ENTITY-SENSOR-MIB dBm sensors, so this one is synthetic.
GENERIC: dict[str, Value] = {
    "1.3.6.1.2.1.1.3.0": 500,
    f"{IF_NAME}.5": b"Te1/1",
    f"{optics.ENT_ALIAS_MAPPING}.1000.0": "1.3.6.1.2.1.2.2.1.1.5",
    f"{optics.ENT_PHYSICAL_CONTAINED_IN}.1001": 1000,
    f"{optics.ENT_PHYSICAL_CONTAINED_IN}.1002": 1001,
    f"{optics.ENT_PHYSICAL_CONTAINED_IN}.1003": 1001,
    f"{optics.ENT_PHYSICAL_CONTAINED_IN}.1004": 1001,
    f"{optics.ENT_PHYSICAL_NAME}.1002": b"Te1/1 Receive Power Sensor",
    f"{optics.ENT_PHYSICAL_NAME}.1003": b"Te1/1 Transmit Power Sensor",
    f"{optics.ENT_PHYSICAL_NAME}.1004": b"Te1/1 Temperature Sensor",
    f"{optics.ENT_SENSOR_TYPE}.1002": 14,
    f"{optics.ENT_SENSOR_TYPE}.1003": 14,
    f"{optics.ENT_SENSOR_TYPE}.1004": 8,
    **{f"{optics.ENT_SENSOR_SCALE}.{s}": 9 for s in (1002, 1003, 1004)},
    **{f"{optics.ENT_SENSOR_PRECISION}.{s}": 1 for s in (1002, 1003, 1004)},
    **{f"{optics.ENT_SENSOR_OPER_STATUS}.{s}": 1 for s in (1002, 1003, 1004)},
    f"{optics.ENT_SENSOR_VALUE}.1002": -45,
    f"{optics.ENT_SENSOR_VALUE}.1003": -23,
    f"{optics.ENT_SENSOR_VALUE}.1004": 351,
    "1.3.6.1.2.1.2.2.1.8.5": 1,
}


async def test_generic_entity_sensor_optics() -> None:
    fake = FakeTransport(GENERIC)
    out = TextWriter()
    target = _switch("cisco", (PortInfo("Te1/1", "fiber", link="fl-x"),))
    await SnmpSwitchProber(fake)(target, SWITCH, 10, out)
    assert fake.walks() == [IF_NAME, *optics.EntitySensorOptics.discovery]
    assert out.samples("sharpeyes_optical_rx_power_dbm")[0].endswith(" -4.5")
    assert out.samples("sharpeyes_optical_tx_power_dbm")[0].endswith(" -2.3")
    assert f"{optics.ENT_SENSOR_VALUE}.1004" not in fake.gets()  # the temperature sensor is not read


@pytest.mark.parametrize("mode", ["timeout", "auth", "malformed"])
async def test_switch_failures_are_probe_errors(huawei: FakeTransport, mode: str) -> None:
    huawei.fail = mode
    with pytest.raises(ProbeError) as info:
        await SnmpSwitchProber(huawei)(_switch("huawei", HW_PORTS), SWITCH, 10, TextWriter())
    assert info.value.reason == mode


async def test_switch_without_credentials() -> None:
    module = Module("snmp_switch", "snmp_switch", 10.0, SnmpSettings())
    with pytest.raises(ProbeError) as info:
        await SnmpSwitchProber(FakeTransport({}))(_switch("huawei", HW_PORTS), module, 10, TextWriter())
    assert info.value.reason == "auth"


async def test_target_auth_and_port_override_settings(huawei: FakeTransport) -> None:
    auth = SnmpAuth(version=2, community="switches")
    target = Target("sw-1", "10.1.2.3", "switch", vendor="huawei", auth=auth, extra={"snmp_port": "1161"})
    await SnmpSwitchProber(huawei)(target, SWITCH, 10, TextWriter())
    assert {c.addr for c in huawei.calls} == {("10.1.2.3", 1161)}


# -- snmp_camera -----------------------------------------------------------------------------


async def test_camera_system_group(snmp_fixtures: Path) -> None:
    fake = FakeTransport.from_snmprec(snmp_fixtures / "hikvision-nvr.snmprec")
    out = TextWriter()
    target = Target("cam-0001", "10.30.0.7", "camera", vendor="hikvision")
    assert await SnmpCameraProber(fake)(target, CAMERA, 5, out)
    assert fake.gets() == ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0"]
    assert fake.walks() == []
    assert out.samples("sharpeyes_uptime_seconds") == ["sharpeyes_uptime_seconds 854471.43"]
    assert out.samples("sharpeyes_snmp_system_info") == [
        'sharpeyes_snmp_system_info{sys_descr="Hikvision company products",'
        'sys_object_id="1.3.6.1.4.1.50001",sys_name="<private>"} 1'
    ]


async def test_camera_descr_whitespace_and_chinese_names(snmp_fixtures: Path) -> None:
    fake = FakeTransport.from_snmprec(snmp_fixtures / "huawei_s5720.snmprec")
    fake.set("1.3.6.1.2.1.1.5.0", "丰泉镇-雪亮-001".encode("gb18030"))
    out = TextWriter()
    await SnmpCameraProber(fake)(Target("cam-1", "10.0.0.1", "camera"), CAMERA, 5, out)
    (line,) = out.samples("sharpeyes_snmp_system_info")
    assert (
        'sys_descr="S5720-56C-PWR-EI-AC Huawei Versatile Routing Platform Software VRP (R) software,' in line
    )
    assert "\\n" not in line and "\r" not in line
    assert 'sys_name="丰泉镇-雪亮-001"' in line


async def test_camera_without_system_group(snmp_fixtures: Path) -> None:
    # the Hikvision camera capture answers only its private MIB
    fake = FakeTransport.from_snmprec(snmp_fixtures / "hikvision-cam.snmprec")
    out = TextWriter()
    assert await SnmpCameraProber(fake)(Target("cam-2", "10.0.0.2", "camera"), CAMERA, 5, out)
    assert out.samples("sharpeyes_uptime_seconds") == []
    assert out.samples("sharpeyes_snmp_system_info") == [
        'sharpeyes_snmp_system_info{sys_descr="",sys_object_id="",sys_name=""} 1'
    ]


@pytest.mark.parametrize("mode", ["timeout", "auth", "malformed"])
async def test_camera_failures_are_probe_errors(mode: str) -> None:
    fake = FakeTransport({}, fail=mode)
    with pytest.raises(ProbeError) as info:
        await SnmpCameraProber(fake)(Target("cam-3", "10.0.0.3", "camera"), CAMERA, 5, TextWriter())
    assert info.value.reason == mode
    assert math.isclose(len(fake.calls), 1)
