"""The report's tables with their Chinese headings, shared by the workbook and the PDF.

Each table is a list of columns (heading, key, format) and a DataFrame holding those keys.
Formats: ``pct`` (0.9876 → 98.76 %), ``pp`` (percentage points), ``h`` (hours, 2 decimals),
``int``, ``dbm``, ``dt`` (local date-time), ``text``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sharpeyes.inventory import Inventory

from .availability import Result, cameras, district_daily, group
from .config import KIND_ZH, Config
from .tickets_db import per_contractor

KIND_NAMES = {"camera": "摄像机", "switch": "交换机", "nvr": "存储", "platform": "平台服务器"}
FUNDING_NAMES = {"sharp_eyes": "雪亮工程", "district": "区级财政", "city_phase3": "市三期", "other": "其他"}
Column = tuple[str, str, str]


@dataclass(slots=True)
class Table:
    sheet: str
    title: str
    columns: list[Column]
    data: pd.DataFrame
    empty_text: str = "无数据"


GROUP_COLS: list[Column] = [
    ("摄像机数", "cameras", "int"),
    ("重点区域", "key_area", "int"),
    ("在线率", "rate", "pct"),
    ("达标数", "meeting", "int"),
    ("达标率", "compliance", "pct"),
    ("离线时长(小时)", "offline_h", "h"),
    ("监测缺失(小时)", "unknown_h", "h"),
    ("剔除时长(小时)", "excluded_h", "h"),
    ("故障次数", "outages", "int"),
    ("上月在线率", "prev_rate", "pct"),
    ("环比(百分点)", "change", "pp"),
    ("完好率", "intact_rate", "pct"),
    ("完好达标数", "intact_meeting", "int"),
    ("图像故障(小时)", "image_fault_h", "h"),
    ("图像未判定(小时)", "image_unknown_h", "h"),
]


def _hours(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for c in cols:
        df[c.replace("_s", "_h")] = df[c] / 3600.0
    return df


@dataclass(slots=True)
class _Sheets:
    """What every sheet builder reads: the month's result and the per-camera frame with hours."""

    result: Result
    cfg: Config
    inv: Inventory | None
    district_name: str
    cams: pd.DataFrame

    @property
    def prev(self) -> pd.DataFrame | None:  # the previous month per device, when known
        return self.result.previous


def build_tables(result: Result, cfg: Config, inv: Inventory | None, district_name: str) -> list[Table]:
    """Every sheet of the report, in workbook order (:data:`SHEETS`)."""
    cams = cameras(result)
    cams = _hours(cams, "online_s", "offline_s", "unknown_s", "excluded_s", "active_s", "longest_outage_s",
                  "image_fault_s", "image_unknown_s")
    sheets = _Sheets(result, cfg, inv, district_name, cams)
    return [build(sheets) for build in SHEETS]


def _summary(s: _Sheets) -> Table:
    """汇总: the district's figures at a glance."""
    return summary(s.result, s.cfg, s.cams, s.district_name)


def _townships(s: _Sheets) -> Table:
    """各乡镇（街道）: online rate per township."""
    cfg = s.cfg
    cams = s.cams
    prev = s.prev
    tw = _hours(group(cams, "township", prev).reset_index(), "offline_s", "unknown_s", "excluded_s")
    tw["name"] = tw["township"].map(_names(cams, "township", "township_name"))
    tw["target"] = cfg.default_target
    return Table("乡镇", "各乡镇（街道）摄像机在线率", [("乡镇（街道）", "name", "text"), *GROUP_COLS], tw)


def _villages(s: _Sheets) -> Table:
    """各村（社区）: online rate per village."""
    cams = s.cams
    prev = s.prev
    vl = _hours(
        group(cams, ["township", "village"], prev).reset_index(), "offline_s", "unknown_s", "excluded_s"
    )
    vl["township_name"] = vl["township"].map(_names(cams, "township", "township_name"))
    vl["name"] = vl["village"].map(_names(cams, "village", "village_name"))
    return Table(
        "村",
        "各村（社区）摄像机在线率",
        [("乡镇（街道）", "township_name", "text"), ("村（社区）", "name", "text"), *GROUP_COLS],
        vl,
    )


