"""Cross-object validation: references, uniqueness, ports, topology, geography."""

from __future__ import annotations

import logging

from sharpeyes.contract import VENDORS, canonical_vendor
from sharpeyes.yamlnodes import Problems

from .model import Device, Inventory, PortRef, Source
from .recording import validate_recording

log = logging.getLogger(__name__)


def validate_inventory(inv: Inventory, problems: Problems) -> None:
    _places(inv, problems)
    _devices(inv, problems)
    _vendors(inv)
    _ports(inv, problems)
    _topology(inv, problems)
    validate_recording(inv, problems)


def _places(inv: Inventory, p: Problems) -> None:
    b = inv.district.bbox
    if not (b.south < b.north and b.west < b.east):
        p.add(inv.district.source, f"district {inv.district.id}", "bbox",
              "south/west must be below north/east")
    for t in inv.townships.values():
        if t.contractor and t.contractor not in inv.contractors:
            p.add(t.source, f"township {t.id}", "contractor", f"unknown contractor {t.contractor!r}")
        if t.platform and t.platform not in inv.devices:
            p.add(t.source, f"township {t.id}", "platform", f"platform device {t.platform!r} does not exist")
    for v in inv.villages.values():
        if v.contractor and v.contractor not in inv.contractors:
            p.add(v.source, f"village {v.id}", "contractor", f"unknown contractor {v.contractor!r}")
    for s in inv.sites.values():
        if not b.contains(s.lat, s.lon):
            p.add(s.source, f"site {s.id}", "lat/lon",
                  f"({s.lat}, {s.lon}) is outside the district's bounding box "
                  f"(lat {b.south}..{b.north}, lon {b.west}..{b.east})")


def _resolve_contractor(inv: Inventory, dev: Device) -> str:
    if dev.contractor:
        return dev.contractor
    village = inv.villages.get(dev.village)
    if village is not None and village.contractor:
        return village.contractor
    township = inv.townships.get(dev.township)
    return township.contractor if township is not None else ""


def _devices(inv: Inventory, p: Problems) -> None:
    by_ip: dict[str, Device] = {}
    by_mac: dict[str, Device] = {}
    for dev in inv.devices.values():
        obj = f"device {dev.id}"
        explicit = dev.contractor
        dev.contractor = _resolve_contractor(inv, dev)
        if explicit and explicit not in inv.contractors:
            p.add(dev.source, obj, "contractor", f"unknown contractor {explicit!r}")
        elif not dev.contractor and dev.township:
            p.add(dev.source, obj, "contractor", "no contractor (set it on the device, village or township)")
        for value, seen, field in ((dev.ip, by_ip, "ip"), (dev.mac, by_mac, "mac")):
            if not value:
                continue
            other = seen.get(value)
            if other is not None:
                p.add(dev.source, obj, field, f"{value} is also used by device {other.id} ({other.source})")
            else:
                seen[value] = dev
        if dev.kind == "camera" and dev.bitrate_kbps < 0:
            p.add(dev.source, obj, "bitrate_kbps", "must not be negative")
        if dev.kind == "switch" and not dev.ports:
            p.add(dev.source, obj, "ports", "a switch needs its ports listed")


def _vendors(inv: Inventory) -> None:
    """An unknown vendor name is a warning (once per name, at its first use), not an error: the
    exporter decides a switch's family from what the device says."""
    unknown: dict[str, list[Device]] = {}
    for dev in inv.devices.values():
        if dev.vendor and canonical_vendor(dev.vendor) is None:
            unknown.setdefault(dev.vendor, []).append(dev)
    for name, devs in sorted(unknown.items()):
        first = devs[0]
        where = f"{first.source.file}:{first.source.line}" if first.source else "<inventory>"
        log.warning("%s: device %s: unknown vendor %r (%d device(s)); known: %s",
                    where, first.id, name, len(devs), ", ".join(VENDORS))


