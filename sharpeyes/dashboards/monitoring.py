"""监控自身 / The monitoring itself: is the exporter scraped, how long probes take, why they fail,
scrape health per job, inventory and configuration reloads, the ticket service's pipeline."""

from __future__ import annotations

from sharpeyes.contract import PROBE_SUCCESS
from sharpeyes.dashboards import common as c
from sharpeyes.dashboards.common import Lang

EXP = f'job="{c.JOB_EXPORTER}"'
ALL = f'job=~"{c.ALL_JOBS_RE}"'
PROBES = f'job=~"{c.PROBE_JOBS_RE}"'


def scrape_table(lang: Lang) -> c.table.Panel:
    return c.table_panel(
        lang(("抓取健康（按作业）", "Scrape health by job")),
        c.tq(
            [
                f"avg by (job) (up{{{ALL}}})",
                f"count by (job) (up{{{ALL}}})",
                f"avg by (job) (scrape_duration_seconds{{{ALL}}})",
                f"max by (job) (scrape_duration_seconds{{{ALL}}})",
                f"sum by (job) (scrape_samples_scraped{{{ALL}}})",
            ]
        ),
        keep={
            "job": (lang(("作业", "Job")), {}),
            "Value #A": (
                lang(("抓取成功率", "Scrapes succeeding")),
                {
                    "unit": "percentunit",
                    "decimals": 1,
                    "cell": c.colored_text(),
                    "thresholds": c.thresholds((None, "red"), (0.9, "orange"), (0.99, "green"))
                    .build()
                    .to_json(),
                },
            ),
            "Value #B": (lang(("目标数", "Targets")), {"unit": "short"}),
            "Value #C": (lang(("平均抓取耗时", "Mean scrape duration")), {"unit": "s"}),
            "Value #D": (lang(("最长抓取耗时", "Longest scrape")), {"unit": "s"}),
            "Value #E": (lang(("样本数", "Samples")), {"unit": "short"}),
        },
        w=24,
        h=8,
        sort_by="Value #A",
    )


