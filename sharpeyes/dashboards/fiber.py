"""光纤链路 / Fiber links: state, optical Rx/Tx power against the link's threshold, optical margin and
the predicted days until the margin falls below the alert threshold."""

from __future__ import annotations

from sharpeyes.contract import (
    FIBER_LINK_INFO,
    FIBER_LINK_RX_MIN_DBM,
    OPTICAL_RX_POWER_DBM,
    OPTICAL_TX_POWER_DBM,
    PORT_UP,
)
from sharpeyes.dashboards import common as c
from sharpeyes.dashboards.common import Lang

LINK_INFO = (
    f'{FIBER_LINK_INFO}{{job="{c.JOB_INVENTORY}", township=~"$township", fiber_link=~"$fiber_link"}}'
)
PORTS = f'job="{c.JOB_SNMP_SWITCH}", port_link!="", port_link=~"$fiber_link"'
MARGIN = f'{c.OPTICAL_MARGIN}{{township=~"$township", fiber_link=~"$fiber_link"}}'
LINK_LABELS = "township, contractor, a_switch, a_port, b_switch, b_port"


def by_link(expr: str) -> str:
    """Per fiber link (from the switch ports' ``port_link``), with the link's inventory labels."""
    return (
        f'min by (fiber_link) (\n  label_replace({expr}, "fiber_link", "$1", "port_link", "(.+)")\n)\n'
        f"* on (fiber_link) group_left ({LINK_LABELS})\n{LINK_INFO}"
    )


def with_link_info(expr: str) -> str:
    return f"min by (fiber_link) (\n  {expr}\n)\n* on (fiber_link) group_left ({LINK_LABELS})\n{LINK_INFO}"


def days_to_threshold() -> str:
    """Days until the margin reaches the alert threshold at the 3-day trend; 365 = not degrading."""
    slope = f"clamp_min(-deriv({MARGIN}[3d]), 1e-12)"
    return f"clamp(({MARGIN} - {c.OPTICAL_MARGIN_MIN_DB:g}) / {slope} / 86400, 0, 365)"


def state_table(lang: Lang) -> c.table.Panel:
    rx_min = f'{FIBER_LINK_RX_MIN_DBM}{{job="{c.JOB_INVENTORY}"}}'
    margin_th = (
        c.thresholds(
            (None, "red"), (c.OPTICAL_MARGIN_MIN_DB, "orange"), (c.OPTICAL_MARGIN_MIN_DB + 2, "green")
        )
        .build()
        .to_json()
    )
    days_th = c.thresholds((None, "red"), (14, "orange"), (60, "green")).build().to_json()
    stable = c.range_map(lang, 365, 1e9, ("不下降", "Not degrading"), "green")
    return c.table_panel(
        lang(("链路状态", "Link state")),
        c.tq(
            [
                by_link(f"{PORT_UP}{{{PORTS}}}"),
                with_link_info(MARGIN),
                by_link(f"{OPTICAL_RX_POWER_DBM}{{{PORTS}}}"),
                with_link_info(rx_min),
                with_link_info(days_to_threshold()),
            ]
        ),
        keep={
            "fiber_link": (lang(("链路", "Link")), {}),
            "township": (lang(("乡镇", "Township")), {}),
            "contractor": (lang(("维保单位", "Contractor")), {}),
            "a_switch": (lang(("A 端交换机", "A switch")), {}),
            "a_port": (lang(("A 端端口", "A port")), {}),
            "b_switch": (lang(("B 端交换机", "B switch")), {}),
            "b_port": (lang(("B 端端口", "B port")), {}),
            "Value #A": (
                lang(("状态", "State")),
                {"mappings": c.mapping_json(c.value_map(lang, c.UP_ENTRIES)), "cell": c.colored_cell()},
            ),
            "Value #C": (lang(("最低收光", "Lowest Rx power")), {"unit": "dBm", "decimals": 2}),
            "Value #D": (lang(("告警阈值", "Rx threshold")), {"unit": "dBm", "decimals": 1}),
            "Value #B": (
                lang(("余量", "Margin")),
                {"unit": "dB", "decimals": 2, "thresholds": margin_th, "cell": c.colored_text()},
            ),
            "Value #E": (
                lang(("预计低于阈值（天）", "Days to threshold")),
                {
                    "unit": c.unit_days(lang),
                    "decimals": 0,
                    "thresholds": days_th,
                    "cell": c.colored_text(),
                    "mappings": c.mapping_json(stable),
                },
            ),
        },
        h=10,
        sort_by="Value #B",
        description=lang(
            (
                f"余量 = 两端最低收光 − 链路告警阈值；低于 {c.OPTICAL_MARGIN_MIN_DB:g} dB 告警。"
                "预计天数按 3 天趋势线性外推。",
                f"Margin = lowest Rx power of both ends − the link's threshold; below "
                f"{c.OPTICAL_MARGIN_MIN_DB:g} dB alerts. Days to threshold: 3-day linear trend.",
            )
        ),
        links=[
            c.field_link_override(
                lang,
                "a_switch",
                ("交换机", "Switch"),
                c.dash_url("switches", "var-switch=${__data.fields.a_switch}"),
            ),
            c.field_link_override(
                lang,
                "b_switch",
                ("交换机", "Switch"),
                c.dash_url("switches", "var-switch=${__data.fields.b_switch}"),
            ),
        ],
    )


