"""Prometheus service discovery and ``_info`` series from the inventory.

Targets are device ids (the exporter resolves address, auth and port map itself); labels are the
same for every module so that alerts and dashboards can join any series on ``device``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from .model import Device, Inventory

LABELS = ("device", "kind", "role", "vendor", "model", "township", "village", "site", "contractor", "funding",
          "area", "uplink_switch", "uplink_port", "fiber_link", "access_switch", "agg_switch")

# which probe modules apply to which device kind
MODULES: dict[str, tuple[str, ...]] = {
    "icmp": ("camera", "switch", "nvr", "platform"),
    "rtsp": ("camera",),
    "snmp_camera": ("camera",),
    "snmp_switch": ("switch",),
    "onvif": ("camera",),
}


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


def info_metrics(inv: Inventory, townships: Collection[str] | None = None) -> str:
    """The inventory as Prometheus text: ``sharpeyes_device_info`` and friends (active objects only).

    ``townships``: only the devices and fiber links of these townships ("" = district level); None = all.
    """
    out = [
        "# HELP sharpeyes_device_info Inventory record of an active device (value 1).",
        "# TYPE sharpeyes_device_info gauge",
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
        out.append(f"sharpeyes_device_info{{{_labels(labels)}}} 1")
        if dev.kind == "camera":
            bitrates.append(f'sharpeyes_camera_expected_bitrate_bytes_per_second{{device="{_esc(dev.id)}"}} '
                            f"{dev.bitrate_kbps * 125}")
    out += [
        "# HELP sharpeyes_camera_expected_bitrate_bytes_per_second"
        " Configured main-stream bitrate in the inventory.",
        "# TYPE sharpeyes_camera_expected_bitrate_bytes_per_second gauge",
        *bitrates,
        "# HELP sharpeyes_fiber_link_info Inventory record of an active fiber link (value 1).",
        "# TYPE sharpeyes_fiber_link_info gauge",
    ]
    thresholds = []
    for link in inv.links.values():
        if not link.active or (townships is not None and link.township not in townships):
            continue
        township = inv.townships.get(link.township)
        contractor = link.contractor or (township.contractor if township else "")
        labels = {
            "fiber_link": link.id, "a_switch": link.a.switch, "a_port": link.a.port,
            "b_switch": link.b.switch, "b_port": link.b.port, "township": link.township,
            "contractor": contractor, "area": township.area if township else "urban", "build": link.build,
        }
        out.append(f"sharpeyes_fiber_link_info{{{_labels(labels)}}} 1")
        thresholds.append(
            f'sharpeyes_fiber_link_rx_min_dbm{{fiber_link="{_esc(link.id)}"}} {link.rx_min_dbm}')
    out += [
        "# HELP sharpeyes_fiber_link_rx_min_dbm Receive power alarm threshold of the link in dBm.",
        "# TYPE sharpeyes_fiber_link_rx_min_dbm gauge",
        *thresholds,
    ]
    return "\n".join(out) + "\n"
