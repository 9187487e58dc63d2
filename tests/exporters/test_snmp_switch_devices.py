"""snmp_switch on the switches a district really has, each pinned by a real capture
(tests/fixtures/snmp and ../shared/fixtures/snmp, sources in their SOURCES.tsv): vendor family
from what the device says, the Huawei optical unit per device, sentinels, ports without ifXTable,
names that are not the ifName, ambiguous names, admin status, and a cache that follows reloads.

The recording fake answers from the capture for exact OID-level checks; the end-to-end tests at
the bottom send the same probes over UDP to snmpsim serving the same files."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.probers.base import Module, PortInfo, ProbeError, Target
from sharpeyes.exporters.probers.snmp_camera import SnmpCameraProber
from sharpeyes.exporters.probers.snmp_switch import IF_NAME, SYS_UPTIME, SnmpSwitchProber
from sharpeyes.exporters.snmp import ber, optics
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.fake import FakeTransport, load_snmprec
from sharpeyes.exporters.snmp.family import detect_family, huawei_unit_of_data, huawei_unit_of_release
from sharpeyes.exporters.snmp.ifmib import IF_ADMIN_STATUS, IF_DESCR, NameTable, normalise, resolve
from sharpeyes.exporters.snmp.probing import SnmpSettings
from sharpeyes.exporters.snmp.transport import Addr, Value
from sharpeyes.exporters.snmp.udp import UdpTransport

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "snmp"
YUNSHAN = HERE / "huawei_yunshan_s6750h.snmprec"
TPLINK = HERE / "tplink_td-w8901g_iftable_only.snmprec"
AUTH = SnmpAuth(version=2, community="public")


def _module(**settings: object) -> Module:
    return Module("snmp_switch", "snmp_switch", 10.0, SnmpSettings.from_dict({**settings}) if settings else
                  SnmpSettings(auth=AUTH))


def _with_auth(module: Module) -> Module:
    return replace(module, settings=replace(module.settings, auth=AUTH))


AUTO = _module()
HP_PORTS = (
    PortInfo("Ten-GigabitEthernet9/0/10", "fiber", link="fl-9-10"),  # ifIndex 13, LX SFP, -10.05 dBm
    PortInfo("GigabitEthernet2/0/1", "copper", device="cam-0002"),  # ifIndex 68
)
CE_PORTS = (
    PortInfo("100GE1/0/1", "fiber", link="fl-1"),  # ifIndex 2: rx -135, tx -133 (0.01 dBm)
    PortInfo("100GE1/0/3", "fiber", link="fl-3"),  # ifIndex 4: rx -1652, tx 459
    PortInfo("100GE1/0/9", "fiber", link="fl-9"),  # ifIndex 10: empty cage (-1, temperature -255)
    PortInfo("100GE1/0/11", "fiber", link="fl-11"),  # ifIndex 12: admin down, rx -83, tx -4000
)
S5720_PORTS = (PortInfo("XGigabitEthernet0/0/1", "fiber", link="fl-agg-1"),)  # rx 536 µW, tx 591 µW


def _switch(sid: str, vendor: str, ports: tuple[PortInfo, ...], model: str = "") -> Target:
    return Target(id=sid, ip="10.20.0.1", kind="switch", vendor=vendor, model=model, ports=ports)


def _value(out: TextWriter, metric: str, port: str) -> str | None:
    found = [s.rsplit(" ", 1)[1] for s in out.samples(metric) if f'port="{port}"' in s]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.fixture
def yunshan() -> FakeTransport:
    return FakeTransport.from_snmprec(YUNSHAN)


# -- vendor family from what the device says ---------------------------------------------------


def test_family_from_sysobjectid_and_sysdescr(snmp_fixtures: Path) -> None:
    hp = load_snmprec(snmp_fixtures / "h3c_comware_hp-ff5700.snmprec")
    ce = load_snmprec(YUNSHAN)
    s5720 = load_snmprec(snmp_fixtures / "huawei_s5720.snmprec")
    tplink = load_snmprec(TPLINK)
    for data, vendor, family in (
        (hp, "hp", "h3c"), (hp, "hpe", "h3c"), (hp, "", "h3c"), (hp, "huawei", "h3c"),
        (ce, "", "huawei"), (s5720, "h3c", "huawei"), (tplink, "tp-link", "tplink"),
    ):
        descr = bytes(data["1.3.6.1.2.1.1.1.0"]).decode(errors="replace")  # type: ignore[arg-type]
        assert detect_family(data["1.3.6.1.2.1.1.2.0"], descr, vendor) == family, (vendor, family)
    # Comware 5 sold as HP, whose sysDescr never says Comware; Comware 3 under the H3C name
    for name in ("comware5_hp-v1910", "comware3_h3c"):
        data = load_snmprec(HERE / f"{name}.snmprec")
        descr = bytes(data["1.3.6.1.2.1.1.1.0"]).decode()  # type: ignore[arg-type]
        assert detect_family(data["1.3.6.1.2.1.1.2.0"], descr, "hp") == "h3c", name
    # a device that says nothing: the inventory's vendor is the hint, aliases allowed
    assert detect_family(ber.NO_SUCH_OBJECT, "", "New H3C") == "h3c"
    assert detect_family(ber.NO_SUCH_OBJECT, "", "Cisco") == "cisco"
    assert detect_family(ber.NO_SUCH_OBJECT, "", "acme") == "generic"


async def test_hp_branded_comware_keeps_its_optics(snmp_fixtures: Path) -> None:
    fake = FakeTransport.from_snmprec(snmp_fixtures / "h3c_comware_hp-ff5700.snmprec")
    out = TextWriter()
    assert await SnmpSwitchProber(fake)(_switch("sw-hp", "hp", HP_PORTS), AUTO, 10, out)
    assert _value(out, "sharpeyes_optical_rx_power_dbm", "Ten-GigabitEthernet9/0/10") == "-10.05"
    assert _value(out, "sharpeyes_optical_tx_power_dbm", "Ten-GigabitEthernet9/0/10") == "-5.41"
    assert out.samples("sharpeyes_switch_optics_info") == [
        'sharpeyes_switch_optics_info{family="h3c",unit="centi_dbm",source="family"} 1'
    ]


# -- Huawei: the optical unit per device, sentinels ---------------------------------------------


def test_huawei_release_rules_on_the_captures(snmp_fixtures: Path) -> None:
    s5720 = load_snmprec(snmp_fixtures / "huawei_s5720.snmprec")["1.3.6.1.2.1.1.1.0"]
    ce = load_snmprec(YUNSHAN)["1.3.6.1.2.1.1.1.0"]
    assert isinstance(s5720, bytes) and isinstance(ce, bytes)
    assert huawei_unit_of_release(s5720.decode()) == "uw"  # VRP 5.170 (S5720 V200R010C00SPC600)
    assert huawei_unit_of_release(ce.decode()) == "centi_dbm"  # YunShan OS, S6700 V600R024C00SPC100


def test_huawei_unit_from_the_table_itself(snmp_fixtures: Path) -> None:
    """Without any release rule: the S5720's positive values match its lane strings as µW, the
    CloudEngine's negative ones cannot be µW."""
    for path, unit in ((snmp_fixtures / "huawei_s5720.snmprec", "uw"), (YUNSHAN, "centi_dbm")):
        data = load_snmprec(path)

        def column(col: str, data: dict[str, Value] = data) -> dict[int, Value]:
            return {int(o.rsplit(".", 1)[1]): v for o, v in data.items() if o.startswith(col + ".")}

        rx, lanes = column(optics.HW_OPTICAL_RX_POWER), column(optics.HW_OPTICAL_LANE_RX_POWER)
        assert huawei_unit_of_data(rx, lanes) == unit, path.name
    assert huawei_unit_of_data({1: -1, 2: -1}, {}) is None  # only empty cages: undecided


