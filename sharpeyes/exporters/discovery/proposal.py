"""``reconcile --apply``: an inventory change PROPOSAL as a unified diff, never an edit in place.

What each finding proposes (a reviewer applies the patch with ``git apply`` / ``patch -p1`` in the
inventory directory, or not):
- replaced_device -> the device's ``mac`` / ``serial`` become the observed ones;
- moved_device    -> its ``uplink`` becomes the switch port it was seen on;
- missing_device  -> its ``status`` becomes ``offline`` (a person decides: fault, theft, removal);
- unknown_device and firmware_drift -> no inventory change (listed in the header: an unknown MAC
  needs an investigation, a drift needs an upgrade, not a new expected version).
The new files are rendered with inventory.writer (the layout the inventory is kept in) and
compared with the files on disk, so the patch applies to the directory as it is.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
from pathlib import Path

from sharpeyes.exporters.discovery.reconcile import Finding
from sharpeyes.inventory.diff import diff_inventories, format_diff
from sharpeyes.inventory.model import Inventory, PortRef
from sharpeyes.inventory.writer import render_files


def proposed_inventory(inv: Inventory, findings: list[Finding]) -> tuple[Inventory, list[str]]:
    """(a changed deep copy of the inventory, notes on findings that change nothing)."""
    new = copy.deepcopy(inv)
    new._topology = None
    notes: list[str] = []
    for f in findings:
        dev = new.devices.get(f.device) if f.device else None
        if f.type == "replaced_device" and dev is not None:
            new.devices[dev.id] = dataclasses.replace(dev, mac=f.observed.get("mac") or dev.mac,
                                                      serial=f.observed.get("serial") or dev.serial)
        elif f.type == "moved_device" and dev is not None:
            new.devices[dev.id] = dataclasses.replace(
                dev, uplink=PortRef(f.observed["switch"], f.observed["port"]))
        elif f.type == "missing_device" and dev is not None:
            new.devices[dev.id] = dataclasses.replace(dev, status="offline")
        elif f.type == "unknown_device":
            notes.append(f"unknown MAC {f.mac} on {f.switch} {f.port} ({f.township}/{f.village}): "
                         "investigate; not added")
        elif f.type == "firmware_drift":
            notes.append(f"{f.device}: {f.detail}: upgrade the device; expected firmware unchanged")
        elif f.type == "unresolved_port":
            notes.append(f"{f.device}: {f.detail}: correct the port names (ifName, ifDescr or ifAlias)")
    return new, notes


def render_patch(inv_dir: Path, inv: Inventory, findings: list[Finding]) -> tuple[str, int]:
    """(patch text with a comment header, number of files changed)."""
    new, notes = proposed_inventory(inv, findings)
    before = render_files(inv)
    after = render_files(new)
    chunks: list[str] = []
    changed = 0
    for rel in sorted(set(before) | set(after)):
        path = inv_dir / rel
        old_text = path.read_text(encoding="utf-8") if path.exists() else before.get(rel, "")
        new_text = after.get(rel, "")
        if old_text == new_text or before.get(rel) == after.get(rel):
            continue
        changed += 1
        chunks.append("".join(difflib.unified_diff(
            old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
            f"a/{rel}", f"b/{rel}")))
    summary = format_diff(diff_inventories(inv, new))
    header = [f"# sharpeyes inventory change proposal for {inv_dir} (review, then apply with "
              f"`patch -p1 -d {inv_dir} < THIS_FILE`)"]
    header += [f"# {line}" for line in summary.splitlines()]
    header += [f"# note: {n}" for n in notes]
    return "\n".join(header) + "\n" + "".join(chunks), changed
