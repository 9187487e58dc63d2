"""The report's recording tables (录像完整率, 存储天数达标率, gaps) and the summary of the three
assessment figures side by side: 在线率, 完好率 (video-quality diagnosis; left empty until it lands)
and 录像完整率, each against its target."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pandas as pd

from sharpeyes.inventory import Inventory

from .recording_db import RecordingResult, by_group
from .tables import Table

RECORDING_TARGET = 0.95  # share of planned, known time recorded
RETENTION_TARGET = 1.0  # every camera keeps its required days

REC_COLS = [
    ("摄像机数", "cameras", "int"),
    ("录像完整率", "rate", "pct"),
    ("录像缺失(小时)", "gap_h", "h"),
    ("未知(小时，不扣分)", "unknown_h", "h"),
    ("存储达标数", "retention_ok", "int"),
    ("存储天数达标率", "retention_rate", "pct"),
]


def _h(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("gap_s", "unknown_s", "recorded_s", "known_s"):
        if c in df:
            df[c.replace("_s", "_h")] = df[c] / 3600.0
    return df


def recording_tables(rec: RecordingResult, inv: Inventory) -> list[Table]:
    cams = _h(rec.cameras.copy())
    if not len(cams):
        return [Table("录像完整率", "录像完整率（无录像数据）", [("说明", "note", "text")],
                      pd.DataFrame([{"note": "录像库中没有在册摄像机的数据"}]))]
    names = {d.id: d.name for d in inv.devices.values()}
    tname = {t.id: t.name for t in inv.townships.values()}
    vname = {v.id: v.name for v in inv.villages.values()}
    cname = {c.id: c.name for c in inv.contractors.values()}
    cams["name"] = cams["device"].map(names)
    cams["township_name"] = cams["township"].map(tname)
    cams["village_name"] = cams["village"].map(vname)
    tables = [Table("录像-摄像机", "各摄像机录像完整率与存储天数", [
        ("设备编号", "device", "text"), ("名称", "name", "text"), ("乡镇", "township_name", "text"),
        ("村", "village_name", "text"), ("录像机", "recorder", "text"), ("通道", "channel", "int"),
        ("录像完整率", "rate", "pct"), ("录像缺失(小时)", "gap_h", "h"), ("未知(小时，不扣分)", "unknown_h", "h"),
        ("实存天数", "held_days", "h"), ("要求天数", "required_days", "int"),
    ], cams.sort_values("rate", na_position="last"))]
    for key, sheet, title, label, mapping in (
        ("village", "录像-村", "各村录像完整率", "村", vname),
        ("township", "录像-乡镇", "各乡镇录像完整率", "乡镇（街道）", tname),
        ("contractor", "录像-维保单位", "各维保单位录像完整率", "维保单位", cname),
        ("recorder", "录像-录像机", "各录像机录像完整率", "录像机", names),
    ):
        g = _h(by_group(rec.cameras, key))
        g["name"] = g[key].map(mapping).fillna(g[key])
        tables.append(Table(sheet, title, [(label, "name", "text"), *REC_COLS], g))
    tz = zoneinfo.ZoneInfo(inv.district.timezone)
    gaps = rec.gaps.copy()
    gaps["from"] = gaps["start"].map(lambda t: dt.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S"))
    gaps["to"] = gaps["end"].map(lambda t: dt.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S"))
    gaps["minutes"] = gaps["seconds"] / 60.0
    gaps["name"] = gaps["device"].map(names)
    tables.append(Table("录像缺失明细", "录像缺失时段（最长在前）", [
        ("设备编号", "device", "text"), ("名称", "name", "text"), ("录像机", "recorder", "text"),
        ("开始", "from", "text"), ("结束", "to", "text"), ("时长(分钟)", "minutes", "h"),
    ], gaps, empty_text="本月无录像缺失"))
    return tables


def assessment_table(online_rate: float, online_target: float, rec: RecordingResult | None,
                     intact_rate: float | None = None, intact_target: float | None = None) -> Table:
    """在线率、完好率、录像完整率 side by side against their targets (the summary page)."""
    def row(name: str, value: float | None, target: float | None) -> dict[str, object]:
        met = "" if value is None or target is None or np.isnan(value) else ("达标" if value >= target else "未达标")
        return {"item": name, "value": np.nan if value is None else value, "target": target, "met": met}

    rec_rate = retention = None
    if rec is not None and len(rec.cameras):
        c = rec.cameras
        rec_rate = c["recorded_s"].sum() / c["known_s"].sum() if c["known_s"].sum() else np.nan
        known = c["retention_ok"].dropna()
        retention = float(known.astype(bool).mean()) if len(known) else np.nan
    rows = [
        row("在线率", online_rate, online_target),
        row("完好率（视频质量诊断，待接入）" if intact_rate is None else "完好率", intact_rate, intact_target),
        row("录像完整率", rec_rate, RECORDING_TARGET if rec is not None else None),
        row("存储天数达标率", retention, RETENTION_TARGET if rec is not None else None),
    ]
    return Table("考核指标", "考核指标对照（在线率 / 完好率 / 录像完整率）", [
        ("指标", "item", "text"), ("本月", "value", "pct"), ("目标", "target", "pct"), ("结论", "met", "text"),
    ], pd.DataFrame(rows))
