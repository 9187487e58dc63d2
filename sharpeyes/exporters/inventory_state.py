"""The loaded inventory as the exporter serves it: targets, port maps, SD groups, ``_info`` text.

Everything derived is computed once per load (in a worker thread) and shared read-only by every
request until the next load replaces the whole object; nothing here changes after construction
except the lazily filled per-module SD cache.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.exporters.addresses import canonical_ip
from sharpeyes.exporters.probers.base import PortInfo, Target
from sharpeyes.inventory import Inventory, InventoryError, load_inventory
from sharpeyes.inventory.model import Device
from sharpeyes.inventory.sd import info_metrics, target_labels
from sharpeyes.yamlnodes import Problem

SAMPLE = SAMPLE_DISTRICT
# Devices whose physical port we still want to see on their switch (planned ones are not cabled yet).
_CABLED = frozenset({"active", "staged", "offline", "failed", "decommissioning"})


def signature(directory: str | Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detector for an inventory directory: (path, mtime_ns, size) of every YAML file."""
    out: list[tuple[str, int, int]] = []
    stack = [str(directory)]
    while stack:
        cur = stack.pop()
        try:
            entries = list(os.scandir(cur))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif entry.name.endswith((".yaml", ".yml")):
                try:
                    st = entry.stat()
                except OSError:
                    continue
                out.append((entry.path, st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


def port_map(inv: Inventory) -> dict[str, tuple[PortInfo, ...]]:
    """switch id -> the ports that carry an inventory device or end a fiber link."""
    found: dict[str, dict[str, tuple[str, str]]] = {}  # switch -> port -> (device, link)
    for dev in inv.devices.values():
        if dev.uplink is not None and dev.status in _CABLED:
            ports = found.setdefault(dev.uplink.switch, {})
            ports[dev.uplink.port] = (dev.id, ports.get(dev.uplink.port, ("", ""))[1])
    for link in inv.links.values():
        if link.status not in _CABLED:
            continue
        for end in (link.a, link.b):
            ports = found.setdefault(end.switch, {})
            ports[end.port] = (ports.get(end.port, ("", ""))[0], link.id)
    out: dict[str, tuple[PortInfo, ...]] = {}
    for switch_id, ports in found.items():
        switch = inv.devices.get(switch_id)
        if switch is None:
            continue
        media = {p.name: p.media for p in switch.ports}
        order = {p.name: i for i, p in enumerate(switch.ports)}
        names = sorted(ports, key=lambda n: (order.get(n, len(order)), n))
        out[switch_id] = tuple(
            PortInfo(n, media.get(n, "fiber" if ports[n][1] else "copper"), ports[n][0], ports[n][1])
            for n in names)
    return out


@dataclass(slots=True)
class InventoryState:
    directory: str
    inventory: Inventory
    signature: tuple[tuple[str, int, int], ...]
    ports: dict[str, tuple[PortInfo, ...]]
    labels: dict[str, dict[str, str]]  # active device id -> SD target labels
    info_text: bytes  # /inventory/metrics, rendered once per load
    device_counts: Counter[tuple[str, str]]  # (kind, status) -> n
    _sd: dict[tuple[str, ...], bytes] = field(default_factory=dict)
    # township shard (--inventory.township): None = every device; "" = the district-level devices
    townships: tuple[str, ...] | None = None
    foreign_ips: frozenset[str] = frozenset()  # addresses of the inventory's devices outside the shard

    @classmethod
    def load(cls, directory: str | Path | None) -> InventoryState:
        """Load and derive everything (blocking: run it in a thread). Raises InventoryError."""
        path = Path(directory) if directory is not None else SAMPLE
        sig = signature(path)
        inv = load_inventory(path)
        labels = {d.id: target_labels(inv, d) for d in inv.active_devices()}
        counts = Counter((d.kind, d.status) for d in inv.devices.values())
        return cls(str(path), inv, sig, port_map(inv), labels, info_metrics(inv).encode("utf-8"), counts)

    def restrict(self, townships: Iterable[str] | None) -> InventoryState:
        """A view served by a township shard: SD, ``_info`` series and device counts of these townships
        only ("" = the devices without a township). Resolution (addresses, port maps) still sees the
        whole inventory. Raises InventoryError for a township the inventory does not have."""
        if townships is None:
            return self
        wanted = tuple(dict.fromkeys(townships))
        inv = self.inventory
        unknown = [t for t in wanted if t and t not in inv.townships]
        if unknown:
            raise InventoryError([Problem(self.directory, 0, "", "--inventory.township",
                                          f"no township {t!r} in the inventory") for t in unknown])
        mine = {d.id for d in inv.devices.values() if d.township in wanted}
        labels = {dev_id: lab for dev_id, lab in self.labels.items() if dev_id in mine}
        counts = Counter((d.kind, d.status) for d in inv.devices.values() if d.id in mine)
        foreign = frozenset(canonical_ip(d.ip) for d in inv.devices.values() if d.id not in mine and d.ip)
        return InventoryState(self.directory, inv, self.signature, self.ports, labels,
                              info_metrics(inv, wanted).encode("utf-8"), counts, {}, wanted, foreign)

    def owns(self, dev: Device) -> bool:
        """Whether this exporter's township shard covers the device (always, without a shard)."""
        return self.townships is None or dev.township in self.townships

    def shard_text(self) -> str:
        """The shard for messages: 'baodong, "" (district level)'."""
        if self.townships is None:
            return "all townships"
        return ", ".join(t or '"" (district level)' for t in self.townships)

    def device(self, device_id: str) -> Device | None:
        return self.inventory.devices.get(device_id)

    def target(self, dev: Device, auth: object) -> Target:
        return Target(dev.id, dev.ip, dev.kind, dev.vendor, dev.model, auth, self.ports.get(dev.id, ()),
                      dev.rtsp_port, dev.onvif_port)

    def sd_json(self, kinds: Iterable[str]) -> bytes:
        """http_sd groups (one per active device of these kinds), JSON-encoded once per load."""
        key = tuple(kinds)
        cached = self._sd.get(key)
        if cached is None:
            wanted = set(key)
            devices = self.inventory.devices
            groups = [{"targets": [dev_id], "labels": labels} for dev_id, labels in self.labels.items()
                      if devices[dev_id].kind in wanted]
            cached = self._sd[key] = json.dumps(groups, ensure_ascii=False).encode("utf-8")
        return cached
