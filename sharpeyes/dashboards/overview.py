"""区县总览 / District overview: online rate now and today by township against the target, cameras
offline now (how long, which contractor), open tickets and SLA breaches, a map of every camera."""

from __future__ import annotations

from sharpeyes.contract import TICKETS_OPEN, TICKETS_SLA_BREACHED, VQD_IMAGE_INTACT
from sharpeyes.dashboards import common as c
from sharpeyes.dashboards.common import Lang


def _offline_since() -> str:
    """Seconds since each offline camera was last online: 1-minute steps over a day, hourly over 30 d."""
    up, now_down = f'{c.DEVICE_UP}{{kind="camera"}}', f'{c.DEVICE_UP}{{kind="camera"}} @ end() == 0'
    last_up = f"timestamp({up} == 1 and on (device) {now_down})"
    return f"time() - (max_over_time({last_up}[1d:1m]) or max_over_time({last_up}[30d:1h]))"


def township_table(lang: Lang) -> c.table.Panel:
    ratio_now = c.online("township", "ratio")
    today = c.rate_over_range("township")
    offline = f"{c.online('township', 'monitored')} - {c.online('township', 'up')}"
    pct = {
        "unit": "percentunit",
        "decimals": 2,
        "thresholds": c.online_thresholds().build().to_json(),
        "cell": c.colored_text(),
    }
    meets = c.value_map(
        lang, {"1": (("达标", "Meets target"), "green"), "0": (("未达标", "Below target"), "red")}
    )
    return c.table_panel(
        lang(("各乡镇在线率（今日 / 当前）", "Online rate by township (today / now)")),
        c.tq(
            [
                ratio_now,
                f"{today}",
                c.online("township", "active"),
                offline,
                f"({today}) >= bool {c.ONLINE_TARGET}",
            ]
        ),
        keep={
            "township": (lang(("乡镇", "Township")), {}),
            "area": (lang(("城区/农村", "Urban/rural")), {}),
            "Value #B": (lang(("今日在线率", "Online today")), pct),
            "Value #A": (lang(("当前在线率", "Online now")), pct),
            "Value #E": (
                lang(("今日达标", "Target today")),
                {"mappings": c.mapping_json(meets), "cell": c.colored_cell()},
            ),
            "Value #C": (lang(("在用摄像机", "Active cameras")), {"unit": c.unit_count(lang)}),
            "Value #D": (lang(("当前离线", "Offline now")), {"unit": c.unit_count(lang)}),
        },
        w=12,
        h=10,
        sort_by="Value #B",
        description=lang(
            (
                f"在线率 = 在线时长 / 监测时长；目标 {c.ONLINE_TARGET:.0%}。"
                "今日自 0 点起算。点击乡镇进入下钻。",
                f"Online rate = time online / time measured; target {c.ONLINE_TARGET:.0%}. Today "
                "counts from local midnight. Click a township to drill down.",
            )
        ),
        links=[
            c.field_link_override(
                lang,
                "township",
                ("乡镇详情", "Township detail"),
                c.dash_url("township", "var-township=${__data.fields.township}"),
            )
        ],
    ).time_from("now/d")


def offline_table(lang: Lang) -> c.table.Panel:
    cams = c.info("camera")
    reachable = f'{c.DEVICE_REACHABLE}{{kind="camera"}} and on (device) {c.DEVICE_UP}{{kind="camera"}} == 0'
    cause = c.value_map(
        lang, {"1": (("RTSP 无响应", "RTSP down"), "orange"), "0": (("ICMP 不可达", "Unreachable"), "red")}
    )
    return c.table_panel(
        lang(("当前离线摄像机", "Cameras offline now")),
        c.tq(
            [
                c.with_device_info(f'{c.DEVICE_UP}{{kind="camera"}} == 0', cams),
                c.with_device_info(_offline_since(), cams),
                c.with_device_info(reachable, cams),
            ],
            may_be_empty={0: "every camera online", 1: "every camera online", 2: "every camera online"},
        ),
        keep={
            "device": (lang(("设备", "Device")), {}),
            "name": (lang(("名称", "Name")), {}),
            "township": (lang(("乡镇", "Township")), {}),
            "village": (lang(("村", "Village")), {}),
            "contractor": (lang(("维保单位", "Contractor")), {}),
            "Value #C": (
                lang(("原因", "Cause")),
                {"mappings": c.mapping_json(cause), "cell": c.colored_text()},
            ),
            "Value #B": (lang(("已离线", "Offline for")), {"unit": c.unit_duration(lang)}),
        },
        w=12,
        h=10,
        sort_by="Value #B",
        desc=True,
        description=lang(
            (
                "离线 = ICMP 或 RTSP 探测失败。时长从最后一次在线算起（30 天内）。",
                "Offline = ICMP or RTSP probe failing. Duration since last seen online (within 30 days).",
            )
        ),
        links=[
            c.field_link_override(
                lang,
                "device",
                ("摄像机详情", "Camera detail"),
                c.dash_url("camera", "var-device=${__data.fields.device}"),
            )
        ],
    )


