"""乡镇 → 村 下钻 / Township → village drill-down through the ``township`` and ``village`` variables."""

from __future__ import annotations

from sharpeyes.dashboards import common as c
from sharpeyes.dashboards.common import Lang
from sharpeyes.dashboards.overview import image_intact_by, worst_images

T = ', township="$township"'
TV = ', township="$township", village=~"$village"'


def variables(lang: Lang) -> list[c.db.QueryVariable]:
    return [
        c.query_variable(
            lang, "township", ("乡镇", "Township"), f"label_values({c.info('camera')}, township)"
        ),
        c.query_variable(
            lang,
            "village",
            ("村", "Village"),
            f"label_values({c.info('camera', T)}, village)",
            multi=True,
            include_all=True,
        ),
    ]


def village_table(lang: Lang) -> c.table.Panel:
    vsel = c.sel(None, TV)
    today = c.rate_over_range("village", vsel)
    pct = {
        "unit": "percentunit",
        "decimals": 2,
        "thresholds": c.online_thresholds().build().to_json(),
        "cell": c.colored_text(),
    }
    return c.table_panel(
        lang(("各村在线率", "Online rate by village")),
        c.tq(
            [
                f"{c.online('village', 'ratio')}{vsel}",
                today,
                f"{c.online('village', 'active')}{vsel}",
                f"{c.online('village', 'monitored')}{vsel} - {c.online('village', 'up')}{vsel}",
            ]
        ),
        keep={
            "village": (lang(("村", "Village")), {}),
            "Value #B": (lang(("今日在线率", "Online today")), pct),
            "Value #A": (lang(("当前在线率", "Online now")), pct),
            "Value #C": (lang(("在用摄像机", "Active cameras")), {"unit": c.unit_count(lang)}),
            "Value #D": (lang(("当前离线", "Offline now")), {"unit": c.unit_count(lang)}),
        },
        w=10,
        h=10,
        sort_by="Value #B",
        description=lang(("点击村名只看该村。", "Click a village to show only that village.")),
        links=[
            c.field_link_override(
                lang,
                "village",
                ("只看该村", "This village only"),
                c.dash_url("township", "var-township=${township}&var-village=${__data.fields.village}"),
            )
        ],
    ).time_from("now/d")


def camera_table(lang: Lang) -> c.table.Panel:
    cams = c.info("camera", TV)
    per_device_today = (
        f"sum_over_time({c.DEVICE_UP}{c.sel('camera', TV)}[$__range])\n"
        f"/ count_over_time({c.DEVICE_UP}{c.sel('camera', TV)}[$__range])"
    )
    labels = "name, township, village, contractor, model, uplink_switch"
    state = f"{c.camera_state(TV)}\nor on (device) {cams} * -1"
    pct = {
        "unit": "percentunit",
        "decimals": 1,
        "thresholds": c.online_thresholds().build().to_json(),
        "cell": c.colored_text(),
    }
    return c.table_panel(
        lang(("摄像机", "Cameras")),
        c.tq([c.with_device_info(state, cams, labels), c.with_device_info(per_device_today, cams, labels)]),
        keep={
            "device": (lang(("设备", "Device")), {}),
            "name": (lang(("名称", "Name")), {}),
            "village": (lang(("村", "Village")), {}),
            "model": (lang(("型号", "Model")), {}),
            "uplink_switch": (lang(("接入交换机", "Access switch")), {}),
            "contractor": (lang(("维保单位", "Contractor")), {}),
            "Value #A": (
                lang(("状态", "State")),
                {"mappings": c.mapping_json(c.value_map(lang, c.STATE_ENTRIES)), "cell": c.colored_cell()},
            ),
            "Value #B": (lang(("今日在线率", "Online today")), pct),
        },
        w=14,
        h=10,
        sort_by="Value #A",
        links=[
            c.field_link_override(
                lang,
                "device",
                ("摄像机详情", "Camera detail"),
                c.dash_url("camera", "var-township=${township}&var-device=${__data.fields.device}"),
            ),
            c.field_link_override(
                lang,
                "uplink_switch",
                ("交换机", "Switch"),
                c.dash_url("switches", "var-township=${township}&var-switch=${__data.fields.uplink_switch}"),
            ),
        ],
    ).time_from("now/d")


