"""The one place for every selector, job name, threshold, ``for:`` duration and routing setting.

Rules (``alerts/rules/*.py``), the Alertmanager config (``alerts/alertmanager.py``) and the
promtool unit tests (``alerts/promtests.py``) read everything from a :class:`Config`; nothing
below this module spells a job name or a threshold.

Severity policy (docs/contract.md; the kubernetes-mixin convention):

* ``critical`` — video is lost now (a camera, a switch, a fiber link, a village or a township
  platform is down) or the monitoring itself is blind. Opens a ticket on the SLA clock.
* ``warning``  — degradation that will become an outage or corrupts evidence (optical power,
  clock drift, reboot loops, auth failures, partial monitoring gaps). Opens a ticket, queue work.
* ``info``     — context only (e.g. a single camera reboot). Never opens a ticket; routed to the
  ``null`` receiver, visible in Alertmanager and Grafana.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Final

from sharpeyes.cli import format_duration, parse_duration
from sharpeyes.contract import (
    BITRATE_WINDOW,
    JOB_EXPORTER,
    JOB_INVENTORY,
    JOB_RECORDING,
    MODULES,
    SEVERITIES,
    default_address,
    job,
)
from sharpeyes.contract import SCOPES as SCOPES  # re-exported: the alert scopes are the contract's

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

    icmp: str = job("icmp")
    rtsp: str = job("rtsp")
    snmp_camera: str = job("snmp_camera")
    snmp_switch: str = job("snmp_switch")
    onvif: str = job("onvif")
    snapshot: str = job("snapshot")
    inventory: str = JOB_INVENTORY
    exporter: str = JOB_EXPORTER
    recording: str = JOB_RECORDING  # the recording collector (sharpeyes-recording)

    def probe_jobs(self) -> tuple[str, ...]:
        """Every probe module's job (contract order): a module added to the contract is watched too."""
        named = {f.name: getattr(self, f.name) for f in fields(self)}
        return tuple(named.get(name, module.job) for name, module in MODULES.items())


@dataclass(frozen=True)
class AlertPolicy:
    severity: str
    for_: str


# Every alert: severity and ``for:``. Names are the Alertmanager ``alertname`` and runbook file name.
DEFAULT_ALERTS: Final[dict[str, AlertPolicy]] = {
    # cameras (scope device)
    # three consecutive failed probes of five echoes each (icmp every 15 s): 30 s, not minutes
    "CameraOffline": AlertPolicy("critical", "30s"),
    "CameraRtspDown": AlertPolicy("critical", "5m"),
    "CameraNotStreaming": AlertPolicy("critical", "10m"),
    "CameraRebootLoop": AlertPolicy("warning", "10m"),
    "CameraRebooted": AlertPolicy("info", "1m"),
    "CameraClockDrift": AlertPolicy("warning", "30m"),
    "CameraAuthFailure": AlertPolicy("warning", "15m"),
    # image faults (video quality diagnosis, one still per 10 minutes): two stills in a row
    "CameraVideoLoss": AlertPolicy("critical", "10m"),
    "CameraImageFault": AlertPolicy("warning", "20m"),
    # switches
    "SwitchDown": AlertPolicy("critical", "30s"),
    # ifOperStatus is the switch's own verdict, not a noisy echo: two consecutive 30 s readings.
    # Flapping is excluded from the expression and raised as SwitchPortFlapping instead.
    "SwitchPortDown": AlertPolicy("critical", "30s"),
    "SwitchPortFlapping": AlertPolicy("warning", "0s"),
    # fiber
    "FiberLinkDown": AlertPolicy("critical", "30s"),
    "FiberLinkFlapping": AlertPolicy("warning", "0s"),
    "FiberOpticalPowerLow": AlertPolicy("warning", "15m"),
    "FiberOpticalPowerDegrading": AlertPolicy("warning", "1h"),
    # places
    "VillageOffline": AlertPolicy("critical", "5m"),
    "TownshipPlatformOffline": AlertPolicy("critical", "5m"),
    # video recording (录像完整率, 存储天数): the collector reports hourly
    "RecordingStopped": AlertPolicy("critical", "5m"),
    "RetentionShort": AlertPolicy("warning", "1h"),
    "RecorderDiskFailed": AlertPolicy("critical", "5m"),
    "RecorderOffline": AlertPolicy("critical", "10m"),
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
    bitrate_window: str = BITRATE_WINDOW
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
    # predict_linear on a few noisy samples (a freshly started Prometheus) extrapolates noise: the
    # trend alert needs this many optical-margin evaluations in its window (6 h at 15 s)
    optical_min_history_samples: int = 1440
    # port state changes (ifOperStatus, sampled every 30 s) within flap_window: this many or more is
    # flapping (two down episodes); from flap_suppress_changes on, a port is not "down" but unstable
    flap_window: str = "10m"
    flap_changes: int = 4
    flap_suppress_changes: int = 2
    village_min_cameras: int = 2
    # share of ICMP probes failing district wide that means "monitoring host/core", not devices
    probe_failure_ratio: float = 0.5
    probe_failure_min_targets: int = 10
    scrape_failure_ratio: float = 0.1
    # a reachable camera not recorded for longer than this at the end of the collector's window
    recording_stopped_seconds: float = 1800.0


@dataclass(frozen=True)
class AlertmanagerSettings:
    tickets_url: str = f"http://{default_address('tickets')}/api/v1/alertmanager"
    tickets_credentials_file: str = "/etc/sharpeyes/tickets-webhook.token"
    group_wait: str = "30s"
    # critical alerts are root causes already confirmed by the rule's evidence (three failed 5-echo
    # probes, two port readings): a short wait only collects what breaks in the same second
    critical_group_wait: str = "5s"
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
    # the exporter serving /vqd/<device>/last.jpg and reference.jpg (linked from image-fault alerts)
    stills_base_url: str = "http://127.0.0.1:9430"
    # None: rule groups use Prometheus' global evaluation_interval
    rule_interval: str | None = None
    # demos and end-to-end tests run on a compressed clock: every ``for:`` is multiplied by this
    for_scale: float = 1.0

    def for_duration(self, alertname: str) -> str:
        """The alert's ``for:``, scaled by ``for_scale`` (whole seconds, at least 0s)."""
        text = self.policy(alertname).for_
        if self.for_scale == 1.0:
            return text
        return format_duration(max(0, round(parse_duration(text) * self.for_scale)))

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
        try:
            parse_duration(pol.for_)
        except ValueError as exc:
            errors.append(f"{name}: for: {exc}")
    am = cfg.alertmanager
    for key in ("group_wait", "critical_group_wait", "group_interval", "repeat_interval", "resolve_timeout"):
        try:
            parse_duration(getattr(am, key))
        except ValueError as exc:
            errors.append(f"alertmanager {key}: {exc}")
    return errors