def _cameras(s: _Sheets) -> Table:
    """摄像机: every camera, its hours, rate and target."""
    cams = s.cams
    cams_sorted = cams.sort_values(["township", "village"]).reset_index()
    cams_sorted["kind_zh"] = cams_sorted["role"]
    cams_sorted["funding_zh"] = cams_sorted["funding"].map(lambda f: FUNDING_NAMES.get(f, f))
    cams_sorted["meets"] = cams_sorted["meets_target"].map({True: "达标", False: "未达标"})
    cams_sorted.loc[cams_sorted["rate"].isna(), "meets"] = "无数据"
    cams_sorted["prorated_zh"] = cams_sorted["prorated"].map({True: "是", False: ""})
    cams_sorted["intact_meets"] = cams_sorted["meets_intact_target"].map({True: "达标", False: "未达标"})
    cams_sorted.loc[cams_sorted["intact_rate"].isna(), "intact_meets"] = "无数据"
    return Table(
        "摄像机",
        "摄像机在线率明细",
        [
            ("设备编号", "device", "text"),
            ("名称", "name", "text"),
            ("乡镇（街道）", "township_name", "text"),
            ("村（社区）", "village_name", "text"),
            ("承建单位", "contractor_name", "text"),
            ("资金来源", "funding_zh", "text"),
            ("标签", "tags", "text"),
            ("在册起", "active_from", "dt"),
            ("在册止", "active_to", "dt"),
            ("按在册时段折算", "prorated_zh", "text"),
            ("在线(小时)", "online_h", "h"),
            ("离线(小时)", "offline_h", "h"),
            ("监测缺失(小时)", "unknown_h", "h"),
            ("剔除(小时)", "excluded_h", "h"),
            ("在线率", "rate", "pct"),
            ("目标", "target", "pct"),
            ("是否达标", "meets", "text"),
            ("故障次数", "outages", "int"),
            ("最长故障(小时)", "longest_outage_h", "h"),
            ("上月在线率", "prev_rate", "pct"),
            ("环比(百分点)", "change", "pp"),
            ("图像故障(小时)", "image_fault_h", "h"),
            ("图像未判定(小时)", "image_unknown_h", "h"),
            ("完好率", "intact_rate", "pct"),
            ("完好是否达标", "intact_meets", "text"),
        ],
        cams_sorted,
    )


def _worst(s: _Sheets) -> Table:
    """最差N: the cameras with the lowest online rate."""
    cfg = s.cfg
    cams = s.cams
    worst = cams[cams["rate"].notna()].sort_values(["rate", "offline_s"], ascending=[True, False])
    worst = worst.head(cfg.worst).reset_index()
    worst.insert(0, "rank", range(1, len(worst) + 1))
    return Table(
        f"最差{cfg.worst}",
        f"在线率最低的 {cfg.worst} 路摄像机",
        [
            ("排名", "rank", "int"),
            ("设备编号", "device", "text"),
            ("名称", "name", "text"),
            ("乡镇（街道）", "township_name", "text"),
            ("承建单位", "contractor_name", "text"),
            ("在线率", "rate", "pct"),
            ("离线(小时)", "offline_h", "h"),
            ("故障次数", "outages", "int"),
            ("最长故障(小时)", "longest_outage_h", "h"),
        ],
        worst,
    )


