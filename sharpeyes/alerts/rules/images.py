"""Camera image alerts (scope ``device``): video quality diagnosis found a fault in the picture.

One family, two severities: ``CameraVideoLoss`` (the picture is gone: critical) and
``CameraImageFault`` (frozen, dark, blurred, covered, moved...: warning). Both carry ``fault`` (the
check's name, ``contract.VQD_CHECKS``) and link the last still and the reference still served by
the exporter, so the ticket shows a technician the picture before the drive out.
"""

from __future__ import annotations

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules.common import CAMERA_PLACE_EN, CAMERA_PLACE_ZH, Group, Rule, alert, group, to_go_template
from sharpeyes.contract import VQD_CHECK_FAULT, VQD_CRITICAL

FAULT_ZH = ("video_loss 视频丢失/黑屏/蓝屏, frozen 画面冻结, too_dark 过暗, overexposed 过曝, low_contrast 低对比度/雾,"
            " displaced 画面移位/偏离预置位, occluded 遮挡, defocus 失焦模糊, snow 雪花噪声, stripes 条纹干扰,"
            " color_cast 偏色")


def _with_stills(cfg: Config, rule: Rule) -> Rule:
    base = cfg.stills_base_url.rstrip("/")
    rule["annotations"]["still_url"] = to_go_template(f"{base}/vqd/${{device}}/last.jpg")
    rule["annotations"]["reference_url"] = to_go_template(f"{base}/vqd/${{device}}/reference.jpg")
    return rule


def groups(cfg: Config) -> list[Group]:
    snap = cfg.jobs.snapshot
    critical = "|".join(sorted(VQD_CRITICAL))
    # one still per 10 minutes: beyond Prometheus' 5-minute lookback, so the last still's verdict is
    # taken over 15 minutes (one interval and a half), else the series would vanish between stills
    faults = f"last_over_time({VQD_CHECK_FAULT}{{sel}}[15m]) == 1"
    rules = [
        _with_stills(cfg, alert(
            cfg,
            "CameraVideoLoss",
            f'label_replace({faults.format(sel=cfg.sel(snap, kind="camera", check="~" + critical))}, '
            '"fault", "$1", "check", "(.+)")',
            scope="device",
            summary_zh=f"摄像机视频丢失（黑屏/蓝屏）：${{device}}（{CAMERA_PLACE_ZH}）",
            summary=f"Camera picture lost (black/blue screen): ${{device}} ({CAMERA_PLACE_EN})",
            description_zh="摄像机 ${device} 在线，但抓图为黑屏或“无视频”画面（${fault}），计入图像不完好时长。"
            "最近抓图与参考图见链接。",
            description="Camera ${device} is online but its still is a black or \"no video\" screen (${fault}); "
            "counts as image-fault time. The last and reference stills are linked.",
        )),
        _with_stills(cfg, alert(
            cfg,
            "CameraImageFault",
            f'label_replace({faults.format(sel=cfg.sel(snap, kind="camera", check="!~" + critical))}, '
            '"fault", "$1", "check", "(.+)")',
            scope="device",
            summary_zh=f"摄像机图像异常（${{fault}}）：${{device}}（{CAMERA_PLACE_ZH}）",
            summary=f"Camera image fault (${{fault}}): ${{device}} ({CAMERA_PLACE_EN})",
            description_zh=f"摄像机 ${{device}} 在线，但连续抓图诊断为 ${{fault}}（{FAULT_ZH}），"
            "计入图像不完好时长。最近抓图与参考图见链接。",
            description="Camera ${device} is online but its stills are diagnosed as ${fault} (video quality "
            "diagnosis); counts as image-fault time. The last and reference stills are linked.",
        )),
    ]
    return [group(cfg, "sharpeyes.images", rules)]
