"""Who is responsible for an alert: contractor, area, township, village.

By default straight from the alert's labels (service discovery puts the inventory's values there).
With ``inventory: DIR`` in the config, the inventory is loaded once and is authoritative for the
devices and links it knows; labels fill in the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sharpeyes.cli import EXIT_USAGE, UserError
from sharpeyes.inventory import Inventory, InventoryError, load_inventory
from sharpeyes.inventory.recording import RECORDER_KINDS, recorded_cameras


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


class InventoryUnavailable(UserError):
    """The inventory cannot be loaded; the message says why, the detail lines list the problems."""

    def __init__(self, message: str, detail: list[str] | None = None) -> None:
        super().__init__(message, detail or (), status=EXIT_USAGE)


def assign_from_labels(labels: Mapping[str, str]) -> Assignment:
    return Assignment(labels.get("contractor", ""), labels.get("area", ""),
                      labels.get("township", ""), labels.get("village", ""))


class InventoryAssigner:
    """Looks devices up by id (``device`` label) and fiber links by ``fiber_link`` for link alerts."""

    def __init__(self, inventory: Inventory) -> None:
        self.inv = inventory

    def _device_labels(self, device_id: str) -> dict[str, str] | None:
        if not device_id or device_id not in self.inv.devices:
            return None
        try:
            return dict(self.inv.target_labels(device_id))
        except (KeyError, ValueError):
            return None

    def affected(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        """Active devices behind the alert's root: the link's or switch's subtree, a village's devices."""
        scope = labels.get("scope", "")
        devices, topo = self.inv.devices, self.inv.topology
        if scope == "fiber_link" and labels.get("fiber_link", "") in self.inv.links:
            ids = set(topo.downstream(labels["fiber_link"]))
        elif scope == "switch" and labels.get("device", "") in devices:
            ids = {labels["device"], *topo.downstream(labels["device"])}
        elif scope == "village" and labels.get("village"):
            ids = {d.id for d in devices.values() if d.village == labels["village"]}
        elif scope == "device" and labels.get("device", "") in devices \
                and devices[labels["device"]].kind in RECORDER_KINDS:
            # a recorder's fault loses the recording of every channel it records
            ids = {labels["device"], *(d.id for d in recorded_cameras(self.inv, labels["device"]))}
        else:
            return ()
        return tuple(sorted(i for i in ids if i in devices and devices[i].status == "active"))

    def __call__(self, labels: Mapping[str, str]) -> Assignment:
        base = assign_from_labels(labels)
        affected = self.affected(labels)
        found = self._device_labels(labels.get("device", ""))
        if found is not None:
            return Assignment(found.get("contractor") or base.contractor, found.get("area") or base.area,
                              found.get("township") or base.township, found.get("village") or base.village,
                              affected)
        link = self.inv.links.get(labels.get("fiber_link", "")) if labels.get("scope") == "fiber_link" else None
        contractor = (link.contractor or "") if link is not None else ""
        if not contractor and affected:  # a link's contractor is that of the zone it serves
            contractor = self.inv.devices[affected[0]].contractor or ""
        return Assignment(contractor or base.contractor, base.area, base.township, base.village, affected)


def load_assigner(inventory_dir: str) -> Callable[[Mapping[str, str]], Assignment]:
    """The label assigner, or an inventory-backed one when a directory is configured."""
    if not inventory_dir:
        return assign_from_labels
    try:
        inv = load_inventory(inventory_dir)
    except InventoryError as e:
        err = e.user_error(f"inventory {inventory_dir}")
        raise InventoryUnavailable(err.message, err.detail) from None
    except (OSError, ValueError) as e:
        raise InventoryUnavailable(f"inventory {inventory_dir}: cannot load: {e}") from None
    return InventoryAssigner(inv)