async def test_one_module_reads_an_s5720_and_a_cloudengine_right(
    snmp_fixtures: Path, yunshan: FakeTransport
) -> None:
    """A district mixes both: µW on the S5720, 0.01 dBm on the CloudEngine, one module setting."""
    s5720 = FakeTransport.from_snmprec(snmp_fixtures / "huawei_s5720.snmprec")
    out = TextWriter()
    assert await SnmpSwitchProber(s5720)(_switch("sw-s5720", "huawei", S5720_PORTS), AUTO, 10, out)
    assert _value(out, "sharpeyes_optical_rx_power_dbm", "XGigabitEthernet0/0/1") == "-2.71"
    assert _value(out, "sharpeyes_optical_tx_power_dbm", "XGigabitEthernet0/0/1") == "-2.28"
    assert 'unit="uw",source="table"' in out.samples("sharpeyes_switch_optics_info")[0]

    out = TextWriter()
    assert await SnmpSwitchProber(yunshan)(_switch("sw-ce", "huawei", CE_PORTS), AUTO, 10, out)
    rx = {p.name: _value(out, "sharpeyes_optical_rx_power_dbm", p.name) for p in CE_PORTS}
    tx = {p.name: _value(out, "sharpeyes_optical_tx_power_dbm", p.name) for p in CE_PORTS}
    # the lanes agree: "-1.25,-1.39,-2.47,-1.34", "-16.48,-16.07,-15.54,-14.81"
    assert rx == {"100GE1/0/1": "-1.35", "100GE1/0/3": "-16.52", "100GE1/0/9": None, "100GE1/0/11": "-0.83"}
    # -4000 ("-40.00" on every lane) on an administratively shut port: the laser is off, no reading
    assert tx == {"100GE1/0/1": "-1.33", "100GE1/0/3": "4.59", "100GE1/0/9": None, "100GE1/0/11": None}
    assert out.samples("sharpeyes_switch_optics_info") == [
        'sharpeyes_switch_optics_info{family="huawei",unit="centi_dbm",source="table"} 1'
    ]


