"""摄像机详情 / Camera detail: reachability, loss, RTT, uptime and reboots, measured vs configured
bitrate, clock offset, ONVIF information, its switch port and its tickets."""

from __future__ import annotations

from sharpeyes.contract import (
    CAMERA_EXPECTED_BITRATE,
    ONVIF_CLOCK_OFFSET,
    PORT_UP,
    PROBE_SUCCESS,
    TICKETS_OPEN,
    TICKETS_SLA_BREACHED,
    UPTIME_SECONDS,
    VQD_CHECK_FAULT,
    VQD_CHECK_SCORE,
    VQD_CHECK_THRESHOLD,
    VQD_IMAGE_INTACT,
)
from sharpeyes.dashboards import common as c
from sharpeyes.dashboards.common import Lang

D = '{device="$device"}'
IN_T = ', township=~"$township"'
IN_TV = ', township=~"$township", village=~"$village"'
DEV = ', device="$device"'
LB = c.ONVIF_LOOKBACK


def variables(lang: Lang) -> list[c.db.QueryVariable | c.db.ConstantVariable]:
    return [
        c.query_variable(
            lang,
            "township",
            ("乡镇", "Township"),
            f"label_values({c.info('camera')}, township)",
            include_all=True,
        ),
        c.query_variable(
            lang,
            "village",
            ("村", "Village"),
            f"label_values({c.info('camera', IN_T)}, village)",
            include_all=True,
        ),
        c.query_variable(
            lang, "device", ("摄像机", "Camera"), f"label_values({c.info('camera', IN_TV)}, device)"
        ),
        c.query_variable(
            lang,
            "contractor",
            ("维保单位", "Contractor"),
            f"label_values({c.info('camera', DEV)}, contractor)",
            hide=True,
        ),
        c.query_variable(
            lang,
            "device_township",
            ("所属乡镇", "Camera's township"),
            f"label_values({c.info('camera', DEV)}, township)",
            hide=True,
        ),
        c.constant_variable("tickets_url", c.TICKETS_URL),
        c.constant_variable("exporter_url", c.EXPORTER_URL),
    ]


def info_table(lang: Lang) -> c.table.Panel:
    fields = {
        "device": ("设备", "Device"),
        "name": ("名称", "Name"),
        "vendor": ("厂商", "Vendor"),
        "model": ("型号", "Model"),
        "role": ("类型", "Role"),
        "township": ("乡镇", "Township"),
        "village": ("村", "Village"),
        "site": ("点位", "Site"),
        "contractor": ("维保单位", "Contractor"),
        "funding": ("建设资金", "Funding"),
        "uplink_switch": ("接入交换机", "Access switch"),
        "uplink_port": ("端口", "Port"),
        "fiber_link": ("光纤链路", "Fiber link"),
        "lat": ("纬度", "Latitude"),
        "lon": ("经度", "Longitude"),
    }
    return c.table_panel(
        lang(("资产清单", "Inventory record")),
        c.tq([c.info("camera", ', device="$device"')]),
        keep={k: (lang(v), {}) for k, v in fields.items()},
        w=24,
        h=4,
        links=[
            c.field_link_override(
                lang,
                "uplink_switch",
                ("交换机", "Switch"),
                c.dash_url("switches", "var-switch=${__data.fields.uplink_switch}"),
            ),
            c.field_link_override(
                lang,
                "fiber_link",
                ("光纤链路", "Fiber link"),
                c.dash_url("fiber", "var-fiber_link=${__data.fields.fiber_link}"),
            ),
        ],
    )


def onvif_table(lang: Lang) -> c.table.Panel:
    return c.table_panel(
        lang(("ONVIF 设备信息", "ONVIF device information")),
        c.tq([f'last_over_time(sharpeyes_onvif_device_info{{job="{c.JOB_ONVIF}", device="$device"}}[{LB}])']),
        keep={
            "manufacturer": (lang(("制造商", "Manufacturer")), {}),
            "model": (lang(("型号", "Model")), {}),
            "firmware_version": (lang(("固件版本", "Firmware")), {}),
            "serial_number": (lang(("序列号", "Serial number")), {}),
            "hardware_id": (lang(("硬件 ID", "Hardware ID")), {}),
        },
        w=12,
        h=4,
    )


