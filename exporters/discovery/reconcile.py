"""Observations + inventory -> findings. Pure functions: no I/O, no clock, no network.

Finding types (each reported exactly once per device, or per MAC for unknown devices):

- ``unknown_device`` (critical): a MAC on an edge (camera/access) port that the inventory does not
  know and that no replacement explains.
- ``replaced_device`` (warning): at a device's place (its uplink switch port) another MAC answers
  while the device's own MAC is seen nowhere, or the device reports another serial number.
- ``moved_device`` (warning): a known device's MAC is learnt on an edge port other than its uplink.
- ``missing_device`` (warning): an active device whose uplink switch was polled fine, but whose MAC
  is seen nowhere (not even in transit). A switch is missing when its own poll failed, its parent
  was polled fine and neither its MAC nor its LLDP name is seen. Devices behind a switch that was
  not polled fine are not judged (that is an outage, reported once by the switch).
- ``firmware_drift`` (info): the firmware a device reports differs from the expected one (the
  baseline for its model when given, else the inventory's ``firmware``).

Edge vs transit: a MAC learnt on a fiber port, on a port ending a fiber link, on a port the
inventory gives to another switch, or on a port whose LLDP neighbour is a known switch is in
transit; only edge sightings locate a device. So a rogue laptop behind an access switch, which
the aggregation and core switches also learn on their downlinks, is one finding, not three.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from exporters.discovery.model import Observations, norm_mac
from inventory.model import Device, Inventory

TYPES = ("unknown_device", "replaced_device", "moved_device", "missing_device", "firmware_drift")
SEVERITY = {
    "unknown_device": "critical",
    "replaced_device": "warning",
    "moved_device": "warning",
    "missing_device": "warning",
    "firmware_drift": "info",
}


@dataclass(slots=True)
class Finding:
    type: str
    severity: str
    device: str = ""
    switch: str = ""
    port: str = ""
    mac: str = ""
    village: str = ""
    township: str = ""
    contractor: str = ""
    detail: str = ""
    expected: dict[str, str] = field(default_factory=dict)
    observed: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.type, self.device or self.mac

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Finding:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def transit_ports(inv: Inventory, obs: Observations | None = None) -> set[tuple[str, str]]:
    """(switch, port) pairs that carry other switches' traffic (uplinks, trunks, fiber)."""
    out: set[tuple[str, str]] = set()
    switches = {d.id: d for d in inv.devices.values() if d.kind == "switch"}
    for sw in switches.values():
        out.update((sw.id, p.name) for p in sw.ports if p.media == "fiber")
        if sw.uplink is not None:
            out.add((sw.uplink.switch, sw.uplink.port))
    for link in inv.links.values():
        out.add((link.a.switch, link.a.port))
        out.add((link.b.switch, link.b.port))
    if obs is not None:
        macs = {norm_mac(d.mac) for d in switches.values() if d.mac}
        for n in obs.lldp:
            if n.sys_name in switches or (n.chassis_id and n.chassis_id in macs):
                out.add((n.switch, n.port))
    return out


def scope_devices(inv: Inventory, townships: Iterable[str]) -> list[Device]:
    """Active devices of the townships plus the switches on their way to the core (all if none)."""
    wanted = set(townships)
    active = {d.id: d for d in inv.active_devices()}
    if not wanted:
        return sorted(active.values(), key=lambda d: d.id)
    chosen = {d.id for d in active.values() if d.township in wanted}
    for dev_id in list(chosen):
        chosen.update(n for n in inv.topology.path_to_core(dev_id) if n in active)
    return sorted((active[i] for i in chosen if i in active), key=lambda d: d.id)


def _place(inv: Inventory, f: Finding, dev: Device | None, switch: str) -> Finding:
    """Fill village/township/contractor from the device, else from the switch it was seen on."""
    where = dev or inv.devices.get(switch)
    if where is not None:
        f.village = where.village
        f.township = where.township
        f.contractor = where.contractor
    return f