async def test_no_light_on_a_port_that_should_be_lit_is_loss_of_signal(yunshan: FakeTransport) -> None:
    """100GE1/0/11 (module present, 27 °C, transmit -4000) enabled but still down: the alert must
    see it, as the -40 dBm floor; while shut down it is no reading (previous test)."""
    yunshan.set(f"{IF_ADMIN_STATUS}.12", 1)
    out = TextWriter()
    await SnmpSwitchProber(yunshan)(_switch("sw-ce", "huawei", CE_PORTS), AUTO, 10, out)
    assert _value(out, "sharpeyes_optical_tx_power_dbm", "100GE1/0/11") == "-40"
    assert _value(out, "sharpeyes_port_up", "100GE1/0/11") == "0"
    assert _value(out, "sharpeyes_port_admin_up", "100GE1/0/11") == "1"
    # the empty cage next to it stays silent whatever its port does
    yunshan.set(f"{IF_ADMIN_STATUS}.10", 1)
    out = TextWriter()
    await SnmpSwitchProber(yunshan)(_switch("sw-ce", "huawei", CE_PORTS), AUTO, 10, out)
    assert _value(out, "sharpeyes_optical_rx_power_dbm", "100GE1/0/9") is None


async def test_per_model_override_and_module_setting(yunshan: FakeTransport) -> None:
    target = _switch("sw-ce", "huawei", CE_PORTS[:1], model="S6750-H36C")
    by_model = _with_auth(_module(huawei_optical_unit="centi_dbm",
                                  huawei_optical_unit_by_model={"s6750-h36c": "uw"}))
    out = TextWriter()
    await SnmpSwitchProber(yunshan)(target, by_model, 10, out)
    assert 'unit="uw",source="model"' in out.samples("sharpeyes_switch_optics_info")[0]
    assert _value(out, "sharpeyes_optical_rx_power_dbm", "100GE1/0/1") is None  # negative: not µW
    forced = _with_auth(_module(huawei_optical_unit="centi_dbm"))
    out = TextWriter()
    await SnmpSwitchProber(yunshan)(target, forced, 10, out)
    assert 'unit="centi_dbm",source="setting"' in out.samples("sharpeyes_switch_optics_info")[0]
    assert _value(out, "sharpeyes_optical_rx_power_dbm", "100GE1/0/1") == "-1.35"