def build(lang: Lang) -> c.db.Dashboard:
    ds = c.dashboard(
        lang,
        "fiber",
        ("雪亮工程 · 光纤链路", "Sharp Eyes · Fiber links"),
        (
            "光纤链路状态、收发光功率、余量与劣化预测。",
            "Fiber link state, optical power, margin and degradation forecast.",
        ),
    )
    ds = ds.with_variable(
        c.query_variable(
            lang,
            "township",
            ("乡镇", "Township"),
            f'label_values({FIBER_LINK_INFO}{{job="{c.JOB_INVENTORY}"}}, township)',
            include_all=True,
        )
    ).with_variable(
        c.query_variable(
            lang,
            "fiber_link",
            ("光纤链路", "Fiber link"),
            f"label_values({FIBER_LINK_INFO}"
            f'{{job="{c.JOB_INVENTORY}", township=~"$township"}}, fiber_link)',
            multi=True,
            include_all=True,
        )
    )
    link = lang(("链路", "link"))
    th_line = c.thresholds((None, "red"), (c.OPTICAL_MARGIN_MIN_DB, "green"))
    return (
        ds.with_row(c.row(lang, ("概况", "Summary")))
        .with_panel(
            c.stat_panel(
                lang(("链路数", "Links")),
                [c.q(f"count({LINK_INFO})")],
                unit=lang.pick("suffix: 条", "short"),
                w=6,
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("中断链路", "Links down")),
                [c.q(f"count(({by_link(f'{PORT_UP}{{{PORTS}}}')}) == 0) or vector(0)")],
                unit=lang.pick("suffix: 条", "short"),
                w=6,
                th=c.thresholds((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            c.stat_panel(
                lang(
                    (
                        f"余量低于 {c.OPTICAL_MARGIN_MIN_DB:g} dB",
                        f"Margin below {c.OPTICAL_MARGIN_MIN_DB:g} dB",
                    )
                ),
                [c.q(f"count({MARGIN} < {c.OPTICAL_MARGIN_MIN_DB:g}) or vector(0)")],
                unit=lang.pick("suffix: 条", "short"),
                w=6,
                th=c.thresholds((None, "green"), (1, "orange")),
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("最小余量", "Smallest margin")),
                [c.q(f"min({MARGIN})")],
                unit="dB",
                decimals=2,
                w=6,
                th=c.thresholds((None, "red"), (c.OPTICAL_MARGIN_MIN_DB, "green")),
            )
        )
        .with_panel(state_table(lang))
        .with_row(c.row(lang, ("光功率", "Optical power")))
        .with_panel(
            c.ts_panel(
                lang(("收光功率与阈值", "Rx power and threshold")),
                [
                    c.q(f"{OPTICAL_RX_POWER_DBM}{{{PORTS}}}", "{{port_link}} {{device}} {{port}}"),
                    c.q(
                        f"{FIBER_LINK_RX_MIN_DBM}"
                        f'{{job="{c.JOB_INVENTORY}", fiber_link=~"$fiber_link"}}',
                        lang(("{{fiber_link}} 告警阈值", "{{fiber_link}} threshold")),
                        ref="B",
                    ),
                ],
                unit="dBm",
                w=12,
                h=9,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("发光功率", "Tx power")),
                [c.q(f"{OPTICAL_TX_POWER_DBM}{{{PORTS}}}", "{{port_link}} {{device}} {{port}}")],
                unit="dBm",
                w=12,
                h=9,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("收光余量", "Optical margin")),
                [c.q(MARGIN, "{{fiber_link}}")],
                unit="dB",
                w=12,
                h=9,
                th=th_line,
                threshold_line=True,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("14 天后余量预测", "Margin forecast in 14 days")),
                [c.q(f"predict_linear({MARGIN}[3d], 14 * 86400)", f"{{{{fiber_link}}}} {link}")],
                unit="dB",
                w=12,
                h=9,
                th=th_line,
                threshold_line=True,
            )
        )
    )
