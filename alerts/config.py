"""The one place for every selector, job name, threshold, ``for:`` duration and routing setting.

Rules (``alerts/rules/*.py``), the Alertmanager config (``alerts/alertmanager.py``) and the
promtool unit tests (``alerts/promtests.py``) read everything from a :class:`Config`; nothing
below this module spells a job name or a threshold.

Severity policy (contract.md, STYLE.md kubernetes-mixin section):

* ``critical`` — video is lost now (a camera, a switch, a fiber link, a village or a township
  platform is down) or the monitoring itself is blind. Opens a ticket on the SLA clock.
* ``warning``  — degradation that will become an outage or corrupts evidence (optical power,
  clock drift, reboot loops, auth failures, partial monitoring gaps). Opens a ticket, queue work.
* ``info``     — context only (e.g. a single camera reboot). Never opens a ticket; routed to the
  ``null`` receiver, visible in Alertmanager and Grafana.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

SEVERITIES: Final = ("critical", "warning", "info")
TICKET_SEVERITIES: Final = ("critical", "warning")
SEVERITY_POLICY: Final[dict[str, str]] = {
    "critical": "视频当前中断或监控失明；开工单（计入 SLA）。 Video lost now or monitoring blind; opens a"
    " ticket.",
    "warning": "劣化，将导致中断或影响取证；开工单（排队处理）。 Degradation; opens a ticket (queue work).",
    "info": "仅供参考，不开工单。 Context only; no ticket.",
}

SCOPES: Final = ("device", "switch", "fiber_link", "village", "township", "monitoring")

# Target labels every probe series carries from service discovery (contract.md). Empty values are
# dropped by Prometheus, so a label "absent" on a series means "empty" in the inventory.
TARGET_LABELS: Final = (
    "device",
    "kind",
    "role",
    "vendor",
    "model",
    "township",
    "village",
    "site",
    "contractor",
    "funding",
    "area",
    "uplink_switch",
    "uplink_port",
    "fiber_link",
    "access_switch",
    "agg_switch",
)
# Labels of sharpeyes_device_info that are not topology and must not travel into alerts/records.
INFO_DROP_LABELS: Final = ("instance", "job", "lat", "lon", "name")
# Scope -> the labels that identify the root cause (Alertmanager group_by, ticket root key).
SCOPE_ID_LABELS: Final[dict[str, tuple[str, ...]]] = {
    "device": ("device",),
    "switch": ("device",),
    "fiber_link": ("fiber_link",),
    "village": ("township", "village"),
    "township": ("township",),
    "monitoring": ("alertname",),
}


@dataclass(frozen=True)
class Jobs:
    """Prometheus job names (scrape config written by ``sharpeyes-exporter promconfig``)."""

    icmp: str = "sharpeyes_icmp"
    rtsp: str = "sharpeyes_rtsp"
    snmp_camera: str = "sharpeyes_snmp_camera"
    snmp_switch: str = "sharpeyes_snmp_switch"
    onvif: str = "sharpeyes_onvif"
    inventory: str = "sharpeyes_inventory"
    exporter: str = "sharpeyes_exporter"

    def probe_jobs(self) -> tuple[str, ...]:
        return (self.icmp, self.rtsp, self.snmp_camera, self.snmp_switch, self.onvif)


@dataclass(frozen=True)
class AlertPolicy:
    severity: str
    for_: str


# Every alert: severity and ``for:``. Names are the Alertmanager ``alertname`` and runbook file name.
DEFAULT_ALERTS: Final[dict[str, AlertPolicy]] = {
    # cameras (scope device)
    "CameraOffline": AlertPolicy("critical", "5m"),
    "CameraRtspDown": AlertPolicy("critical", "5m"),
    "CameraNotStreaming": AlertPolicy("critical", "10m"),
    "CameraRebootLoop": AlertPolicy("warning", "10m"),
    "CameraRebooted": AlertPolicy("info", "1m"),
    "CameraClockDrift": AlertPolicy("warning", "30m"),
    "CameraAuthFailure": AlertPolicy("warning", "15m"),
    # switches
    "SwitchDown": AlertPolicy("critical", "3m"),
    "SwitchPortDown": AlertPolicy("critical", "3m"),
    # fiber
    "FiberLinkDown": AlertPolicy("critical", "2m"),
    "FiberOpticalPowerLow": AlertPolicy("warning", "15m"),
    "FiberOpticalPowerDegrading": AlertPolicy("warning", "1h"),
    # places
    "VillageOffline": AlertPolicy("critical", "5m"),
    "TownshipPlatformOffline": AlertPolicy("critical", "5m"),
    # the monitoring itself
    "SharpeyesExporterDown": AlertPolicy("critical", "2m"),
    "SharpeyesProbeScrapesFailing": AlertPolicy("critical", "5m"),
    "SharpeyesProbeFailuresHigh": AlertPolicy("critical", "5m"),
    "SharpeyesInventoryScrapeDown": AlertPolicy("warning", "10m"),
    "SharpeyesTargetsMissing": AlertPolicy("warning", "15m"),
}

# Monitoring alerts that mean "every device alert is unreliable now": they inhibit all of them.
MONITORING_BLIND_ALERTS: Final = (
    "SharpeyesExporterDown",
    "SharpeyesProbeScrapesFailing",
    "SharpeyesProbeFailuresHigh",
)


@dataclass(frozen=True)
class Thresholds:
    # measured camera bitrate: rate() window over the switch port counters (snmp_switch every 30 s)
    bitrate_window: str = "2m"
    # "≈ 0": below this many bytes/s while the inventory expects > 0 (2 KiB/s ≈ 16 kbit/s)
    no_stream_bytes_per_second: float = 2048.0
    reboot_window: str = "1h"
    reboot_loop_resets: int = 3
    rebooted_window: str = "30m"
    # ONVIF probes run every 300 s: look back this far for the last clock/auth reading
    onvif_lookback: str = "10m"
    clock_drift_seconds: float = 10.0
    # optical margin = rx power - the link's rx_min_dbm (receiver sensitivity from the inventory)
    optical_margin_min_db: float = 3.0
    optical_predict_window: str = "3d"
    optical_predict_days: int = 14
    village_min_cameras: int = 2
    # share of ICMP probes failing district wide that means "monitoring host/core", not devices
    probe_failure_ratio: float = 0.5
    probe_failure_min_targets: int = 10
    scrape_failure_ratio: float = 0.1


@dataclass(frozen=True)
class AlertmanagerSettings:
    tickets_url: str = "http://127.0.0.1:9440/api/v1/alertmanager"
    tickets_credentials_file: str = "/etc/sharpeyes/tickets-webhook.token"
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"
    resolve_timeout: str = "5m"
    # example channels (alertmanager-example-channels.yml)
    smtp_smarthost: str = "127.0.0.1:25"
    smtp_from: str = "sharpeyes-alertmanager@localhost"
    email_to: str = "video-centre@localhost"
    dingtalk_relay_url: str = "http://127.0.0.1:8060/dingtalk/sharpeyes/send"
    wecom_relay_url: str = "http://127.0.0.1:8061/wecom/sharpeyes/send"


@dataclass(frozen=True)
class Config:
    jobs: Jobs = field(default_factory=Jobs)
    thresholds: Thresholds = field(default_factory=Thresholds)
    alerts: dict[str, AlertPolicy] = field(default_factory=lambda: dict(DEFAULT_ALERTS))
    alertmanager: AlertmanagerSettings = field(default_factory=AlertmanagerSettings)
    runbook_base_url: str = "https://github.com/sharpeyes/sharpeyes/blob/main/docs/runbooks"
    # None: rule groups use Prometheus' global evaluation_interval
    rule_interval: str | None = None
    # demos and end-to-end tests run on a compressed clock: every ``for:`` is multiplied by this
    for_scale: float = 1.0

    def for_duration(self, alertname: str) -> str:
        """The alert's ``for:``, scaled by ``for_scale`` (whole seconds, at least 0s)."""
        text = self.policy(alertname).for_
        if self.for_scale == 1.0:
            return text
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[text[-1]]
        return f"{max(0, round(float(text[:-1]) * unit * self.for_scale))}s"

    def policy(self, alertname: str) -> AlertPolicy:
        try:
            return self.alerts[alertname]
        except KeyError:
            raise KeyError(f"alert {alertname!r} has no severity/for policy in alerts/config.py") from None

    def runbook_url(self, alertname: str) -> str:
        return f"{self.runbook_base_url.rstrip('/')}/{alertname}.md"

    def sel(self, job: str | None = None, /, **matchers: str) -> str:
        """A label selector body: ``sel(cfg.jobs.icmp, kind="camera")`` -> ``{job="…", kind="camera"}``.

        A value starting with ``~`` is a regex match (``village="~.+"``: non-empty), ``!`` a negative
        equality (``port_link="!"``: non-empty), ``!~`` a negative regex.
        """
        parts = [f'job="{job}"'] if job else []
        for name, value in matchers.items():
            if value.startswith("!~"):
                parts.append(f'{name}!~"{value[2:]}"')
            elif value.startswith("~"):
                parts.append(f'{name}=~"{value[1:]}"')
            elif value.startswith("!"):
                parts.append(f'{name}!="{value[1:]}"')
            else:
                parts.append(f'{name}="{value}"')
        return "{" + ", ".join(parts) + "}"

    def with_alertmanager(self, **changes: str) -> Config:
        return replace(self, alertmanager=replace(self.alertmanager, **changes))


def validate(cfg: Config) -> list[str]:
    """Problems with a config (empty list when fine)."""
    errors = []
    for name, pol in cfg.alerts.items():
        if pol.severity not in SEVERITIES:
            errors.append(f"{name}: severity {pol.severity!r} not one of {', '.join(SEVERITIES)}")
        if not pol.for_ or pol.for_[-1] not in "smhd":
            errors.append(f"{name}: for {pol.for_!r} is not a Prometheus duration")
    return errors