def _port_exists(inv: Inventory, ref: PortRef, src: Source | None, obj: str, field: str, p: Problems) -> bool:
    sw = inv.devices.get(ref.switch)
    if sw is None:
        p.add(src, obj, field, f"switch {ref.switch!r} does not exist")
        return False
    if sw.kind != "switch":
        p.add(src, obj, field, f"{ref.switch!r} is a {sw.kind}, not a switch")
        return False
    if all(port.name != ref.port for port in sw.ports):
        p.add(src, obj, field, f"switch {ref.switch} has no port {ref.port!r}")
        return False
    return True


def _ports(inv: Inventory, p: Problems) -> None:
    uplinks: dict[tuple[str, str], Device] = {}
    for dev in inv.devices.values():
        if dev.uplink is None:
            if (dev.kind != "switch" or dev.role != "core") and dev.active:
                p.add(dev.source, f"device {dev.id}", "uplink", "an active device needs an uplink")
            continue
        if dev.kind == "switch" and dev.role == "core":
            p.add(dev.source, f"device {dev.id}", "uplink", "a core switch has no uplink")
        if not _port_exists(inv, dev.uplink, dev.source, f"device {dev.id}", "uplink", p):
            continue
        key = (dev.uplink.switch, dev.uplink.port)
        other = uplinks.get(key)
        if other is not None:
            p.add(dev.source, f"device {dev.id}", "uplink",
                  f"port {dev.uplink} is already used by device {other.id} ({other.source})")
        else:
            uplinks[key] = dev
    ends: dict[tuple[str, str], str] = {}
    for link in inv.links.values():
        obj = f"fiber link {link.id}"
        ok = True
        for name, end in (("a", link.a), ("b", link.b)):
            if not _port_exists(inv, end, link.source, obj, name, p):
                ok = False
                continue
            key = (end.switch, end.port)
            if key in ends:
                p.add(link.source, obj, name, f"port {end} is already used by fiber link {ends[key]}")
                ok = False
            ends[key] = link.id
        if not ok:
            continue
        if link.a.switch == link.b.switch:
            p.add(link.source, obj, "b", "both ends are on the same switch")
        for end, far in ((link.a, link.b), (link.b, link.a)):
            user = uplinks.get((end.switch, end.port))
            if user is not None and user.id != far.switch:
                p.add(link.source, obj, "a" if end is link.a else "b",
                      f"port {end} is already used by device {user.id} ({user.source})")
        for name, end in (("a", link.a), ("b", link.b)):
            sw = inv.devices[end.switch]
            port = next(pt for pt in sw.ports if pt.name == end.port)
            if port.media != "fiber":
                p.add(link.source, obj, name, f"port {end} is a {port.media} port, not fiber")


_CYCLE = " cycle"  # ids never contain spaces


def _topology(inv: Inventory, p: Problems) -> None:
    """Follow every device's uplinks to the core; report cycles and active devices that cannot reach it."""
    # where each device's path stops: "" = the core (or a missing switch, which _ports reports),
    # _CYCLE, or the id of the device without an uplink where it ends
    stops: dict[str, str] = {}
    for dev in inv.devices.values():
        if dev.id in stops:
            continue
        chain: list[str] = []
        on_chain: set[str] = set()
        cur = dev.id
        while True:
            if cur in stops:
                stop = stops[cur]
                break
            if cur in on_chain:
                loop = " → ".join([*chain[chain.index(cur):], cur])
                p.add(dev.source, f"device {dev.id}", "uplink", f"topology cycle: {loop}")
                stop = _CYCLE
                break
            node = inv.devices.get(cur)
            if node is None:
                stop = ""
                break
            chain.append(cur)
            on_chain.add(cur)
            if node.kind == "switch" and node.role == "core":
                stop = ""
                break
            if node.uplink is None:
                stop = node.id
                break
            cur = node.uplink.switch
        for node_id in chain:
            stops[node_id] = stop
    for dev in inv.devices.values():
        stop = stops[dev.id]
        if dev.active and stop not in ("", _CYCLE, dev.id):
            end = inv.devices[stop]
            state = "" if end.active else f" ({end.status})"
            p.add(dev.source, f"device {dev.id}", "uplink",
                  f"not reachable from the core: its path ends at {stop}{state}, which has no uplink")
