"""Counts of the fleet, per township / village / kind / role / contractor / status / funding."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from typing import Any

from .model import Inventory


def compute_stats(inv: Inventory) -> dict[str, Any]:
    cams = [d for d in inv.devices.values() if d.kind == "camera"]
    district_funded = [c for c in cams if c.funding in ("sharp_eyes", "district")]
    villages = len(inv.villages)
    per_village = Counter(c.village for c in district_funded)
    sharp = [c for c in cams if c.funding == "sharp_eyes"]
    sharp_per_village = Counter(c.village for c in sharp)
    return {
        "district": inv.district.name,
        "townships": len(inv.townships),
        "township_platforms": sum(1 for t in inv.townships.values() if t.platform),
        "villages": villages,
        "sites": len(inv.sites),
        "devices": len(inv.devices),
        "cameras": len(cams),
        "district_funded_cameras": len(district_funded),
        # the report truncates: 1640 / 46 = 35.65 → "村均 35.6"
        "district_funded_per_village": math.floor(len(district_funded) * 10 / villages) / 10
        if villages
        else 0.0,
        "sharp_eyes_per_village_min": min(sharp_per_village.values(), default=0),
        "sharp_eyes_per_village_max": max(sharp_per_village.values(), default=0),
        "village_cameras_min": min(per_village.values(), default=0),
        "village_cameras_max": max(per_village.values(), default=0),
        "fiber_links": len(inv.links),
        "by_funding": dict(Counter(c.funding for c in cams)),
        "sharp_eyes_by_role": dict(Counter(c.role for c in sharp)),
        "fiber_links_by_build": dict(Counter(lk.build for lk in inv.links.values())),
        "by_kind": dict(Counter(d.kind for d in inv.devices.values())),
        "by_role": dict(Counter(f"{d.kind}/{d.role}" for d in inv.devices.values())),
        "by_status": dict(Counter(d.status for d in inv.devices.values())),
        "by_contractor": dict(Counter(d.contractor for d in inv.devices.values())),
        "cameras_by_township": {
            t.name: sum(1 for c in cams if c.township == t.id) for t in inv.townships.values()
        },
        "cameras_by_village": {
            inv.villages[v].name: n for v, n in sorted(Counter(c.village for c in cams).items())
        },
        "active_devices": sum(1 for _ in inv.active_devices()),
    }


STAT_FIELDS = ("group", "key", "name", "count")
_GROUPS = ("by_funding", "sharp_eyes_by_role", "fiber_links_by_build", "by_kind", "by_role", "by_status",
           "by_contractor")


def stat_records(inv: Inventory, by_village: bool = False) -> list[dict[str, Any]]:
    """The counts as flat records ``group, key, name, count``: group ``total`` for the totals, then
    one group per breakdown (``by_kind``, ``by_contractor`` … ``cameras_by_village``)."""
    s = compute_stats(inv)
    names = {c.id: c.name for c in inv.contractors.values()}
    out: list[dict[str, Any]] = [{"group": "total", "key": k, "name": "", "count": v}
                                 for k, v in s.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    for group in _GROUPS:
        for key, n in sorted(s[group].items(), key=lambda kv: str(kv[0])):
            out.append({"group": group, "key": key, "name": names.get(key, "") if group == "by_contractor" else "",
                        "count": n})
    # townships and villages by id with their name: two villages in different townships may share a name
    cams = [d for d in inv.devices.values() if d.kind == "camera"]
    per_township = Counter(c.township for c in cams)
    out += [{"group": "cameras_by_township", "key": t.id, "name": t.name, "count": per_township[t.id]}
            for t in sorted(inv.townships.values(), key=lambda t: t.id)]
    if by_village:
        out += [{"group": "cameras_by_village", "key": v, "name": inv.villages[v].name, "count": n}
                for v, n in sorted(Counter(c.village for c in cams).items())]
    return out


def pad(text: str, width: int) -> str:
    """Left-justify counting East Asian wide characters as two columns."""
    w = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - w)


def format_stats(inv: Inventory, by_village: bool = False) -> str:
    s = compute_stats(inv)
    names = {c.id: c.name for c in inv.contractors.values()}
    role_zh = {
        "bullet": "枪机 fixed",
        "ptz_dome": "球机 PTZ dome",
        "face_recognition": "人脸识别 face recognition",
        "high_altitude_lookout": "高空瞭望 high-altitude lookout",
    }
    fund_zh = {
        "sharp_eyes": "雪亮工程 Sharp Eyes",
        "district": "区财政(早期) district (earlier builds)",
        "city_phase3": "市三期 city phase 3",
        "other": "其他 other",
    }
    lines = [
        f"{s['district']} ({inv.district.name_en})",
        f"  {pad('乡镇平台 township platforms', 36)}{s['township_platforms']}",
        f"  {pad('行政村/社区 villages', 36)}{s['villages']}",
        f"  {pad('点位 sites', 36)}{s['sites']}",
        f"  {pad('设备 devices', 36)}{s['devices']} ({s['active_devices']} active)",
        f"  {pad('摄像头 cameras', 36)}{s['cameras']}",
        f"    {pad('区财政出资 district-funded', 34)}{s['district_funded_cameras']}"
        f"  (村均 per village {s['district_funded_per_village']})",
    ]
    for fund, n in sorted(s["by_funding"].items()):
        lines.append(f"    {pad(fund_zh.get(fund, fund), 34)}{n}")
    lines.append(
        "  雪亮工程 Sharp Eyes build by role"
        f" (per village {s['sharp_eyes_per_village_min']}–{s['sharp_eyes_per_village_max']})"
    )
    for role, n in sorted(s["sharp_eyes_by_role"].items(), key=lambda kv: -kv[1]):
        lines.append(f"    {pad(role_zh.get(role, role), 34)}{n}")
    lines.append(f"  {pad('光纤链路 fiber links', 36)}{s['fiber_links']}")
    for build, n in sorted(s["fiber_links_by_build"].items()):
        lines.append(f"    {pad(build or '-', 34)}{n}")
    lines.append("  按类型 by kind/role")
    for role, n in sorted(s["by_role"].items()):
        lines.append(f"    {pad(role, 34)}{n}")
    lines.append("  按状态 by status")
    for status, n in sorted(s["by_status"].items()):
        lines.append(f"    {pad(status, 34)}{n}")
    lines.append("  按运维单位 by contractor")
    for cid, n in sorted(s["by_contractor"].items()):
        lines.append(f"    {pad(names.get(cid, cid or '区中心 district centre'), 34)}{n}")
    lines.append("  按乡镇 cameras by township")
    for name, n in s["cameras_by_township"].items():
        lines.append(f"    {pad(name, 34)}{n}")
    if by_village:
        lines.append("  按村 cameras by village")
        for name, n in s["cameras_by_village"].items():
            lines.append(f"    {pad(name, 34)}{n}")
    return "\n".join(lines)
