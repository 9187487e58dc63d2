"""Who is responsible for an alert: contractor, area, township, village.

By default straight from the alert's labels (service discovery puts the inventory's values there).
With ``inventory: DIR`` in the config, the inventory is loaded once and is authoritative for the
devices and links it knows; labels fill in the rest. The inventory package is only touched here,
through the narrow API of docs/contract.md, so tickets/ runs without it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Assignment:
    contractor: str
    area: str
    township: str
    village: str
    # the active devices this alert's root cause takes down, per the inventory's topology (a fiber
    # cut: everything behind the link). Alertmanager inhibits the children's alerts, so the ticket
    # learns them here rather than from alerts that never arrive. Empty without an inventory.
    affected: tuple[str, ...] = ()


class InventoryUnavailable(Exception):
    """The inventory cannot be loaded; the message says why."""


def assign_from_labels(labels: Mapping[str, str]) -> Assignment:
    return Assignment(labels.get("contractor", ""), labels.get("area", ""),
                      labels.get("township", ""), labels.get("village", ""))


class InventoryAssigner:
    """Looks devices up by id (``device`` label) and fiber links by ``fiber_link`` for link alerts."""

    def __init__(self, inventory: Any) -> None:
        self.inv = inventory

    def _device_labels(self, device_id: str) -> dict[str, str] | None:
        if not device_id or device_id not in getattr(self.inv, "devices", {}):
            return None
        try:
            return dict(self.inv.target_labels(device_id))
        except (KeyError, ValueError):
            return None

    def affected(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        """Active devices behind the alert's root: the link's or switch's subtree, a village's devices."""
        scope = labels.get("scope", "")
        devices: Mapping[str, Any] = getattr(self.inv, "devices", {})
        topo = getattr(self.inv, "topology", None)
        links: Mapping[str, Any] = getattr(self.inv, "links", {})
        if topo is not None and scope == "fiber_link" and labels.get("fiber_link", "") in links:
            ids = set(topo.downstream(labels["fiber_link"]))
        elif topo is not None and scope == "switch" and labels.get("device", "") in devices:
            ids = {labels["device"], *topo.downstream(labels["device"])}
        elif scope == "village" and labels.get("village"):
            ids = {d.id for d in devices.values() if d.village == labels["village"]}
        else:
            return ()
        return tuple(sorted(i for i in ids if getattr(devices.get(i), "status", "") == "active"))

    def __call__(self, labels: Mapping[str, str]) -> Assignment:
        base = assign_from_labels(labels)
        affected = self.affected(labels)
        found = self._device_labels(labels.get("device", ""))
        if found is not None:
            return Assignment(found.get("contractor") or base.contractor, found.get("area") or base.area,
                              found.get("township") or base.township, found.get("village") or base.village,
                              affected)
        links: Mapping[str, Any] = getattr(self.inv, "links", {})
        link = links.get(labels.get("fiber_link", "")) if labels.get("scope") == "fiber_link" else None
        contractor = str(getattr(link, "contractor", "") or "") if link is not None else ""
        if not contractor and affected:  # a link's contractor is that of the zone it serves
            contractor = str(getattr(devices_get(self.inv, affected[0]), "contractor", "") or "")
        return Assignment(contractor or base.contractor, base.area, base.township, base.village, affected)


def devices_get(inv: Any, device_id: str) -> Any:
    return getattr(inv, "devices", {}).get(device_id)


def load_assigner(inventory_dir: str) -> Callable[[Mapping[str, str]], Assignment]:
    """The label assigner, or an inventory-backed one when a directory is configured."""
    if not inventory_dir:
        return assign_from_labels
    try:  # imported by name: optional, and used only through the adapter above
        inventory = importlib.import_module("inventory")
    except ImportError:
        raise InventoryUnavailable("inventory: the inventory package is not installed") from None
    try:
        inv = inventory.load_inventory(inventory_dir)
    except Exception as e:  # InventoryError and I/O errors; the package is optional
        errors = getattr(e, "errors", None)
        first = f": {errors[0]}" if errors else f": {e}"
        raise InventoryUnavailable(f"inventory: cannot load {inventory_dir}{first}") from None
    return InventoryAssigner(inv)