async def test_cached_state_follows_a_module_change_and_a_reload(snmp_fixtures: Path) -> None:
    """The cache was keyed by vendor only: a changed unit setting kept the old interpretation."""
    fake = FakeTransport.from_snmprec(snmp_fixtures / "huawei_s5720.snmprec")
    prober = SnmpSwitchProber(fake)
    target = _switch("sw-s5720", "huawei", S5720_PORTS)
    out = TextWriter()
    await prober(target, AUTO, 10, out)
    assert _value(out, "sharpeyes_optical_rx_power_dbm", "XGigabitEthernet0/0/1") == "-2.71"
    centi = _with_auth(_module(huawei_optical_unit="centi_dbm"))
    out = TextWriter()
    await prober(target, centi, 10, out)
    assert _value(out, "sharpeyes_optical_rx_power_dbm", "XGigabitEthernet0/0/1") == "5.36"
    fake.reset_calls()
    reloaded = replace(AUTO)  # a reload builds new module objects, equal or not
    out = TextWriter()
    await prober(target, reloaded, 10, out)
    assert IF_NAME in fake.walks()
    assert _value(out, "sharpeyes_optical_rx_power_dbm", "XGigabitEthernet0/0/1") == "-2.71"


# -- ports: names, ifTable-only agents, ambiguity, what is missing -------------------------------


def test_vendor_abbreviations() -> None:
    for a, b in (
        ("TenGigabitEthernet 0/5", "Te0/5"), ("Ten-GigabitEthernet9/0/10", "XGE9/0/10"),
        ("XGigabitEthernet0/0/1", "TenGigabitEthernet0/0/1"), ("GigabitEthernet1/0/1", "GE1/0/1"),
        ("GigabitEthernet1/0/1", "Gi1/0/1"), ("100GE1/0/1", "HundredGigE1/0/1"), ("Vlanif60", "Vlan-interface60"),
    ):
        assert normalise(a) == normalise(b), (a, b)
    assert normalise("GE1/0/1") != normalise("XGE1/0/1")
    assert normalise("GE1/0/1") != normalise("GE1/0/10")


def test_duplicate_ifnames_resolve_through_the_next_column() -> None:
    """Two stack members both calling a port GE0/0/1 in ifName: that name stays ambiguous (it used
    to go silently to the last ifIndex), the ifDescr names tell them apart."""
    by_name = NameTable.of({5: "GE0/0/1", 69: "GE0/0/1", 70: "GE0/0/2"})
    by_descr = NameTable.of({5: "GigabitEthernet1/0/1", 69: "GigabitEthernet2/0/1", 70: "GigabitEthernet2/0/2"}, True)
    got = resolve(["GE0/0/1", "GigabitEthernet2/0/1", "GE0/0/2", "GE0/0/3"], [by_name, by_descr])
    assert got.found == {"GigabitEthernet2/0/1": 69, "GE0/0/2": 70}
    assert got.ambiguous == {"GE0/0/1": [5, 69]}
    assert got.unresolved == ["GE0/0/3"]


async def test_inventory_names_that_are_not_the_ifname(snmp_fixtures: Path, yunshan: FakeTransport) -> None:
    fake = FakeTransport.from_snmprec(snmp_fixtures / "h3c_comware_hp-ff5700.snmprec")
    ports = (PortInfo("TenGigabitEthernet 9/0/10", "fiber", link="fl-a"), PortInfo("XGE9/0/10", "fiber"))
    out = TextWriter()
    await SnmpSwitchProber(fake)(_switch("sw-hp", "h3c", ports), AUTO, 10, out)
    assert [s.split('if_index="')[1][:2] for s in out.samples("sharpeyes_port_up")] == ["13", "13"]
    # an inventory that wrote the port's description (ifAlias) on the CloudEngine
    out = TextWriter()
    alias = "LJO-172.29.254.56/100G-1_*Adyl/Unifique*"  # ifAlias of ifIndex 7, 100GE1/0/6
    await SnmpSwitchProber(yunshan)(_switch("sw-ce", "huawei", (PortInfo(alias, "copper"),)), AUTO, 10, out)
    assert out.samples("sharpeyes_port_up")[0].split('if_index="')[1].startswith('7"')


async def test_switch_without_ifxtable_uses_ifdescr_and_32_bit_counters() -> None:
    fake = FakeTransport.from_snmprec(TPLINK)
    ports = (PortInfo("enet0", "copper", device="cam-1"), PortInfo("ppp", "copper"))
    out = TextWriter()
    assert await SnmpSwitchProber(fake)(_switch("sw-tp", "tp-link", ports), AUTO, 10, out)
    assert fake.walks()[:2] == [IF_NAME, IF_DESCR]
    assert _value(out, "sharpeyes_port_receive_bytes_total", "enet0") == "198223413"
    assert _value(out, "sharpeyes_port_transmit_bytes_total", "enet0") == "205316896"
    assert _value(out, "sharpeyes_port_speed_bytes", "enet0") == "12500000"  # ifSpeed 100 Mbit/s
    assert _value(out, "sharpeyes_port_receive_discards_total", "enet1") is None
    assert _value(out, "sharpeyes_port_up", "ppp") == "1"
    assert _value(out, "sharpeyes_port_admin_up", "ppp") == "1"
    assert out.samples("sharpeyes_switch_unresolved_ports") == ["sharpeyes_switch_unresolved_ports 0"]


