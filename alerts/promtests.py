"""promtool unit tests, generated: a tiny fixture district and one or more scenarios per alert.

Every alert gets, per scenario, an ``alert_rule_test`` one evaluation before its ``for:`` boundary
(nothing firing) and one exactly at it (the expected alerts, with every label and the rendered
annotations). ``for:`` comes from the config, so a changed duration moves the test with it; the
scenario's ``onset`` is the minute at which the alert condition first holds. Recording rules get
``promql_expr_test``s against the same fixture. promtool is the judge of all of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from alerts.config import TARGET_LABELS, Config
from alerts.rules import alert_groups, recording_groups
from alerts.rules.recording import (
    DEVICE_MONITORED,
    DEVICE_REACHABLE,
    DEVICE_UP,
    OPTICAL_MARGIN,
    VILLAGE_PATH_INFO,
    bitrate_record,
    online_names,
)

Labels = dict[str, str]
EXPORTER = "127.0.0.1:9430"

# --------------------------------------------------------------------------------------------
# Fixture district: core <- fl-core-t1 -> agg-t1 (township t1) <- fl-t1-v1 -> acc-v1 (village v1)
#                                                              <- fl-t1-v2 -> acc-v2 (village v2)
_COMMON = {"area": "rural"}
_T1 = {"township": "t1", "agg_switch": "agg-t1", **_COMMON}


def _dev(**labels: str) -> Labels:
    return {name: labels.get(name, "") for name in TARGET_LABELS}


DEVICES: dict[str, Labels] = {
    "core-1": _dev(
        device="core-1",
        kind="switch",
        role="core",
        vendor="huawei",
        model="S7706",
        site="district-dc",
        contractor="ctr-net",
        funding="district",
        area="urban",
    ),
    "agg-t1": _dev(
        device="agg-t1",
        kind="switch",
        role="aggregation",
        vendor="huawei",
        model="S5735",
        site="t1-station",
        contractor="ctr-net",
        funding="sharp_eyes",
        uplink_switch="core-1",
        uplink_port="XGE1/0/1",
        fiber_link="fl-core-t1",
        **_T1,
    ),
    "plat-t1": _dev(
        device="plat-t1",
        kind="platform",
        role="",
        vendor="hikvision",
        model="iVMS",
        site="t1-station",
        contractor="ctr-net",
        funding="sharp_eyes",
        uplink_switch="agg-t1",
        uplink_port="GE0/0/24",
        fiber_link="fl-core-t1",
        **_T1,
    ),
    "acc-v1": _dev(
        device="acc-v1",
        kind="switch",
        role="access",
        vendor="h3c",
        model="S5130",
        village="v1",
        site="v1-hall",
        contractor="ctr-a",
        funding="sharp_eyes",
        uplink_switch="agg-t1",
        uplink_port="XGE0/0/1",
        fiber_link="fl-t1-v1",
        access_switch="acc-v1",
        **_T1,
    ),
    "acc-v2": _dev(
        device="acc-v2",
        kind="switch",
        role="access",
        vendor="h3c",
        model="S5130",
        village="v2",
        site="v2-hall",
        contractor="ctr-b",
        funding="city_phase3",
        uplink_switch="agg-t1",
        uplink_port="XGE0/0/2",
        fiber_link="fl-t1-v2",
        access_switch="acc-v2",
        **_T1,
    ),
}
for _n, (_v, _ctr, _fund) in enumerate(
    [
        ("v1", "ctr-a", "sharp_eyes"),
        ("v1", "ctr-a", "sharp_eyes"),
        ("v1", "ctr-c", "sharp_eyes"),
        ("v2", "ctr-b", "city_phase3"),
        ("v2", "ctr-b", "city_phase3"),
    ]
):
    _idx = 1 + sum(1 for d in DEVICES.values() if d["village"] == _v and d["kind"] == "camera")
    _id = f"cam-{_v}-{_idx}"
    DEVICES[_id] = _dev(
        device=_id,
        kind="camera",
        role="bullet" if _n % 2 else "ptz_dome",
        vendor="hikvision",
        model="DS-2CD3T47",
        village=_v,
        site=f"{_v}-gate-{_idx}",
        contractor=_ctr,
        funding=_fund,
        uplink_switch=f"acc-{_v}",
        uplink_port=f"GE0/0/{_idx}",
        fiber_link=f"fl-t1-{_v}",
        access_switch=f"acc-{_v}",
        **_T1,
    )
CAMERAS = [d for d, labels in DEVICES.items() if labels["kind"] == "camera"]
LINKS: dict[str, Labels] = {
    "fl-t1-v1": {
        "fiber_link": "fl-t1-v1",
        "a_switch": "agg-t1",
        "a_port": "XGE0/0/1",
        "b_switch": "acc-v1",
        "b_port": "XGE0/0/25",
        "township": "t1",
        "contractor": "ctr-net",
        "area": "rural",
    },
}


def target(device: str) -> Labels:
    """The SD target labels as they arrive on a series (empty ones dropped by Prometheus)."""
    return {k: v for k, v in DEVICES[device].items() if v}


def probe(job: str, device: str, **extra: str) -> Labels:
    return {
        **target(device),
        "job": job,
        "instance": device,
        "module": job.removeprefix("sharpeyes_"),
        **extra,
    }


def device_info(cfg: Config, device: str) -> Labels:
    return {
        **target(device),
        "job": cfg.jobs.inventory,
        "instance": EXPORTER,
        "lat": "29.1",
        "lon": "119.6",
        "name": f"{device} 点位",
    }


def link_info(cfg: Config, link: str) -> Labels:
    return {**LINKS[link], "job": cfg.jobs.inventory, "instance": EXPORTER}


def link_alert_labels(link: str) -> Labels:
    return {
        k: LINKS[link][k] for k in ("fiber_link", "township", "contractor", "area", "a_switch", "b_switch")
    }


def series(metric: str, labels: Labels, values: str) -> dict[str, str]:
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{metric}{{{body}}}", "values": values}


# --------------------------------------------------------------------------------------------
# Rendering the annotation templates the way Prometheus does, for the subset rules use.

_TEMPLATE = re.compile(
    r"\{\{ (?:\$labels\.(\w+)|printf \"%(\.\d+f)\" \$value|(humanizePercentage) \$value) \}\}"
)


def render(template: str, labels: Labels, value: float) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return labels.get(m.group(1), "")
        if m.group(2):
            return f"%{m.group(2)}" % value
        return "%.4g%%" % (value * 100)

    out = _TEMPLATE.sub(repl, template)
    if "{{" in out:
        raise ValueError(f"template construct the test renderer does not know: {template!r}")
    return out


def minutes(duration: str) -> int:
    units = {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}
    total = sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhd])", duration))
    if total != int(total):
        raise ValueError(f"for: {duration!r} is not whole minutes")
    return int(total)


# --------------------------------------------------------------------------------------------
@dataclass
class Case:
    alert: str
    title: str
    input_series: list[dict[str, str]]
    onset: int  # first minute the condition holds
    expected: list[tuple[Labels, float]] = field(default_factory=list)  # (labels, $value)


def _cases(cfg: Config) -> list[Case]:
    j, t = cfg.jobs, cfg.thresholds
    info = [series("sharpeyes_device_info", device_info(cfg, d), "1x200") for d in DEVICES]
    cam = "cam-v1-1"
    cases = [
        Case(
            "CameraOffline",
            "ICMP fails from minute 5",
            [series("probe_success", probe(j.icmp, cam), "1x4 0x60")],
            5,
            [(probe(j.icmp, cam), 0)],
        ),
        Case(
            "CameraRtspDown",
            "pingable, RTSP fails from minute 5",
            [
                series("probe_success", probe(j.icmp, cam), "1x60"),
                series("probe_success", probe(j.rtsp, cam), "1x4 0x60"),
            ],
            5,
            [(probe(j.rtsp, cam), 0)],
        ),
        Case(
            "CameraNotStreaming",
            "port counter stops at minute 9 (10 kB/s before)",
            [
                *info,
                series("probe_success", probe(j.icmp, cam), "1x60"),
                series(
                    "sharpeyes_camera_expected_bitrate_bytes_per_second",
                    {"device": cam, "job": j.inventory, "instance": EXPORTER},
                    "500000x60",
                ),
                series(
                    "sharpeyes_port_receive_bytes_total",
                    probe(j.snmp_switch, "acc-v1", port="GE0/0/1", if_index="1", port_device=cam),
                    "0+600000x9 5400000x60",
                ),
            ],
            11,
            [(target(cam), 0)],
        ),
        Case(
            "CameraRebootLoop",
            "uptime resets at minutes 3, 6 and 8",
            [
                series(
                    "sharpeyes_uptime_seconds", probe(j.snmp_camera, cam), "100+60x2 10+60x2 10+60x1 10+60x60"
                )
            ],
            8,
            [(probe(j.snmp_camera, cam), 3)],
        ),
        Case(
            "CameraRebooted",
            "uptime resets at minute 10",
            [series("sharpeyes_uptime_seconds", probe(j.snmp_camera, cam), "1000+60x9 10+60x60")],
            10,
            [(probe(j.snmp_camera, cam), 1)],
        ),
        Case(
            "CameraClockDrift",
            "ONVIF clock offset jumps to -42 s at minute 5",
            [series("sharpeyes_onvif_clock_offset_seconds", probe(j.onvif, cam), "0.5x4 -42x60")],
            5,
            [(probe(j.onvif, cam), 42)],
        ),
        Case(
            "CameraAuthFailure",
            "ONVIF (both signals) on cam-v1-2, RTSP on cam-v1-3, from minute 5",
            [
                series("sharpeyes_probe_error_info", probe(j.onvif, "cam-v1-2", reason="auth"), "_x5 1x60"),
                series("sharpeyes_onvif_auth_success", probe(j.onvif, "cam-v1-2"), "1x4 0x60"),
                series("sharpeyes_probe_error_info", probe(j.rtsp, "cam-v1-3", reason="auth"), "_x5 1x60"),
                series("sharpeyes_probe_error_info", probe(j.rtsp, "cam-v2-1", reason="timeout"), "1x60"),
            ],
            5,
            [(probe(j.onvif, "cam-v1-2"), 1), (probe(j.rtsp, "cam-v1-3"), 1)],
        ),
        Case(
            "SwitchDown",
            "access switch stops answering at minute 3",
            [series("probe_success", probe(j.icmp, "acc-v1"), "1x2 0x60")],
            3,
            [(probe(j.icmp, "acc-v1"), 0)],
        ),
        Case(
            "SwitchPortDown",
            "port GE0/0/2 under cam-v1-2 goes down at minute 5",
            [
                *info,
                series(
                    "sharpeyes_port_up",
                    probe(j.snmp_switch, "acc-v1", port="GE0/0/2", if_index="2", port_device="cam-v1-2"),
                    "1x4 0x60",
                ),
                series(
                    "sharpeyes_port_up", probe(j.snmp_switch, "acc-v1", port="GE0/0/9", if_index="9"), "0x60"
                ),
            ],
            5,
            [({**target("cam-v1-2"), "port": "GE0/0/2"}, 0)],
        ),
        Case(
            "FiberLinkDown",
            "agg-t1 reports its port on fl-t1-v1 down at minute 3 (agg-t1's own link "
            "is fl-core-t1: the alert must carry fl-t1-v1)",
            [
                series("sharpeyes_fiber_link_info", link_info(cfg, "fl-t1-v1"), "1x60"),
                series(
                    "sharpeyes_port_up",
                    probe(j.snmp_switch, "agg-t1", port="XGE0/0/1", if_index="1", port_link="fl-t1-v1"),
                    "1x2 0x60",
                ),
                series(
                    "sharpeyes_port_up",
                    probe(j.snmp_switch, "agg-t1", port="XGE1/0/1", if_index="49", port_link="fl-core-t1"),
                    "1x60",
                ),
            ],
            3,
            [(link_alert_labels("fl-t1-v1"), 0)],
        ),
        Case(
            "FiberLinkDown",
            "without inventory the alert still fires, fiber_link only",
            [
                series(
                    "sharpeyes_port_up",
                    probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
                    "1x2 0x60",
                )
            ],
            3,
            [({"fiber_link": "fl-t1-v1"}, 0)],
        ),
        Case(
            "FiberOpticalPowerLow",
            "acc-v1 end drops to -26.5 dBm (rx_min -28) at minute 5",
            [
                series("sharpeyes_fiber_link_info", link_info(cfg, "fl-t1-v1"), "1x60"),
                series(
                    "sharpeyes_fiber_link_rx_min_dbm",
                    {"fiber_link": "fl-t1-v1", "job": j.inventory, "instance": EXPORTER},
                    "-28x60",
                ),
                series(
                    "sharpeyes_optical_rx_power_dbm",
                    probe(j.snmp_switch, "agg-t1", port="XGE0/0/1", if_index="1", port_link="fl-t1-v1"),
                    "-20x60",
                ),
                series(
                    "sharpeyes_optical_rx_power_dbm",
                    probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
                    "-22x4 -26.5x60",
                ),
            ],
            5,
            [(link_alert_labels("fl-t1-v1"), 1.5)],
        ),
        Case(
            "FiberOpticalPowerDegrading",
            "margin 8 dB falling 1.44 dB/day: below 3 dB within the horizon",
            [
                series("sharpeyes_fiber_link_info", link_info(cfg, "fl-t1-v1"), "1x100"),
                series(
                    "sharpeyes_fiber_link_rx_min_dbm",
                    {"fiber_link": "fl-t1-v1", "job": j.inventory, "instance": EXPORTER},
                    "-28x100",
                ),
                series(
                    "sharpeyes_optical_rx_power_dbm",
                    probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
                    "-20-0.001x100",
                ),
            ],
            1,
            [(link_alert_labels("fl-t1-v1"), 0)],
        ),
        Case(
            "VillageOffline",
            "both cameras of v2 unreachable from minute 5; carries v2's shared path",
            [
                *info,
                *(series("probe_success", probe(j.icmp, c), "1x4 0x60") for c in ("cam-v2-1", "cam-v2-2")),
                *(series("probe_success", probe(j.icmp, c), "1x60") for c in ("cam-v1-1", "cam-v1-2")),
            ],
            5,
            [
                (
                    {
                        "township": "t1",
                        "village": "v2",
                        "area": "rural",
                        "fiber_link": "fl-t1-v2",
                        "uplink_switch": "acc-v2",
                        "access_switch": "acc-v2",
                        "agg_switch": "agg-t1",
                        "contractor": "ctr-b",
                    },
                    0,
                )
            ],
        ),
        Case(
            "VillageOffline",
            "v1 dark without inventory: bare place labels",
            [*(series("probe_success", probe(j.icmp, c), "1x4 0x60") for c in ("cam-v1-1", "cam-v1-2"))],
            5,
            [({"township": "t1", "village": "v1", "area": "rural"}, 0)],
        ),
        Case(
            "TownshipPlatformOffline",
            "platform unreachable from minute 5",
            [series("probe_success", probe(j.icmp, "plat-t1"), "1x4 0x60")],
            5,
            [(probe(j.icmp, "plat-t1"), 0)],
        ),
        Case(
            "SharpeyesExporterDown",
            "exporter scrape fails from minute 3",
            [series("up", {"job": j.exporter, "instance": EXPORTER}, "1x2 0x60")],
            3,
            [({"job": j.exporter, "instance": EXPORTER}, 1)],
        ),
        Case(
            "SharpeyesExporterDown",
            "exporter job absent altogether",
            [series("up", {"job": j.icmp, "instance": cam, "device": cam}, "1x60")],
            0,
            [({"job": j.exporter}, 1)],
        ),
        Case(
            "SharpeyesProbeScrapesFailing",
            "1 of 5 icmp scrapes fails from minute 5",
            [
                *(series("up", {"job": j.icmp, "instance": c, "device": c}, "1x60") for c in CAMERAS[:4]),
                series("up", {"job": j.icmp, "instance": CAMERAS[4], "device": CAMERAS[4]}, "1x4 0x60"),
            ],
            5,
            [({"job": j.icmp}, 0.2)],
        ),
        Case(
            "SharpeyesProbeFailuresHigh",
            f"6 of {len(DEVICES)} ICMP probes fail from minute 5",
            [
                series("probe_success", probe(j.icmp, d), "1x4 0x60" if n < 6 else "1x60")
                for n, d in enumerate(DEVICES)
            ],
            5,
            [({}, 6 / len(DEVICES))],
        ),
        Case(
            "SharpeyesInventoryScrapeDown",
            "inventory scrape fails from minute 3",
            [series("up", {"job": j.inventory, "instance": EXPORTER}, "1x2 0x60")],
            3,
            [({"job": j.inventory, "instance": EXPORTER}, 0)],
        ),
        Case(
            "SharpeyesTargetsMissing",
            "cam-v1-3 drops out of discovery at minute 5",
            [
                *info,
                *(
                    series("up", {"job": j.icmp, "instance": d, "device": d}, "1x60")
                    for d in DEVICES
                    if d != "cam-v1-3"
                ),
                series("up", {"job": j.icmp, "instance": "cam-v1-3", "device": "cam-v1-3"}, "1x4 stale"),
            ],
            5,
            [({}, 1)],
        ),
    ]
    del t
    return cases


def _alert_tests(cfg: Config, case: Case, rules: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rule = rules[case.alert]
    boundary = case.onset + minutes(rule["for"])
    exp = []
    for labels, value in case.expected:
        exp.append(
            {
                "exp_labels": {**labels, **rule["labels"]},
                "exp_annotations": {k: render(v, labels, value) for k, v in rule["annotations"].items()},
            }
        )
    return [
        {"eval_time": f"{boundary - 1}m", "alertname": case.alert, "exp_alerts": []},
        {"eval_time": f"{boundary}m", "alertname": case.alert, "exp_alerts": exp},
    ]


def _sample(labels: Labels, value: float) -> dict[str, Any]:
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"labels": "{" + body + "}", "value": value}


def _recording_test(cfg: Config) -> dict[str, Any]:
    """One fixture at minute 10: cam-v1-1 pingable but RTSP down, cam-v1-2 unreachable, cam-v1-3
    unmonitored since minute 5 (a gap: neither online nor monitored), cam-v2-* fine, a
    decommissioned cam-x-9 with stray probe data (not in sharpeyes_device_info: never counted)."""
    j = cfg.jobs
    icmp = {"cam-v1-2": "0x20", "cam-v1-3": "1x4 stale"}
    rtsp = {
        "cam-v1-1": "0x20",
        "cam-v1-2": "0x20",
        "cam-v1-3": "1x4 stale",
        "cam-v2-1": "1x20",
        "cam-v2-2": "1x20",
    }
    stray = {"device": "cam-x-9", "kind": "camera", "township": "t1", "village": "v1"}
    inputs = [
        *(series("sharpeyes_device_info", device_info(cfg, d), "1x20") for d in DEVICES),
        *(series("probe_success", probe(j.icmp, d), icmp.get(d, "1x20")) for d in DEVICES),
        *(series("probe_success", probe(j.rtsp, d), v) for d, v in rtsp.items()),
        series("probe_success", {**stray, "job": j.icmp, "instance": "cam-x-9", "module": "icmp"}, "0x20"),
        series(
            "sharpeyes_port_receive_bytes_total",
            probe(j.snmp_switch, "acc-v1", port="GE0/0/1", if_index="1", port_device="cam-v1-1"),
            "0+60000x20",
        ),
        series(
            "sharpeyes_port_receive_bytes_total",
            probe(j.snmp_switch, "acc-v1", port="GE0/0/8", if_index="8", port_device="cam-x-9"),
            "0+60000x20",
        ),
        series("sharpeyes_fiber_link_info", link_info(cfg, "fl-t1-v1"), "1x20"),
        series(
            "sharpeyes_fiber_link_rx_min_dbm",
            {"fiber_link": "fl-t1-v1", "job": j.inventory, "instance": EXPORTER},
            "-28x20",
        ),
        series(
            "sharpeyes_optical_rx_power_dbm",
            probe(j.snmp_switch, "agg-t1", port="XGE0/0/1", if_index="1", port_link="fl-t1-v1"),
            "-20x20",
        ),
        series(
            "sharpeyes_optical_rx_power_dbm",
            probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
            "-23x20",
        ),
    ]
    measured = [d for d in DEVICES if d != "cam-v1-3"]
    up = {d: 0.0 if d in ("cam-v1-1", "cam-v1-2") else 1.0 for d in measured}
    tests: list[tuple[str, list[dict[str, Any]]]] = [
        (DEVICE_REACHABLE, [_sample(target(d), 0.0 if d == "cam-v1-2" else 1.0) for d in measured]),
        (DEVICE_UP, [_sample(target(d), up[d]) for d in measured]),
        (DEVICE_MONITORED, [_sample(target(d), 1.0) for d in measured]),
        (bitrate_record(cfg), [_sample(target("cam-v1-1"), 1000.0)]),
        (
            VILLAGE_PATH_INFO,
            [
                _sample(
                    {
                        "township": "t1",
                        "village": "v1",
                        "fiber_link": "fl-t1-v1",
                        "uplink_switch": "acc-v1",
                        "access_switch": "acc-v1",
                        "agg_switch": "agg-t1",
                    },
                    1,
                ),
                _sample(
                    {
                        "township": "t1",
                        "village": "v2",
                        "fiber_link": "fl-t1-v2",
                        "uplink_switch": "acc-v2",
                        "access_switch": "acc-v2",
                        "agg_switch": "agg-t1",
                        "contractor": "ctr-b",
                    },
                    1,
                ),
            ],
        ),
        (OPTICAL_MARGIN, [_sample(link_alert_labels("fl-t1-v1"), 5.0)]),
    ]
    # (labels, up, monitored, active) per level; cam-v1-3 (ctr-c) is in the inventory but unmonitored
    levels: dict[str, list[tuple[Labels, float | None, float | None, float]]] = {
        "village": [
            ({"township": "t1", "village": "v1"}, 0, 2, 3),
            ({"township": "t1", "village": "v2"}, 2, 2, 2),
        ],
        "township": [({"township": "t1", "area": "rural"}, 2, 4, 5)],
        "contractor": [
            ({"contractor": "ctr-a"}, 0, 2, 2),
            ({"contractor": "ctr-b"}, 2, 2, 2),
            ({"contractor": "ctr-c"}, None, None, 1),
        ],
        "funding": [({"funding": "sharp_eyes"}, 0, 2, 3), ({"funding": "city_phase3"}, 2, 2, 2)],
        "district": [({}, 2, 4, 5)],
    }
    for level, rows in levels.items():
        names = online_names(level)
        tests += [
            (names["up"], [_sample(lb, u) for lb, u, _, _ in rows if u is not None]),
            (names["monitored"], [_sample(lb, m) for lb, _, m, _ in rows if m is not None]),
            (names["ratio"], [_sample(lb, u / m) for lb, u, m, _ in rows if u is not None and m]),
            (names["active"], [_sample(lb, a) for lb, _, _, a in rows]),
        ]
    expr_tests = [
        {
            "expr": name,
            "eval_time": "10m",
            "exp_samples": [
                {**s, "labels": s["labels"].replace("{", f'{{__name__="{name}", ', 1).replace(", }", "}")}
                for s in samples
            ],
        }
        for name, samples in tests
    ]
    # the KPI per device over the period: the gap of cam-v1-3 counts neither way -> 100 %
    gap = f'{DEVICE_UP}{{device="cam-v1-3"}}'
    expr_tests.append(
        {
            "expr": f"sum_over_time({gap}[10m]) / count_over_time({gap}[10m])",
            "eval_time": "10m",
            "exp_samples": [_sample(target("cam-v1-3"), 1.0)],
        }
    )
    return {
        "interval": "1m",
        "name": "recording rules on the fixture district",
        "input_series": inputs,
        "promql_expr_test": expr_tests,
    }


def test_files(cfg: Config, rule_files: list[str]) -> dict[str, Any]:
    rules = {r["alert"]: r for g in alert_groups(cfg) for r in g["rules"]}
    missing = set(rules) - {c.alert for c in _cases(cfg)}
    if missing:
        raise ValueError(f"alerts without a promtool scenario: {', '.join(sorted(missing))}")
    alert_tests = [
        {
            "interval": "1m",
            "name": f"{c.alert}: {c.title}",
            "input_series": c.input_series,
            "alert_rule_test": _alert_tests(cfg, c, rules),
        }
        for c in _cases(cfg)
    ]
    # promtool evaluates groups in random order unless told: recording groups first, as their
    # results feed alerts (in Prometheus, alerts see a record up to one interval late).
    order = [g["name"] for g in [*recording_groups(cfg), *alert_groups(cfg)]]
    base = {"rule_files": rule_files, "evaluation_interval": "1m", "group_eval_order": order}
    return {
        "alerts.test.yml": {**base, "tests": alert_tests},
        "recording.test.yml": {**base, "tests": [_recording_test(cfg)]},
    }
