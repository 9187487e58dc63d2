"""交换机 / Switches: reachability and uptime per switch; ports, traffic and errors of one switch."""

from __future__ import annotations

from sharpeyes.contract import PORT_RECEIVE_BYTES, PORT_TRANSMIT_BYTES, PORT_UP, UPTIME_SECONDS
from sharpeyes.dashboards import common as c
from sharpeyes.dashboards.common import Lang

SW = f'job="{c.JOB_SNMP_SWITCH}"'
ONE = f'{SW}, device="$switch"'
FILTER = ', township=~"$township", role=~"$role"'
PORT_LABELS = ("port", "port_device", "port_link")


def variables(lang: Lang) -> list[c.db.QueryVariable]:
    return [
        c.query_variable(
            lang,
            "township",
            ("乡镇", "Township"),
            f"label_values({c.info('switch')}, township)",
            include_all=True,
        ),
        c.query_variable(
            lang, "role", ("角色", "Role"), f"label_values({c.info('switch')}, role)", include_all=True
        ),
        c.query_variable(
            lang, "switch", ("交换机", "Switch"), f"label_values({c.info('switch', FILTER)}, device)"
        ),
    ]


def per_port(expr: str) -> str:
    return f"max by ({', '.join(PORT_LABELS)}) ({expr})"


def switch_table(lang: Lang) -> c.table.Panel:
    sws = c.info("switch", FILTER)
    labels = "name, township, role, model"
    rate = "[$__rate_interval]"
    errors = (
        f"sum by (device) (rate(sharpeyes_port_receive_errors_total{{{SW}}}{rate})"
        f" + rate(sharpeyes_port_transmit_errors_total{{{SW}}}{rate}))"
    )
    up_map = c.mapping_json(c.value_map(lang, c.UP_ENTRIES))
    return c.table_panel(
        lang(("交换机一览", "Switches")),
        c.tq(
            [
                c.with_device_info(f"{c.DEVICE_REACHABLE}{c.sel('switch')}", sws, labels),
                c.with_device_info(f"{UPTIME_SECONDS}{{{SW}}}", sws, labels),
                c.with_device_info(f"sum by (device) ({PORT_UP}{{{SW}}})", sws, labels),
                c.with_device_info(f"count by (device) ({PORT_UP}{{{SW}}})", sws, labels),
                c.with_device_info(
                    f"sum by (device) (rate({PORT_RECEIVE_BYTES}{{{SW}}}{rate}))", sws, labels
                ),
                c.with_device_info(errors, sws, labels),
            ]
        ),
        keep={
            "device": (lang(("交换机", "Switch")), {}),
            "name": (lang(("名称", "Name")), {}),
            "township": (lang(("乡镇", "Township")), {}),
            "role": (lang(("角色", "Role")), {}),
            "model": (lang(("型号", "Model")), {}),
            "Value #A": (lang(("可达性", "Reachable")), {"mappings": up_map, "cell": c.colored_cell()}),
            "Value #B": (lang(("运行时长", "Uptime")), {"unit": c.unit_duration(lang)}),
            "Value #C": (lang(("端口 up", "Ports up")), {"unit": "short"}),
            "Value #D": (lang(("端口总数", "Ports")), {"unit": "short"}),
            "Value #E": (lang(("总接收流量", "Total receive")), {"unit": "Bps"}),
            "Value #F": (lang(("错误/秒", "Errors/s")), {"unit": "short", "decimals": 2}),
        },
        h=10,
        sort_by="Value #A",
        links=[
            c.field_link_override(
                lang,
                "device",
                ("查看端口", "Show ports"),
                c.dash_url(
                    "switches", "var-township=${township}&var-role=${role}&var-switch=${__data.fields.device}"
                ),
            )
        ],
    )


