"""Video recording alerts (录像): a camera online but not recorded, retention short of the required
days, a recorder's disk failed, a recorder the collector cannot ask. Named ``video_recording`` to keep
it apart from ``recording.py`` (Prometheus recording rules).

Root causes: a recorder's disk failure or outage is one alert on the recorder (scope ``device``,
device = the recorder); RecordingStopped is per camera and is suppressed while the camera's
recorder has a failed disk (that alert is the cause). Retention is a property of the recorder's
storage, so RetentionShort is one alert per recorder carrying the worst ratio of its channels.
"""

from __future__ import annotations

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules.common import Group, alert, group
from sharpeyes.contract import (
    DEVICE_INFO,
    RECORDER_DISK_STATE,
    RECORDER_UP,
    RECORDING_NOT_RECORDED,
    RECORDING_RETENTION,
    RECORDING_RETENTION_REQUIRED,
    TARGET_LABELS,
)

_PLACE = tuple(label for label in TARGET_LABELS if label not in ("device",))
RECORDER_KINDS = "~nvr|platform"


def _info(cfg: Config, kind: str) -> str:
    return f"{DEVICE_INFO}{cfg.sel(cfg.jobs.inventory, kind=kind)}"


def groups(cfg: Config) -> list[Group]:
    j, t = cfg.jobs, cfg.thresholds
    rec = cfg.sel(j.recording)
    place = ", ".join(_PLACE)
    failed = f"{RECORDER_DISK_STATE}{cfg.sel(j.recording, state='failed')}"
    failed_disk_recorders = f'label_replace(max by (device) ({failed}) == 1, "recorder", "$1", "device", "(.+)")'
    rules = [
        alert(
            cfg,
            "RecordingStopped",
            f"""
            (
              ({RECORDING_NOT_RECORDED}{rec} > {t.recording_stopped_seconds:g})
              and on (device) (probe_success{cfg.sel(j.icmp, kind="camera")} == 1)
              unless on (recorder) {failed_disk_recorders}
            )
            * on (device) group_left ({place}) {_info(cfg, "camera")}
            """,
            scope="device",
            summary_zh="摄像机在线但未录像：${device}（录像机 ${recorder}，${township}/${village}）",
            summary="Camera online but not recorded: ${device} (recorder ${recorder}, ${township}/${village})",
            description_zh="摄像机 ${device} 可达，但录像机 ${recorder} 已 ${value:.0f} 秒没有它的录像"
            "（通道未录像、录像计划被改或码流未接入）。录像缺失计入录像完整率。维保单位 ${contractor}。",
            description="Camera ${device} is reachable but recorder ${recorder} has held no video of it for"
            " ${value:.0f} s (channel not recording, schedule changed or stream not pulled). The gap counts"
            " against the recording completeness. Contractor ${contractor}.",
        ),
        alert(
            cfg,
            "RetentionShort",
            f"""
            (
              label_replace(
                min by (recorder) (
                  {RECORDING_RETENTION}{rec} / on (device, recorder) {RECORDING_RETENTION_REQUIRED}{rec}
                ),
                "device", "$1", "recorder", "(.+)"
              ) < 1
            )
            * on (device) group_left ({place}) {_info(cfg, RECORDER_KINDS)}
            """,
            scope="device",
            summary_zh="录像存储天数不足：${device}（${township}）",
            summary="Recording retention short: ${device} (${township})",
            description_zh="录像机 ${device} 最差通道仅保存了要求天数的 ${value:pct}（硬盘容量不足、"
            "码流调高或硬盘被更换格式化）。维保单位 ${contractor}。",
            description="Recorder ${device} keeps only ${value:pct} of the required retention on its worst"
            " channel (disks too small, bitrate raised, or a disk replaced and formatted). Contractor"
            " ${contractor}.",
        ),
        alert(
            cfg,
            "RecorderDiskFailed",
            f"""
            (max by (device, disk) ({failed}) == 1)
            * on (device) group_left ({place}) {_info(cfg, RECORDER_KINDS)}
            """,
            scope="device",
            summary_zh="录像机硬盘故障：${device} 硬盘 ${disk}（${township}）",
            summary="Recorder disk failed: ${device} disk ${disk} (${township})",
            description_zh="录像机 ${device} 报告硬盘 ${disk} 故障，所录通道可能已停止录像。"
            "维保单位 ${contractor}。",
            description="Recorder ${device} reports disk ${disk} failed; the channels it records may have"
            " stopped recording. Contractor ${contractor}.",
        ),
        alert(
            cfg,
            "RecorderOffline",
            f"""
            ({RECORDER_UP}{rec} == 0)
            * on (device) group_left ({place}) {_info(cfg, RECORDER_KINDS)}
            """,
            scope="device",
            summary_zh="录像机无法查询：${device}（${township}）",
            summary="Recorder cannot be asked: ${device} (${township})",
            description_zh="录像采集程序无法查询录像机 ${device}（不可达、认证失败或服务无响应），"
            "期间录像情况未知，不计入录像完整率扣分。维保单位 ${contractor}。",
            description="The recording collector cannot ask recorder ${device} (unreachable, credentials"
            " refused or its service hangs); recording is unknown meanwhile and is not charged."
            " Contractor ${contractor}.",
        ),
    ]
    return [group(cfg, "sharpeyes.video_recording", rules)]
