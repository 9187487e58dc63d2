"""Recording rules: per-device reachability/online state, bitrate, optical margin, online rates.

Online rate (the supervisors' KPI, 全时可用) = online time / monitored time. Time without data is
not offline: ``sharpeyes:device_up`` is absent while a device is not measured (exporter down,
target missing, Prometheus down), so it counts neither as online nor as monitored.
Per group the KPI over a period is ``sum_over_time(sharpeyes:camera_up:sum_X[P]) /
sum_over_time(sharpeyes:camera_monitored:sum_X[P])`` (camera-seconds online / camera-seconds
monitored); per device ``sum_over_time(sharpeyes:device_up[P]) / count_over_time(sharpeyes:device_up[P])``.
"""

from __future__ import annotations

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules.common import Group, Rule, group, info_labels, record
from sharpeyes.contract import (
    DEVICE_INFO,
    FIBER_INFO_LABELS,
    FIBER_LINK_INFO,
    FIBER_LINK_RX_MIN_DBM,
    OPTICAL_RX_POWER_DBM,
    PORT_RECEIVE_BYTES,
    PROBE_SUCCESS,
    REC_DEVICE_MONITORED,
    REC_DEVICE_REACHABLE,
    REC_DEVICE_UP,
    REC_OPTICAL_MARGIN,
    REC_VILLAGE_PATH_INFO,
    rec_bitrate,
    rec_online,
)

# level name -> the labels the online rate is aggregated by
ONLINE_LEVELS: dict[str, tuple[str, ...]] = {
    "village": ("township", "village"),
    "township": ("township", "area"),
    "contractor": ("contractor",),
    "funding": ("funding",),
    "district": (),
}
# labels copied onto a village when every camera in the village shares the value
VILLAGE_PATH_LABELS = ("fiber_link", "uplink_switch", "access_switch", "agg_switch", "contractor")
# FIBER_INFO_LABELS (contract): the fiber link labels alerts copy; the trap receiver sets the same ones

DEVICE_REACHABLE = REC_DEVICE_REACHABLE
DEVICE_UP = REC_DEVICE_UP
DEVICE_MONITORED = REC_DEVICE_MONITORED
VILLAGE_PATH_INFO = REC_VILLAGE_PATH_INFO
OPTICAL_MARGIN = REC_OPTICAL_MARGIN


def bitrate_record(cfg: Config) -> str:
    return rec_bitrate(cfg.thresholds.bitrate_window)


def online_names(level: str) -> dict[str, str]:
    return rec_online(level)


def recording_names(cfg: Config) -> list[str]:
    names = [DEVICE_REACHABLE, DEVICE_UP, DEVICE_MONITORED, bitrate_record(cfg), VILLAGE_PATH_INFO]
    for level in ONLINE_LEVELS:
        names += online_names(level).values()
    return [*names, OPTICAL_MARGIN]


def _by(labels: tuple[str, ...]) -> str:
    return f" by ({', '.join(labels)})" if labels else ""


def _uniform(label: str, source: str) -> str:
    """One series per (township, village): ``label`` set when all cameras share it, else absent."""
    per_value = f"group by (township, village, {label}) ({source})"
    return (
        f"(\n  ({per_value}\n   and on (township, village) (count by (township, village)"
        f" ({per_value}) == 1))\n"
        f"  or on (township, village) group by (township, village) ({source})\n)"
    )


def device_rules(cfg: Config) -> list[Rule]:
    j, t = cfg.jobs, cfg.thresholds
    info = info_labels(cfg)
    cams_info = f"{DEVICE_INFO}{cfg.sel(j.inventory, kind='camera', village='~.+')}"
    uniform = [_uniform(label, cams_info) for label in VILLAGE_PATH_LABELS]
    path_info = uniform[0]
    for label, part in zip(VILLAGE_PATH_LABELS[1:], uniform[1:], strict=True):
        path_info += f"\n* on (township, village) group_left ({label})\n{part}"
    port_rx = f"{PORT_RECEIVE_BYTES}{cfg.sel(j.snmp_switch, port_device='!')}"
    rules = [
        record(
            DEVICE_REACHABLE,
            f"""
            max by (device) ({PROBE_SUCCESS}{cfg.sel(j.icmp)})
            * on (device) group_right
            {info}
            """,
        ),
        record(
            DEVICE_UP,
            f"""
            min by (device) ({PROBE_SUCCESS}{cfg.sel(None, job=f"~{j.icmp}|{j.rtsp}")})
            * on (device) group_right
            {info}
            """,
        ),
        record(DEVICE_MONITORED, f"{DEVICE_UP} * 0 + 1"),
        record(
            bitrate_record(cfg),
            f"""
            max by (device) (
              label_replace(
                rate({port_rx}[{t.bitrate_window}]),
                "device", "$1", "port_device", "(.+)"
              )
            )
            * on (device) group_right
            {info_labels(cfg, kind="camera")}
            """,
        ),
        record(VILLAGE_PATH_INFO, path_info),
    ]
    for level, labels in ONLINE_LEVELS.items():
        n = online_names(level)
        rules += [
            record(n["up"], f'sum{_by(labels)} ({DEVICE_UP}{{kind="camera"}})'),
            record(n["monitored"], f'sum{_by(labels)} ({DEVICE_MONITORED}{{kind="camera"}})'),
            record(n["ratio"], f"{n['up']} / {n['monitored']}"),
            record(
                n["active"],
                f"count{_by(labels)} ({DEVICE_INFO}{cfg.sel(j.inventory, kind='camera')})",
            ),
        ]
    return rules


def fiber_rules(cfg: Config) -> list[Rule]:
    j = cfg.jobs
    rx = f"{OPTICAL_RX_POWER_DBM}{cfg.sel(j.snmp_switch, port_link='!')}"
    return [
        record(
            OPTICAL_MARGIN,
            f"""
            min by (fiber_link) (
              label_replace({rx}, "fiber_link", "$1", "port_link", "(.+)")
              - on (fiber_link) group_left ()
              {FIBER_LINK_RX_MIN_DBM}{cfg.sel(j.inventory)}
            )
            * on (fiber_link) group_left ({", ".join(FIBER_INFO_LABELS)})
            {FIBER_LINK_INFO}{cfg.sel(j.inventory)}
            """,
        ),
    ]


def groups(cfg: Config) -> list[Group]:
    return [
        group(cfg, "sharpeyes.records.devices", device_rules(cfg)),
        group(cfg, "sharpeyes.records.fiber", fiber_rules(cfg)),
    ]
