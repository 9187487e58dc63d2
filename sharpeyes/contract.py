"""Names that cross component boundaries, each defined once (docs/contract.md is the prose of this file).

A leaf module: it imports nothing of ours, and every package may import it. The exporter's service
discovery, the promconfig writer, the alert rules, the dashboards, the history generator and the demo
stack all take job, module, label and port names from here, so a new probe module is one entry in
:data:`MODULES` plus its prober.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

PACKAGE_DIR: Final = Path(__file__).resolve().parent
# The committed sample district (Fengquan, Xinxiang): the embedded default of every command.
SAMPLE_DISTRICT: Final = PACKAGE_DIR / "inventory" / "sample" / "fengquan"

DEVICE_KINDS: Final = ("camera", "switch", "nvr", "platform")

# Target labels every probe series carries from service discovery; absent = empty string in SD.
TARGET_LABELS: Final = (
    "device", "kind", "role", "vendor", "model", "township", "village", "site", "contractor", "funding",
    "area", "uplink_switch", "uplink_port", "fiber_link", "access_switch", "agg_switch",
)


@dataclass(frozen=True, slots=True)
class Module:
    """A probe module: the devices it applies to and its production scrape schedule."""

    name: str
    kinds: tuple[str, ...]
    interval: float  # seconds
    timeout: float  # Prometheus scrape_timeout, below the interval

    @property
    def job(self) -> str:
        return f"sharpeyes_{self.name}"


MODULES: Final[dict[str, Module]] = {m.name: m for m in (
    Module("icmp", DEVICE_KINDS, 15, 10),
    Module("rtsp", ("camera",), 30, 10),
    Module("snmp_camera", ("camera",), 30, 20),
    Module("snmp_switch", ("switch",), 30, 25),
    Module("onvif", ("camera",), 300, 60),
    Module("snapshot", ("camera",), 600, 60),  # one still per camera for video quality diagnosis
)}

# Image checks of video quality diagnosis (sharpeyes.vqd), the `check` label of the sharpeyes_vqd_*
# series and the `fault` label of the CameraImageFault alert, in verdict priority order; the
# simulator's image faults carry the same names. A lost signal is critical, the rest warnings.
VQD_CHECKS: Final = ("video_loss", "frozen", "too_dark", "overexposed", "low_contrast", "displaced",
                     "occluded", "defocus", "snow", "stripes", "color_cast")
VQD_CRITICAL: Final = frozenset({"video_loss"})

# Jobs that are not probe modules.
JOB_INVENTORY: Final = "sharpeyes_inventory"
JOB_EXPORTER: Final = "sharpeyes_exporter"
JOB_TICKETS: Final = "sharpeyes_tickets"
INVENTORY_INTERVAL: Final = 60.0  # _info series must be fresher than Prometheus' 5 m lookback


def job(module: str) -> str:
    """The Prometheus job name of a probe module (``KeyError`` for an unknown one)."""
    return MODULES[module].job


# ---- series that cross components: written by the exporter, the inventory or the tickets service,
# read by the alert rules, the dashboards, the monthly report and the history generator.
PROBE_SUCCESS: Final = "probe_success"
PROBE_ERROR_INFO: Final = "sharpeyes_probe_error_info"  # label reason
DEVICE_INFO: Final = "sharpeyes_device_info"  # target labels + lat, lon, name
CAMERA_EXPECTED_BITRATE: Final = "sharpeyes_camera_expected_bitrate_bytes_per_second"
FIBER_LINK_INFO: Final = "sharpeyes_fiber_link_info"  # FIBER_LINK_INFO_LABELS
FIBER_LINK_RX_MIN_DBM: Final = "sharpeyes_fiber_link_rx_min_dbm"
PORT_UP: Final = "sharpeyes_port_up"  # PORT_LABELS
PORT_ADMIN_UP: Final = "sharpeyes_port_admin_up"  # PORT_LABELS; 0 = administratively shut (planned)
PORT_RECEIVE_BYTES: Final = "sharpeyes_port_receive_bytes_total"
PORT_TRANSMIT_BYTES: Final = "sharpeyes_port_transmit_bytes_total"
OPTICAL_RX_POWER_DBM: Final = "sharpeyes_optical_rx_power_dbm"
OPTICAL_TX_POWER_DBM: Final = "sharpeyes_optical_tx_power_dbm"
UPTIME_SECONDS: Final = "sharpeyes_uptime_seconds"
ONVIF_CLOCK_OFFSET: Final = "sharpeyes_onvif_clock_offset_seconds"
ONVIF_AUTH_SUCCESS: Final = "sharpeyes_onvif_auth_success"
TICKETS_OPEN: Final = "sharpeyes_tickets_open"
VQD_IMAGE_INTACT: Final = "sharpeyes_vqd_image_intact"  # 1 = no image check found a fault in the last still
VQD_CHECK_SCORE: Final = "sharpeyes_vqd_check_score"  # label check
VQD_CHECK_THRESHOLD: Final = "sharpeyes_vqd_check_threshold"  # label check
VQD_CHECK_FAULT: Final = "sharpeyes_vqd_check_fault"  # label check
TICKETS_SLA_BREACHED: Final = "sharpeyes_tickets_sla_breached"  # label sla: response | repair

# The recording collector (sharpeyes-recording): its job, schedule and the metric names alerts,
# dashboards and the report use (docs/metrics.md). Camera series carry device=<camera> and
# recorder=<recorder>; recorder series carry device=<recorder>.
JOB_RECORDING: Final = "sharpeyes_recording"
RECORDING_INTERVAL: Final = 3600.0  # one collection an hour
RECORDING_PRESENT: Final = "sharpeyes_recording_present"
RECORDING_CHANNEL_UP: Final = "sharpeyes_recording_channel_up"
RECORDING_NOT_RECORDED: Final = "sharpeyes_recording_not_recorded_seconds"
RECORDING_GAP_TODAY: Final = "sharpeyes_recording_gap_today_seconds"
RECORDING_UNKNOWN_TODAY: Final = "sharpeyes_recording_unknown_today_seconds"
RECORDING_RETENTION: Final = "sharpeyes_recording_retention_seconds"
RECORDING_RETENTION_REQUIRED: Final = "sharpeyes_recording_retention_required_seconds"
RECORDER_UP: Final = "sharpeyes_recorder_up"
RECORDER_DISK_STATE: Final = "sharpeyes_recorder_disk_state"
RECORDER_CLOCK_OFFSET: Final = "sharpeyes_recorder_clock_offset_seconds"
RECORDER_DISK_FREE: Final = "sharpeyes_recorder_disk_free_bytes"
RECORDER_DISK_CAPACITY: Final = "sharpeyes_recorder_disk_capacity_bytes"
RECORDING_METRICS: Final = frozenset({
    RECORDING_PRESENT, RECORDING_CHANNEL_UP, RECORDING_NOT_RECORDED, RECORDING_GAP_TODAY, RECORDING_UNKNOWN_TODAY,
    RECORDING_RETENTION, RECORDING_RETENTION_REQUIRED, RECORDER_UP, RECORDER_DISK_STATE, RECORDER_CLOCK_OFFSET,
    RECORDER_DISK_FREE, RECORDER_DISK_CAPACITY,
})
RECORDING_LABELS: Final = ("recorder", "disk", "state")  # beyond device: the camera's recorder; a disk and its state

# Every series name a rule or a dashboard may read (the first four are Prometheus' own); a test parses the
# generated rules and dashboards and checks each name they use against this set.
METRICS: Final = frozenset({
    "up", "ALERTS", "scrape_duration_seconds", "scrape_samples_scraped",
    PROBE_SUCCESS, PROBE_ERROR_INFO, DEVICE_INFO, CAMERA_EXPECTED_BITRATE, FIBER_LINK_INFO,
    FIBER_LINK_RX_MIN_DBM, PORT_UP, PORT_ADMIN_UP, PORT_RECEIVE_BYTES, PORT_TRANSMIT_BYTES, OPTICAL_RX_POWER_DBM,
    OPTICAL_TX_POWER_DBM, UPTIME_SECONDS, ONVIF_CLOCK_OFFSET, ONVIF_AUTH_SUCCESS, TICKETS_OPEN,
    TICKETS_SLA_BREACHED,
    "sharpeyes_port_receive_errors_total", "sharpeyes_port_transmit_errors_total",
    "sharpeyes_port_receive_discards_total", "sharpeyes_port_transmit_discards_total",
    "sharpeyes_port_speed_bytes", "sharpeyes_icmp_packet_loss_ratio", "sharpeyes_icmp_rtt_seconds",
    "sharpeyes_icmp_rtt_max_seconds", "sharpeyes_rtsp_response_seconds", "sharpeyes_onvif_device_info",
    "sharpeyes_onvif_encoder_bitrate_limit_bytes_per_second", "sharpeyes_onvif_encoder_width_pixels",
    "sharpeyes_onvif_encoder_height_pixels", "sharpeyes_onvif_encoder_frame_rate",
    "sharpeyes_exporter_probes_total", "sharpeyes_exporter_probe_failures_total",
    "sharpeyes_exporter_probe_duration_seconds_bucket", "sharpeyes_exporter_probes_in_flight",
    "sharpeyes_exporter_probe_requests_rejected_total", "sharpeyes_exporter_inventory_devices",
    "sharpeyes_exporter_inventory_last_reload_successful",
    "sharpeyes_exporter_inventory_last_reload_success_timestamp_seconds",
    "sharpeyes_exporter_config_last_reload_successful",
    "sharpeyes_exporter_config_last_reload_success_timestamp_seconds",
    "sharpeyes_tickets_sla_breaches_total", "sharpeyes_tickets_outbox_pending",
    "sharpeyes_tickets_webhook_notifications_total", "sharpeyes_tickets_time_to_acknowledge_seconds_bucket",
    "sharpeyes_tickets_time_to_repair_seconds_bucket",
    VQD_IMAGE_INTACT, VQD_CHECK_SCORE, VQD_CHECK_THRESHOLD, VQD_CHECK_FAULT,
    *RECORDING_METRICS,
})

# Labels of the series above beyond the target labels.
PROBE_LABELS: Final = ("job", "instance", "module")
DEVICE_INFO_EXTRA_LABELS: Final = ("lat", "lon", "name")
FIBER_LINK_INFO_LABELS: Final = (
    "fiber_link", "a_switch", "a_port", "b_switch", "b_port", "township", "contractor", "area", "build",
)
PORT_LABELS: Final = ("port", "if_index", "port_device", "port_link")
PROBE_ERROR_LABELS: Final = ("reason",)
EXPORTER_SELF_LABELS: Final = ("status",)  # sharpeyes_exporter_inventory_devices{kind, status}
# Labels of the sharpeyes_tickets_* series (contractor, area, severity also name the ticket's root cause).
TICKETS_LABELS: Final = ("contractor", "severity", "age", "sla", "area", "result", "channel")
VQD_LABELS: Final = ("check", "fault")  # sharpeyes_vqd_check_* {check}; CameraImageFault {fault}

# ---- recording rules (alerts/rules/recording.py writes them; dashboards and the report read them)
REC_DEVICE_REACHABLE: Final = "sharpeyes:device_reachable"
REC_DEVICE_UP: Final = "sharpeyes:device_up"
REC_DEVICE_MONITORED: Final = "sharpeyes:device_monitored"
REC_VILLAGE_PATH_INFO: Final = "sharpeyes:village_path_info"
REC_OPTICAL_MARGIN: Final = "sharpeyes:fiber_link_optical_margin_db:min"
BITRATE_WINDOW: Final = "2m"  # rate() window of the measured camera bitrate (switch ports every 30 s)


def rec_bitrate(window: str = BITRATE_WINDOW) -> str:
    """The measured camera bitrate recording: ``sharpeyes:camera_bitrate_bytes:rate2m``."""
    return f"sharpeyes:camera_bitrate_bytes:rate{window}"


def rec_online(level: str) -> dict[str, str]:
    """The online-rate recordings of a level: ``{"up": "sharpeyes:camera_up:sum_township", …}``."""
    return {
        "up": f"sharpeyes:camera_up:sum_{level}",
        "monitored": f"sharpeyes:camera_monitored:sum_{level}",
        "ratio": f"sharpeyes:camera_online:ratio_{level}",
        "active": f"sharpeyes:camera_active:count_{level}",
    }


# Alert severities: critical and warning open tickets, info does not.
SEVERITIES: Final = ("critical", "warning", "info")
TICKET_SEVERITIES: Final = ("critical", "warning")
# Root-cause scopes of alerts and tickets.
SCOPES: Final = ("device", "switch", "fiber_link", "village", "township", "monitoring")

# Loopback defaults of the demo and of every service's --web.listen-address.
DEFAULT_PORTS: Final[dict[str, int]] = {
    "prometheus": 9090,
    "alertmanager": 9093,
    "control": 9180,
    "exporter": 9430,
    "tickets": 9440,
    "recording": 9450,
    # UDP, the exporter's SNMP trap receiver in the demo (off unless --traps.listen-address is given;
    # production listens on 162)
    "traps": 9162,
}


# Ports of the scaled-out deployment (sharded exporters into VictoriaMetrics, an Alertmanager pair):
# the upstream defaults of each daemon, kept apart from DEFAULT_PORTS (the demo stack's ports).
SCALE_PORTS: Final[dict[str, int]] = {
    "alertmanager_cluster": 9094,  # Alertmanager gossip (TCP and UDP)
    "victoria_metrics": 8428,
    "vmagent": 8429,
    "vmalert": 8880,
}
# VictoriaMetrics hides samples newer than this from queries (-search.latencyOffset, default 30s):
# a rule evaluated on VictoriaMetrics sees the fleet this much later than a shard's Prometheus.
VM_LATENCY_OFFSET_S: Final[int] = 30


def default_address(service: str, host: str = "127.0.0.1") -> str:
    return f"{host}:{DEFAULT_PORTS[service]}"


# Vendor names the inventory may write: canonical name -> accepted spellings (compared case-folded,
# spaces kept). Unknown names are a warning, not an error; the exporter decides a switch's family
# from what the device says and uses the vendor only as a hint.
VENDORS: Final[dict[str, tuple[str, ...]]] = {
    "huawei": ("huawei", "华为"),
    "h3c": ("h3c", "new h3c", "newh3c", "华三", "新华三"),
    "hpe": ("hpe", "hp", "hewlett packard enterprise", "hewlett-packard", "hewlett packard"),
    "zte": ("zte", "中兴"),
    "ruijie": ("ruijie", "锐捷"),
    "maipu": ("maipu", "迈普"),
    "tplink": ("tplink", "tp-link", "tp link", "普联"),
    "cisco": ("cisco", "思科"),
    "hikvision": ("hikvision", "海康", "海康威视"),
    "dahua": ("dahua", "大华"),
    "uniview": ("uniview", "unv", "宇视"),
    "axis": ("axis",),
}
_VENDOR_ALIASES: Final = {alias: name for name, aliases in VENDORS.items() for alias in aliases}


def canonical_vendor(name: str) -> str | None:
    """The canonical vendor for an inventory spelling (``"HP"`` -> ``"hpe"``), None if unknown."""
    return _VENDOR_ALIASES.get(" ".join(name.split()).casefold())


# Recording (录像完整率, 存储天数): required retention in days, by camera tag (the largest applies), then
# by township area, then the district default. An explicit ``recording.retention_days`` wins.
RETENTION_DAYS_DEFAULT: Final = 30
RETENTION_DAYS_BY_TAG: Final[dict[str, int]] = {"key_area": 90}
RETENTION_DAYS_BY_AREA: Final[dict[str, int]] = {"urban": 30, "rural": 30}
RECORDING_PLAN_ALWAYS: Final = "24x7"
# Recorder protocols the recording collector speaks, chosen from the recorder's canonical vendor;
# any other vendor is asked through ONVIF Profile G.
RECORDER_DIALECTS: Final[dict[str, str]] = {"hikvision": "isapi", "dahua": "dahua_cgi"}
RECORDER_DIALECT_DEFAULT: Final = "onvif_g"
# Prometheus' external labels (promconfig writes them): every alert Prometheus sends carries them,
# so an alert posted to Alertmanager by anyone else must carry them too to be the same alert.
EXTERNAL_LABELS: Final[dict[str, str]] = {"monitor": "sharpeyes"}

# Labels of sharpeyes_fiber_link_info that fiber-link alerts carry (group_left).
FIBER_INFO_LABELS: Final = ("township", "contractor", "area", "a_switch", "b_switch")

# Alerts the exporter's trap receiver raises itself once a probe confirms a trap: alertname ->
# (severity, scope), exactly as the rules label them (a test compares them with the generated rules).
TRAP_CONFIRMED_ALERTS: Final[dict[str, tuple[str, str]]] = {
    "SwitchPortDown": ("critical", "device"),
    "FiberLinkDown": ("critical", "fiber_link"),
}