def _contractors(s: _Sheets) -> Table:
    """承建单位: online rate per contractor, with repair times and SLA when tickets are known."""
    result = s.result
    cfg = s.cfg
    cams = s.cams
    prev = s.prev
    ct = _hours(group(cams, "contractor", prev).reset_index(), "offline_s", "unknown_s", "excluded_s")
    ct["name"] = ct["contractor"].map(_names(cams, "contractor", "contractor_name"))
    ct_cols = [("承建单位", "name", "text"), *GROUP_COLS]
    if result.tickets is not None:
        tk = per_contractor(result.tickets, result.period.end, cfg.sla_target)
        ct = ct.join(tk, on="contractor")
        ct["sla_ok_zh"] = ct["sla_ok"].map({True: "达标", False: "未达标"}).fillna("无工单")
        ct_cols += [
            ("工单数", "tickets", "int"),
            ("已修复", "repaired", "int"),
            ("平均修复时长MTTR(小时)", "mttr_h", "h"),
            ("最长修复(小时)", "max_repair_h", "h"),
            ("平均响应(小时)", "ack_h", "h"),
            ("平均到场(小时)", "arrive_h", "h"),
            ("已验收", "approved", "int"),
            ("响应超时", "response_late", "int"),
            ("修复超时", "repair_late", "int"),
            ("SLA达标率", "sla_rate", "pct"),
            ("SLA是否达标", "sla_ok_zh", "text"),
        ]
    else:
        ct["tickets_note"] = "无工单数据"
        ct_cols += [("工单（MTTR/SLA）", "tickets_note", "text")]
    return Table("承建单位", "各承建单位在线率与维修时效", ct_cols, ct)


def _funding(s: _Sheets) -> Table:
    """资金来源: online rate per funding source (building project)."""
    cams = s.cams
    prev = s.prev
    fd = _hours(group(cams, "funding", prev).reset_index(), "offline_s", "unknown_s", "excluded_s")
    fd["name"] = fd["funding"].map(lambda f: FUNDING_NAMES.get(f, f))
    return Table("资金来源", "按资金来源（建设项目）统计", [("资金来源", "name", "text"), *GROUP_COLS], fd)


def _other_devices(s: _Sheets) -> Table:
    """网络与平台设备: availability of switches, NVRs and platform servers."""
    result = s.result
    others = result.devices[result.devices["kind"] != "camera"].copy()
    others = _hours(others, "offline_s", "unknown_s", "excluded_s", "longest_outage_s").reset_index()
    others["kind_zh"] = others["kind"].map(lambda k: KIND_NAMES.get(k, k))
    return Table(
        "网络与平台设备",
        "交换机、存储与平台服务器可用率",
        [
            ("设备编号", "device", "text"),
            ("类型", "kind_zh", "text"),
            ("名称", "name", "text"),
            ("乡镇（街道）", "township_name", "text"),
            ("可用率", "rate", "pct"),
            ("离线(小时)", "offline_h", "h"),
            ("监测缺失(小时)", "unknown_h", "h"),
            ("故障次数", "outages", "int"),
            ("最长故障(小时)", "longest_outage_h", "h"),
        ],
        others,
    )


def _fiber_links(s: _Sheets) -> Table:
    """光纤链路: receive power and outages of the fiber links."""
    result = s.result
    links = result.links.copy()
    if len(links):
        links["downstream_offline_h"] = links["downstream_offline_s"] / 3600.0
    return Table(
        "光纤链路",
        "光纤链路收光功率与中断",
        [
            ("链路", "fiber_link", "text"),
            ("乡镇", "township", "text"),
            ("两端端口", "ends", "text"),
            ("长度(米)", "length_m", "int"),
            ("告警门限(dBm)", "rx_min_dbm", "dbm"),
            ("月最低收光(dBm)", "rx_min_month_dbm", "dbm"),
            ("月平均收光(dBm)", "rx_avg_dbm", "dbm"),
            ("月初日最低(dBm)", "rx_first_day_dbm", "dbm"),
            ("月末日最低(dBm)", "rx_last_day_dbm", "dbm"),
            ("衰减速率(dB/天)", "slope_db_per_day", "dbm"),
            ("低于门限天数", "days_below_threshold", "int"),
            ("无光天数", "days_los", "int"),
            ("下游设备中断(小时)", "downstream_offline_h", "h"),
            ("下游摄像机", "downstream_cameras", "int"),
            ("状态", "status", "text"),
        ],
        links,
    )


