"""The names that cross components come from ``sharpeyes.contract``, and only from there.

The SD labels the exporter serves, the scrape jobs promconfig writes, the exporter's default modules,
and every selector in the generated alert rules and dashboards are checked against the contract; the
PromQL is parsed by a real PromQL parser (promql-parser, the Rust ``promql-parser`` crate), not by
regexes. A last test adds a probe module to the contract in a fresh interpreter and checks that
service discovery, promconfig, the alert rules and the dashboards all pick it up.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import promql_parser as pp
import pytest
import yaml

from sharpeyes import contract
from sharpeyes.alerts import build as alerts_build
from sharpeyes.alerts.config import Config
from sharpeyes.cli import parse_duration
from sharpeyes.dashboards import build as dashboards_build
from sharpeyes.dashboards.common import LANGS, UIDS
from sharpeyes.exporters import promconfig
from sharpeyes.exporters.config import DEFAULT_CONFIG
from sharpeyes.inventory import Inventory, load_inventory
from sharpeyes.inventory.sd import file_sd, http_sd

ROOT = Path(__file__).resolve().parent.parent

JOBS = {m.job for m in contract.MODULES.values()} | {
    contract.JOB_INVENTORY, contract.JOB_EXPORTER, contract.JOB_TICKETS, contract.JOB_RECORDING,
}
# Labels Prometheus, Alertmanager and client libraries add themselves.
PROMETHEUS_LABELS = {"__name__", "le", "alertname", "alertstate", "severity", "scope", "quantile"}
LABELS = (
    set(contract.TARGET_LABELS) | set(contract.PROBE_LABELS) | set(contract.DEVICE_INFO_EXTRA_LABELS)
    | set(contract.FIBER_LINK_INFO_LABELS) | set(contract.PORT_LABELS) | set(contract.PROBE_ERROR_LABELS)
    | set(contract.TICKETS_LABELS) | set(contract.EXPORTER_SELF_LABELS) | set(contract.VQD_LABELS)
    | set(contract.RECORDING_LABELS) | PROMETHEUS_LABELS
)


def recording_names() -> set[str]:
    names = {contract.REC_DEVICE_REACHABLE, contract.REC_DEVICE_UP, contract.REC_DEVICE_MONITORED,
             contract.REC_VILLAGE_PATH_INFO, contract.REC_OPTICAL_MARGIN, contract.rec_bitrate()}
    for level in ("village", "township", "contractor", "funding", "district"):
        names |= set(contract.rec_online(level).values())
    return names


@dataclass
class Names:
    """What a set of PromQL expressions uses."""

    metrics: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    jobs: set[str] = field(default_factory=set)

    def add(self, expr: str) -> None:
        pp.walk(pp.parse(expr), pre_visit=self._visit)

    def _visit(self, node: object) -> None:
        if isinstance(node, pp.VectorSelector):
            if node.name:
                self.metrics.add(node.name)
            for m in node.matchers.matchers:
                self.labels.add(m.name)
                if m.name == "job":
                    self._job(m.op, m.value)
        elif isinstance(node, pp.AggregateExpr) and node.modifier is not None:
            self.labels.update(node.modifier.labels)
        elif isinstance(node, pp.BinaryExpr) and node.modifier is not None:
            if node.modifier.matching is not None:
                self.labels.update(node.modifier.matching.labels)
            self.labels.update(node.modifier.group_labels or ())

    def _job(self, op: pp.MatchOp, value: str) -> None:
        if op == pp.MatchOp.Re:
            self.jobs.update(value.split("|"))
        elif op == pp.MatchOp.Equal:
            self.jobs.add(value)
        else:
            pytest.fail(f"job matcher {op} {value!r}: only = and =~ on contract jobs are expected")


def rule_exprs(cfg: Config) -> Iterator[tuple[str, str]]:
    files = alerts_build.render(cfg)
    for rel in (alerts_build.RULES_FILE, alerts_build.RECORDING_FILE):
        for grp in yaml.safe_load(files[rel])["groups"]:
            for rule in grp["rules"]:
                yield rule.get("alert") or rule["record"], rule["expr"]


# Grafana's template variables are not PromQL: give them values of the right type before parsing.
GRAFANA_RANGES = re.compile(r"\$__(range|rate_interval|interval)\b")
GRAFANA_NUMBERS = re.compile(r"\$__(range_s|interval_ms)\b")
LABEL_VALUES = re.compile(r"^label_values\((?P<sel>.*),\s*(?P<label>\w+)\)$", re.S)


def grafana_promql(expr: str) -> str:
    return GRAFANA_NUMBERS.sub("1", GRAFANA_RANGES.sub("5m", expr))


def dashboard_queries(data: object) -> Iterator[str]:
    """Every ``expr`` of a panel target and every query of a Prometheus template variable."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "expr" and isinstance(value, str) and value:
                yield value
            elif key == "query" and isinstance(value, dict) and isinstance(value.get("query"), str):
                yield value["query"]
            else:
                yield from dashboard_queries(value)
    elif isinstance(data, list):
        for item in data:
            yield from dashboard_queries(item)


