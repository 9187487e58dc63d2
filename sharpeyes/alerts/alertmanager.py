"""The Alertmanager config: route tree grouped by root cause, receivers, topology inhibition.

Alertmanager's ``equal`` treats a missing label as equal to a missing label, so every inhibition
source below requires its ``equal`` labels to be non-empty (``label=~".+"``), and sources are
pinned to one alertname (and role) so a switch's own ``fiber_link`` or ``agg_switch`` label never
makes it inhibit its neighbours. Targets are only scopes downstream of the source: no cycles.
"""

from __future__ import annotations

from typing import Any

from sharpeyes.alerts.config import MONITORING_BLIND_ALERTS, SCOPE_ID_LABELS, Config
from sharpeyes.cli import parse_duration

TICKETS = "sharpeyes-tickets"
NULL = "null"
EMAIL = "example-email-video-centre"
DINGTALK = "example-dingtalk-robot-relay"
WECOM = "example-wecom-robot-relay"

AmConfig = dict[str, Any]


def _rule(source: list[str], target: list[str], equal: list[str]) -> dict[str, Any]:
    rule: dict[str, Any] = {"source_matchers": source, "target_matchers": target}
    if equal:
        rule["equal"] = equal
    return rule


def inhibit_rules() -> list[dict[str, Any]]:
    blind = "|".join(MONITORING_BLIND_ALERTS)
    return [
        # the monitoring is blind: no device/place alert can be trusted
        _rule([f'alertname=~"{blind}"'], ['scope!="monitoring"'], []),
        _rule(
            ['alertname="SharpeyesExporterDown"'],
            [
                'alertname=~"SharpeyesProbeScrapesFailing|SharpeyesProbeFailuresHigh|'
                'SharpeyesTargetsMissing|SharpeyesInventoryScrapeDown"'
            ],
            [],
        ),
        # a broken fiber link darkens everything whose nearest link it is
        _rule(
            ['alertname="FiberLinkDown"', 'fiber_link=~".+"'],
            ['scope=~"device|switch|village|township"'],
            ["fiber_link"],
        ),
        _rule(
            ['alertname="FiberLinkDown"', 'fiber_link=~".+"'],
            ['alertname=~"FiberOpticalPowerLow|FiberOpticalPowerDegrading"'],
            ["fiber_link"],
        ),
        # a flapping link or camera port is one ticket: what its drops darken is not another one
        _rule(
            ['alertname="FiberLinkFlapping"', 'fiber_link=~".+"'],
            ['scope=~"device|switch|village|township"'],
            ["fiber_link"],
        ),
        _rule(
            ['alertname="SwitchPortFlapping"', 'device=~".+"'],
            ['alertname=~"CameraOffline|CameraRtspDown|CameraNotStreaming"'],
            ["device"],
        ),
        # an aggregation switch: everything that reaches the core through it
        _rule(
            ['alertname="SwitchDown"', 'role="aggregation"', 'agg_switch=~".+"'],
            ['scope=~"device|switch|village|township"'],
            ["agg_switch"],
        ),
        # an access switch: its cameras (and a village hanging off it alone)
        _rule(
            ['alertname="SwitchDown"', 'role="access"', 'access_switch=~".+"'],
            ['scope=~"device|village"'],
            ["access_switch"],
        ),
        # a dead switch port explains the camera on it
        _rule(
            ['alertname="SwitchPortDown"', 'device=~".+"'],
            ['alertname=~"CameraOffline|CameraRtspDown|CameraNotStreaming"'],
            ["device"],
        ),
        _rule(
            ['alertname="TownshipPlatformOffline"', 'township=~".+"'],
            ['scope=~"device|village"'],
            ["township"],
        ),
        _rule(
            ['alertname="VillageOffline"', 'township=~".+"', 'village=~".+"'],
            ['scope="device"'],
            ["township", "village"],
        ),
    ]


