"""The exporter's trap path raises the rules' own alerts: same alertname, same label set.

promtool evaluates the generated SwitchPortDown and FiberLinkDown rules on the inventory's own
``sharpeyes_device_info`` / ``sharpeyes_fiber_link_info`` series (rendered by the inventory, as
/inventory/metrics serves them) and must produce exactly the labels exporters/traps/alerts.py builds,
minus Prometheus' external labels (added when Prometheus sends, not in promtool's output).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from sharpeyes.alerts import build, promtests
from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules import alert_groups
from sharpeyes.contract import EXTERNAL_LABELS, FIBER_INFO_LABELS, TRAP_CONFIRMED_ALERTS
from sharpeyes.exporters.probers.base import PortInfo
from sharpeyes.exporters.promconfig import build as promconfig
from sharpeyes.exporters.traps.alerts import link_down_labels, port_down_labels
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.sd import info_metrics, target_labels
from tests.alerts.alerts_testlib import GENERATED, require

VALID_MIN = Path(__file__).resolve().parents[1] / "inventory" / "valid_min"
_SERIES = re.compile(r"^(\w+)\{(.*)\} (\S+)$")


def test_contract_matches_the_rules() -> None:
    rules = {r["alert"]: r for g in alert_groups(Config()) for r in g["rules"]}
    for name, (severity, scope) in TRAP_CONFIRMED_ALERTS.items():
        assert rules[name]["labels"] == {"severity": severity, "scope": scope}
    # the fiber-link labels the trap path copies are the ones the rule joins from the link's _info series
    assert f"group_left ({', '.join(FIBER_INFO_LABELS)})" in rules["FiberLinkDown"]["expr"]
    assert promconfig(["127.0.0.1:9430"])["global"]["external_labels"] == EXTERNAL_LABELS


def _info_series(text: str) -> list[dict[str, str]]:
    out = []
    for line in text.splitlines():
        m = _SERIES.match(line)
        if m and m.group(1) in ("sharpeyes_device_info", "sharpeyes_fiber_link_info"):
            body = m.group(2) + ', job="sharpeyes_inventory", instance="127.0.0.1:9430"'
            out.append({"series": f"{m.group(1)}{{{body}}}", "values": "1x20"})
    return out


def _port_up(switch: dict[str, str], port: str, **extra: str) -> dict[str, str]:
    labels = {**{k: v for k, v in switch.items() if v}, "job": "sharpeyes_snmp_switch",
              "instance": switch["device"], "module": "snmp_switch", "port": port, "if_index": "6", **extra}
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"sharpeyes_port_up{{{body}}}", "values": "0x20"}


def _expected(rule: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    bare = {k: v for k, v in labels.items() if k != "alertname" and k not in EXTERNAL_LABELS}
    return {"exp_labels": bare,
            "exp_annotations": {k: promtests.render(v, bare, 0) for k, v in rule["annotations"].items()}}


def test_promtool_rules_raise_exactly_the_trap_labels(tmp_path: Path) -> None:
    promtool = require("promtool")
    inv = load_inventory(VALID_MIN)
    switch = target_labels(inv, inv.devices["sw-east-v1-p01"])
    camera_port = PortInfo("GigabitEthernet0/0/1", "copper", "cam-east-v1-001", "")
    fiber_port = PortInfo("GigabitEthernet0/0/9", "fiber", "", "fl-east-0002")
    port_labels = port_down_labels(inv, camera_port)
    link_labels = link_down_labels(inv, "fl-east-0002")
    assert port_labels is not None and link_labels is not None
    rules = {r["alert"]: r for g in alert_groups(Config()) for r in g["rules"]}
    test = {
        "rule_files": [str(GENERATED / build.RULES_FILE)],
        "evaluation_interval": "15s",
        "tests": [{
            "interval": "15s",
            "input_series": [*_info_series(info_metrics(inv)),
                             _port_up(switch, camera_port.name, port_device=camera_port.device),
                             _port_up(switch, fiber_port.name, port_link=fiber_port.link)],
            "alert_rule_test": [
                {"eval_time": "1m", "alertname": "SwitchPortDown",
                 "exp_alerts": [_expected(rules["SwitchPortDown"], port_labels)]},
                {"eval_time": "1m", "alertname": "FiberLinkDown",
                 "exp_alerts": [_expected(rules["FiberLinkDown"], link_labels)]},
            ],
        }],
    }
    path = tmp_path / "trap-labels.test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_alert_for_a_port_without_an_active_camera() -> None:
    inv = load_inventory(VALID_MIN)
    assert port_down_labels(inv, PortInfo("GigabitEthernet0/0/5", "copper", "", "")) is None
    assert port_down_labels(inv, PortInfo("GigabitEthernet0/0/1", "copper", "agg-east-1", "")) is None
    assert link_down_labels(inv, "fl-nowhere") is None