def build(lang: Lang) -> c.db.Dashboard:
    ds = c.dashboard(
        lang,
        "monitoring",
        ("雪亮工程 · 监控自身", "Sharp Eyes · Monitoring self-check"),
        (
            "探测程序、抓取、清单与工单服务的健康状况。监控失明时设备告警被抑制、不计入在线率。",
            "Health of the exporter, scrapes, inventory and ticket service. While monitoring is blind, "
            "device alerts are inhibited and the gap is not counted in the online rate.",
        ),
    )
    up_map: list[c.dm.ValueMapping] = [c.value_map(lang, c.UP_ENTRIES)]
    up_th = c.thresholds((None, "red"), (1, "green"))
    rate = "[$__rate_interval]"
    missing = f'count({c.info()} unless on (device) up{{job="{c.JOB_ICMP}"}}) or vector(0)'
    return (
        ds.with_row(c.row(lang, ("概况", "Summary")))
        .with_panel(
            c.stat_panel(
                lang(("探测程序", "Exporter")), [c.q(f"min(up{{{EXP}}})")], mappings=up_map, th=up_th, w=4
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("资产清单指标", "Inventory metrics")),
                [c.q(f'min(up{{job="{c.JOB_INVENTORY}"}})')],
                mappings=up_map,
                th=up_th,
                w=4,
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("工单服务", "Ticket service")),
                [c.q(f'min(up{{job="{c.JOB_TICKETS}"}})')],
                mappings=up_map,
                th=up_th,
                w=4,
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("探测抓取成功率", "Probe scrapes succeeding")),
                [c.q(f"avg(up{{{PROBES}}})")],
                unit="percentunit",
                decimals=2,
                w=4,
                th=c.thresholds((None, "red"), (0.9, "orange"), (0.99, "green")),
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("未被探测的在用设备", "Active devices not probed")),
                [c.q(missing)],
                unit=c.unit_count(lang),
                w=4,
                th=c.thresholds((None, "green"), (1, "orange")),
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("配置 / 清单加载", "Config / inventory reload")),
                [
                    c.q(
                        f"min(sharpeyes_exporter_config_last_reload_successful{{{EXP}}})",
                        lang(("配置", "config")),
                    ),
                    c.q(
                        f"min(sharpeyes_exporter_inventory_last_reload_successful{{{EXP}}})",
                        lang(("清单", "inventory")),
                        ref="B",
                    ),
                ],
                mappings=[
                    c.value_map(lang, {"1": (("成功", "OK"), "green"), "0": (("失败", "Failed"), "red")})
                ],
                th=up_th,
                w=4,
            )
        )
        .with_panel(scrape_table(lang))
        .with_row(c.row(lang, ("探测", "Probes")))
        .with_panel(
            c.ts_panel(
                lang(("探测耗时 P90（按模块）", "Probe duration p90 by module")),
                [
                    c.q(
                        f"histogram_quantile(0.9, sum by (le, module) "
                        f"(rate(sharpeyes_exporter_probe_duration_seconds_bucket{{{EXP}}}{rate})))",
                        "{{module}}",
                    )
                ],
                unit="s",
                w=12,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("抓取耗时最大值（按作业）", "Longest scrape by job")),
                [c.q(f"max by (job) (scrape_duration_seconds{{{PROBES}}})", "{{job}}")],
                unit="s",
                w=12,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("探测速率（按模块和结果）", "Probes by module and result")),
                [
                    c.q(
                        f"sum by (module, result) (rate(sharpeyes_exporter_probes_total{{{EXP}}}{rate}))",
                        "{{module}} {{result}}",
                    )
                ],
                unit="reqps",
                w=12,
                stack=True,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("探测失败（按模块和原因）", "Probe failures by module and reason")),
                [
                    c.q(
                        "sum by (module, reason) "
                        f"(rate(sharpeyes_exporter_probe_failures_total{{{EXP}}}{rate}))",
                        "{{module}} {{reason}}",
                        may_be_empty="no probe has failed since the exporter started",
                    )
                ],
                unit="reqps",
                w=12,
                stack=True,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("设备探测成功率（按作业）", "Device probe success by job")),
                [c.q(f"avg by (job) ({PROBE_SUCCESS}{{{PROBES}}})", "{{job}}")],
                unit="percentunit",
                min_val=0,
                max_val=1,
                w=12,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("进行中的探测 / 被拒请求", "Probes in flight / rejected requests")),
                [
                    c.q(
                        f"sum by (module) (sharpeyes_exporter_probes_in_flight{{{EXP}}})",
                        lang(("{{module}} 进行中", "{{module}} in flight")),
                    ),
                    c.q(
                        f"sum(rate(sharpeyes_exporter_probe_requests_rejected_total{{{EXP}}}{rate}))",
                        lang(("被拒（400）", "rejected (400)")),
                        ref="B",
                    ),
                ],
                w=12,
            )
        )
        .with_row(c.row(lang, ("清单与工单服务", "Inventory and ticket service")))
        .with_panel(
            c.ts_panel(
                lang(("清单设备数（按类型和状态）", "Inventory devices by kind and status")),
                [
                    c.q(
                        f"max by (kind, status) (sharpeyes_exporter_inventory_devices{{{EXP}}})",
                        "{{kind}} {{status}}",
                    )
                ],
                unit="short",
                w=8,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("距上次成功加载", "Since last successful reload")),
                [
                    c.q(
                        "time() - max("
                        f"sharpeyes_exporter_inventory_last_reload_success_timestamp_seconds{{{EXP}}})",
                        lang(("清单", "inventory")),
                    ),
                    c.q(
                        "time() - max("
                        f"sharpeyes_exporter_config_last_reload_success_timestamp_seconds{{{EXP}}})",
                        lang(("配置", "config")),
                        ref="B",
                    ),
                ],
                unit="s",
                w=8,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("工单服务：告警通知与待发消息", "Ticket service: notifications in, messages pending")),
                [
                    c.q(
                        f'sum(rate(sharpeyes_tickets_webhook_notifications_total{{job="{c.JOB_TICKETS}"}}{rate}))',
                        lang(("收到告警通知/秒", "notifications in/s")),
                    ),
                    c.q(
                        f'sum(sharpeyes_tickets_outbox_pending{{job="{c.JOB_TICKETS}"}})',
                        lang(("待发送消息", "outbox pending")),
                        ref="B",
                    ),
                ],
                w=8,
            )
        )
    )