def contractor_tickets(lang: Lang) -> c.table.Panel:
    open_ = c.zero_by_contractor(f'sum by (contractor) ({TICKETS_OPEN}{{job="{c.JOB_TICKETS}"}})')
    resp = c.zero_by_contractor(
        f'sum by (contractor) ({TICKETS_SLA_BREACHED}{{job="{c.JOB_TICKETS}", sla="response"}})'
    )
    repair = c.zero_by_contractor(
        f'sum by (contractor) ({TICKETS_SLA_BREACHED}{{job="{c.JOB_TICKETS}", sla="repair"}})'
    )
    red_if_any = {
        "thresholds": c.thresholds((None, "green"), (1, "red")).build().to_json(),
        "cell": c.colored_text(),
        "unit": c.unit_tickets(lang),
    }
    return c.table_panel(
        lang(("维保单位工单", "Tickets by contractor")),
        c.tq([f"{c.online('contractor', 'ratio')}", open_, resp, repair]),
        keep={
            "contractor": (lang(("维保单位", "Contractor")), {}),
            "Value #A": (lang(("当前在线率", "Online now")), {"unit": "percentunit", "decimals": 2}),
            "Value #B": (lang(("未结工单", "Open tickets")), {"unit": c.unit_tickets(lang)}),
            "Value #C": (lang(("响应超时", "Response SLA breached")), red_if_any),
            "Value #D": (lang(("修复超时", "Repair SLA breached")), red_if_any),
        },
        w=12,
        h=8,
        links=[
            c.field_link_override(
                lang,
                "contractor",
                ("工单与 SLA", "Tickets and SLA"),
                c.dash_url("tickets", "var-contractor=${__data.fields.contractor}"),
            )
        ],
    )


VQD_LB = "25m"  # one still per camera every 10 minutes
NO_STILLS = "no snapshot module or no still judged yet"


def image_intact_by(level: str, lang: Lang, title: c.Text, extra: str = "") -> c.bargauge.Panel:
    """Share of cameras whose last still was judged intact, per township/village (图像完好率)."""
    expr = f"avg by ({level}) (last_over_time({VQD_IMAGE_INTACT}{{job=\"{c.JOB_SNAPSHOT}\"{extra}}}[{VQD_LB}]))"
    return c.bar_panel(
        lang(title),
        [c.q(expr, f"{{{{{level}}}}}", instant=True, may_be_empty=NO_STILLS)],
        unit="percentunit",
        th=c.thresholds((None, "red"), (0.95, "orange"), (0.98, "green")),
        min_val=0,
        max_val=1,
    ).description(lang((
        "最近一张抓图被诊断为图像完好的摄像机占比（未能抓图的不计入）。完好率 = 在线且图像完好的时间 ÷ 应在线时间，"
        "见月报。",
        "Share of cameras whose last still was judged intact (cameras without a still are not counted). "
        "The intact rate (online and intact time / expected time) is in the monthly report.",
    )))


def worst_images(lang: Lang, extra: str = "") -> c.table.Panel:
    intact = f'{VQD_IMAGE_INTACT}{{job="{c.JOB_SNAPSHOT}"{extra}}}'
    # values are 0/1, one per still: stills judged minus stills intact = faulty stills
    faulty = f"count_over_time({intact}[$__range]) - sum_over_time({intact}[$__range])"
    return c.table_panel(
        lang(("图像故障最多的摄像机", "Cameras with the most image faults")),
        c.tq(
            [f"topk(20, sum by (device, township, village, contractor) ({faulty}) > 0)"],
            may_be_empty={0: "no image fault in the range"},
        ),
        keep={
            "device": (lang(("设备", "Device")), {}),
            "township": (lang(("乡镇", "Township")), {}),
            "village": (lang(("村", "Village")), {}),
            "contractor": (lang(("维保单位", "Contractor")), {}),
            "Value #A": (lang(("故障抓图张数", "Faulty stills")), {}),
        },
        w=12,
        h=10,
        sort_by="Value #A",
        desc=True,
        links=[c.field_link_override(lang, "device", ("摄像机详情", "Camera detail"),
                                     c.dash_url("camera", "var-device=${__value.raw}"))],
    )


