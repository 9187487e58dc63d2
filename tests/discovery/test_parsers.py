"""CLI parsers pinned with outputs in the devices' real formats.

The VRP outputs below are written by hand in the layouts of Huawei S5720 V200R011C10 (as printed
in Huawei's S series command reference for that release: ``display lldp neighbor brief``,
``display mac-address``, ``display transceiver verbose``), plus the V200R019 ``lldp neighbor brief``
layout (columns reordered). Values are ours; spacing and headers are the device's.
"""

from __future__ import annotations

from sharpeyes.exporters.discovery.parsers import (
    comware_version,
    parse_outputs,
    vrp_lldp_brief,
    vrp_mac_table,
    vrp_transceivers,
    vrp_version,
)
from sharpeyes.exporters.discovery.ports import PortResolver, port_key

VRP_LLDP_BRIEF_R011 = """\
Local Intf       Neighbor Dev             Neighbor Intf             Exptime(s)
GE0/0/1          cam-baodong-beizhan-001  eth0                      110
GE0/0/9          agg-baodong-1            GE0/0/2                   98
"""

VRP_LLDP_BRIEF_R019 = """\
Local Interface         Exptime(s) Neighbor Interface      Neighbor Device
-------------------------------------------------------------------------------
GE0/0/1                      113   eth0                    cam-baodong-beizhan-001
XGE0/0/1                     101   XGE0/0/3                agg-baodong-1
"""

VRP_MAC_S5720 = """\
MAC address table of slot 0:
-------------------------------------------------------------------------------
MAC Address    VLAN/       PEVLAN CEVLAN Port            Type      LSP/LSR-ID
               VSI/SI                                              MAC-Tunnel
-------------------------------------------------------------------------------
4419-b6a4-9e5e 1           -      -      GE0/0/1         dynamic   0/-
e050-8b12-3456 20          -      -      GE0/0/2         dynamic   0/-
286e-d47f-909f 1           -      -      GE0/0/9         dynamic   0/-
0000-5e00-0101 1           -      -      GE0/0/3         static    -
-------------------------------------------------------------------------------
Total matching items on slot 0 displayed = 4
"""

VRP_MAC_LEARNED_FROM = """\
-------------------------------------------------------------------------------
 MAC Address    VLAN/VSI/BD                       Learned-From        Type
 -------------------------------------------------------------------------------
 b8d6-f6ff-7390 10/-/-                            XGE0/0/1            dynamic
 \n-------------------------------------------------------------------------------
 Total items displayed = 1
"""

VRP_TRANSCEIVER = """\
GigabitEthernet0/0/9 transceiver information:
-------------------------------------------------------------
Common information:
  Transceiver Type                      :1000_BASE_LX_SFP
  Connector Type                        :LC
  Wavelength(nm)                        :1310
  Transfer Distance(m)                  :10000(9um)
  Digital Diagnostic Monitoring         :YES
  Vendor Name                           :HUAWEI
-------------------------------------------------------------
Manufacture information:
  Manu. Serial Number                   :HA10190300156
-------------------------------------------------------------
Diagnostic information:
  Temperature(\u00b0C)                       :37.00
  Current RX Power(dBm)                 :-10.43
  Default RX Power High Threshold(dBm)  :-3.00
  Current TX Power(dBm)                 :-5.69
"""

VRP_VERSION = """\
Huawei Versatile Routing Platform Software
VRP (R) software, Version 5.170 (S5720 V200R011C10SPC500)
Copyright (C) 2000-2018 HUAWEI TECH CO., LTD
HUAWEI S5720-12TP-LI-AC Routing Switch uptime is 12 weeks, 3 days, 2 hours, 10 minutes
"""

COMWARE_VERSION = """\
H3C Comware Software, Version 7.1.070, Release 6318P01
Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.
H3C S5130S-28S-EI uptime is 0 weeks, 6 days, 1 hour, 5 minutes
Last reboot reason : Cold reboot
"""

