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
- ``unresolved_port`` (warning): a switch that was polled fine has no interface for some of the
  inventory's ports, by name, case-folded or with the vendor's abbreviations (one per switch; the
  exporter counts the same ports in ``sharpeyes_switch_unresolved_ports``).

Edge vs transit: a MAC learnt on a fiber port, on a port ending a fiber link, on a port the
inventory gives to another switch, or on a port whose LLDP neighbour is a known switch is in
transit; only edge sightings locate a device. So a rogue laptop behind an access switch, which
the aggregation and core switches also learn on their downlinks, is one finding, not three.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sharpeyes.exporters.discovery.model import Identity, Observations, norm_mac
from sharpeyes.exporters.snmp.ifmib import normalise
from sharpeyes.inventory.model import Device, Inventory

TYPES = ("unknown_device", "replaced_device", "moved_device", "missing_device", "unresolved_port",
         "firmware_drift")
SEVERITY = {
    "unknown_device": "critical",
    "replaced_device": "warning",
    "moved_device": "warning",
    "missing_device": "warning",
    "unresolved_port": "warning",
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


@dataclass(slots=True)
class _Seen:
    """What one run observed, indexed the ways the finders look it up."""

    inv: Inventory
    obs: Observations
    baseline: Mapping[str, str]
    by_mac: dict[str, Device]  # normalised MAC -> inventory device
    seen: set[str]  # every MAC learnt anywhere or announced by LLDP
    lldp_names: set[str]
    edge: dict[str, set[tuple[str, str]]]  # MAC -> edge (switch, port) places
    at_port: dict[tuple[str, str], set[str]]  # edge (switch, port) -> MACs
    polled: set[str]  # devices polled fine
    attempted: set[str]  # devices an SNMP/CLI poll was tried on
    identities: dict[str, Identity]  # device id -> merged identity (SNMP/CLI/ONVIF)
    # filled by the finders that run first, read by the later ones (see FINDERS)
    explained: set[str] = field(default_factory=set)  # MACs a known device or a replacement explains
    replaced: set[str] = field(default_factory=set)  # device ids found replaced


def _index(inv: Inventory, obs: Observations, baseline: Mapping[str, str] | None) -> _Seen:
    by_mac: dict[str, Device] = {}
    for d in inv.devices.values():
        m = norm_mac(d.mac)
        if m:
            by_mac[m] = d
    transit = transit_ports(inv, obs)
    edge: dict[str, set[tuple[str, str]]] = defaultdict(set)
    at_port: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in obs.fdb:
        if (e.switch, e.port) in transit:
            continue
        edge[e.mac].add((e.switch, e.port))
        at_port[(e.switch, e.port)].add(e.mac)
    return _Seen(
        inv, obs, baseline or {}, by_mac,
        seen={e.mac for e in obs.fdb} | {n.chassis_id for n in obs.lldp},
        lldp_names={n.sys_name for n in obs.lldp if n.sys_name},
        edge=edge, at_port=at_port, polled=obs.polled_ok(),
        attempted={p.device for p in obs.polls if p.protocol in ("snmp", "cli")},
        identities=obs.merged_identities(),
    )


def _finding(kind: str, s: _Seen, dev: Device | None, switch: str, port: str, mac: str, detail: str,
             expected: dict[str, str] | None = None, observed: dict[str, str] | None = None) -> Finding:
    f = Finding(kind, SEVERITY[kind], dev.id if dev else "", switch, port, mac, detail=detail,
                expected=expected or {}, observed=observed or {})
    return _place(s.inv, f, dev, switch)


def _moved(s: _Seen) -> Iterator[Finding]:
    """A known device learnt on an edge port that is not its uplink."""
    for mac, places in sorted(s.edge.items()):
        dev = s.by_mac.get(mac)
        if dev is None:
            continue
        s.explained.add(mac)
        if dev.kind == "switch" or dev.uplink is None or not dev.active:
            continue
        home = (dev.uplink.switch, dev.uplink.port)
        if home in places:
            continue
        sw, port = sorted(places)[0]
        yield _finding("moved_device", s, dev, sw, port, mac,
                       f"seen on {sw} {port}, inventory says {home[0]} {home[1]}",
                       expected={"switch": home[0], "port": home[1]}, observed={"switch": sw, "port": port})


def _stranger(s: _Seen, dev: Device, home: tuple[str, str]) -> str | None:
    """The unknown MAC answering at the device's place while its own MAC is seen nowhere, if any."""
    own = norm_mac(dev.mac)
    if home[0] not in s.polled or not own or own in s.seen:
        return None
    strangers = sorted(m for m in s.at_port.get(home, ()) if m not in s.by_mac)
    return strangers[0] if strangers else None


def _new_serial(s: _Seen, dev: Device) -> str | None:
    """The serial number the device reports when it is not the inventory's."""
    ident = s.identities.get(dev.id)
    if ident and ident.serial and dev.serial and ident.serial != dev.serial:
        return ident.serial
    return None


def _replaced(s: _Seen) -> Iterator[Finding]:
    """A new MAC at the device's place while its own MAC is gone, or another serial number."""
    for dev in sorted(s.inv.active_devices(), key=lambda d: d.id):
        if dev.kind == "switch" or dev.uplink is None:
            continue
        home = (dev.uplink.switch, dev.uplink.port)
        stranger, serial = _stranger(s, dev, home), _new_serial(s, dev)
        if stranger is None and serial is None:
            continue
        if stranger is not None:
            new_mac = stranger
            s.explained.add(new_mac)
        else:
            ident = s.identities.get(dev.id)
            new_mac = ident.mac if ident and ident.mac else ""
        observed = {"mac": new_mac} if new_mac else {}
        expected = {"mac": norm_mac(dev.mac)} if new_mac else {}
        if serial is not None:
            observed["serial"] = serial
            expected["serial"] = dev.serial
        what = " and ".join(k for k in ("mac", "serial") if k in observed)
        s.replaced.add(dev.id)
        yield _finding("replaced_device", s, dev, home[0], home[1], new_mac,
                       f"{what} changed at {home[0]} {home[1]}", expected=expected, observed=observed)


def _unknown(s: _Seen) -> Iterator[Finding]:
    """Edge MACs nobody explains, once per MAC (first place; the others in the detail)."""
    for mac, places in sorted(s.edge.items()):
        if mac in s.by_mac or mac in s.explained:
            continue
        sw, port = sorted(places)[0]
        others = ", ".join(f"{w} {p}" for w, p in sorted(places)[1:])
        yield _finding("unknown_device", s, None, sw, port, mac,
                       f"MAC not in the inventory on edge port {sw} {port}" + (f" (also {others})" if others else ""),
                       observed={"switch": sw, "port": port})


def _missing(s: _Seen) -> Iterator[Finding]:
    """Judged only where we looked: in the run's scope, and the uplink switch answered."""
    for dev in scope_devices(s.inv, s.obs.scope):
        own = norm_mac(dev.mac)
        if not own or dev.uplink is None or dev.id in s.replaced or own in s.seen:
            continue
        parent = dev.uplink.switch
        if parent not in s.polled:
            continue
        if dev.kind == "switch" and (dev.id in s.polled or dev.id not in s.attempted or dev.id in s.lldp_names):
            continue
        yield _finding("missing_device", s, dev, parent, dev.uplink.port, own,
                       f"not seen on {parent} {dev.uplink.port} nor anywhere else",
                       expected={"switch": parent, "port": dev.uplink.port})


def _firmware_drift(s: _Seen) -> Iterator[Finding]:
    """The reported firmware differs from the model's baseline, else from the inventory's."""
    for dev_id, ident in sorted(s.identities.items()):
        dev = s.inv.devices.get(dev_id)
        if dev is None or not ident.firmware:
            continue
        want = s.baseline.get(dev.model) or dev.firmware
        if want and ident.firmware != want:
            yield _finding("firmware_drift", s, dev, dev.uplink.switch if dev.uplink else "",
                           dev.uplink.port if dev.uplink else "", norm_mac(dev.mac),
                           f"runs {ident.firmware}, expected {want}",
                           expected={"firmware": want}, observed={"firmware": ident.firmware})


def _unresolved_ports(s: _Seen) -> Iterator[Finding]:
    """Inventory ports a switch that answered does not have (judged only on switches that reported
    their interfaces in this run)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for p in s.obs.ports:
        seen[p.switch] |= {p.port, p.port.casefold(), normalise(p.port)}
    for sw in sorted((d for d in s.inv.active_devices() if d.kind == "switch"), key=lambda d: d.id):
        names = seen.get(sw.id)
        if sw.id not in s.polled or not names:
            continue
        missing = [p.name for p in sw.ports if not {p.name, p.name.casefold(), normalise(p.name)} & names]
        if missing:
            yield _finding("unresolved_port", s, sw, sw.id, missing[0], "",
                           f"{len(missing)} inventory port(s) not on the switch: {', '.join(missing[:20])}",
                           expected={"ports": ", ".join(missing)})


# One finder per finding type, in the order they run: moved and replaced mark the MACs they explain
# and the devices they find replaced, which unknown and missing then leave alone. The first finding
# of a (type, device or MAC) key wins.
FINDERS: tuple[tuple[str, Callable[[_Seen], Iterator[Finding]]], ...] = (
    ("moved_device", _moved),
    ("replaced_device", _replaced),
    ("unknown_device", _unknown),
    ("missing_device", _missing),
    ("unresolved_port", _unresolved_ports),
    ("firmware_drift", _firmware_drift),
)
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def reconcile(inv: Inventory, obs: Observations, baseline: Mapping[str, str] | None = None) -> list[Finding]:
    """Every finding, exactly once, sorted by severity then type, township, device/MAC."""
    seen = _index(inv, obs, baseline)
    findings: dict[tuple[str, str], Finding] = {}
    for _, finder in FINDERS:
        for f in finder(seen):
            findings.setdefault(f.key, f)
    return sorted(findings.values(), key=lambda f: (
        SEVERITY_ORDER.get(f.severity, 3), TYPES.index(f.type), f.township, f.device, f.mac))


def summary(findings: Iterable[Finding], by: str) -> dict[str, Counter[str]]:
    """{township or contractor: Counter(type)}: the per-township / per-contractor report."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for f in findings:
        out[getattr(f, by) or "-"][f.type] += 1
    return dict(sorted(out.items()))
