"""promtool unit tests, generated: a tiny fixture district and one or more scenarios per alert.

Every alert gets, per scenario, an ``alert_rule_test`` one evaluation before its ``for:`` boundary
(nothing firing) and one exactly at it (the expected alerts, with every label and the rendered
annotations). ``for:`` comes from the config, so a changed duration moves the test with it; the
scenario's ``onset`` is the second at which the alert condition first holds. Everything runs at the
production cadence: samples and rule evaluations every 15 s (:data:`STEP`), so a ``for: 30s`` is
tested at 15 s and 30 s after its onset. Scenario series are written per minute (easier to read)
and expanded to 15 s samples by :func:`per_step`. Recording rules get ``promql_expr_test``s against
the same fixture. promtool is the judge of all of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules import alert_groups, recording_groups
from sharpeyes.alerts.rules.recording import (
    DEVICE_MONITORED,
    DEVICE_REACHABLE,
    DEVICE_UP,
    OPTICAL_MARGIN,
    VILLAGE_PATH_INFO,
    bitrate_record,
    online_names,
)
from sharpeyes.cli import format_duration, parse_duration
from sharpeyes.contract import (
    CAMERA_EXPECTED_BITRATE,
    DEVICE_INFO,
    FIBER_LINK_INFO,
    FIBER_LINK_RX_MIN_DBM,
    ONVIF_AUTH_SUCCESS,
    ONVIF_CLOCK_OFFSET,
    OPTICAL_RX_POWER_DBM,
    PORT_ADMIN_UP,
    PORT_RECEIVE_BYTES,
    PORT_UP,
    PROBE_ERROR_INFO,
    PROBE_SUCCESS,
    TARGET_LABELS,
    UPTIME_SECONDS,
    VQD_CHECK_FAULT,
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
    """An input series; ``values`` per minute (see :func:`per_step`)."""
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{metric}{{{body}}}", "values": per_step(values)}


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


STEP = 15  # seconds: the icmp scrape interval and Prometheus' evaluation_interval in production
_PER_MINUTE = 60 // STEP
_TOKEN = re.compile(r"^(_|stale|-?[\d.]+(?:e-?\d+)?)(?:([+-][\d.]+(?:e-?\d+)?)?x(\d+))?$")


def _num(x: float) -> str:
    return f"{x:.10g}"


def per_step(values: str) -> str:
    """A promtool series written per minute, as 15 s samples with the same values at the same minutes.

    ``axN`` (N+1 samples a minute apart) holds a for 4(N+1) samples; ``a+bxN`` grows b/4 per sample
    up to a+Nb at minute N and holds that for the rest of minute N (a counter then goes flat, never
    backwards); ``_xN`` is 4N missing samples; ``stale`` stays one stale marker.
    """
    out = []
    for token in values.split():
        m = _TOKEN.match(token)
        if m is None:
            raise ValueError(f"series token the expander does not know: {token!r}")
        start, step, count = m.group(1), m.group(2), m.group(3)
        n = int(count) if count is not None else 0
        if start == "stale":
            out.append(token)
        elif start == "_":
            out.append(f"_x{_PER_MINUTE * max(n, 1)}")
        elif step is None:
            out.append(f"{start}x{_PER_MINUTE * (n + 1) - 1}")
        else:
            a, b = float(start), float(step)
            end = _num(a + n * b)
            tail = f" {end}x{_PER_MINUTE - 2}" if _PER_MINUTE > 1 else ""
            out.append(f"{start}{'+' if b >= 0 else '-'}{_num(abs(b) / _PER_MINUTE)}x{_PER_MINUTE * n}{tail}")
    return " ".join(out)


def seconds(duration: str) -> int:
    return int(parse_duration(duration))


# --------------------------------------------------------------------------------------------
@dataclass
class Case:
    alert: str
    title: str
    input_series: list[dict[str, str]]
    onset: int  # first second the condition holds
    expected: list[tuple[Labels, float]] = field(default_factory=list)  # (labels, $value)


def _cases(cfg: Config) -> list[Case]:
    j, t = cfg.jobs, cfg.thresholds
    info = [series(DEVICE_INFO, device_info(cfg, d), "1x200") for d in DEVICES]
    cam = "cam-v1-1"
    flaps = "1x2 0 1 0 1 0x60"  # per minute: down at 3, up at 4, down at 5, up at 6, down from 7
    flapping_port = series(
        PORT_UP,
        probe(j.snmp_switch, "acc-v1", port="GE0/0/2", if_index="2", port_device="cam-v1-2"),
        flaps,
    )
    history = t.optical_min_history_samples * STEP // 60 + 120  # minutes of series: history + for: + slack
    degrading = [
        series(FIBER_LINK_INFO, link_info(cfg, "fl-t1-v1"), f"1x{history}"),
        series(
            FIBER_LINK_RX_MIN_DBM,
            {"fiber_link": "fl-t1-v1", "job": j.inventory, "instance": EXPORTER},
            f"-28x{history}",
        ),
        series(
            OPTICAL_RX_POWER_DBM,
            probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
            f"-20-0.001x{history}",
        ),
    ]
    cases = [
        Case(
            "CameraOffline",
            "ICMP fails from minute 5",
            [series(PROBE_SUCCESS, probe(j.icmp, cam), "1x4 0x60")],
            300,
            [(probe(j.icmp, cam), 0)],
        ),
        Case(
            "CameraRtspDown",
            "pingable, RTSP fails from minute 5",
            [
                series(PROBE_SUCCESS, probe(j.icmp, cam), "1x60"),
                series(PROBE_SUCCESS, probe(j.rtsp, cam), "1x4 0x60"),
            ],
            300,
            [(probe(j.rtsp, cam), 0)],
        ),
        Case(
            "CameraNotStreaming",
            "port counter stops at minute 9 (10 kB/s before): the 2m rate is under 2 KiB/s from 10:45",
            [
                *info,
                series(PROBE_SUCCESS, probe(j.icmp, cam), "1x60"),
                series(
                    CAMERA_EXPECTED_BITRATE,
                    {"device": cam, "job": j.inventory, "instance": EXPORTER},
                    "500000x60",
                ),
                series(
                    PORT_RECEIVE_BYTES,
                    probe(j.snmp_switch, "acc-v1", port="GE0/0/1", if_index="1", port_device=cam),
                    "0+600000x9 5400000x60",
                ),
            ],
            645,
            [(target(cam), 0)],
        ),
        Case(
            "CameraRebootLoop",
            "uptime resets at minutes 3, 6 and 8",
            [
                series(
                    UPTIME_SECONDS, probe(j.snmp_camera, cam), "100+60x2 10+60x2 10+60x1 10+60x60"
                )
            ],
            480,
            [(probe(j.snmp_camera, cam), 3)],
        ),
        Case(
            "CameraRebooted",
            "uptime resets at minute 10",
            [series(UPTIME_SECONDS, probe(j.snmp_camera, cam), "1000+60x9 10+60x60")],
            600,
            [(probe(j.snmp_camera, cam), 1)],
        ),
        Case(
            "CameraClockDrift",
            "ONVIF clock offset jumps to -42 s at minute 5",
            [series(ONVIF_CLOCK_OFFSET, probe(j.onvif, cam), "0.5x4 -42x60")],
            300,
            [(probe(j.onvif, cam), 42)],
        ),
        Case(
            "CameraAuthFailure",
            "ONVIF (both signals) on cam-v1-2, RTSP on cam-v1-3, from minute 5",
            [
                series(PROBE_ERROR_INFO, probe(j.onvif, "cam-v1-2", reason="auth"), "_x5 1x60"),
                series(ONVIF_AUTH_SUCCESS, probe(j.onvif, "cam-v1-2"), "1x4 0x60"),
                series(PROBE_ERROR_INFO, probe(j.rtsp, "cam-v1-3", reason="auth"), "_x5 1x60"),
                series(PROBE_ERROR_INFO, probe(j.rtsp, "cam-v2-1", reason="timeout"), "1x60"),
            ],
            300,
            [(probe(j.onvif, "cam-v1-2"), 1), (probe(j.rtsp, "cam-v1-3"), 1)],
        ),
        Case(
            "CameraVideoLoss",
            "blue screen on cam-v1-1 from minute 10 (stills every 10 minutes), defocus on cam-v1-2 is not it",
            [
                series(VQD_CHECK_FAULT, probe(j.snapshot, cam, check="video_loss"), "0x9 1x60"),
                series(VQD_CHECK_FAULT, probe(j.snapshot, "cam-v1-2", check="video_loss"), "0x60"),
                series(VQD_CHECK_FAULT, probe(j.snapshot, "cam-v1-2", check="defocus"), "1x60"),
            ],
            600,
            [({**probe(j.snapshot, cam, check="video_loss"), "fault": "video_loss"}, 1)],
        ),
        Case(
            "CameraImageFault",
            "cam-v1-2 defocused from minute 10, cam-v1-1 video loss is not it, unjudged checks absent",
            [
                series(VQD_CHECK_FAULT, probe(j.snapshot, "cam-v1-2", check="defocus"), "0x9 1x60"),
                series(VQD_CHECK_FAULT, probe(j.snapshot, "cam-v1-2", check="frozen"), "0x60"),
                series(VQD_CHECK_FAULT, probe(j.snapshot, cam, check="video_loss"), "1x60"),
            ],
            600,
            [({**probe(j.snapshot, "cam-v1-2", check="defocus"), "fault": "defocus"}, 1)],
        ),
        Case(
            "SwitchDown",
            "access switch stops answering at minute 3",
            [series(PROBE_SUCCESS, probe(j.icmp, "acc-v1"), "1x2 0x60")],
            180,
            [(probe(j.icmp, "acc-v1"), 0)],
        ),
        Case(
            "SwitchPortDown",
            "port GE0/0/2 under cam-v1-2 goes down at minute 5",
            [
                *info,
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "acc-v1", port="GE0/0/2", if_index="2", port_device="cam-v1-2"),
                    "1x4 0x60",
                ),
                series(
                    PORT_UP, probe(j.snmp_switch, "acc-v1", port="GE0/0/9", if_index="9"), "0x60"
                ),
            ],
            300,
            [({**target("cam-v1-2"), "port": "GE0/0/2"}, 0)],
        ),
        Case(
            "SwitchPortDown",
            "port GE0/0/2 under cam-v1-2 is shut down on purpose (ifAdminStatus down): no ticket;"
            " GE0/0/3 under cam-v1-3 goes down while enabled: the ticket",
            [
                *info,
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "acc-v1", port="GE0/0/2", if_index="2", port_device="cam-v1-2"),
                    "1x4 0x60",
                ),
                series(
                    PORT_ADMIN_UP,
                    probe(j.snmp_switch, "acc-v1", port="GE0/0/2", if_index="2", port_device="cam-v1-2"),
                    "1x4 0x60",
                ),
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "acc-v1", port="GE0/0/3", if_index="3", port_device="cam-v1-3"),
                    "1x4 0x60",
                ),
                series(
                    PORT_ADMIN_UP,
                    probe(j.snmp_switch, "acc-v1", port="GE0/0/3", if_index="3", port_device="cam-v1-3"),
                    "1x60",
                ),
            ],
            300,
            [({**target("cam-v1-3"), "port": "GE0/0/3"}, 0)],
        ),
        Case(
            "FiberLinkDown",
            "agg-t1 reports its port on fl-t1-v1 down at minute 3 (agg-t1's own link "
            "is fl-core-t1: the alert must carry fl-t1-v1)",
            [
                series(FIBER_LINK_INFO, link_info(cfg, "fl-t1-v1"), "1x60"),
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "agg-t1", port="XGE0/0/1", if_index="1", port_link="fl-t1-v1"),
                    "1x2 0x60",
                ),
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "agg-t1", port="XGE1/0/1", if_index="49", port_link="fl-core-t1"),
                    "1x60",
                ),
            ],
            180,
            [(link_alert_labels("fl-t1-v1"), 0)],
        ),
        Case(
            "FiberLinkDown",
            "agg-t1 shuts its port on fl-t1-v1 down on purpose at minute 3: a planned outage, no alert",
            [
                series(FIBER_LINK_INFO, link_info(cfg, "fl-t1-v1"), "1x60"),
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "agg-t1", port="XGE0/0/1", if_index="1", port_link="fl-t1-v1"),
                    "1x2 0x60",
                ),
                series(
                    PORT_ADMIN_UP,
                    probe(j.snmp_switch, "agg-t1", port="XGE0/0/1", if_index="1", port_link="fl-t1-v1"),
                    "1x2 0x60",
                ),
            ],
            180,
            [],
        ),
        Case(
            "FiberLinkDown",
            "without inventory the alert still fires, fiber_link only",
            [
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
                    "1x2 0x60",
                )
            ],
            180,
            [({"fiber_link": "fl-t1-v1"}, 0)],
        ),
        Case(
            "SwitchPortFlapping",
            "port GE0/0/2 under cam-v1-2 down at minutes 3, 5 and 7, up in between: the 4th change",
            [*info, flapping_port],
            360,
            [({**target("cam-v1-2"), "port": "GE0/0/2"}, 4)],
        ),
        Case(
            "SwitchPortDown",
            "the same port staying down from minute 7 is flapping, not down",
            [*info, flapping_port],
            420,
        ),
        Case(
            "FiberLinkFlapping",
            "both ends of fl-t1-v1 down at minutes 3, 5 and 7: one alert for the link",
            [
                series(FIBER_LINK_INFO, link_info(cfg, "fl-t1-v1"), "1x60"),
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "agg-t1", port="XGE0/0/1", if_index="1", port_link="fl-t1-v1"),
                    flaps,
                ),
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
                    flaps,
                ),
            ],
            360,
            [(link_alert_labels("fl-t1-v1"), 4)],
        ),
        Case(
            "FiberLinkDown",
            "the same link staying down from minute 7 is flapping, not down",
            [
                series(
                    PORT_UP,
                    probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
                    flaps,
                )
            ],
            420,
        ),
        Case(
            "FiberOpticalPowerLow",
            "acc-v1 end drops to -26.5 dBm (rx_min -28) at minute 5",
            [
                series(FIBER_LINK_INFO, link_info(cfg, "fl-t1-v1"), "1x60"),
                series(
                    FIBER_LINK_RX_MIN_DBM,
                    {"fiber_link": "fl-t1-v1", "job": j.inventory, "instance": EXPORTER},
                    "-28x60",
                ),
                series(
                    OPTICAL_RX_POWER_DBM,
                    probe(j.snmp_switch, "agg-t1", port="XGE0/0/1", if_index="1", port_link="fl-t1-v1"),
                    "-20x60",
                ),
                series(
                    OPTICAL_RX_POWER_DBM,
                    probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
                    "-22x4 -26.5x60",
                ),
            ],
            300,
            [(link_alert_labels("fl-t1-v1"), 1.5)],
        ),
        Case(
            "FiberOpticalPowerDegrading",
            "margin 8 dB falling 1.44 dB/day: fires once the trend has its minimum history "
            f"({t.optical_min_history_samples} evaluations), not before",
            degrading,
            (t.optical_min_history_samples - 1) * STEP,
            [(link_alert_labels("fl-t1-v1"), 0)],
        ),
        Case(
            "FiberOpticalPowerDegrading",
            "a freshly started Prometheus: the same falling trend raises nothing in its first hour",
            degrading,
            0,
        ),
        Case(
            "VillageOffline",
            "both cameras of v2 unreachable from minute 5; carries v2's shared path",
            [
                *info,
                *(series(PROBE_SUCCESS, probe(j.icmp, c), "1x4 0x60") for c in ("cam-v2-1", "cam-v2-2")),
                *(series(PROBE_SUCCESS, probe(j.icmp, c), "1x60") for c in ("cam-v1-1", "cam-v1-2")),
            ],
            300,
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
            [*(series(PROBE_SUCCESS, probe(j.icmp, c), "1x4 0x60") for c in ("cam-v1-1", "cam-v1-2"))],
            300,
            [({"township": "t1", "village": "v1", "area": "rural"}, 0)],
        ),
        Case(
            "TownshipPlatformOffline",
            "platform unreachable from minute 5",
            [series(PROBE_SUCCESS, probe(j.icmp, "plat-t1"), "1x4 0x60")],
            300,
            [(probe(j.icmp, "plat-t1"), 0)],
        ),
        *_video_recording_cases(cfg),
        Case(
            "SharpeyesExporterDown",
            "exporter scrape fails from minute 3",
            [series("up", {"job": j.exporter, "instance": EXPORTER}, "1x2 0x60")],
            180,
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
            300,
            [({"job": j.icmp}, 0.2)],
        ),
        Case(
            "SharpeyesProbeFailuresHigh",
            f"6 of {len(DEVICES)} ICMP probes fail from minute 5",
            [
                series(PROBE_SUCCESS, probe(j.icmp, d), "1x4 0x60" if n < 6 else "1x60")
                for n, d in enumerate(DEVICES)
            ],
            300,
            [({}, 6 / len(DEVICES))],
        ),
        Case(
            "SharpeyesInventoryScrapeDown",
            "inventory scrape fails from minute 3",
            [series("up", {"job": j.inventory, "instance": EXPORTER}, "1x2 0x60")],
            180,
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
            300,
            [({}, 1)],
        ),
    ]
    return cases


RECORDING_COLLECTOR = "127.0.0.1:9450"
NVR: Labels = {
    "device": "nvr-t1", "kind": "nvr", "role": "recording", "vendor": "hikvision", "model": "DS-96256N-I24",
    "township": "t1", "site": "t1-station", "contractor": "ctr-net", "funding": "sharp_eyes", "area": "rural",
    "uplink_switch": "agg-t1", "uplink_port": "GE0/0/23", "fiber_link": "fl-core-t1", "agg_switch": "agg-t1",
}


def _collector(cfg: Config, **labels: str) -> Labels:
    return {"job": cfg.jobs.recording, "instance": RECORDING_COLLECTOR, **labels}


def _video_recording_cases(cfg: Config) -> list[Case]:
    """Recorder nvr-t1 records the cameras; the collector's series carry device (and recorder)."""
    j = cfg.jobs
    nvr_info = series("sharpeyes_device_info", {**NVR, "job": j.inventory, "instance": EXPORTER, "lat": "29.1",
                                                "lon": "119.6", "name": "t1 存储"}, "1x200")
    cam_info = [series("sharpeyes_device_info", device_info(cfg, d), "1x200") for d in CAMERAS]
    nr = "sharpeyes_recording_not_recorded_seconds"
    stopped_labels = {**target("cam-v1-1"), **_collector(cfg, recorder="nvr-t1")}
    disk = "sharpeyes_recorder_disk_state"
    return [
        Case(
            "RecordingStopped",
            "cam-v1-1 pingable, not recorded from minute 5; cam-v1-2 not recorded but unreachable; cam-v2-1"
            " not recorded on nvr-t2 whose disk failed",
            [
                *cam_info,
                series("probe_success", probe(j.icmp, "cam-v1-1"), "1x60"),
                series("probe_success", probe(j.icmp, "cam-v1-2"), "0x60"),
                series("probe_success", probe(j.icmp, "cam-v2-1"), "1x60"),
                series(nr, _collector(cfg, device="cam-v1-1", recorder="nvr-t1"), "0x4 3600x60"),
                series(nr, _collector(cfg, device="cam-v1-2", recorder="nvr-t1"), "3600x60"),
                series(nr, _collector(cfg, device="cam-v2-1", recorder="nvr-t2"), "3600x60"),
                series(disk, _collector(cfg, device="nvr-t2", disk="1", state="failed"), "1x60"),
                series(disk, _collector(cfg, device="nvr-t1", disk="1", state="failed"), "0x60"),
            ],
            300,
            [(stopped_labels, 3600)],
        ),
        Case(
            "RetentionShort",
            "nvr-t1's worst channel keeps 20 of 30 required days from minute 5: one alert for the recorder",
            [
                nvr_info,
                series("sharpeyes_recording_retention_seconds",
                       _collector(cfg, device="cam-v1-1", recorder="nvr-t1"), "2592000x4 1728000x80"),
                series("sharpeyes_recording_retention_seconds",
                       _collector(cfg, device="cam-v1-2", recorder="nvr-t1"), "2592000x4 2160000x80"),
                *(series("sharpeyes_recording_retention_required_seconds",
                         _collector(cfg, device=c, recorder="nvr-t1"), "2592000x90") for c in ("cam-v1-1", "cam-v1-2")),
            ],
            300,
            [({**{k: v for k, v in NVR.items()}, "recorder": "nvr-t1"}, 1728000 / 2592000)],
        ),
        Case(
            "RecorderDiskFailed",
            "nvr-t1 disk 2 reports failure from minute 3",
            [
                nvr_info,
                series(disk, _collector(cfg, device="nvr-t1", disk="1", state="failed"), "0x60"),
                series(disk, _collector(cfg, device="nvr-t1", disk="2", state="failed"), "0x2 1x60"),
            ],
            180,
            [({**NVR, "disk": "2"}, 1)],
        ),
        Case(
            "RecorderOffline",
            "the collector cannot ask nvr-t1 from minute 4",
            [nvr_info, series("sharpeyes_recorder_up", _collector(cfg, device="nvr-t1"), "1x3 0x60")],
            240,
            [({**NVR, **_collector(cfg)}, 0)],
        ),
    ]


