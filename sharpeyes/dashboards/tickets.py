"""工单与维保 SLA / Tickets and contractor SLA, from the ticket service's own metrics (job
``sharpeyes_tickets``, docs/tickets.md). Ticket metrics carry contractor, severity, age, sla, area —
never a device: one ticket's details live in the ticket service (links below)."""

from __future__ import annotations

from sharpeyes.contract import TICKETS_OPEN, TICKETS_SLA_BREACHED
from sharpeyes.dashboards import common as c
from sharpeyes.dashboards.common import Lang

J = f'job="{c.JOB_TICKETS}"'
CT = f'{J}, contractor=~"$contractor"'
CTR = ', contractor=~"$contractor"'


def sla_table(lang: Lang) -> c.table.Panel:
    def open_(matchers: str) -> str:
        return c.zero_by_contractor(
            extra=CTR, expr=f"sum by (contractor) ({TICKETS_OPEN}{{{CT}{matchers}}})"
        )

    def breached(sla: str) -> str:
        return c.zero_by_contractor(
            extra=CTR, expr=f'sum by (contractor) ({TICKETS_SLA_BREACHED}{{{CT}, sla="{sla}"}})'
        )

    new_breaches = c.zero_by_contractor(
        extra=CTR,
        expr=f"sum by (contractor) (increase(sharpeyes_tickets_sla_breaches_total{{{CT}}}[$__range]))",
    )
    ctr = ', contractor=~"$contractor"'
    red = {
        "thresholds": c.thresholds((None, "green"), (1, "red")).build().to_json(),
        "cell": c.colored_text(),
        "unit": c.unit_tickets(lang),
    }
    old = {
        "thresholds": c.thresholds((None, "green"), (1, "orange")).build().to_json(),
        "cell": c.colored_text(),
        "unit": c.unit_tickets(lang),
    }
    pct = {
        "unit": "percentunit",
        "decimals": 2,
        "thresholds": c.online_thresholds().build().to_json(),
        "cell": c.colored_text(),
    }
    return c.table_panel(
        lang(("维保单位 SLA", "Contractor SLA")),
        c.tq(
            [
                open_(""),
                open_(', severity="critical"'),
                open_(', age=~"24-48h|48h\\\\+"'),
                breached("response"),
                breached("repair"),
                new_breaches,
                f"{c.online('contractor', 'ratio')}{c.sel(None, ctr)}",
                c.rate_over_range("contractor", c.sel(None, ctr)),
            ]
        ),
        keep={
            "contractor": (lang(("维保单位", "Contractor")), {}),
            "Value #A": (lang(("未结工单", "Open")), {"unit": c.unit_tickets(lang)}),
            "Value #B": (lang(("其中紧急", "Critical")), {"unit": c.unit_tickets(lang)}),
            "Value #C": (lang(("超过 24 小时", "Older than 24 h")), old),
            "Value #D": (lang(("响应超时", "Response breached")), red),
            "Value #E": (lang(("修复超时", "Repair breached")), red),
            "Value #F": (lang(("时段内新增超时", "New breaches in range")), red),
            "Value #G": (lang(("当前在线率", "Online now")), pct),
            "Value #H": (lang(("时段在线率", "Online in range")), pct),
        },
        h=9,
        sort_by="Value #D",
        desc=True,
        description=lang(
            (
                "点击维保单位打开工单服务中的工单列表（需要令牌）。",
                "Click a contractor for its ticket list in the ticket service (needs a token).",
            )
        ),
        links=[
            c.field_link_override(
                lang,
                "contractor",
                ("工单列表（工单服务）", "Ticket list (ticket service)"),
                "${tickets_url}/api/v1/tickets?contractor=${__data.fields.contractor}",
            )
        ],
    )