def dashboard_names() -> Names:
    names = Names()
    for name in UIDS:
        for lang in LANGS:
            for query in dashboard_queries(dashboards_build.render(name, lang)):
                lv = LABEL_VALUES.match(query)
                if lv:
                    names.labels.add(lv["label"])
                    query = lv["sel"]
                names.add(grafana_promql(query))
    return names


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(contract.SAMPLE_DISTRICT)


def test_sd_serves_exactly_the_contract_labels_for_every_module(inventory: Inventory) -> None:
    for module, spec in contract.MODULES.items():
        groups = json.loads(http_sd(inventory, module))
        assert groups, f"module {module} has no targets in the sample district"
        assert {tuple(g["labels"]) for g in groups} == {contract.TARGET_LABELS}
        kinds = {inventory.devices[g["targets"][0]].kind for g in groups}
        assert kinds <= set(spec.kinds)
    with pytest.raises(KeyError):
        file_sd(inventory, "http")  # not a contract module


def test_promconfig_jobs_are_the_contract_modules() -> None:
    cfg = promconfig.build(["127.0.0.1:9430"], tickets=["127.0.0.1:9440"], recording=["127.0.0.1:9450"])
    by_name = {j["job_name"]: j for j in cfg["scrape_configs"]}
    assert set(by_name) == JOBS
    for module, spec in contract.MODULES.items():
        job = by_name[spec.job]
        assert job["params"] == {"module": [module]}
        assert job["scrape_interval"] == f"{spec.interval:g}s" or spec.interval >= 60
    sharded = promconfig.build(["127.0.0.1:9430", "127.0.0.1:9431"])
    relabelled = {r["replacement"] for j in sharded["scrape_configs"] for r in j.get("relabel_configs", ())
                  if r.get("target_label") == "job"}
    assert relabelled == {m.job for m in contract.MODULES.values()}


def test_exporter_default_config_defines_the_contract_modules() -> None:
    modules = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))["modules"]
    assert list(modules) == list(contract.MODULES)


def test_ansible_prometheus_role_scrapes_the_contract_modules() -> None:
    """The role renders prometheus.yml on the target without importing sharpeyes: its table must agree."""
    defaults = yaml.safe_load((ROOT / "ansible/roles/sharpeyes_prometheus/defaults/main.yml").read_text())
    table = {m["module"]: (parse_duration(m["interval"]), parse_duration(m["timeout"]))
             for m in defaults["sharpeyes_prometheus_probe_modules"]}
    assert table == {name: (m.interval, m.timeout) for name, m in contract.MODULES.items()}


def test_rules_select_only_contract_jobs_labels_and_metrics() -> None:
    names = Names()
    for rule, expr in rule_exprs(Config()):
        try:
            names.add(expr)
        except Exception as exc:  # promql-parser raises a plain exception with the parser's message
            pytest.fail(f"{rule}: {exc}")
    assert names.jobs and names.jobs <= JOBS, names.jobs - JOBS
    assert names.labels - LABELS == set()
    assert names.metrics - contract.METRICS - recording_names() == set()
    # every probe module's job is watched by the monitoring alerts
    assert {m.job for m in contract.MODULES.values()} <= names.jobs


def test_dashboards_query_only_contract_jobs_labels_and_metrics() -> None:
    names = dashboard_names()
    assert names.jobs and names.jobs <= JOBS, names.jobs - JOBS
    assert names.labels - LABELS == set()
    assert names.metrics - contract.METRICS - recording_names() == set()


def test_the_checker_sees_a_wrong_name() -> None:
    names = Names()
    names.add('sum by (villag) (probe_succes{job="sharpeyes_icmpp"})')
    assert names.jobs - JOBS == {"sharpeyes_icmpp"}
    assert names.labels - LABELS == {"villag"}
    assert names.metrics - contract.METRICS == {"probe_succes"}


NEW_MODULE = textwrap.dedent("""
    import json
    from sharpeyes import contract
    contract.MODULES["http"] = contract.Module("http", ("camera",), 30, 10)

    from sharpeyes.alerts.config import Config
    from sharpeyes.alerts.rules import alert_groups
    from sharpeyes.dashboards import common
    from sharpeyes.exporters import promconfig
    from sharpeyes.inventory import load_inventory
    from sharpeyes.inventory.sd import http_sd

    inv = load_inventory(contract.SAMPLE_DISTRICT)
    jobs = [j["job_name"] for j in promconfig.build(["127.0.0.1:9430"])["scrape_configs"]]
    exprs = [r["expr"] for g in alert_groups(Config()) for r in g["rules"]]
    print(json.dumps({
        "sd_targets": len(json.loads(http_sd(inv, "http"))),
        "promconfig": "sharpeyes_http" in jobs,
        "alerts": any("sharpeyes_http" in e for e in exprs),
        "dashboards": "sharpeyes_http" in common.PROBE_JOBS_RE,
    }))
""")


def test_a_new_contract_module_reaches_sd_promconfig_alerts_and_dashboards() -> None:
    out = subprocess.run([sys.executable, "-c", NEW_MODULE], capture_output=True, text=True, check=True,
                         cwd=ROOT, timeout=120)
    seen = json.loads(out.stdout)
    cameras = sum(1 for d in load_inventory(contract.SAMPLE_DISTRICT).active_devices() if d.kind == "camera")
    assert seen == {"sd_targets": cameras, "promconfig": True, "alerts": True, "dashboards": True}