def _alert_tests(cfg: Config, case: Case, rules: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rule = rules[case.alert]
    boundary = case.onset + seconds(rule["for"])
    exp = []
    for labels, value in case.expected:
        exp.append(
            {
                "exp_labels": {**labels, **rule["labels"]},
                "exp_annotations": {k: render(v, labels, value) for k, v in rule["annotations"].items()},
            }
        )
    return [
        {"eval_time": format_duration(max(boundary - STEP, 0)), "alertname": case.alert, "exp_alerts": []},
        {"eval_time": format_duration(boundary), "alertname": case.alert, "exp_alerts": exp},
    ]


def _sample(labels: Labels, value: float) -> dict[str, Any]:
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"labels": "{" + body + "}", "value": value}


def _recording_inputs(cfg: Config) -> list[dict[str, Any]]:
    """The fixture's series (see :func:`_recording_test`)."""
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
    return [
        *(series(DEVICE_INFO, device_info(cfg, d), "1x20") for d in DEVICES),
        *(series(PROBE_SUCCESS, probe(j.icmp, d), icmp.get(d, "1x20")) for d in DEVICES),
        *(series(PROBE_SUCCESS, probe(j.rtsp, d), v) for d, v in rtsp.items()),
        series(PROBE_SUCCESS, {**stray, "job": j.icmp, "instance": "cam-x-9", "module": "icmp"}, "0x20"),
        series(
            PORT_RECEIVE_BYTES,
            probe(j.snmp_switch, "acc-v1", port="GE0/0/1", if_index="1", port_device="cam-v1-1"),
            "0+60000x20",
        ),
        series(
            PORT_RECEIVE_BYTES,
            probe(j.snmp_switch, "acc-v1", port="GE0/0/8", if_index="8", port_device="cam-x-9"),
            "0+60000x20",
        ),
        series(FIBER_LINK_INFO, link_info(cfg, "fl-t1-v1"), "1x20"),
        series(
            FIBER_LINK_RX_MIN_DBM,
            {"fiber_link": "fl-t1-v1", "job": j.inventory, "instance": EXPORTER},
            "-28x20",
        ),
        series(
            OPTICAL_RX_POWER_DBM,
            probe(j.snmp_switch, "agg-t1", port="XGE0/0/1", if_index="1", port_link="fl-t1-v1"),
            "-20x20",
        ),
        series(
            OPTICAL_RX_POWER_DBM,
            probe(j.snmp_switch, "acc-v1", port="XGE0/0/25", if_index="25", port_link="fl-t1-v1"),
            "-23x20",
        ),
    ]