async def test_a_name_on_two_interfaces_is_reported_not_guessed(
    yunshan: FakeTransport, caplog: pytest.LogCaptureFixture
) -> None:
    dup = "CSL-172.29.254.246/100G-xx_ATIVAR"  # the ifAlias of both 100GE1/0/11 and 100GE1/0/12
    prober = SnmpSwitchProber(yunshan)
    target = _switch("sw-ce", "huawei", (PortInfo(dup, "fiber"), CE_PORTS[0]))
    caplog.set_level(logging.WARNING, "sharpeyes.exporters.probers.snmp_switch")
    for _ in range(3):
        out = TextWriter()
        assert await prober(target, AUTO, 10, out)
        assert out.samples("sharpeyes_switch_ambiguous_ports") == ["sharpeyes_switch_ambiguous_ports 1"]
        assert _value(out, "sharpeyes_port_up", dup) is None
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["switch sw-ce: 1 inventory port(s) match several interfaces, not probed: "
                     f"{dup} (ifIndex 12/13)"]


async def test_unresolved_ports_are_counted_logged_once_per_reload_and_fail_the_probe(
    yunshan: FakeTransport, caplog: pytest.LogCaptureFixture
) -> None:
    prober = SnmpSwitchProber(yunshan)
    target = _switch("sw-ce", "huawei", (PortInfo("GE0/0/1", "copper"), PortInfo("GE0/0/2", "copper")))
    caplog.set_level(logging.WARNING, "sharpeyes.exporters.probers.snmp_switch")
    for module in (AUTO, AUTO, replace(AUTO)):  # the third one is what a reload hands the prober
        out = TextWriter()
        assert await prober(target, module, 10, out) is False  # nothing of the inventory is monitored
        assert out.samples("sharpeyes_switch_unresolved_ports") == ["sharpeyes_switch_unresolved_ports 2"]
    assert [r.getMessage() for r in caplog.records] == [
        "switch sw-ce: 2 inventory port(s) not found by ifName, ifDescr or ifAlias: GE0/0/1, GE0/0/2"
    ] * 2


async def test_admin_status_is_exported(yunshan: FakeTransport) -> None:
    out = TextWriter()
    await SnmpSwitchProber(yunshan)(_switch("sw-ce", "huawei", CE_PORTS), AUTO, 10, out)
    admin = {p.name: _value(out, "sharpeyes_port_admin_up", p.name) for p in CE_PORTS}
    assert admin == {"100GE1/0/1": "1", "100GE1/0/3": "1", "100GE1/0/9": "0", "100GE1/0/11": "0"}


# -- hostile answers are `malformed`, never a crash ---------------------------------------------


class _RootRow(FakeTransport):
    """An agent that answers a walk with a row equal to the walk's root."""

    async def walk(
        self, addr: Addr, auth: SnmpAuth, root_oid: str, timeout: float, retries: int = 1
    ) -> list[tuple[str, Value]]:
        await super().walk(addr, auth, root_oid, timeout, retries)
        return [(root_oid, b"x")]


async def test_walk_row_equal_to_the_root_is_malformed() -> None:
    fake = _RootRow(load_snmprec(TPLINK))
    with pytest.raises(ProbeError) as info:
        await SnmpSwitchProber(fake)(_switch("sw-tp", "tplink", (PortInfo("enet0"),)), AUTO, 10, TextWriter())
    assert info.value.reason == "malformed"


async def test_a_walk_that_never_ends_is_malformed() -> None:
    data: dict[str, Value] = {f"{IF_NAME}.{i}": b"GE%d" % i for i in range(1, 20_100)}
    with pytest.raises(ProbeError) as info:
        await SnmpSwitchProber(FakeTransport(data))(_switch("sw", "", (PortInfo("GE1"),)), AUTO, 10, TextWriter())
    assert info.value.reason == "malformed"