def port_table(lang: Lang) -> c.table.Panel:
    rate = "[$__rate_interval]"
    up_map = c.mapping_json(c.value_map(lang, c.UP_ENTRIES))
    return c.table_panel(
        lang(("端口（$switch）", "Ports of $switch")),
        c.tq(
            [
                per_port(f"{PORT_UP}{{{ONE}}}"),
                per_port(f"sharpeyes_port_speed_bytes{{{ONE}}}"),
                per_port(f"rate({PORT_RECEIVE_BYTES}{{{ONE}}}{rate})"),
                per_port(f"rate({PORT_TRANSMIT_BYTES}{{{ONE}}}{rate})"),
                per_port(
                    f"rate(sharpeyes_port_receive_errors_total{{{ONE}}}{rate})"
                    f" + rate(sharpeyes_port_transmit_errors_total{{{ONE}}}{rate})"
                ),
                per_port(
                    f"rate(sharpeyes_port_receive_discards_total{{{ONE}}}{rate})"
                    f" + rate(sharpeyes_port_transmit_discards_total{{{ONE}}}{rate})"
                ),
            ]
        ),
        keep={
            "port": (lang(("端口", "Port")), {}),
            "port_device": (lang(("下挂设备", "Attached device")), {}),
            "port_link": (lang(("光纤链路", "Fiber link")), {}),
            "Value #A": (lang(("状态", "State")), {"mappings": up_map, "cell": c.colored_cell()}),
            "Value #B": (lang(("速率", "Speed")), {"unit": "Bps"}),
            "Value #C": (lang(("接收", "Receive")), {"unit": "Bps"}),
            "Value #D": (lang(("发送", "Transmit")), {"unit": "Bps"}),
            "Value #E": (lang(("错误/秒", "Errors/s")), {"unit": "short", "decimals": 2}),
            "Value #F": (lang(("丢弃/秒", "Discards/s")), {"unit": "short", "decimals": 2}),
        },
        h=12,
        sort_by="Value #A",
        links=[
            c.field_link_override(
                lang,
                "port_device",
                ("摄像机详情", "Camera detail"),
                c.dash_url("camera", "var-device=${__data.fields.port_device}"),
            ),
            c.field_link_override(
                lang,
                "port_link",
                ("光纤链路", "Fiber link"),
                c.dash_url("fiber", "var-fiber_link=${__data.fields.port_link}"),
            ),
        ],
    )


def build(lang: Lang) -> c.db.Dashboard:
    ds = c.dashboard(
        lang,
        "switches",
        ("雪亮工程 · 交换机", "Sharp Eyes · Switches"),
        ("交换机可达性、端口、流量与错误。", "Switch reachability, ports, traffic and errors."),
    )
    for v in variables(lang):
        ds = ds.with_variable(v)
    rate = "[$__rate_interval]"
    return (
        ds.with_row(c.row(lang, ("交换机", "Switches")))
        .with_panel(switch_table(lang))
        .with_row(c.row(lang, ("交换机 $switch", "Switch $switch")))
        .with_panel(port_table(lang))
        .with_panel(
            c.state_timeline(
                lang(("端口状态", "Port state")),
                [c.q(per_port(f"{PORT_UP}{{{ONE}}}"), "{{port}} {{port_device}}{{port_link}}")],
                mappings=[c.value_map(lang, c.UP_ENTRIES)],
                h=10,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("接收流量", "Receive traffic")),
                [
                    c.q(
                        per_port(f"rate({PORT_RECEIVE_BYTES}{{{ONE}}}{rate})"),
                        "{{port}} {{port_device}}{{port_link}}",
                    )
                ],
                unit="Bps",
                w=12,
                stack=True,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("发送流量", "Transmit traffic")),
                [
                    c.q(
                        per_port(f"rate({PORT_TRANSMIT_BYTES}{{{ONE}}}{rate})"),
                        "{{port}} {{port_device}}{{port_link}}",
                    )
                ],
                unit="Bps",
                w=12,
                stack=True,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("端口错误", "Port errors")),
                [
                    c.q(
                        per_port(f"rate(sharpeyes_port_receive_errors_total{{{ONE}}}{rate})"),
                        lang(("{{port}} 接收", "{{port}} rx")),
                    ),
                    c.q(
                        per_port(f"rate(sharpeyes_port_transmit_errors_total{{{ONE}}}{rate})"),
                        lang(("{{port}} 发送", "{{port}} tx")),
                        ref="B",
                    ),
                ],
                w=12,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("端口丢弃", "Port discards")),
                [
                    c.q(
                        per_port(f"rate(sharpeyes_port_receive_discards_total{{{ONE}}}{rate})"),
                        lang(("{{port}} 接收", "{{port}} rx")),
                    ),
                    c.q(
                        per_port(f"rate(sharpeyes_port_transmit_discards_total{{{ONE}}}{rate})"),
                        lang(("{{port}} 发送", "{{port}} tx")),
                        ref="B",
                    ),
                ],
                w=12,
            )
        )
    )
