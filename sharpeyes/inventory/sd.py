"""Prometheus service discovery and ``_info`` series from the inventory.

Targets are device ids (the exporter resolves address, auth and port map itself); labels are the
same for every module so that alerts and dashboards can join any series on ``device``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from sharpeyes.contract import (
    CAMERA_EXPECTED_BITRATE,
    DEVICE_INFO,
    FIBER_LINK_INFO,
    FIBER_LINK_RX_MIN_DBM,
    TARGET_LABELS,
)
from sharpeyes.contract import MODULES as CONTRACT_MODULES

from .model import Device, FiberLink, Inventory

# The SD label names and the module -> device kinds table are the contract's; kept under these names
# for the callers of this module.
LABELS = TARGET_LABELS
MODULES: dict[str, tuple[str, ...]] = {name: m.kinds for name, m in CONTRACT_MODULES.items()}


def target_labels(inv: Inventory, dev: Device) -> dict[str, str]:
    topo = inv.topology
    township = inv.townships.get(dev.township)
    return {
        "device": dev.id,
        "kind": dev.kind,
        "role": dev.role,
        "vendor": dev.vendor,
        "model": dev.model,
        "township": dev.township,
        "village": dev.village,
        "site": dev.site,
        "contractor": dev.contractor,
        "funding": dev.funding,
        "area": township.area if township else "urban",
        "uplink_switch": dev.uplink.switch if dev.uplink else "",
        "uplink_port": dev.uplink.port if dev.uplink else "",
        "fiber_link": topo.nearest_link(dev),
        "access_switch": topo.access_switch(dev),
        "agg_switch": topo.agg_switch(dev),
    }


def file_sd(inv: Inventory, module: str, townships: Collection[str] | None = None) -> list[dict[str, object]]:
    """One file_sd/http_sd group per device (labels differ per device).

    ``townships``: only devices whose ``township`` is one of these ("" = the district-level devices
    without a township: core switch, district platform); None = every device.
    """
    kinds = MODULES[module]
    groups: list[dict[str, object]] = []
    for dev in inv.active_devices():
        if dev.kind in kinds and (townships is None or dev.township in townships):
            groups.append({"targets": [dev.id], "labels": target_labels(inv, dev)})
    return groups


def http_sd(inv: Inventory, module: str) -> str:
    """The http_sd response body for a module (same target groups as file_sd).

    Raises KeyError for an unknown module, so that the server can answer 400 ``Unknown module "x"``.
    """
    if module not in MODULES:
        raise KeyError(module)
    return json.dumps(file_sd(inv, module), ensure_ascii=False, separators=(",", ":"))


HTTP_SD_CONTENT_TYPE = "application/json; charset=utf-8"  # what Prometheus' http_sd requires


def write_file_sd(inv: Inventory, out_dir: str | Path,
                  townships: Collection[str] | None = None) -> dict[str, int]:
    """Write ``<module>.json`` for every module atomically; return target counts (``townships``: see file_sd)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for module in MODULES:
        groups = file_sd(inv, module, townships)
        tmp = out / f".{module}.json.tmp"
        tmp.write_text(json.dumps(groups, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(out / f"{module}.json")
        counts[module] = len(groups)
    return counts


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(d: dict[str, str]) -> str:
    return ",".join(f'{k}="{_esc(v)}"' for k, v in d.items())


def link_labels(inv: Inventory, link: FiberLink) -> dict[str, str]:
    """The labels of a fiber link's ``sharpeyes_fiber_link_info`` series."""
    township = inv.townships.get(link.township)
    contractor = link.contractor or (township.contractor if township else "")
    return {
        "fiber_link": link.id, "a_switch": link.a.switch, "a_port": link.a.port,
        "b_switch": link.b.switch, "b_port": link.b.port, "township": link.township,
        "contractor": contractor, "area": township.area if township else "urban", "build": link.build,
    }


def info_metrics(inv: Inventory, townships: Collection[str] | None = None) -> str:
    """The inventory as Prometheus text: ``sharpeyes_device_info`` and friends (active objects only).

    ``townships``: only the devices and fiber links of these townships ("" = district level); None = all.
    """
    out = [
        f"# HELP {DEVICE_INFO} Inventory record of an active device (value 1).",
        f"# TYPE {DEVICE_INFO} gauge",
    ]
    bitrates = []
    for dev in inv.active_devices():
        if townships is not None and dev.township not in townships:
            continue
        labels = target_labels(inv, dev)
        site = inv.sites.get(dev.site)
        labels["lat"] = f"{site.lat:.6f}" if site else ""
        labels["lon"] = f"{site.lon:.6f}" if site else ""
        labels["name"] = dev.name
        out.append(f"{DEVICE_INFO}{{{_labels(labels)}}} 1")
        if dev.kind == "camera":
            bitrates.append(f'{CAMERA_EXPECTED_BITRATE}{{device="{_esc(dev.id)}"}} '
                            f"{dev.bitrate_kbps * 125}")
    out += [
        f"# HELP {CAMERA_EXPECTED_BITRATE}"
        " Configured main-stream bitrate in the inventory.",
        f"# TYPE {CAMERA_EXPECTED_BITRATE} gauge",
        *bitrates,
        f"# HELP {FIBER_LINK_INFO} Inventory record of an active fiber link (value 1).",
        f"# TYPE {FIBER_LINK_INFO} gauge",
    ]
    thresholds = []
    for link in inv.links.values():
        if not link.active or (townships is not None and link.township not in townships):
            continue
        labels = link_labels(inv, link)
        out.append(f"{FIBER_LINK_INFO}{{{_labels(labels)}}} 1")
        thresholds.append(
            f'{FIBER_LINK_RX_MIN_DBM}{{fiber_link="{_esc(link.id)}"}} {link.rx_min_dbm}')
    out += [
        f"# HELP {FIBER_LINK_RX_MIN_DBM} Receive power alarm threshold of the link in dBm.",
        f"# TYPE {FIBER_LINK_RX_MIN_DBM} gauge",
        *thresholds,
    ]
    return "\n".join(out) + "\n"
