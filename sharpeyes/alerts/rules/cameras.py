"""Camera alerts (scope ``device``): offline, RTSP down, not streaming, reboots, clock, auth."""

from __future__ import annotations

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules.common import (
    CAMERA_PATH_EN,
    CAMERA_PATH_ZH,
    CAMERA_PLACE_EN,
    CAMERA_PLACE_ZH,
    Group,
    alert,
    group,
)
from sharpeyes.alerts.rules.recording import bitrate_record
from sharpeyes.contract import (
    CAMERA_EXPECTED_BITRATE,
    ONVIF_AUTH_SUCCESS,
    ONVIF_CLOCK_OFFSET,
    PROBE_ERROR_INFO,
    PROBE_SUCCESS,
    UPTIME_SECONDS,
)


def groups(cfg: Config) -> list[Group]:
    j, t = cfg.jobs, cfg.thresholds
    icmp = cfg.sel(j.icmp, kind="camera")
    rtsp = cfg.sel(j.rtsp, kind="camera")
    uptime = f"{UPTIME_SECONDS}{cfg.sel(j.snmp_camera, kind='camera')}"
    onvif = cfg.sel(j.onvif, kind="camera")
    auth = cfg.sel(None, job=f"~{j.rtsp}|{j.snmp_camera}", kind="camera", reason="auth")
    onvif_auth = cfg.sel(j.onvif, kind="camera", reason="auth")
    lookback = t.onvif_lookback
    rules = [
        alert(
            cfg,
            "CameraOffline",
            f"{PROBE_SUCCESS}{icmp} == 0",
            scope="device",
            summary_zh=f"摄像机离线：${{device}}（{CAMERA_PLACE_ZH}）",
            summary=f"Camera offline: ${{device}} ({CAMERA_PLACE_EN})",
            description_zh=f"摄像机 ${{device}} ICMP 不可达，视频中断，计入离线时长。{CAMERA_PATH_ZH}。",
            description=f"Camera ${{device}} does not answer ICMP; video is lost and counts as offline. "
            f"{CAMERA_PATH_EN}.",
        ),
        alert(
            cfg,
            "CameraRtspDown",
            f"""
            ({PROBE_SUCCESS}{rtsp} == 0)
            and on (device) ({PROBE_SUCCESS}{icmp} == 1)
            unless on (device) ({PROBE_ERROR_INFO}{cfg.sel(j.rtsp, reason="auth")} == 1)
            """,
            scope="device",
            summary_zh=f"摄像机 RTSP 无响应：${{device}}（{CAMERA_PLACE_ZH}）",
            summary=f"Camera RTSP not answering: ${{device}} ({CAMERA_PLACE_EN})",
            description_zh=f"摄像机 ${{device}} 可 ping 通，但 RTSP 服务无响应，无法取流，计入离线"
            f"时长。{CAMERA_PATH_ZH}"
            "。",
            description=f"Camera ${{device}} answers ping but its RTSP service does not: no video, "
            f"counts as offline. {CAMERA_PATH_EN}.",
        ),
        alert(
            cfg,
            "CameraNotStreaming",
            f"""
            ({bitrate_record(cfg)} < {t.no_stream_bytes_per_second:g})
            and on (device) ({CAMERA_EXPECTED_BITRATE}{cfg.sel(j.inventory)} > 0)
            and on (device) ({PROBE_SUCCESS}{icmp} == 1)
            """,
            scope="device",
            summary_zh=f"摄像机在线但无码流：${{device}}（{CAMERA_PLACE_ZH}）",
            summary=f"Camera reachable but not streaming: ${{device}} ({CAMERA_PLACE_EN})",
            description_zh=f"摄像机 ${{device}} 可达，但交换机端口实测码流仅 ${{value:.0f}} 字节/秒"
            f"（配置码流 > 0）。{CAMERA_PATH_ZH}。",
            description=f"Camera ${{device}} is reachable but its switch port carries only"
            f" ${{value:.0f}} bytes/s "
            f"while a stream is configured. {CAMERA_PATH_EN}.",
        ),
        alert(
            cfg,
            "CameraRebootLoop",
            f"resets({uptime}[{t.reboot_window}]) >= {t.reboot_loop_resets}",
            scope="device",
            summary_zh=f"摄像机反复重启：${{device}}（{CAMERA_PLACE_ZH}）",
            summary=f"Camera reboot loop: ${{device}} ({CAMERA_PLACE_EN})",
            description_zh=f"摄像机 ${{device}} 在 {t.reboot_window} 内重启 ${{value:.0f}} 次（供电"
            "、固件或过热）"
            "。"
            f"{CAMERA_PATH_ZH}。",
            description=f"Camera ${{device}} rebooted ${{value:.0f}} times within {t.reboot_window} "
            f"(power, firmware or heat). {CAMERA_PATH_EN}.",
        ),
        alert(
            cfg,
            "CameraRebooted",
            f"resets({uptime}[{t.rebooted_window}]) > 0",
            scope="device",
            summary_zh=f"摄像机重启过：${{device}}（{CAMERA_PLACE_ZH}）",
            summary=f"Camera rebooted: ${{device}} ({CAMERA_PLACE_EN})",
            description_zh=f"摄像机 ${{device}} 在 {t.rebooted_window} 内重启过（仅提示，不开工单）。",
            description=f"Camera ${{device}} rebooted within {t.rebooted_window} (context only, no ticket).",
        ),
        alert(
            cfg,
            "CameraClockDrift",
            f"abs(last_over_time({ONVIF_CLOCK_OFFSET}{onvif}[{t.onvif_lookback}]))"
            f" > {t.clock_drift_seconds:g}",
            scope="device",
            summary_zh=f"摄像机时钟偏差：${{device}}（{CAMERA_PLACE_ZH}）",
            summary=f"Camera clock drift: ${{device}} ({CAMERA_PLACE_EN})",
            description_zh=f"摄像机 ${{device}} 时钟偏差 ${{value:.0f}} 秒（阈值"
            f" {t.clock_drift_seconds:g} 秒）"
            "，"
            "影响录像取证时间并导致 ONVIF 认证失败。检查 NTP。",
            description=f"Camera ${{device}} clock is off by ${{value:.0f}} s (threshold"
            f" {t.clock_drift_seconds:g} s): "
            "evidence timestamps are wrong and ONVIF WS-Security auth fails. Check NTP.",
        ),
        alert(
            cfg,
            "CameraAuthFailure",
            f"""
            max without (reason) (
                ({PROBE_ERROR_INFO}{auth} == 1)
              or
                (last_over_time({PROBE_ERROR_INFO}{onvif_auth}[{lookback}]) == 1)
              or
                (last_over_time({ONVIF_AUTH_SUCCESS}{onvif}[{lookback}]) == 0) + 1
            )
            """,
            scope="device",
            summary_zh=f"摄像机认证失败：${{device}}（{CAMERA_PLACE_ZH}）",
            summary=f"Camera authentication failure: ${{device}} ({CAMERA_PLACE_EN})",
            description_zh="摄像机 ${device} 拒绝 ${job} 探测的账号密码（密码被改、账号锁定或时钟偏差）。",
            description="Camera ${device} rejects the credentials of the ${job} probe "
            "(password changed, account locked or clock drift).",
        ),
    ]
    return [group(cfg, "sharpeyes.cameras", rules)]