def _device_records(cfg: Config) -> list[tuple[str, list[dict[str, Any]]]]:
    """Expected per-device, village-path and optical-margin recordings at minute 10."""
    measured = [d for d in DEVICES if d != "cam-v1-3"]
    up = {d: 0.0 if d in ("cam-v1-1", "cam-v1-2") else 1.0 for d in measured}
    return [
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


def _online_records() -> list[tuple[str, list[dict[str, Any]]]]:
    """Expected online-rate recordings per level at minute 10."""
    tests: list[tuple[str, list[dict[str, Any]]]] = []
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
    return tests


def _recording_test(cfg: Config) -> dict[str, Any]:
    """One fixture at minute 10: cam-v1-1 pingable but RTSP down, cam-v1-2 unreachable, cam-v1-3
    unmonitored since minute 5 (a gap: neither online nor monitored), cam-v2-* fine, a
    decommissioned cam-x-9 with stray probe data (not in sharpeyes_device_info: never counted)."""
    tests = _device_records(cfg) + _online_records()
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
        "interval": f"{STEP}s",
        "name": "recording rules on the fixture district",
        "input_series": _recording_inputs(cfg),
        "promql_expr_test": expr_tests,
    }


def test_files(cfg: Config, rule_files: list[str]) -> dict[str, Any]:
    rules = {r["alert"]: r for g in alert_groups(cfg) for r in g["rules"]}
    missing = set(rules) - {c.alert for c in _cases(cfg)}
    if missing:
        raise ValueError(f"alerts without a promtool scenario: {', '.join(sorted(missing))}")
    group_of = {r["alert"]: g["name"] for g in alert_groups(cfg) for r in g["rules"]}
    by_group: dict[str, list[dict[str, Any]]] = {}
    for c in _cases(cfg):
        by_group.setdefault(group_of[c.alert], []).append({
            "interval": f"{STEP}s",
            "name": f"{c.alert}: {c.title}",
            "input_series": c.input_series,
            "alert_rule_test": _alert_tests(cfg, c, rules),
        })
    # promtool evaluates groups in random order unless told: recording groups first, as their
    # results feed alerts (in Prometheus, alerts see a record up to one interval late).
    order = [g["name"] for g in [*recording_groups(cfg), *alert_groups(cfg)]]
    base = {"rule_files": rule_files, "evaluation_interval": f"{STEP}s", "group_eval_order": order}
    # one file per rule group: `sharpeyes-alerts check` runs them side by side on every core
    files = {f"alerts-{group.removeprefix('sharpeyes.')}.test.yml": {**base, "tests": tests}
             for group, tests in by_group.items()}
    return {**files, "recording.test.yml": {**base, "tests": [_recording_test(cfg)]}}
