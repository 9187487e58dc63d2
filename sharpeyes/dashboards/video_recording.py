"""录像 / Video recording: coverage state timeline per camera, recorders and disks, retention held vs
required, today's gaps (series of the recording collector, job sharpeyes_recording)."""

from __future__ import annotations

from sharpeyes.contract import (
    JOB_RECORDING,
    RECORDER_CLOCK_OFFSET,
    RECORDER_DISK_FREE,
    RECORDER_DISK_STATE,
    RECORDER_UP,
    RECORDING_GAP_TODAY,
    RECORDING_PRESENT,
    RECORDING_RETENTION,
    RECORDING_RETENTION_REQUIRED,
    RECORDING_UNKNOWN_TODAY,
)
from sharpeyes.dashboards import common as c
from sharpeyes.dashboards.common import Lang

REC = f'job="{JOB_RECORDING}", recorder=~"$recorder"'
DEV = f'job="{JOB_RECORDING}", device=~"$recorder"'


def _days(metric: str) -> str:
    return f"{metric}{{{REC}}} / 86400"


def summary(lang: Lang, ds: c.db.Dashboard) -> c.db.Dashboard:
    cams = lang.pick("suffix: 台", "short")
    return (
        ds.with_row(c.row(lang, ("概况", "Summary")))
        .with_panel(c.stat_panel(
            lang(("当前录像中", "Being recorded now")),
            [c.q(f"sum({RECORDING_PRESENT}{{{REC}}}) / count({RECORDING_PRESENT}{{{REC}}})")],
            unit="percentunit", decimals=2, w=6, th=c.online_thresholds()))
        .with_panel(c.stat_panel(
            lang(("无法查询的录像机", "Recorders not answering")),
            [c.q(f"count({RECORDER_UP}{{{DEV}}} == 0) or vector(0)")],
            unit=lang.pick("suffix: 台", "short"), w=6, th=c.thresholds((None, "green"), (1, "red"))))
        .with_panel(c.stat_panel(
            lang(("故障硬盘", "Failed disks")),
            [c.q(f'count({RECORDER_DISK_STATE}{{{DEV}, state="failed"}} == 1) or vector(0)')],
            unit=lang.pick("suffix: 块", "short"), w=6, th=c.thresholds((None, "green"), (1, "red"))))
        .with_panel(c.stat_panel(
            lang(("存储天数不足的摄像机", "Cameras short of retention")),
            [c.q(f"count(({_days(RECORDING_RETENTION)}) < on (device, recorder) "
                 f"({_days(RECORDING_RETENTION_REQUIRED)})) or vector(0)")],
            unit=cams, w=6, th=c.thresholds((None, "green"), (1, "orange"))))
    )


def coverage_timeline(lang: Lang) -> c.statetimeline.Panel:
    entries = {"1": (("录像中", "Recorded"), "green"), "0": (("未录像", "Not recorded"), "red")}
    return c.state_timeline(
        lang(("录像覆盖（按摄像机）", "Recording coverage by camera")),
        [c.q(f"{RECORDING_PRESENT}{{{REC}}}", "{{device}}")],
        mappings=[c.value_map(lang, entries)], h=12)


def recorders_table(lang: Lang) -> c.table.Panel:
    up_map = c.mapping_json(c.value_map(lang, {"1": (("正常", "Answering"), "green"),
                                               "0": (("无法查询", "Not answering"), "red")}))
    return c.table_panel(
        lang(("录像机与硬盘", "Recorders and disks")),
        c.tq([
            f"{RECORDER_UP}{{{DEV}}}",
            f'max by (device) ({RECORDER_DISK_STATE}{{{DEV}, state="failed"}})',
            f"sum by (device) ({RECORDER_DISK_FREE}{{{DEV}}})",
            f"{RECORDER_CLOCK_OFFSET}{{{DEV}}}",
        ]),
        keep={
            "device": (lang(("录像机", "Recorder")), {}),
            "Value #A": (lang(("状态", "State")), {"mappings": up_map, "cell": c.colored_text()}),
            "Value #B": (lang(("故障硬盘", "Failed disk")), {}),
            "Value #C": (lang(("剩余空间", "Free space")), {"unit": "bytes"}),
            "Value #D": (lang(("时钟偏差", "Clock offset")), {"unit": "s"}),
        },
        w=12, h=10)


def retention_table(lang: Lang) -> c.table.Panel:
    return c.table_panel(
        lang(("存储天数：实存 / 要求", "Retention: held / required")),
        c.tq([_days(RECORDING_RETENTION), _days(RECORDING_RETENTION_REQUIRED),
              f"{RECORDING_GAP_TODAY}{{{REC}}}", f"{RECORDING_UNKNOWN_TODAY}{{{REC}}}"]),
        keep={
            "device": (lang(("摄像机", "Camera")), {}),
            "recorder": (lang(("录像机", "Recorder")), {}),
            "Value #A": (lang(("实存天数", "Held")), {"unit": c.unit_days(lang), "decimals": 1}),
            "Value #B": (lang(("要求天数", "Required")), {"unit": c.unit_days(lang)}),
            "Value #C": (lang(("今日缺失", "Gap today")), {"unit": c.unit_duration(lang)}),
            "Value #D": (lang(("今日未知", "Unknown today")), {"unit": c.unit_duration(lang)}),
        },
        w=12, h=10, sort_by="Value #A")


def build(lang: Lang) -> c.db.Dashboard:
    ds = c.dashboard(
        lang, "recording", ("雪亮工程 · 录像", "Sharp Eyes · Video recording"),
        ("录像覆盖、录像机与硬盘、存储天数（录像采集程序每小时一次）。",
         "Recording coverage, recorders and disks, retention (the recording collector runs hourly)."),
    ).with_variable(c.query_variable(
        lang, "recorder", ("录像机", "Recorder"),
        f'label_values({RECORDER_UP}{{job="{JOB_RECORDING}"}}, device)', multi=True, include_all=True))
    ds = summary(lang, ds)
    return (
        ds.with_row(c.row(lang, ("录像覆盖", "Coverage")))
        .with_panel(coverage_timeline(lang))
        .with_row(c.row(lang, ("录像机与存储", "Recorders and storage")))
        .with_panel(recorders_table(lang))
        .with_panel(retention_table(lang))
    )
