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

from sharpeyes.cli import format_duration, host_port, parse_duration
from sharpeyes.contract import (
    EXTERNAL_LABELS,
    INVENTORY_INTERVAL,
    JOB_EXPORTER,
    JOB_INVENTORY,
    JOB_RECORDING,
    JOB_TICKETS,
    MODULES,
)
from sharpeyes.contract import job as contract_job


@dataclass(frozen=True, slots=True)
class ModuleJob:
    module: str
    interval: float  # seconds
    timeout: float  # scrape_timeout, below the interval; the exporter subtracts its offset from it


# One job per probe module of the contract, on the module's production schedule.
MODULE_JOBS = tuple(ModuleJob(m.name, m.interval, m.timeout) for m in MODULES.values())


class PromConfigError(ValueError):
    pass


def scaled_jobs(factor: float, intervals: dict[str, float] | None = None) -> tuple[ModuleJob, ...]:
    """The module jobs on a compressed clock (demos, end-to-end tests); whole seconds, at least 1 s.

    ``intervals`` sets single modules' intervals after scaling (the demo takes its stills more often
    than the other jobs so that an image fault shows within minutes); their timeout is the scaled
    one, kept below the interval."""
    if not 0 < factor <= 10:
        raise PromConfigError(f"interval scale {factor} must be in (0, 10]")
    intervals = intervals or {}
    unknown = sorted(set(intervals) - {j.module for j in MODULE_JOBS})
    if unknown:
        raise PromConfigError(f"unknown module {unknown[0]!r} in a module interval "
                              f"(modules: {', '.join(j.module for j in MODULE_JOBS)})")
    jobs = MODULE_JOBS if factor == 1.0 else tuple(
        ModuleJob(j.module, max(2, round(j.interval * factor)), max(1, round(j.timeout * factor)))
        for j in MODULE_JOBS)
    out = []
    for j in jobs:
        if j.module in intervals:
            every = round(intervals[j.module])
            if every < 2:
                raise PromConfigError(f"module {j.module}: interval {intervals[j.module]:g}s is below 2s")
            j = ModuleJob(j.module, every, min(j.timeout, max(1, round(every * 0.8))))
        out.append(j)
    return tuple(out)


def module_interval(text: str) -> tuple[str, float]:
    """``snapshot=30s`` → ("snapshot", 30.0); ``PromConfigError`` with the reason otherwise."""
    module, sep, value = text.partition("=")
    if not sep or not module:
        raise PromConfigError(f"module interval {text!r} is not MODULE=DURATION (e.g. snapshot=1m)")
    try:
        return module.strip(), parse_duration(value)
    except ValueError as exc:
        raise PromConfigError(f"module interval {text!r}: {exc}") from None


def check_hostport(value: str) -> str:
    try:
        host, _ = host_port(value, default_host="")
    except ValueError:
        host = ""
    if not host:  # a scrape target needs a host
        raise PromConfigError(f"exporter address {value!r} is not HOST:PORT")
    return value


def job_name(module: str) -> str:
    return contract_job(module)


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


def _alerting(urls: list[str]) -> dict[str, Any]:
    """Every Alertmanager gets every alert: an HA pair deduplicates notifications by gossip, so a
    rule evaluator must send to each peer rather than to one of them or a load balancer."""
    groups: dict[tuple[str, str], list[str]] = {}
    for url in urls:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PromConfigError(f"alertmanager URL {url!r} is not http(s)://HOST:PORT[/path]")
        targets = groups.setdefault((parts.scheme, parts.path.strip("/")), [])
        if parts.netloc in targets:
            raise PromConfigError(f"alertmanager {parts.netloc} is listed twice")
        targets.append(parts.netloc)
    ams = []
    for (scheme, path), targets in groups.items():
        am: dict[str, Any] = {"scheme": scheme, "static_configs": [{"targets": targets}]}
        if path:
            am["path_prefix"] = f"/{path}"
        ams.append(am)
    return {"alertmanagers": ams}


def _remote_write(url: str) -> dict[str, Any]:
    """A global store (VictoriaMetrics: http://HOST:8428/api/v1/write). The WAL holds what the store
    has not acknowledged; Prometheus keeps retrying and replays it once the store is back, as long
    as the WAL (about 2 h of head data) still holds it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PromConfigError(f"remote write URL {url!r} is not http(s)://HOST:PORT/path")
    return {"url": url}


def build(exporters: list[str], *, sd_mode: str = "http", inventory_url: str | None = None,
          sd_dir: str = "file_sd", rules: list[str] | None = None, alertmanager: str | list[str] | None = None,
          tickets: list[str] | None = None, jobs: tuple[ModuleJob, ...] = MODULE_JOBS,
          remote_write: list[str] | None = None, recording: list[str] | None = None) -> dict[str, Any]:
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
                   "external_labels": dict(EXTERNAL_LABELS)},
    }
    if rules:
        cfg["rule_files"] = list(rules)
    if remote_write:
        cfg["remote_write"] = [_remote_write(url) for url in remote_write]
    if alertmanager:
        cfg["alerting"] = _alerting([alertmanager] if isinstance(alertmanager, str) else alertmanager)
    scrape: list[dict[str, Any]] = []
    for job in jobs:
        scrape += module_jobs(job, exporters, sd_mode, inventory_url, sd_dir)
    scrape.append({
        "job_name": JOB_INVENTORY,
        "scrape_interval": format_duration(min(INVENTORY_INTERVAL, max(fastest * 4, 5))),
        "scrape_timeout": format_duration(min(30, max(fastest * 4, 5))),
        "honor_labels": True,
        "metrics_path": "/inventory/metrics",
        "static_configs": [{"targets": [exporters[0]]}],
    })
    scrape.append({
        "job_name": JOB_EXPORTER,
        "scrape_interval": format_duration(min(15, fastest)),
        "scrape_timeout": format_duration(min(10, fastest)),
        "static_configs": [{"targets": list(exporters)}],
    })
    if tickets:
        scrape.append({
            "job_name": JOB_TICKETS,
            "scrape_interval": format_duration(min(15, fastest)),
            "scrape_timeout": format_duration(min(10, fastest)),
            "static_configs": [{"targets": [check_hostport(t) for t in tickets]}],
        })
    if recording:  # sharpeyes-recording: state changes hourly; a minute keeps it fresh (scaled for demos)
        scrape.append({
            "job_name": JOB_RECORDING,
            "scrape_interval": format_duration(min(60, max(fastest * 4, 5))),
            "scrape_timeout": format_duration(min(30, max(fastest * 2, 5))),
            "static_configs": [{"targets": [check_hostport(t) for t in recording]}],
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