def build(lang: Lang) -> c.db.Dashboard:
    ds = c.dashboard(
        lang,
        "tickets",
        ("雪亮工程 · 工单与维保 SLA", "Sharp Eyes · Tickets and contractor SLA"),
        (
            "故障工单、响应/修复时限与维保单位考核。",
            "Fault tickets, response/repair deadlines, contractor SLA.",
        ),
    )
    ds = (
        ds.with_variable(
            c.query_variable(
                lang,
                "contractor",
                ("维保单位", "Contractor"),
                f"label_values({c.info('camera')}, contractor)",
                multi=True,
                include_all=True,
            )
        )
        .with_variable(c.constant_variable("tickets_url", c.TICKETS_URL))
        .link(
            c.link(
                lang, ("工单服务 API", "Ticket service API"), "${tickets_url}/api/v1/tickets"
            ).target_blank(True)
        )
    )
    tk = c.unit_tickets(lang)
    red = c.thresholds((None, "green"), (1, "red"))
    quantile = (
        "histogram_quantile(0.9, sum by (le, severity) "
        "(rate(sharpeyes_tickets_time_to_{what}_seconds_bucket{{{J}}}[$__range])))"
    )
    no_obs = "no ticket acknowledged/restored since the ticket service started"
    return (
        ds.with_row(c.row(lang, ("当前", "Now")))
        .with_panel(
            c.stat_panel(
                lang(("未结工单", "Open tickets")),
                [c.q(c.zero_if_tickets_up(f"sum({TICKETS_OPEN}{{{CT}}})"))],
                unit=tk,
                w=6,
                graph=True,
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("紧急未结", "Critical open")),
                [c.q(c.zero_if_tickets_up(f'sum({TICKETS_OPEN}{{{CT}, severity="critical"}})'))],
                unit=tk,
                w=6,
                th=c.thresholds((None, "green"), (1, "orange")),
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("响应超时", "Response SLA breached")),
                [c.q(c.zero_if_tickets_up(f'sum({TICKETS_SLA_BREACHED}{{{CT}, sla="response"}})'))],
                unit=tk,
                w=6,
                th=red,
            )
        )
        .with_panel(
            c.stat_panel(
                lang(("修复超时", "Repair SLA breached")),
                [c.q(c.zero_if_tickets_up(f'sum({TICKETS_SLA_BREACHED}{{{CT}, sla="repair"}})'))],
                unit=tk,
                w=6,
                th=red,
            )
        )
        .with_panel(sla_table(lang))
        .with_row(c.row(lang, ("趋势", "Trends")))
        .with_panel(
            c.ts_panel(
                lang(("未结工单（按维保单位）", "Open tickets by contractor")),
                [
                    c.q(
                        c.zero_by_contractor(
                            extra=CTR, expr=f"sum by (contractor) ({TICKETS_OPEN}{{{CT}}})"
                        ),
                        "{{contractor}}",
                    )
                ],
                unit=tk,
                w=12,
                stack=True,
                draw_step=True,
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("未结工单（按时长）", "Open tickets by age")),
                [c.q(c.zero_if_tickets_up(f"sum by (age) ({TICKETS_OPEN}{{{CT}}})"), "{{age}}")],
                unit=tk,
                w=12,
                stack=True,
                draw_step=True,
                description=lang(("自 SLA 起算时间起的时长。", "Time since the SLA clock started.")),
            )
        )
        .with_panel(
            c.ts_panel(
                lang(("SLA 超时（按维保单位）", "SLA breaches by contractor")),
                [
                    c.q(
                        c.zero_by_contractor(
                            extra=CTR, expr=f"sum by (contractor) ({TICKETS_SLA_BREACHED}{{{CT}}})"
                        ),
                        "{{contractor}}",
                    )
                ],
                unit=tk,
                w=12,
                draw_step=True,
            )
        )
        .with_panel(
            c.bar_panel(
                lang(("90% 响应时间（时段内）", "90th percentile time to acknowledge (range)")),
                [
                    c.q(
                        quantile.format(what="acknowledge", J=J),
                        "{{severity}}",
                        instant=True,
                        may_be_empty=no_obs,
                    )
                ],
                unit="s",
                w=6,
            )
        )
        .with_panel(
            c.bar_panel(
                lang(("90% 修复时间（时段内）", "90th percentile time to repair (range)")),
                [c.q(quantile.format(what="repair", J=J), "{{severity}}", instant=True, may_be_empty=no_obs)],
                unit="s",
                w=6,
            )
        )
    )
