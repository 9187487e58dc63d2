"""The PDF for signing: matplotlib's own PDF backend with a CJK font (Noto Sans CJK), A4 portrait.

Page 1: heading (district, month), the key figures, the township table and the signature/stamp
boxes (编制人 / 审核人 / 签章). Page 2: charts (online rate by township against the target, daily
trend, worst cameras). Page 3: contractors (with MTTR/SLA when tickets exist), exclusions, method.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sharpeyes.cli import UserError

from .availability import Result, cameras, district_daily
from .config import Config
from .tables import Table, fmt_value

A4 = (8.27, 11.69)
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Source Han Sans SC",
    "AR PL UMing CN",
)


def cjk_font() -> str:
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    raise UserError("no CJK font found for the PDF (install fonts-noto-cjk)")


def _table(
    ax: plt.Axes, table: Table, keys: list[str] | None = None, max_rows: int = 40, font: float = 7.5
) -> None:
    ax.axis("off")
    ax.set_title(table.title, loc="left", fontsize=10, fontweight="bold")
    cols = [c for c in table.columns if keys is None or c[1] in keys]
    df = table.data
    if not len(df):
        ax.text(0, 0.9, table.empty_text, fontsize=font + 1, transform=ax.transAxes)
        return
    rows = []
    for _, r in df.head(max_rows).iterrows():
        rows.append([fmt_value(r.get(k), r.get("fmt", f) if f == "mixed" else f) for _, k, f in cols])
    t = ax.table(cellText=rows, colLabels=[c[0] for c in cols], loc="upper left", cellLoc="center")
    t.auto_set_font_size(False)
    t.set_fontsize(font)
    t.scale(1, 1.25)
    for (r, _), cell in t.get_celld().items():
        if r == 0:
            cell.set_facecolor("#DDEBF7")
            cell.set_text_props(fontweight="bold")
    if len(df) > max_rows:
        ax.text(0, -0.02, f"（共 {len(df)} 行，完整内容见 XLSX）", fontsize=font, transform=ax.transAxes)


def _signatures(fig: Figure) -> None:
    ax = fig.add_axes((0.06, 0.03, 0.88, 0.13))
    ax.set_xlim(0, 3)
    ax.set_ylim(0, 1)
    ax.axis("off")
    for i, label in enumerate(("编制人（签字）", "审核人（签字）", "签章（盖章）")):
        ax.add_patch(plt.Rectangle((i + 0.05, 0.05), 0.9, 0.9, fill=False, lw=1))
        ax.text(i + 0.1, 0.8, label, fontsize=10)
        ax.text(i + 0.1, 0.12, "日期：      年    月    日", fontsize=8)


def _page1(pdf: PdfPages, result: Result, tables: dict[str, Table], district: str) -> None:
    fig = plt.figure(figsize=A4)
    fig.text(0.5, 0.965, f"{district}视频监控摄像机在线率月报", ha="center", fontsize=17, fontweight="bold")
    fig.text(
        0.5, 0.94, f"统计月份：{result.period.month}    （雪亮工程运维考核用）", ha="center", fontsize=10
    )
    ax = fig.add_axes((0.06, 0.50, 0.88, 0.42))
    _table(ax, tables["汇总"], font=8)
    ax2 = fig.add_axes((0.06, 0.18, 0.88, 0.28))
    _table(
        ax2,
        tables["乡镇"],
        [
            "name",
            "cameras",
            "rate",
            "meeting",
            "compliance",
            "offline_h",
            "unknown_h",
            "excluded_h",
            "change",
        ],
        font=7.5,
    )
    _signatures(fig)
    pdf.savefig(fig)
    plt.close(fig)


def _page2(pdf: PdfPages, result: Result, cfg: Config, tables: dict[str, Table]) -> None:
    fig = plt.figure(figsize=A4)
    fig.text(0.5, 0.97, f"在线率图表（{result.period.month}）", ha="center", fontsize=14, fontweight="bold")
    tw = tables["乡镇"].data
    ax = fig.add_axes((0.1, 0.70, 0.85, 0.23))
    names = tw["name"].tolist()
    rates = [r * 100 if r == r else 0 for r in tw["rate"].tolist()]
    ax.bar(names, rates, color=["#2E75B6" if r >= cfg.default_target * 100 else "#C00000" for r in rates])
    ax.axhline(
        cfg.default_target * 100, color="#C55A11", ls="--", lw=1, label=f"目标 {cfg.default_target:.0%}"
    )
    for tag, v in cfg.tag_targets.items():
        ax.axhline(v * 100, color="#7030A0", ls=":", lw=1, label=f"重点区域（{tag}）目标 {v:.0%}")
    low = min([*rates, cfg.default_target * 100]) - 2
    ax.set_ylim(max(0, low), 100.5)
    ax.set_ylabel("在线率 %")
    ax.set_title("各乡镇（街道）摄像机在线率与目标", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    for i, r in enumerate(rates):
        ax.text(i, r + 0.1, f"{r:.2f}", ha="center", fontsize=7)

    daily = district_daily(result)
    ax = fig.add_axes((0.1, 0.40, 0.85, 0.23))
    days = [d.day for d in daily.index]
    ax.plot(days, (daily["rate"] * 100).tolist(), marker="o", ms=3, color="#2E75B6", label="在线率")
    ax.axhline(cfg.default_target * 100, color="#C55A11", ls="--", lw=1, label="目标")
    unk = (daily["unknown_s"] / 3600).tolist()
    ax2 = ax.twinx()
    ax2.bar(days, unk, color="#A6A6A6", alpha=0.5, label="监测缺失(小时)")
    ax2.set_ylabel("监测缺失（小时，不计入离线）", fontsize=8)
    ax.set_xlabel("日")
    ax.set_ylabel("在线率 %")
    ax.set_title("全区摄像机每日在线率（灰柱：监测缺失，不计入离线）", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")

    worst = tables[f"最差{cfg.worst}"].data
    ax = fig.add_axes((0.33, 0.04, 0.62, 0.30))
    labels = [f"{d}" for d in worst["device"].tolist()][::-1]
    vals = [r * 100 for r in worst["rate"].tolist()][::-1]
    ax.barh(labels, vals, color="#C00000")
    ax.set_xlim(max(0, min([*vals, 100]) - 5), 100)
    ax.tick_params(axis="y", labelsize=6)
    ax.set_xlabel("在线率 %")
    ax.set_title(f"在线率最低的 {cfg.worst} 路摄像机", fontsize=10)
    pdf.savefig(fig)
    plt.close(fig)


def _page3(pdf: PdfPages, result: Result, tables: dict[str, Table]) -> None:
    fig = plt.figure(figsize=A4)
    ct = tables["承建单位"]
    keys = [
        "name",
        "cameras",
        "rate",
        "compliance",
        "offline_h",
        "tickets",
        "mttr_h",
        "repair_late",
        "sla_rate",
        "sla_ok_zh",
        "tickets_note",
    ]
    _table(fig.add_axes((0.04, 0.74, 0.92, 0.22)), ct, keys, font=7)
    _table(
        fig.add_axes((0.04, 0.40, 0.92, 0.30)),
        tables["剔除时段"],
        ["id", "kind", "start", "end", "hours", "scope", "devices", "reason", "approver"],
        max_rows=15,
        font=6.5,
    )
    method = (
        "计算方法：在线率 = 在线时长 ÷（在册时长 − 核准剔除时长 − 监测缺失时长）。\n"
        "在线/离线按每个采样点（Prometheus 探测结果 probe_success）计时，每点代表一个采样间隔。\n"
        "监测缺失：监测系统本身无数据的时段（如监控平台停机），单列显示，不计为离线，不扣承建单位。\n"
        "核准剔除：经审批的计划检修、申报停电、不可抗力，见“剔除时段”，不计入考核分母。\n"
        "本月新装或撤除的设备按其在册时段折算。完整明细见同名 XLSX 工作簿。"
    )
    fig.text(0.05, 0.30, method, fontsize=8.5, va="top", linespacing=1.7)
    pdf.savefig(fig)
    plt.close(fig)


def write_pdf(result: Result, cfg: Config, tables: list[Table], district: str, path: Path) -> Path:
    font = cjk_font()
    by_sheet = {t.sheet: t for t in tables}
    tmp = path.with_suffix(".tmp.pdf")
    with (
        plt.rc_context(
            {
                "font.family": "sans-serif",
                "font.sans-serif": [font, "DejaVu Sans"],
                "axes.unicode_minus": False,
                "pdf.fonttype": 3,
            }
        ),
        PdfPages(tmp) as pdf,
    ):
        _page1(pdf, result, by_sheet, district)
        _page2(pdf, result, cfg, by_sheet)
        _page3(pdf, result, by_sheet)
        info = pdf.infodict()
        info["Title"] = f"{district} {result.period.month} 摄像机在线率月报"
        info["Creator"] = "sharpeyes-report"
    tmp.replace(path)
    return path


__all__ = ["cameras", "write_pdf"]
