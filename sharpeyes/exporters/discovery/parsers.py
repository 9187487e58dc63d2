"""CLI outputs -> observations. ntc-templates where a template fits the command, small own parsers
otherwise (pinned by tests/discovery/test_parsers.py with outputs in the devices' real formats).

Own parsers, and why:
- VRP ``display lldp neighbor brief``: ntc-templates only has the verbose ``display lldp neighbor``
  (its index would also match the brief command and mis-parse it). Two real layouts exist:
  V200R011 ``Local Intf  Neighbor Dev  Neighbor Intf  Exptime(s)`` and V200R019+
  ``Local Interface  Exptime(s)  Neighbor Interface  Neighbor Device``; columns are found from
  the header.
- VRP ``display mac-address`` on S-series V200R0xx (``MAC Address  VLAN/VSI/SI  PEVLAN CEVLAN
  Port  Type  LSP/LSR-ID``) is not the layout the ntc template knows (newer ``Learned-From``);
  the template is tried first, the own parser second.
- VRP ``display transceiver verbose``: no template (per-interface blocks of ``key :value``).
- Comware ``display version``: no template (``... Software, Version 7.1.070, Release 6318P01``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sharpeyes.exporters.discovery.model import FdbEntry, Identity, LldpNeighbor, PortState, norm_mac
from sharpeyes.exporters.discovery.ports import PortResolver
from sharpeyes.exporters.discovery.snmp import SwitchL2


def _ntc(platform: str, command: str, text: str) -> list[dict[str, Any]] | None:
    from ntc_templates.parse import parse_output

    try:
        return list(parse_output(platform=platform, command=command, data=text))
    except Exception:  # TextFSM raises its own error types for a layout it does not know
        return None


# ------------------------------------------------------------------ Huawei VRP


def vrp_lldp_brief(text: str) -> list[tuple[str, str, str]]:
    """[(local port, neighbour device, neighbour port)]."""
    cols: list[str] | None = None
    out = []
    for line in text.splitlines():
        if cols is None:
            if line.strip().startswith("Local Int"):
                h = line
                keys = {"local": h.find("Local Int"), "exp": h.find("Exptime"),
                        "dev": max(h.find("Neighbor Dev"), h.find("Neighbor Device")),
                        "intf": max(h.find("Neighbor Intf"), h.find("Neighbor Interface"))}
                cols = [k for k, _ in sorted(keys.items(), key=lambda kv: kv[1]) if keys[k] >= 0]
            continue
        tokens = line.split()
        if not tokens or set(line.strip()) <= {"-"} or len(tokens) < len(cols):
            continue
        row = dict(zip(cols, tokens, strict=False))
        if len(tokens) > len(cols):  # a device name with spaces: the last column takes the rest
            row[cols[-1]] = " ".join(tokens[len(cols) - 1:])
        out.append((row["local"], row.get("dev", ""), row.get("intf", "")))
    return out


_MAC_LINE = re.compile(r"^\s*([0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4})\s+(\d+)\S*\s+(.*)$")
_IFACE = re.compile(r"^[A-Za-z][A-Za-z\-]*\d+(/\d+)*(\.\d+)?$")


def vrp_mac_table(text: str) -> list[tuple[str, int, str, str]]:
    """[(mac, vlan, port, type)] from either VRP layout."""
    rows = _ntc("huawei_vrp", "display mac-address", text)
    if rows:
        return [(r["destination_address"], int(r["vlan_id"] or 0), r["destination_port"], r["type"])
                for r in rows]
    out = []
    for line in text.splitlines():
        m = _MAC_LINE.match(line)
        if m is None:
            continue
        rest = m.group(3).split()
        port = next((t for t in rest if _IFACE.match(t) and not t.startswith("-")), "")
        kind = next((t for t in rest if t.lower() in ("dynamic", "static", "blackhole", "security",
                                                     "sticky", "authen", "mux")), "")
        if port:
            out.append((m.group(1), int(m.group(2)), port, kind))
    return out


def vrp_interfaces(text: str) -> list[tuple[str, bool]]:
    rows = _ntc("huawei_vrp", "display interface brief", text) or []
    return [(r["interface"], r["phy"].lower().startswith("up")) for r in rows]


_TRX_HEAD = re.compile(r"^\s*(\S+) transceiver information:\s*$")
_KV = re.compile(r"^\s*([^:]+?)\s*:\s*(.*?)\s*$")


def vrp_transceivers(text: str) -> dict[str, dict[str, str]]:
    """{interface: {key: value}} of ``display transceiver verbose``."""
    out: dict[str, dict[str, str]] = {}
    cur: dict[str, str] | None = None
    for line in text.splitlines():
        m = _TRX_HEAD.match(line)
        if m:
            cur = out.setdefault(m.group(1), {})
            continue
        kv = _KV.match(line)
        if cur is not None and kv and not line.strip().endswith("information:"):
            cur.setdefault(kv.group(1), kv.group(2))
    return out


def _dbm(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "-") else None  # type: ignore[arg-type]
    except ValueError:
        return None


def vrp_version(text: str) -> dict[str, str]:
    rows = _ntc("huawei_vrp", "display version", text) or [{}]
    r = rows[0]
    product = str(r.get("product_version", ""))  # "S5720 V200R011C10SPC500"
    firmware = product.split()[-1] if product else ""
    model = re.sub(r"\s+Routing Switch$", "", str(r.get("model", "")))
    return {"firmware": firmware, "model": model, "vrp": str(r.get("vrp_version", ""))}


# ------------------------------------------------------------------ H3C Comware

_COMWARE_VERSION = re.compile(r"Comware Software, Version ([\d.]+), (?:ESS |Release )?(\S+)")
_COMWARE_MODEL = re.compile(r"^H3C (\S+) uptime is", re.M)


def comware_version(text: str) -> dict[str, str]:
    m = _COMWARE_VERSION.search(text)
    model = _COMWARE_MODEL.search(text)
    return {"firmware": f"{m.group(1)} Release {m.group(2)}" if m else "",
            "model": model.group(1) if model else ""}


# ------------------------------------------------------------------ one device's outputs


def parse_outputs(platform: str, switch: str, outputs: dict[str, str], port_names: list[str]) -> SwitchL2:
    """Outputs by role (lldp, mac, ports, optics, version) -> observations (source "cli")."""
    resolve = PortResolver(port_names)
    out = SwitchL2()
    parse: dict[str, Callable[[str, str, SwitchL2, PortResolver], None]] = PLATFORMS[platform]
    for role, text in outputs.items():
        if text and role in parse:
            parse[role](switch, text, out, resolve)
    return out


def _vrp_lldp(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    out.lldp += [LldpNeighbor(sw, r(local), "", port, dev, "cli") for local, dev, port in vrp_lldp_brief(text)]


def _vrp_mac(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    for mac, vlan, port, kind in vrp_mac_table(text):
        if norm_mac(mac) and kind.lower() != "static":
            out.fdb.append(FdbEntry(sw, r(port), norm_mac(mac), vlan, "cli"))


def _vrp_ports(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    by_port = {p.port: i for i, p in enumerate(out.ports)}  # optics parsed first
    for name, up in vrp_interfaces(text):
        port = r(name)
        i = by_port.get(port)
        if i is None:
            out.ports.append(PortState(sw, port, 0, up, source="cli"))
        else:
            p = out.ports[i]
            out.ports[i] = PortState(sw, port, 0, up, p.rx_dbm, p.tx_dbm, "cli")


def _vrp_optics(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    by_port = {p.port: i for i, p in enumerate(out.ports)}
    for name, kv in vrp_transceivers(text).items():
        port = r(name)
        rx, tx = _dbm(kv.get("Current RX Power(dBm)")), _dbm(kv.get("Current TX Power(dBm)"))
        i = by_port.get(port)
        if i is None:
            out.ports.append(PortState(sw, port, 0, False, rx, tx, "cli"))
        else:
            p = out.ports[i]
            out.ports[i] = PortState(sw, port, p.if_index, p.up, rx, tx, "cli")


def _vrp_version(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    v = vrp_version(text)
    out.identity = Identity(sw, firmware=v["firmware"], model=v["model"], manufacturer="HUAWEI", source="cli")


def _comware_lldp(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    for row in _ntc("hp_comware", "display lldp neighbor-information list", text) or []:
        out.lldp.append(LldpNeighbor(sw, r(row["local_interface"]), norm_mac(row["chassis_id"]) or row["chassis_id"],
                                     row["neighbor_interface"], row["neighbor_name"], "cli"))


def _comware_mac(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    for row in _ntc("hp_comware", "display mac-address", text) or []:
        mac = norm_mac(row["mac_address"])
        if mac and row.get("state", "").lower() == "learned":
            out.fdb.append(FdbEntry(sw, r(row["interface"]), mac, int(row["vlan_id"] or 0), "cli"))


def _comware_ports(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    for row in _ntc("hp_comware", "display interface brief", text) or []:
        out.ports.append(PortState(sw, r(row["interface"]), 0, row["link"].upper() == "UP", source="cli"))


def _comware_version(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    v = comware_version(text)
    out.identity = Identity(sw, firmware=v["firmware"], model=v["model"], manufacturer="H3C", source="cli")


def _ios_lldp(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    for row in _ntc("cisco_ios", "show lldp neighbors", text) or []:
        out.lldp.append(LldpNeighbor(sw, r(row["local_interface"]), "", row["neighbor_interface"],
                                     row["neighbor_name"], "cli"))


def _ios_mac(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    for row in _ntc("cisco_ios", "show mac address-table", text) or []:
        ports = row["destination_port"]
        mac = norm_mac(row["destination_address"])
        if mac and row["type"].lower() == "dynamic" and ports:
            out.fdb.append(FdbEntry(sw, r(ports[0]), mac, int(row["vlan_id"] or 0), "cli"))


def _ios_ports(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    for row in _ntc("cisco_ios", "show interfaces status", text) or []:
        out.ports.append(PortState(sw, r(row["port"]), 0, row["status"] == "connected", source="cli"))


def _ios_version(sw: str, text: str, out: SwitchL2, r: PortResolver) -> None:
    rows = _ntc("cisco_ios", "show version", text) or [{}]
    v = rows[0]
    out.identity = Identity(sw, serial=(v.get("serial") or [""])[0], firmware=str(v.get("version", "")),
                            model=(v.get("hardware") or [""])[0], manufacturer="Cisco", source="cli")


PLATFORMS: dict[str, dict[str, Callable[[str, str, SwitchL2, PortResolver], None]]] = {
    "huawei_vrp": {"lldp": _vrp_lldp, "mac": _vrp_mac, "optics": _vrp_optics, "ports": _vrp_ports,
                   "version": _vrp_version},
    "hp_comware": {"lldp": _comware_lldp, "mac": _comware_mac, "ports": _comware_ports,
                   "version": _comware_version},
    "cisco_ios": {"lldp": _ios_lldp, "mac": _ios_mac, "ports": _ios_ports, "version": _ios_version},
}
# the commands per platform, in the order they are sent (optics before ports: ports keep the optics)
COMMANDS: dict[str, dict[str, str]] = {
    "huawei_vrp": {"lldp": "display lldp neighbor brief", "mac": "display mac-address",
                   "optics": "display transceiver verbose", "ports": "display interface brief",
                   "version": "display version"},
    "hp_comware": {"lldp": "display lldp neighbor-information list", "mac": "display mac-address",
                   "ports": "display interface brief", "version": "display version"},
    "cisco_ios": {"lldp": "show lldp neighbors", "mac": "show mac address-table",
                  "ports": "show interfaces status", "version": "show version"},
}