def _outages(s: _Sheets) -> Table:
    """故障明细: every outage, approved exclusions deducted."""
    result = s.result
    out = result.outages.copy()
    if len(out):
        out["duration_h"] = out["duration_s"] / 3600.0
        out["kind_zh"] = out["kind"].map(lambda k: KIND_NAMES.get(k, k))
        out["ongoing_zh"] = out["ongoing"].map({True: "月末未恢复", False: ""})
    return Table(
        "故障明细",
        "故障（离线）明细（已扣除核准剔除时段）",
        [
            ("设备编号", "device", "text"),
            ("类型", "kind_zh", "text"),
            ("名称", "name", "text"),
            ("乡镇（街道）", "township_name", "text"),
            ("村（社区）", "village_name", "text"),
            ("承建单位", "contractor_name", "text"),
            ("开始", "start", "dt"),
            ("结束", "end", "dt"),
            ("时长(小时)", "duration_h", "h"),
            ("备注", "ongoing_zh", "text"),
        ],
        out,
        "本月无故障",
    )


def _exclusions(s: _Sheets) -> Table:
    """剔除时段: the approved exclusion periods."""
    result = s.result
    inv = s.inv
    ex_rows = [
        {
            "id": e.id,
            "kind": KIND_ZH.get(e.kind, e.kind),
            "start": result.period.local(e.start),
            "end": result.period.local(e.end),
            "hours": (e.end - e.start) / 3600.0,
            "scope": _scope(e, inv),
            "devices": result.exclusion_devices.get(e.id, 0),
            "reason": e.reason,
            "approver": e.approver,
            "ref": e.ref,
        }
        for e in result.exclusions
    ]
    return Table(
        "剔除时段",
        "核准剔除时段（不计入考核）",
        [
            ("编号", "id", "text"),
            ("类别", "kind", "text"),
            ("开始", "start", "dt"),
            ("结束", "end", "dt"),
            ("时长(小时)", "hours", "h"),
            ("范围", "scope", "text"),
            ("涉及设备数", "devices", "int"),
            ("原因", "reason", "text"),
            ("审批人", "approver", "text"),
            ("文号", "ref", "text"),
        ],
        pd.DataFrame(ex_rows),
        "本月无剔除时段",
    )


def _daily(s: _Sheets) -> Table:
    """每日趋势: the district's daily camera online rate."""
    result = s.result
    daily = district_daily(result).reset_index()
    daily = _hours(daily, "online_s", "offline_s", "unknown_s", "excluded_s")
    return Table(
        "每日趋势",
        "全区摄像机每日在线率",
        [
            ("日期", "day", "text"),
            ("在线率", "rate", "pct"),
            ("离线(小时)", "offline_h", "h"),
            ("监测缺失(小时)", "unknown_h", "h"),
            ("剔除(小时)", "excluded_h", "h"),
        ],
        daily,
    )


# One builder per sheet, in workbook order.
SHEETS: tuple[Callable[[_Sheets], Table], ...] = (
    _summary,
    _townships,
    _villages,
    _cameras,
    _worst,
    _contractors,
    _funding,
    _other_devices,
    _fiber_links,
    _outages,
    _exclusions,
    _daily,
)


def _names(df: pd.DataFrame, key: str, name: str) -> dict[str, str]:
    return dict(zip(df[key], df[name], strict=False))


def _scope(e: object, inv: Inventory | None) -> str:
    from .config import Exclusion

    assert isinstance(e, Exclusion)
    if e.everything:
        return "全区"
    parts = []
    if e.townships:
        parts.append(
            "乡镇: "
            + "、".join(inv.townships[t].name if inv and t in inv.townships else t for t in e.townships)
        )
    if e.villages:
        parts.append(
            "村: " + "、".join(inv.villages[v].name if inv and v in inv.villages else v for v in e.villages)
        )
    if e.devices:
        parts.append(f"设备 {len(e.devices)} 台" if len(e.devices) > 3 else "设备: " + "、".join(e.devices))
    return "；".join(parts)


