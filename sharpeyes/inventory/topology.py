"""Topology questions the alerts and tickets need: what is downstream, what is the path to the core."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Device, FiberLink, Inventory


class Topology:
    """Derived from the devices' uplinks and the fiber links; built once per loaded inventory."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.children: dict[str, list[str]] = defaultdict(list)
        self.link_end: dict[tuple[str, str], str] = {}  # (switch, port) -> link id
        self.uplink_link: dict[str, str] = {}  # device id -> the fiber link carrying its uplink
        self.link_child: dict[str, str] = {}  # link id -> the device whose uplink it carries
        for dev in inv.devices.values():
            if dev.uplink is not None:
                self.children[dev.uplink.switch].append(dev.id)
        for link in inv.links.values():
            self.link_end[(link.a.switch, link.a.port)] = link.id
            self.link_end[(link.b.switch, link.b.port)] = link.id
            child = self._child_end(link)
            if child:
                self.uplink_link[child] = link.id
                self.link_child[link.id] = child

    def _child_end(self, link: FiberLink) -> str:
        devs = self.inv.devices
        for near, far in ((link.a, link.b), (link.b, link.a)):
            dev = devs.get(near.switch)
            if dev is not None and dev.uplink == far:
                return dev.id
        return ""

    def parent(self, device_id: str) -> str:
        up = self.inv.devices[device_id].uplink
        return up.switch if up else ""

    def path_to_core(self, device_id: str) -> list[str]:
        """[device, link?, uplink switch, link?, …, core]; links appear where a fiber carries the hop."""
        path = [device_id]
        seen = {device_id}
        cur = device_id
        while True:
            parent = self.parent(cur)
            if not parent or parent not in self.inv.devices or parent in seen:
                return path
            link = self.uplink_link.get(cur)
            if link:
                path.append(link)
            path.append(parent)
            seen.add(parent)
            cur = parent

    def downstream(self, node_id: str) -> set[str]:
        """Every device whose path to the core goes through this device or fiber link."""
        if node_id in self.inv.links:
            child = self.link_child.get(node_id)
            return {child} | self.downstream(child) if child else set()
        out: set[str] = set()
        stack = list(self.children.get(node_id, ()))
        while stack:
            cur = stack.pop()
            if cur in out:
                continue
            out.add(cur)
            stack.extend(self.children.get(cur, ()))
        return out

    def access_switch(self, dev: Device) -> str:
        if dev.kind == "switch":
            return dev.id if dev.role == "access" else ""
        up = self.inv.devices.get(dev.uplink.switch) if dev.uplink else None
        return up.id if up is not None and up.role == "access" else ""

    def agg_switch(self, dev: Device) -> str:
        for node in self.path_to_core(dev.id):
            d = self.inv.devices.get(node)
            if d is not None and d.kind == "switch" and d.role == "aggregation":
                return d.id
        return ""

    def nearest_link(self, dev: Device) -> str:
        """The fiber link nearest to the device on its path (its own, or its uplink switch's)."""
        for node in self.path_to_core(dev.id):
            if node in self.inv.links:
                return node
        return ""