def _scope_routes(cfg: Config) -> list[dict[str, Any]]:
    # critical alerts are confirmed root causes already (the rule's evidence or a trap's confirmation
    # probe): a child route with a short group_wait, same grouping, so a ticket opens in seconds
    am = cfg.alertmanager
    wait = min(am.critical_group_wait, am.group_wait, key=parse_duration)  # a demo's 1s stays 1s
    critical = {"matchers": ['severity="critical"'], "group_wait": wait}
    return [
        {"matchers": [f'scope="{scope}"'], "group_by": ["scope", *labels], "routes": [dict(critical)]}
        for scope, labels in SCOPE_ID_LABELS.items()
    ]


def _tickets_receiver(cfg: Config) -> dict[str, Any]:
    am = cfg.alertmanager
    return {
        "name": TICKETS,
        "webhook_configs": [
            {
                "url": am.tickets_url,
                "send_resolved": True,
                "max_alerts": 0,
                "http_config": {
                    "authorization": {"type": "Bearer", "credentials_file": am.tickets_credentials_file},
                },
            }
        ],
    }


def _route(cfg: Config, extra: list[dict[str, Any]]) -> dict[str, Any]:
    am = cfg.alertmanager
    return {
        # anything unmatched (unknown severity) still reaches the tickets service: never drop
        "receiver": TICKETS,
        "group_by": ["scope", "alertname"],
        "group_wait": am.group_wait,
        "group_interval": am.group_interval,
        "repeat_interval": am.repeat_interval,
        "routes": [
            *extra,
            {"receiver": NULL, "matchers": ['severity="info"']},
            {"receiver": TICKETS, "matchers": ['severity=~"critical|warning"'], "routes": _scope_routes(cfg)},
        ],
    }


def build(cfg: Config) -> AmConfig:
    return {
        "global": {"resolve_timeout": cfg.alertmanager.resolve_timeout},
        "route": _route(cfg, []),
        "inhibit_rules": inhibit_rules(),
        "receivers": [_tickets_receiver(cfg), {"name": NULL}],
    }


_EMAIL_SUBJECT = (
    "[{{ .Status | toUpper }}] {{ .CommonLabels.severity }} {{ .CommonLabels.alertname }} "
    "{{ .CommonAnnotations.summary_zh }}"
)


def build_example_channels(cfg: Config) -> AmConfig:
    """The same tree plus example copies of critical alerts to e-mail and DingTalk/WeCom robots.

    Alertmanager has no robot payload format: the robot receivers post Alertmanager's webhook JSON
    to a relay (e.g. prometheus-webhook-dingtalk, or a WeCom equivalent) that rewrites it into the
    robot's markdown message. Alternatively let the tickets service notify (its own channels).
    """
    am = cfg.alertmanager
    copies = [
        {"receiver": EMAIL, "matchers": ['severity="critical"'], "continue": True},
        {
            "receiver": DINGTALK,
            "matchers": ['severity="critical"', 'scope=~"village|township|fiber_link|monitoring"'],
            "continue": True,
        },
        {
            "receiver": WECOM,
            "matchers": ['severity="critical"', 'scope=~"village|township|fiber_link|monitoring"'],
            "continue": True,
        },
    ]
    conf = build(cfg)
    conf["global"].update(
        {
            "smtp_smarthost": am.smtp_smarthost,
            "smtp_from": am.smtp_from,
            "smtp_require_tls": False,
        }
    )
    conf["route"] = _route(cfg, copies)
    conf["receivers"] += [
        {
            "name": EMAIL,
            "email_configs": [
                {
                    "to": am.email_to,
                    "send_resolved": True,
                    "headers": {"Subject": _EMAIL_SUBJECT},
                }
            ],
        },
        {"name": DINGTALK, "webhook_configs": [{"url": am.dingtalk_relay_url, "send_resolved": True}]},
        {"name": WECOM, "webhook_configs": [{"url": am.wecom_relay_url, "send_resolved": True}]},
    ]
    return conf