def encoder_table(lang: Lang) -> c.table.Panel:
    metrics = ("bitrate_limit_bytes_per_second", "frame_rate", "width_pixels", "height_pixels")
    exprs = [
        f'last_over_time(sharpeyes_onvif_encoder_{m}{{job="{c.JOB_ONVIF}", device="$device"}}[{LB}])'
        for m in metrics
    ]
    return c.table_panel(
        lang(("ONVIF 编码配置", "ONVIF encoder profiles")),
        c.tq(exprs),
        keep={
            "profile": (lang(("配置", "Profile")), {}),
            "encoding": (lang(("编码", "Encoding")), {}),
            "Value #A": (lang(("码率上限", "Bitrate limit")), {"unit": "Bps"}),
            "Value #B": (lang(("帧率", "Frame rate")), {"unit": lang.pick("suffix: 帧/秒", "suffix: fps")}),
            "Value #C": (lang(("宽", "Width")), {"unit": lang.pick("suffix: 像素", "suffix: px")}),
            "Value #D": (lang(("高", "Height")), {"unit": lang.pick("suffix: 像素", "suffix: px")}),
        },
        w=12,
        h=4,
    )


SNAP = f'job="{c.JOB_SNAPSHOT}", device="$device"'
VQD_LB = "25m"  # stills come every 10 minutes: the last one within two and a half intervals


def stills_panel(lang: Lang) -> c.text_panel.Panel:
    """The last still and the reference still side by side (served by the exporter, docs/vqd.md)."""
    last = "${exporter_url}/vqd/${device}/last.jpg"
    ref = "${exporter_url}/vqd/${device}/reference.jpg"
    content = (
        f"| {lang(('最近抓图', 'Last still'))} | {lang(('参考图（基线）', 'Reference still (baseline)'))} |\n"
        f"|---|---|\n| [![]({last})]({last}) | [![]({ref})]({ref}) |\n"
    )
    return (
        c.text_panel.Panel()
        .title(lang(("最近抓图与参考图", "Last and reference still")))
        .mode(c.text_models.TextMode.MARKDOWN)
        .content(content)
        .span(12)
        .height(9)
    )


def vqd_table(lang: Lang) -> c.table.Panel:
    empty = ("未配置抓图诊断或尚无抓图", "no snapshot module or no still yet")
    metrics = (VQD_CHECK_SCORE, VQD_CHECK_THRESHOLD, VQD_CHECK_FAULT)
    exprs = [f"last_over_time({m}{{{SNAP}}}[{VQD_LB}])" for m in metrics]
    return c.table_panel(
        lang(("图像诊断项", "Image checks")),
        c.tq(exprs, may_be_empty={0: lang(empty), 1: lang(empty), 2: lang(empty)}),
        keep={
            "check": (lang(("诊断项", "Check")), {}),
            "Value #A": (lang(("得分", "Score")), {"decimals": 3}),
            "Value #B": (lang(("阈值", "Threshold")), {"decimals": 3}),
            "Value #C": (lang(("故障", "Fault")), {"mappings": c.mapping_json(c.value_map(lang, VQD_FAULT)),
                                                  "cell": c.colored_cell()}),
        },
        w=12,
        h=9,
        description=lang((
            "得分与该摄像机自己的基线比较；无“故障”值 = 未判定（基线学习中，或被更严重的故障屏蔽）。",
            "Scores are judged against this camera's own baseline; no fault value = not judged "
            "(baseline learning, or masked by a stronger fault).",
        )),
    )


VQD_FAULT = {"0": (("正常", "OK"), "green"), "1": (("故障", "Fault"), "red")}
VQD_INTACT = {"1": (("完好", "Intact"), "green"), "0": (("故障", "Fault"), "red")}