@pytest.mark.parametrize("uptime", [2**40, -1, 10**400])
async def test_a_huge_sysuptime_is_malformed(uptime: int) -> None:
    fake = FakeTransport.from_snmprec(TPLINK)
    fake.set(SYS_UPTIME, uptime)
    camera = Module("snmp_camera", "snmp_camera", 10.0, SnmpSettings(auth=AUTH))
    for prober, module in ((SnmpSwitchProber(fake), AUTO), (SnmpCameraProber(fake), camera)):
        with pytest.raises(ProbeError) as info:
            await prober(_switch("sw-tp", "tplink", (PortInfo("enet0"),)), module, 10, TextWriter())
        assert info.value.reason == "malformed"


# -- end to end: the same probes over UDP against snmpsim serving the captures ------------------


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def captures_agent(snmp_fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Addr]:
    exe = shutil.which("snmpsim-command-responder")
    if exe is None:
        pytest.skip("snmpsim-command-responder not installed")
    base = tmp_path_factory.mktemp("snmpsim-devices")
    data = base / "data"
    data.mkdir()
    for src in (YUNSHAN, TPLINK, snmp_fixtures / "huawei_s5720.snmprec",
                snmp_fixtures / "h3c_comware_hp-ff5700.snmprec"):
        shutil.copyfile(src, data / src.name)  # a copy: snmpsim ignores symlinks
    host = "127.77.0.2"
    port = _free_udp_port(host)
    log = base / "snmpsim.log"
    cmd = [exe, f"--data-dir={data}", f"--cache-dir={base / 'cache'}", f"--agent-udpv4-endpoint={host}:{port}"]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT,
                                env=dict(os.environ, SNMPSIM_ALLOW_ROOT="true"))
    try:
        end = time.monotonic() + 60
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            rid = 1
            while True:
                assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
                assert time.monotonic() < end, "snmpsim did not answer"
                rid += 1
                sock.sendto(ber.get_request(YUNSHAN.stem.encode(), rid, [SYS_UPTIME]), (host, port))
                try:
                    reply, _ = sock.recvfrom(65535)
                except (TimeoutError, ConnectionRefusedError):
                    continue
                if ber.decode_v2c(reply)[1].request_id == rid:
                    break
        yield host, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


async def test_end_to_end_against_snmpsim(captures_agent: Addr) -> None:
    host, port = captures_agent
    udp = UdpTransport()
    try:
        prober = SnmpSwitchProber(udp)

        async def probe(capture: str, vendor: str, ports: tuple[PortInfo, ...]) -> TextWriter:
            auth = SnmpAuth(version=2, community=capture)
            module = Module("snmp_switch", "snmp_switch", 10.0, SnmpSettings(auth=auth))
            target = Target(capture, host, "switch", vendor=vendor, ports=ports, extra={"snmp_port": str(port)})
            out = TextWriter()
            await prober(target, module, 10.0, out)
            return out

        ce = await probe(YUNSHAN.stem, "huawei", CE_PORTS)
        assert _value(ce, "sharpeyes_optical_rx_power_dbm", "100GE1/0/3") == "-16.52"
        assert _value(ce, "sharpeyes_optical_tx_power_dbm", "100GE1/0/11") is None
        assert _value(ce, "sharpeyes_port_admin_up", "100GE1/0/11") == "0"
        s5720 = await probe("huawei_s5720", "huawei", S5720_PORTS)
        assert _value(s5720, "sharpeyes_optical_rx_power_dbm", "XGigabitEthernet0/0/1") == "-2.71"
        hp = await probe("h3c_comware_hp-ff5700", "hp", HP_PORTS)
        assert _value(hp, "sharpeyes_optical_rx_power_dbm", "Ten-GigabitEthernet9/0/10") == "-10.05"
        tp = await probe(TPLINK.stem, "tp-link", (PortInfo("enet0", "copper"),))
        assert _value(tp, "sharpeyes_port_receive_bytes_total", "enet0") == "198223413"
        none = await probe(YUNSHAN.stem, "huawei", (PortInfo("GE0/0/1", "copper"),))
        assert none.samples("sharpeyes_switch_unresolved_ports") == ["sharpeyes_switch_unresolved_ports 1"]
    finally:
        await udp.close()
