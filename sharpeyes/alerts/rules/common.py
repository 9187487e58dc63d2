"""Shared pieces of rule building: annotation templates and the alert-rule dict."""

from __future__ import annotations

import re
from textwrap import dedent
from typing import Any

from sharpeyes.alerts.config import INFO_DROP_LABELS, Config
from sharpeyes.contract import DEVICE_INFO, SCOPES

Rule = dict[str, Any]
Group = dict[str, Any]

# Annotation text is written with placeholders and turned into Go templates here:
#   ${label}        -> {{ $labels.label }}
#   ${value:.1f}    -> {{ printf "%.1f" $value }}
#   ${value:pct}    -> {{ humanizePercentage $value }}
# promtests.render() renders the same placeholders in Python for promtool's exp_annotations, so
# promtool proves both renderings agree.
PLACEHOLDER = re.compile(r"\$\{(\w+)(?::([.\w]+))?\}")


def to_go_template(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name, fmt = m.group(1), m.group(2)
        if name == "value":
            if fmt is None:
                return "{{ $value }}"
            if fmt == "pct":
                return "{{ humanizePercentage $value }}"
            return f'{{{{ printf "%{fmt}" $value }}}}'
        if fmt is not None:
            raise ValueError(f"format only allowed on value: {m.group(0)}")
        return f"{{{{ $labels.{name} }}}}"

    return PLACEHOLDER.sub(repl, text)


def expr(text: str) -> str:
    return dedent(text).strip()


def info_labels(cfg: Config, **matchers: str) -> str:
    """sharpeyes_device_info without its non-topology labels (one series per active device)."""
    sel = cfg.sel(cfg.jobs.inventory, **matchers)
    return f"max without ({', '.join(INFO_DROP_LABELS)}) ({DEVICE_INFO}{sel})"


def alert(
    cfg: Config,
    name: str,
    promql: str,
    *,
    scope: str,
    summary_zh: str,
    summary: str,
    description_zh: str,
    description: str,
) -> Rule:
    if scope not in SCOPES:
        raise ValueError(f"{name}: unknown scope {scope!r}")
    pol = cfg.policy(name)
    return {
        "alert": name,
        "expr": expr(promql),
        "for": cfg.for_duration(name),
        "labels": {"severity": pol.severity, "scope": scope},
        "annotations": {
            "summary_zh": to_go_template(summary_zh),
            "summary": to_go_template(summary),
            "description_zh": to_go_template(description_zh),
            "description": to_go_template(description),
            "runbook_url": cfg.runbook_url(name),
        },
    }


def record(name: str, promql: str) -> Rule:
    return {"record": name, "expr": expr(promql)}


def group(cfg: Config, name: str, rules: list[Rule]) -> Group:
    g: Group = {"name": name}
    if cfg.rule_interval:
        g["interval"] = cfg.rule_interval
    g["rules"] = rules
    return g


# Recurring phrases (zh first). Labels absent on a series render as "".
CAMERA_PLACE_ZH = "${township}/${village}，维保单位 ${contractor}"
CAMERA_PLACE_EN = "${township}/${village}, contractor ${contractor}"
CAMERA_PATH_ZH = "接入交换机 ${uplink_switch} 端口 ${uplink_port}，光纤链路 ${fiber_link}"
CAMERA_PATH_EN = "access switch ${uplink_switch} port ${uplink_port}, fiber link ${fiber_link}"