def build(lang: Lang) -> c.db.Dashboard:
    ds = c.dashboard(
        lang,
        "overview",
        ("雪亮工程 · 区县总览", "Sharp Eyes · District overview"),
        (
            "全区摄像机在线率、当前离线、工单与地图。",
            "District camera online rate, outages, tickets and map.",
        ),
    )
    target_th = c.online_thresholds()
    cam = c.unit_count(lang)
    tk = c.unit_tickets(lang)
    red_if_any = c.thresholds((None, "green"), (1, "red"))
    stats = [
        c.stat_panel(
            lang(("全区在线率（当前）", "District online now")),
            [c.q(c.online("district", "ratio"))],
            unit="percentunit",
            decimals=2,
            th=target_th,
            graph=True,
        ),
        c.stat_panel(
            lang(("全区在线率（今日）", "District online today")),
            [c.q(c.rate_over_range("district"), instant=True)],
            unit="percentunit",
            decimals=2,
            th=target_th,
            description=lang((f"目标 {c.ONLINE_TARGET:.0%}", f"Target {c.ONLINE_TARGET:.0%}")),
        ).time_from("now/d"),
        c.stat_panel(lang(("在用摄像机", "Active cameras")), [c.q(c.online("district", "active"))], unit=cam),
        c.stat_panel(
            lang(("当前离线", "Offline now")),
            [c.q(f"{c.online('district', 'monitored')} - {c.online('district', 'up')}")],
            unit=cam,
            th=red_if_any,
            graph=True,
        ),
        c.stat_panel(
            lang(("未监测", "Not measured")),
            [
                c.q(
                    f"({c.online('district', 'active')} - {c.online('district', 'monitored')})"
                    f" or {c.online('district', 'active')}"
                )
            ],
            unit=cam,
            th=c.thresholds((None, "green"), (1, "orange")),
            description=lang(
                (
                    "清单在用但无探测数据（不计入在线率）。",
                    "Active in the inventory but no probe data (not counted).",
                )
            ),
        ),
        c.stat_panel(
            lang(("未结工单", "Open tickets")),
            [c.q(c.zero_if_tickets_up(f'sum({TICKETS_OPEN}{{job="{c.JOB_TICKETS}"}})'))],
            unit=tk,
            th=c.thresholds((None, "green"), (1, "orange")),
        ),
        c.stat_panel(
            lang(("响应超时工单", "Response SLA breached")),
            [
                c.q(
                    c.zero_if_tickets_up(
                        f'sum({TICKETS_SLA_BREACHED}{{job="{c.JOB_TICKETS}", sla="response"}})'
                    )
                )
            ],
            unit=tk,
            th=red_if_any,
            description=lang(
                ("未关闭且响应超时的工单。", "Tickets not closed whose response SLA is breached.")
            ),
        ),
        c.stat_panel(
            lang(("修复超时工单", "Repair SLA breached")),
            [
                c.q(
                    c.zero_if_tickets_up(
                        f'sum({TICKETS_SLA_BREACHED}{{job="{c.JOB_TICKETS}", sla="repair"}})'
                    )
                )
            ],
            unit=tk,
            th=red_if_any,
            description=lang(
                ("未关闭且修复超时的工单。", "Tickets not closed whose repair SLA is breached.")
            ),
        ),
    ]
    ds = ds.with_row(c.row(lang, ("全区", "District")))
    widths = [3, 3, 3, 3, 3, 3, 3, 3]
    for panel, w in zip(stats, widths, strict=True):
        ds = ds.with_panel(panel.span(w))
    trend = c.ts_panel(
        lang(("乡镇在线率趋势", "Online rate by township")),
        [c.q(c.online("township", "ratio"), "{{township}}")],
        unit="percentunit",
        th=target_th,
        threshold_line=True,
        max_val=1,
        w=12,
    )
    return (
        ds.with_row(c.row(lang, ("乡镇", "Townships")))
        .with_panel(township_table(lang))
        .with_panel(trend)
        .with_row(c.row(lang, ("离线与工单", "Outages and tickets")))
        .with_panel(offline_table(lang))
        .with_panel(contractor_tickets(lang))
        .with_row(c.row(lang, ("图像完好（视频质量诊断）", "Picture intact (video quality diagnosis)")))
        .with_panel(image_intact_by("township", lang, ("乡镇图像完好率（当前）", "Picture intact by township (now)")))
        .with_panel(worst_images(lang))
        .with_row(c.row(lang, ("地图", "Map")))
        .with_panel(
            c.geomap_panel(
                lang,
                ("摄像机地图（按状态着色）", "Cameras by state"),
                c.camera_state_with_coords(),
                description=(
                    "绿：在线；橙：可 ping 通但 RTSP 无响应；红：不可达；灰：未监测。坐标取自资产清单。",
                    "Green online, orange pingable but RTSP down, red unreachable, grey not measured. "
                    "Coordinates from the inventory.",
                ),
            )
        )
    )