PORTS = [f"GigabitEthernet0/0/{i}" for i in range(1, 13)]


def test_port_names_resolve_to_the_inventory_spelling() -> None:
    r = PortResolver([*PORTS, "XGigabitEthernet0/0/1", "Ten-GigabitEthernet1/0/49"])
    assert r("GE0/0/1") == "GigabitEthernet0/0/1"
    assert r("gigabitethernet0/0/12") == "GigabitEthernet0/0/12"
    assert r("XGE0/0/1") == "XGigabitEthernet0/0/1"
    assert r("XGE1/0/49") == "Ten-GigabitEthernet1/0/49"  # Comware abbreviates Ten-GigabitEthernet as XGE
    assert r("Eth-Trunk1") == "Eth-Trunk1"  # unknown: kept as reported
    assert port_key("Gi1/0/3") == port_key("GigabitEthernet1/0/3") == ("1g", "1/0/3")


def test_vrp_lldp_brief_both_layouts() -> None:
    assert vrp_lldp_brief(VRP_LLDP_BRIEF_R011) == [
        ("GE0/0/1", "cam-baodong-beizhan-001", "eth0"), ("GE0/0/9", "agg-baodong-1", "GE0/0/2")]
    assert vrp_lldp_brief(VRP_LLDP_BRIEF_R019) == [
        ("GE0/0/1", "cam-baodong-beizhan-001", "eth0"), ("XGE0/0/1", "agg-baodong-1", "XGE0/0/3")]


def test_vrp_mac_table_s_series_layout_and_template_layout() -> None:
    assert vrp_mac_table(VRP_MAC_S5720) == [
        ("4419-b6a4-9e5e", 1, "GE0/0/1", "dynamic"), ("e050-8b12-3456", 20, "GE0/0/2", "dynamic"),
        ("286e-d47f-909f", 1, "GE0/0/9", "dynamic"), ("0000-5e00-0101", 1, "GE0/0/3", "static")]
    assert vrp_mac_table(VRP_MAC_LEARNED_FROM) == [("b8d6-f6ff-7390", 10, "XGE0/0/1", "dynamic")]


def test_vrp_transceiver_and_version() -> None:
    t = vrp_transceivers(VRP_TRANSCEIVER)["GigabitEthernet0/0/9"]
    assert t["Current RX Power(dBm)"] == "-10.43" and t["Vendor Name"] == "HUAWEI"
    assert vrp_version(VRP_VERSION) == {"firmware": "V200R011C10SPC500", "model": "S5720-12TP-LI-AC",
                                        "vrp": "5.170"}
    assert comware_version(COMWARE_VERSION) == {"firmware": "7.1.070 Release 6318P01", "model": "S5130S-28S-EI"}


def test_parse_outputs_builds_observations() -> None:
    l2 = parse_outputs("huawei_vrp", "sw1", {
        "lldp": VRP_LLDP_BRIEF_R011, "mac": VRP_MAC_S5720, "optics": VRP_TRANSCEIVER, "version": VRP_VERSION,
    }, PORTS)
    assert [(e.port, e.mac, e.vlan) for e in l2.fdb] == [
        ("GigabitEthernet0/0/1", "44:19:b6:a4:9e:5e", 1), ("GigabitEthernet0/0/2", "e0:50:8b:12:34:56", 20),
        ("GigabitEthernet0/0/9", "28:6e:d4:7f:90:9f", 1)]  # the static entry is not a learnt device
    assert [(n.port, n.sys_name) for n in l2.lldp] == [
        ("GigabitEthernet0/0/1", "cam-baodong-beizhan-001"), ("GigabitEthernet0/0/9", "agg-baodong-1")]
    opt = next(p for p in l2.ports if p.port == "GigabitEthernet0/0/9")
    assert (opt.rx_dbm, opt.tx_dbm) == (-10.43, -5.69)
    assert l2.identity is not None and l2.identity.firmware == "V200R011C10SPC500"
