"""Write an Inventory back to the reviewed YAML layout (district.yaml + townships/<id>.yaml).

The output is stable (fixed key order, one device per block) so that a regenerated or imported
inventory diffs cleanly in code review.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from .model import Device, FiberLink, Inventory, Port, Site

_PLAIN = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^,\[\]{}#'\"]*$")
_AMBIGUOUS = frozenset({"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"})


def q(value: object) -> str:
    """A YAML scalar that reads back as the same string (plain when safe, else double-quoted)."""
    s = str(value)
    if (
        _PLAIN.match(s)
        and s.lower() not in _AMBIGUOUS
        and not s.endswith((" ", ":"))
        and ": " not in s
        and " #" not in s
    ):
        return s
    return json.dumps(s, ensure_ascii=False)


def compress_ports(ports: tuple[Port, ...]) -> list[str]:
    """Inverse of loader.expand_ports: consecutive numbered ports of one media become a range."""
    out: list[str] = []
    run: list[tuple[str, int, str]] = []

    def flush() -> None:
        if not run:
            return
        prefix, first, media = run[0]
        last = run[-1][1]
        name = f"{prefix}{first}-{last}" if len(run) > 1 else f"{prefix}{first}"
        out.append(name if media == "copper" else f"{name}:{media}")
        run.clear()

    for port in ports:
        m = re.match(r"^(.*?)(\d+)$", port.name)
        if not m:
            flush()
            out.append(port.name if port.media == "copper" else f"{port.name}:{port.media}")
            continue
        prefix, num = m.group(1), int(m.group(2))
        if run and (run[-1][0] != prefix or run[-1][1] + 1 != num or run[-1][2] != port.media):
            flush()
        run.append((prefix, num, port.media))
    flush()
    return out


def _device(dev: Device, inherited_contractor: str, ind: str) -> list[str]:
    lines = [f"{ind}- id: {q(dev.id)}", f"{ind}  kind: {dev.kind}", f"{ind}  role: {dev.role}",
             f"{ind}  name: {q(dev.name)}"]
    a = lines.append
    for key in ("vendor", "model", "serial", "firmware"):
        value = getattr(dev, key)
        if value:
            a(f"{ind}  {key}: {q(value)}")
    if dev.mac:
        a(f"{ind}  mac: {q(dev.mac)}")
    a(f"{ind}  ip: {dev.ip}")
    if dev.funding:
        a(f"{ind}  funding: {dev.funding}")
    if dev.installed:
        a(f"{ind}  installed: {dev.installed.isoformat()}")
    if dev.status != "active":
        a(f"{ind}  status: {dev.status}")
    if dev.contractor and dev.contractor != inherited_contractor:
        a(f"{ind}  contractor: {q(dev.contractor)}")
    if dev.auth:
        a(f"{ind}  auth: {q(dev.auth)}")
    if dev.kind == "camera":
        a(f"{ind}  bitrate_kbps: {dev.bitrate_kbps}")
        if dev.rtsp_port != 554:
            a(f"{ind}  rtsp_port: {dev.rtsp_port}")
        if dev.onvif_port != 80:
            a(f"{ind}  onvif_port: {dev.onvif_port}")
    if dev.ports:
        a(f"{ind}  ports: [{', '.join(q(p) for p in compress_ports(dev.ports))}]")
    if dev.uplink:
        a(f"{ind}  uplink: {{switch: {q(dev.uplink.switch)}, port: {q(dev.uplink.port)}}}")
    if dev.tags:
        a(f"{ind}  tags: [{', '.join(q(t) for t in dev.tags)}]")
    if dev.recording:
        r = dev.recording
        extra = (f", plan: {q(r.plan)}" if r.plan != "24x7" else "") + (
            f", retention_days: {r.retention_days}" if r.retention_days else "")
        a(f"{ind}  recording: {{recorder: {q(r.recorder)}, channel: {r.channel}{extra}}}")
    return lines


def _sites(sites: list[Site], devices: dict[str, list[Device]], contractor: str, ind: str) -> list[str]:
    lines: list[str] = []
    for site in sites:
        lines += [f"{ind}- id: {q(site.id)}", f"{ind}  name: {q(site.name)}",
                  f"{ind}  lat: {site.lat:.6f}", f"{ind}  lon: {site.lon:.6f}"]
        devs = devices.get(site.id, [])
        if devs:
            lines.append(f"{ind}  devices:")
            for dev in devs:
                lines += _device(dev, contractor, ind + "    ")
    return lines


def _links(links: list[FiberLink]) -> list[str]:
    lines = ["fiber_links:"] if links else []
    for link in links:
        lines += [
            f"  - id: {q(link.id)}",
            f"    a: {{switch: {q(link.a.switch)}, port: {q(link.a.port)}}}",
            f"    b: {{switch: {q(link.b.switch)}, port: {q(link.b.port)}}}",
            f"    length_m: {link.length_m}",
            f"    cores: {link.cores}",
            f"    budget_db: {link.budget_db}",
            f"    rx_min_dbm: {link.rx_min_dbm}",
        ]
        if link.build:
            lines.append(f"    build: {q(link.build)}")
        if link.status != "active":
            lines.append(f"    status: {link.status}")
        if link.contractor:
            lines.append(f"    contractor: {q(link.contractor)}")
    return lines


def render_files(inv: Inventory) -> dict[str, str]:
    """Relative path → file text."""
    devices: dict[str, list[Device]] = defaultdict(list)
    for dev in inv.devices.values():
        devices[dev.site].append(dev)
    sites_of: dict[tuple[str, str], list[Site]] = defaultdict(list)
    for site in inv.sites.values():
        sites_of[(site.township, site.village)].append(site)
    links_of: dict[str, list[FiberLink]] = defaultdict(list)
    for link in inv.links.values():
        links_of[link.township].append(link)

    d = inv.district
    b = d.bbox
    lines = [
        f"# {d.name} {d.name_en}: district-level objects. Secrets never go here: `auth` names a profile.",
        "district:",
        f"  id: {q(d.id)}",
        f"  name: {q(d.name)}",
        f"  name_en: {q(d.name_en)}",
        f"  timezone: {q(d.timezone)}",
        f"  bbox: {{south: {b.south}, north: {b.north}, west: {b.west}, east: {b.east}}}",
        "contractors:",
    ]
    for c in inv.contractors.values():
        lines += [f"  - id: {q(c.id)}", f"    name: {q(c.name)}"]
        if c.name_en:
            lines.append(f"    name_en: {q(c.name_en)}")
        if c.phone:
            lines.append(f"    phone: {q(c.phone)}")
    centre = sites_of.get(("", ""), [])
    if centre:
        lines.append("sites:")
        lines += _sites(centre, devices, "", "  ")
    lines += _links(links_of.get("", []))
    files = {"district.yaml": "\n".join(lines) + "\n"}

    villages_of: dict[str, list[str]] = defaultdict(list)
    for v in inv.villages.values():
        villages_of[v.township].append(v.id)
    for t in inv.townships.values():
        lines = [
            f"# {t.name} {t.name_en}",
            "township:",
            f"  id: {q(t.id)}",
            f"  name: {q(t.name)}",
            f"  name_en: {q(t.name_en)}",
            f"  area: {t.area}",
            f"  contractor: {q(t.contractor)}",
        ]
        if t.platform:
            lines.append(f"  platform: {q(t.platform)}")
        own = sites_of.get((t.id, ""), [])
        if own:
            lines.append("sites:")
            lines += _sites(own, devices, t.contractor, "  ")
        lines.append("villages:")
        for vid in villages_of.get(t.id, []):
            v = inv.villages[vid]
            lines += [f"  - id: {q(v.id)}", f"    name: {q(v.name)}", f"    name_en: {q(v.name_en)}"]
            if v.contractor:
                lines.append(f"    contractor: {q(v.contractor)}")
            vsites = sites_of.get((t.id, v.id), [])
            if vsites:
                lines.append("    sites:")
                lines += _sites(vsites, devices, v.contractor or t.contractor, "      ")
        lines += _links(links_of.get(t.id, []))
        files[f"townships/{t.id}.yaml"] = "\n".join(lines) + "\n"
    return files


def write_inventory(inv: Inventory, out_dir: str | Path, tracker: Any = None) -> list[Path]:
    """``tracker`` (a :class:`sharpeyes.output.Tracker`) hears the file count and each file written."""
    out = Path(out_dir)
    (out / "townships").mkdir(parents=True, exist_ok=True)
    written = []
    files = render_files(inv)
    if tracker is not None:
        tracker.total(len(files))
    for rel, text in files.items():
        path = out / rel
        path.write_text(text, encoding="utf-8")
        written.append(path)
        if tracker is not None:
            tracker.advance()
    return written