def build(lang: Lang) -> c.db.Dashboard:
    ds = c.dashboard(
        lang,
        "township",
        ("雪亮工程 · 乡镇 / 村", "Sharp Eyes · Township / village"),
        (
            "乡镇与村的在线率、摄像机状态和地图。",
            "Online rate, camera state and map of a township and its villages.",
        ),
    )
    for v in variables(lang):
        ds = ds.with_variable(v)
    tsel = c.sel(None, T)
    th = c.online_thresholds()
    cam = c.unit_count(lang)
    ds = (
        ds.link(c.link(lang, ("区县总览", "District overview"), c.dash_url("overview")))
        .with_row(c.row(lang, ("乡镇 $township", "Township $township")))
        .with_panel(
            c.stat_panel(
                lang(("当前在线率", "Online now")),
                [c.q(f"{c.online('township', 'ratio')}{tsel}")],
                unit="percentunit",
                decimals=2,
                th=th,
                graph=True,
                w=6,
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("今日在线率", "Online today")),
                [c.q(c.rate_over_range("township", tsel), instant=True)],
                unit="percentunit",
                decimals=2,
                th=th,
                w=6,
            ).time_from("now/d")
        )
        .with_panel(
            c.stat_panel(
                lang(("在用摄像机", "Active cameras")),
                [c.q(f"{c.online('township', 'active')}{tsel}")],
                unit=cam,
                w=6,
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("当前离线", "Offline now")),
                [c.q(f"{c.online('township', 'monitored')}{tsel} - {c.online('township', 'up')}{tsel}")],
                unit=cam,
                th=c.thresholds((None, "green"), (1, "red")),
                graph=True,
                w=6,
            )
        )
        .with_row(c.row(lang, ("村", "Villages")))
        .with_panel(village_table(lang))
        .with_panel(camera_table(lang))
        .with_panel(
            c.ts_panel(
                lang(("各村在线率趋势", "Online rate by village")),
                [c.q(f"{c.online('village', 'ratio')}{c.sel(None, TV)}", "{{village}}")],
                unit="percentunit",
                th=th,
                threshold_line=True,
                max_val=1,
                w=12,
                h=10,
            )
        )
        .with_panel(
            c.geomap_panel(lang, ("摄像机地图", "Camera map"), c.camera_state_with_coords(TV), w=12, h=10)
        )
        .with_row(c.row(lang, ("图像完好（视频质量诊断）", "Picture intact (video quality diagnosis)")))
        .with_panel(
            image_intact_by("village", lang, ("村图像完好率（当前）", "Picture intact by village (now)"),
                            ', township=~"$township"')
        )
        .with_panel(worst_images(lang, ', township=~"$township"'))
        .with_row(c.row(lang, ("上联设备", "Upstream")))
        .with_panel(
            c.table_panel(
                lang(("乡镇交换机与平台", "Switches and platforms")),
                c.tq(
                    [
                        c.with_device_info(
                            f"{c.DEVICE_UP}{c.sel(None, T)} unless on (device) "
                            f"{c.DEVICE_UP}{c.sel('camera', T)}",
                            c.info(None, T),
                            "name, kind, role, model",
                        )
                    ]
                ),
                keep={
                    "device": (lang(("设备", "Device")), {}),
                    "name": (lang(("名称", "Name")), {}),
                    "kind": (lang(("类型", "Kind")), {}),
                    "role": (lang(("角色", "Role")), {}),
                    "model": (lang(("型号", "Model")), {}),
                    "Value #A": (
                        lang(("状态", "State")),
                        {
                            "mappings": c.mapping_json(c.value_map(lang, c.UP_ENTRIES)),
                            "cell": c.colored_cell(),
                        },
                    ),
                },
                w=24,
                h=8,
                sort_by="Value #A",
                links=[
                    c.field_link_override(
                        lang,
                        "device",
                        ("交换机", "Switch"),
                        c.dash_url("switches", "var-township=${township}&var-switch=${__data.fields.device}"),
                    )
                ],
            )
        )
    )
    return ds