def build(lang: Lang) -> c.db.Dashboard:
    ds = c.dashboard(
        lang,
        "camera",
        ("雪亮工程 · 摄像机详情", "Sharp Eyes · Camera detail"),
        (
            "单台摄像机的可达性、丢包、时延、重启、码流、时钟与工单。",
            "Reachability, loss, latency, reboots, bitrate, clock and tickets of one camera.",
        ),
    )
    for v in variables(lang):
        ds = ds.with_variable(v)
    cam = ', device="$device"'
    state = f"{c.camera_state(cam)} or on (device) {c.info('camera', cam)} * -1"
    today = f"sum_over_time({c.DEVICE_UP}{D}[$__range])\n/ count_over_time({c.DEVICE_UP}{D}[$__range])"
    uptime = f'{UPTIME_SECONDS}{{job="{c.JOB_SNMP_CAMERA}", device="$device"}}'
    clock = f'{ONVIF_CLOCK_OFFSET}{{job="{c.JOB_ONVIF}", device="$device"}}'
    tickets_link = "${tickets_url}/api/v1/tickets?device=${device}&state=open,acknowledged,in_progress,resolved,closed"
    drift = c.CLOCK_DRIFT_SECONDS
    ds = (
        ds.link(
            c.link(
                lang,
                ("乡镇 / 村", "Township / village"),
                c.dash_url("township", "var-township=${device_township}"),
            )
        )
        .link(
            c.link(
                lang, ("该乡镇工单（工单服务 API）", "Tickets of this township (ticket API)"), tickets_link
            ).target_blank(True)
        )
        .with_row(c.row(lang, ("摄像机 $device", "Camera $device")))
        .with_panel(
            c.stat_panel(
                lang(("状态", "State")),
                [c.q(state)],
                mappings=[c.value_map(lang, c.STATE_ENTRIES)],
                w=4,
                th=c.thresholds((None, "gray"), (0, "red"), (1, "orange"), (2, "green")),
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("今日在线率", "Online today")),
                [c.q(today, instant=True)],
                unit="percentunit",
                decimals=2,
                th=c.online_thresholds(),
                w=4,
            ).time_from("now/d")
        )
        .with_panel(
            c.stat_panel(lang(("运行时长", "Uptime")), [c.q(uptime)], unit=c.unit_duration(lang), w=4)
        )
        .with_panel(
            c.stat_panel(
                lang(("24 小时重启次数", "Reboots in 24 h")),
                [c.q(f"resets({uptime}[1d])")],
                unit=lang.pick("suffix: 次", "short"),
                w=4,
                th=c.thresholds((None, "green"), (1, "orange"), (3, "red")),
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("时钟偏差", "Clock offset")),
                [c.q(f"last_over_time({clock}[{LB}])")],
                unit="s",
                decimals=1,
                w=4,
                th=c.thresholds((None, "red"), (-drift, "green"), (drift, "red")),
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("当前告警", "Firing alerts")),
                [c.q('count(ALERTS{device="$device", alertstate="firing"}) or vector(0)')],
                unit=lang.pick("suffix: 条", "short"),
                w=4,
                th=c.thresholds((None, "green"), (1, "red")),
                description=lang(
                    (
                        "Prometheus 告警（工单由告警生成）。",
                        "Prometheus alerts (tickets are opened from alerts).",
                    )
                ),
            )
        )
        .with_panel(info_table(lang))
        .with_row(c.row(lang, ("网络", "Network")))
        .with_panel(
            c.state_timeline(
                lang(("探测结果", "Probe results")),
                [c.q(f'{PROBE_SUCCESS}{{job=~"{c.PROBE_JOBS_RE}", device="$device"}}', "{{module}}")],
                mappings=[c.value_map(lang, c.UP_ENTRIES)],
                w=24,
                h=6,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("丢包率", "Packet loss")),
                [
                    c.q(
                        f'sharpeyes_icmp_packet_loss_ratio{{job="{c.JOB_ICMP}", device="$device"}}',
                        lang(("丢包率", "loss")),
                    )
                ],
                unit="percentunit",
                min_val=0,
                max_val=1,
                w=8,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("往返时延", "Round-trip time")),
                [
                    c.q(
                        f'sharpeyes_icmp_rtt_seconds{{job="{c.JOB_ICMP}", device="$device"}}',
                        lang(("平均", "average")),
                    ),
                    c.q(
                        f'sharpeyes_icmp_rtt_max_seconds{{job="{c.JOB_ICMP}", device="$device"}}',
                        lang(("最大", "max")),
                        ref="B",
                    ),
                ],
                unit="s",
                min_val=0,
                w=8,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("RTSP 响应时间", "RTSP response time")),
                [c.q(f'sharpeyes_rtsp_response_seconds{{job="{c.JOB_RTSP}", device="$device"}}', "RTSP")],
                unit="s",
                min_val=0,
                w=8,
            )
        )
        .with_row(c.row(lang, ("视频与设备", "Video and device")))
        .with_panel(
            c.ts_panel(
                lang(("实测码流与配置码流", "Measured vs configured bitrate")),
                [
                    c.q(f"{c.BITRATE}{D}", lang(("实测（交换机端口）", "measured (switch port)"))),
                    c.q(
                        f"{CAMERA_EXPECTED_BITRATE}"
                        f'{{job="{c.JOB_INVENTORY}", device="$device"}}',
                        lang(("清单配置", "inventory")),
                        ref="B",
                    ),
                    c.q(
                        f'last_over_time(sharpeyes_onvif_encoder_bitrate_limit_bytes_per_second{{job="{c.JOB_ONVIF}",'
                        f' device="$device"}}[{LB}])',
                        lang(("ONVIF 上限 {{profile}}", "ONVIF limit {{profile}}")),
                        ref="C",
                    ),
                ],
                unit="Bps",
                min_val=0,
                w=12,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("运行时长（下降即重启）", "Uptime (a drop is a reboot)")),
                [c.q(uptime, "uptime")],
                unit=c.unit_duration(lang),
                min_val=0,
                w=12,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("时钟偏差（摄像机 − 监控主机）", "Clock offset (camera − monitoring host)")),
                [c.q(clock, lang(("偏差", "offset")))],
                unit="s",
                w=12,
                th=c.thresholds((None, "red"), (-drift, "green"), (drift, "red")),
                threshold_line=True,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("交换机端口", "Switch port")),
                [
                    c.q(
                        f'{PORT_UP}{{job="{c.JOB_SNMP_SWITCH}", port_device="$device"}}',
                        lang(("端口状态 {{device}} {{port}}", "port up {{device}} {{port}}")),
                    ),
                    c.q(
                        "rate(sharpeyes_port_receive_errors_total"
                        f'{{job="{c.JOB_SNMP_SWITCH}", port_device="$device"}}'
                        f"[$__rate_interval])",
                        lang(("接收错误/秒", "rx errors/s")),
                        ref="B",
                    ),
                ],
                w=12,
                min_val=0,
            )
        )
        .with_row(c.row(lang, ("图像质量（视频质量诊断）", "Picture (video quality diagnosis)")))
        .with_panel(stills_panel(lang))
        .with_panel(vqd_table(lang))
        .with_panel(
            c.state_timeline(
                lang(("图像完好", "Picture intact")),
                [c.q(f"{VQD_IMAGE_INTACT}{{{SNAP}}}", lang(("图像", "picture")),
                     may_be_empty=lang(("尚无抓图", "no still yet")))],
                mappings=[c.value_map(lang, VQD_INTACT)],
                w=24,
                h=4,
            )
        )
        .with_row(c.row(lang, ("ONVIF 与工单", "ONVIF and tickets")))
        .with_panel(onvif_table(lang))
        .with_panel(encoder_table(lang))
        .with_panel(
            c.stat_panel(
                lang(("维保单位未结工单", "Open tickets of the contractor")),
                [
                    c.q(
                        c.zero_if_tickets_up(
                            f'sum({TICKETS_OPEN}{{job="{c.JOB_TICKETS}", contractor="$contractor"}})'
                        )
                    )
                ],
                unit=c.unit_tickets(lang),
                w=12,
                th=c.thresholds((None, "green"), (1, "orange")),
                description=lang(
                    (
                        "工单指标只按维保单位统计；单台设备的工单见上方「该乡镇工单」链接。",
                        "Ticket metrics are per contractor; this camera's tickets: the ticket API "
                        "link above.",
                    )
                ),
            ).links(
                [
                    c.link(
                        lang, ("工单列表（工单服务）", "Ticket list (ticket service)"), tickets_link
                    ).target_blank(True)
                ]
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("维保单位 SLA 超时", "Contractor SLA breaches")),
                [
                    c.q(
                        c.zero_if_tickets_up(
                            f"sum({TICKETS_SLA_BREACHED}"
                            f'{{job="{c.JOB_TICKETS}", contractor="$contractor"}})'
                        )
                    )
                ],
                unit=c.unit_tickets(lang),
                w=12,
                th=c.thresholds((None, "green"), (1, "red")),
            ).links(
                [
                    c.link(
                        lang,
                        ("工单与 SLA", "Tickets and SLA"),
                        c.dash_url("tickets", "var-contractor=${contractor}"),
                    )
                ]
            )
        )
    )
    return ds