def reconcile(inv: Inventory, obs: Observations, baseline: Mapping[str, str] | None = None) -> list[Finding]:
    """Every finding, exactly once, sorted by severity then type, township, device/MAC."""
    by_mac: dict[str, Device] = {}
    for d in inv.devices.values():
        m = norm_mac(d.mac)
        if m:
            by_mac[m] = d
    transit = transit_ports(inv, obs)
    seen: set[str] = {e.mac for e in obs.fdb} | {n.chassis_id for n in obs.lldp}
    lldp_names = {n.sys_name for n in obs.lldp if n.sys_name}
    edge: dict[str, set[tuple[str, str]]] = defaultdict(set)
    at_port: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in obs.fdb:
        if (e.switch, e.port) in transit:
            continue
        edge[e.mac].add((e.switch, e.port))
        at_port[(e.switch, e.port)].add(e.mac)
    polled = obs.polled_ok()
    attempted = {p.device for p in obs.polls if p.protocol in ("snmp", "cli")}
    identities = obs.merged_identities()

    findings: dict[tuple[str, str], Finding] = {}
    explained: set[str] = set()

    def add(f: Finding) -> None:
        findings.setdefault(f.key, f)

    # moved: a known device learnt on an edge port that is not its uplink
    for mac, places in sorted(edge.items()):
        dev = by_mac.get(mac)
        if dev is None:
            continue
        explained.add(mac)
        if dev.kind == "switch" or dev.uplink is None or not dev.active:
            continue
        home = (dev.uplink.switch, dev.uplink.port)
        if home in places:
            continue
        sw, port = sorted(places)[0]
        add(_place(inv, Finding(
            "moved_device", SEVERITY["moved_device"], dev.id, sw, port, mac,
            detail=f"seen on {sw} {port}, inventory says {home[0]} {home[1]}",
            expected={"switch": home[0], "port": home[1]}, observed={"switch": sw, "port": port}),
            dev, sw))

    # replaced: a new MAC at the device's place (own MAC gone), or another serial number
    replaced: set[str] = set()
    for dev in sorted(inv.active_devices(), key=lambda d: d.id):
        if dev.kind == "switch" or dev.uplink is None:
            continue
        home = (dev.uplink.switch, dev.uplink.port)
        own = norm_mac(dev.mac)
        strangers = sorted(m for m in at_port.get(home, ()) if m not in by_mac)
        ident = identities.get(dev.id)
        serial_changed = bool(ident and ident.serial and dev.serial and ident.serial != dev.serial)
        mac_changed = home[0] in polled and bool(own) and own not in seen and bool(strangers)
        if not (mac_changed or serial_changed):
            continue
        new_mac = strangers[0] if mac_changed else (ident.mac if ident and ident.mac else "")
        if mac_changed:
            explained.add(new_mac)
        observed = {"mac": new_mac} if new_mac else {}
        expected = {"mac": own} if new_mac else {}
        if serial_changed and ident is not None:
            observed["serial"] = ident.serial
            expected["serial"] = dev.serial
        what = " and ".join(k for k in ("mac", "serial") if k in observed)
        replaced.add(dev.id)
        add(_place(inv, Finding(
            "replaced_device", SEVERITY["replaced_device"], dev.id, home[0], home[1], new_mac,
            detail=f"{what} changed at {home[0]} {home[1]}", expected=expected, observed=observed),
            dev, home[0]))

    # unknown: edge MACs nobody explains, once per MAC (first place; the others in the detail)
    for mac, places in sorted(edge.items()):
        if mac in by_mac or mac in explained:
            continue
        sw, port = sorted(places)[0]
        others = ", ".join(f"{s} {p}" for s, p in sorted(places)[1:])
        add(_place(inv, Finding(
            "unknown_device", SEVERITY["unknown_device"], "", sw, port, mac,
            detail=f"MAC not in the inventory on edge port {sw} {port}" + (f" (also {others})" if others else ""),
            observed={"switch": sw, "port": port}), None, sw))

    # missing: judged only where we looked (in the run's scope, and the uplink switch answered)
    for dev in scope_devices(inv, obs.scope):
        own = norm_mac(dev.mac)
        if not own or dev.uplink is None or dev.id in replaced or own in seen:
            continue
        parent = dev.uplink.switch
        if parent not in polled:
            continue
        if dev.kind == "switch" and (dev.id in polled or dev.id not in attempted or dev.id in lldp_names):
            continue
        add(_place(inv, Finding(
            "missing_device", SEVERITY["missing_device"], dev.id, parent, dev.uplink.port, own,
            detail=f"not seen on {parent} {dev.uplink.port} nor anywhere else",
            expected={"switch": parent, "port": dev.uplink.port}), dev, parent))

    # firmware drift
    for dev_id, ident in sorted(identities.items()):
        dev = inv.devices.get(dev_id)
        if dev is None or not ident.firmware:
            continue
        want = (baseline or {}).get(dev.model) or dev.firmware
        if want and ident.firmware != want:
            add(_place(inv, Finding(
                "firmware_drift", SEVERITY["firmware_drift"], dev.id,
                dev.uplink.switch if dev.uplink else "", dev.uplink.port if dev.uplink else "",
                norm_mac(dev.mac), detail=f"runs {ident.firmware}, expected {want}",
                expected={"firmware": want}, observed={"firmware": ident.firmware}), dev, ""))

    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(findings.values(),
                  key=lambda f: (order.get(f.severity, 3), TYPES.index(f.type), f.township, f.device, f.mac))


def summary(findings: Iterable[Finding], by: str) -> dict[str, Counter[str]]:
    """{township or contractor: Counter(type)}: the per-township / per-contractor report."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for f in findings:
        out[getattr(f, by) or "-"][f.type] += 1
    return dict(sorted(out.items()))