def summary(result: Result, cfg: Config, cams: pd.DataFrame, district_name: str) -> Table:
    online, monitored = cams["online_s"].sum(), cams["monitored_s"].sum()
    rate = online / monitored if monitored else np.nan
    key = cams[cams["key_area"]]
    key_rate = key["online_s"].sum() / key["monitored_s"].sum() if key["monitored_s"].sum() else np.nan
    prev_rate = cams["prev_rate"].notna().any() and result.previous is not None
    prev_val = np.nan
    if prev_rate and result.previous is not None:
        pv = result.previous.reindex(cams.index).dropna()
        prev_val = pv["online_n"].sum() / pv["present_n"].sum() if pv["present_n"].sum() else np.nan
    rows = [
        ("区县", district_name, "text"),
        ("统计月份", result.period.month, "text"),
        (
            "统计区间",
            f"{result.period.local(result.period.start):%Y-%m-%d %H:%M} 至 "
            f"{result.period.local(result.period.end):%Y-%m-%d %H:%M}（{result.period.tz.key}）",
            "text",
        ),
        ("摄像机数", len(cams), "int"),
        ("其中重点区域", int(cams["key_area"].sum()), "int"),
        ("本月新增/撤除（按在册时段折算）", int(cams["prorated"].sum()), "int"),
        ("全区摄像机在线率", rate, "pct"),
        ("重点区域在线率", key_rate, "pct"),
        ("全区摄像机完好率（在线且图像完好）", cams["intact_s"].sum() / monitored if monitored else np.nan, "pct"),
        (
            "重点区域完好率",
            key["intact_s"].sum() / key["monitored_s"].sum() if key["monitored_s"].sum() else np.nan,
            "pct",
        ),
        ("完好达标摄像机", int(cams["meets_intact_target"].sum()), "int"),
        ("图像故障时长合计(小时)", cams["image_fault_s"].sum() / 3600, "h"),
        ("图像未判定时长合计(小时，不计入)", cams["image_unknown_s"].sum() / 3600, "h"),
        ("上月在线率", prev_val, "pct"),
        ("环比(百分点)", rate - prev_val, "pp"),
        (
            "目标：重点区域 / 其他",
            " / ".join([*(f"{v:.0%}" for v in cfg.tag_targets.values()), f"{cfg.default_target:.0%}"]),
            "text",
        ),
        ("达标摄像机", int(cams["meets_target"].sum()), "int"),
        ("达标率", cams["meets_target"].mean() if len(cams) else np.nan, "pct"),
        ("在线时长合计(小时)", online / 3600, "h"),
        ("离线时长合计(小时)", cams["offline_s"].sum() / 3600, "h"),
        ("监测缺失合计(小时，不计入离线)", cams["unknown_s"].sum() / 3600, "h"),
        ("核准剔除合计(小时)", cams["excluded_s"].sum() / 3600, "h"),
        ("剔除时段数", len(result.exclusions), "int"),
        ("故障次数", int(cams["outages"].sum()), "int"),
        ("采样间隔(秒)", result.interval, "int"),
        ("生成时间", dt.datetime.now(result.period.tz).strftime("%Y-%m-%d %H:%M"), "text"),
    ]
    for n in result.notes:
        rows.append(("说明", n, "text"))
    df = pd.DataFrame([{"item": a, "value": b, "fmt": c} for a, b, c in rows])
    return Table(
        "汇总",
        f"{district_name} {result.period.month} 视频监控摄像机在线率月报",
        [("项目", "item", "text"), ("数值", "value", "mixed")],
        df,
    )


def fmt_value(v: object, fmt: str) -> str:
    """Text for the PDF tables."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return "—"
    if fmt == "pct":
        return f"{float(v):.2%}"  # type: ignore[arg-type]
    if fmt == "pp":
        return f"{float(v) * 100:+.2f}"  # type: ignore[arg-type]
    if fmt in ("h", "dbm"):
        return f"{float(v):.2f}"  # type: ignore[arg-type]
    if fmt == "int":
        return f"{int(v):d}"  # type: ignore[call-overload]
    if fmt == "dt" and isinstance(v, dt.datetime | pd.Timestamp):
        return f"{v:%m-%d %H:%M}"
    return str(v)
