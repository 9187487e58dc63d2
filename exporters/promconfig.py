"""Write the Prometheus configuration that scrapes sharpeyes-exporter: one job per module.

Targets are device ids from the inventory (http_sd from an exporter's ``/sd``, or file_sd written
by ``sharpeyes-inventory sd``); relabeling turns each into ``/probe?target=<id>&module=<m>`` on an
exporter. With N exporters every module gets N shard jobs: shard i keeps the targets whose
``hashmod(device id, N) == i`` and sends them to exporter i, while a ``job`` relabel gives all
shards the same ``job`` label, so alerts and dashboards never see the sharding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from exporters.config import format_duration


@dataclass(frozen=True, slots=True)
class ModuleJob:
    module: str
    interval: float  # seconds
    timeout: float  # scrape_timeout, below the interval; the exporter subtracts its offset from it


# contract.md: ICMP 15 s, RTSP/SNMP 30 s, ONVIF 5 min.
MODULE_JOBS = (
    ModuleJob("icmp", 15, 10),
    ModuleJob("rtsp", 30, 10),
    ModuleJob("snmp_camera", 30, 20),
    ModuleJob("snmp_switch", 30, 25),
    ModuleJob("onvif", 300, 60),
)
INVENTORY_INTERVAL = 60.0  # _info series must be fresher than the 5 m lookback


class PromConfigError(ValueError):
    pass


def scaled_jobs(factor: float) -> tuple[ModuleJob, ...]:
    """The module jobs on a compressed clock (demos, end-to-end tests); whole seconds, at least 1 s."""
    if not 0 < factor <= 10:
        raise PromConfigError(f"interval scale {factor} must be in (0, 10]")
    if factor == 1.0:
        return MODULE_JOBS
    return tuple(ModuleJob(j.module, max(2, round(j.interval * factor)), max(1, round(j.timeout * factor)))
                 for j in MODULE_JOBS)


def check_hostport(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise PromConfigError(f"exporter address {value!r} is not HOST:PORT")
    return value


def job_name(module: str) -> str:
    return f"sharpeyes_{module}"


def _sd(module: str, exporter: str, sd_mode: str, inventory_url: str | None, sd_dir: str) -> dict[str, Any]:
    if sd_mode == "file":
        files = [f"{sd_dir.rstrip('/')}/{module}.json"]
        return {"file_sd_configs": [{"files": files, "refresh_interval": "1m"}]}
    base = (inventory_url or f"http://{exporter}").rstrip("/")
    return {"http_sd_configs": [{"url": f"{base}/sd?module={module}", "refresh_interval": "1m"}]}


def _relabel(job: ModuleJob, exporter: str, shard: int, shards: int) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if shards > 1:
        rules += [
            {"source_labels": ["__address__"], "modulus": shards, "target_label": "__tmp_shard",
             "action": "hashmod"},
            {"source_labels": ["__tmp_shard"], "regex": str(shard), "action": "keep"},
            {"target_label": "job", "replacement": job_name(job.module)},
        ]
    rules += [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["__param_target"], "target_label": "instance"},
        {"target_label": "module", "replacement": job.module},
        {"target_label": "__address__", "replacement": exporter},
    ]
    return rules


def module_jobs(job: ModuleJob, exporters: list[str], sd_mode: str, inventory_url: str | None,
                sd_dir: str) -> list[dict[str, Any]]:
    jobs = []
    n = len(exporters)
    for i, exporter in enumerate(exporters):
        name = job_name(job.module) if n == 1 else f"{job_name(job.module)}_shard{i}"
        jobs.append({
            "job_name": name,
            "scrape_interval": format_duration(job.interval),
            "scrape_timeout": format_duration(job.timeout),
            "metrics_path": "/probe",
            "params": {"module": [job.module]},
            **_sd(job.module, exporter, sd_mode, inventory_url, sd_dir),
            "relabel_configs": _relabel(job, exporter, i, n),
        })
    return jobs


def _alerting(url: str) -> dict[str, Any]:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PromConfigError(f"alertmanager URL {url!r} is not http(s)://HOST:PORT[/path]")
    am: dict[str, Any] = {"scheme": parts.scheme, "static_configs": [{"targets": [parts.netloc]}]}
    if parts.path.strip("/"):
        am["path_prefix"] = parts.path
    return {"alertmanagers": [am]}


def build(exporters: list[str], *, sd_mode: str = "http", inventory_url: str | None = None,
          sd_dir: str = "file_sd", rules: list[str] | None = None, alertmanager: str | None = None,
          tickets: list[str] | None = None, jobs: tuple[ModuleJob, ...] = MODULE_JOBS) -> dict[str, Any]:
    """The complete prometheus.yml as a dict."""
    if not exporters:
        raise PromConfigError("at least one --exporter HOST:PORT is required")
    exporters = [check_hostport(e) for e in exporters]
    if len(set(exporters)) != len(exporters):
        raise PromConfigError("an exporter is listed twice")
    if sd_mode not in ("http", "file"):
        raise PromConfigError(f"sd mode {sd_mode!r} is not http or file")
    for job in jobs:
        if not 0 < job.timeout < job.interval:
            raise PromConfigError(f"module {job.module}: scrape timeout must be below the interval")
    fastest = min(j.interval for j in jobs)
    cfg: dict[str, Any] = {
        "global": {"scrape_interval": "30s", "scrape_timeout": "10s",
                   "evaluation_interval": format_duration(min(30, fastest)),
                   "external_labels": {"monitor": "sharpeyes"}},
    }
    if rules:
        cfg["rule_files"] = list(rules)
    if alertmanager:
        cfg["alerting"] = _alerting(alertmanager)
    scrape: list[dict[str, Any]] = []
    for job in jobs:
        scrape += module_jobs(job, exporters, sd_mode, inventory_url, sd_dir)
    scrape.append({
        "job_name": "sharpeyes_inventory",
        "scrape_interval": format_duration(min(INVENTORY_INTERVAL, max(fastest * 4, 5))),
        "scrape_timeout": format_duration(min(30, max(fastest * 4, 5))),
        "honor_labels": True,
        "metrics_path": "/inventory/metrics",
        "static_configs": [{"targets": [exporters[0]]}],
    })
    scrape.append({
        "job_name": "sharpeyes_exporter",
        "scrape_interval": format_duration(min(15, fastest)),
        "scrape_timeout": format_duration(min(10, fastest)),
        "static_configs": [{"targets": list(exporters)}],
    })
    if tickets:
        scrape.append({
            "job_name": "sharpeyes_tickets",
            "scrape_interval": format_duration(min(15, fastest)),
            "scrape_timeout": format_duration(min(10, fastest)),
            "static_configs": [{"targets": [check_hostport(t) for t in tickets]}],
        })
    cfg["scrape_configs"] = scrape
    return cfg


HEADER = """\
# Generated by `sharpeyes-exporter promconfig`: do not edit by hand, re-run it instead.
# One job per probe module; with several exporters each module is sharded by hashmod over the
# device id (jobs *_shardN keep the label job="sharpeyes_<module>"). See docs/exporter.md.
"""


def render(cfg: dict[str, Any]) -> str:
    return HEADER + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, default_flow_style=False)
