"""sharpeyes inventory: the fleet's source of truth (district → township → village → site → device)."""

from .loader import InventoryError, load_inventory
from .model import Device, FiberLink, Inventory, PortRef, Site, Township, Village

__all__ = ["Device", "FiberLink", "Inventory", "InventoryError", "PortRef", "Site", "Township", "Village",
           "load_inventory"]
