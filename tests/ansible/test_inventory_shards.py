"""inventory_from_sharpeyes.py places a city's shards by township group (no Ansible run needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ansible"))
import inventory_from_sharpeyes as gen

GROUPS = {"north": ["baodong", "dakuai"], "south": ["genghuang", "luwangfen", "baoxi"]}


def test_three_groups_become_shard_hosts_writing_to_victoriametrics() -> None:
    over = {"shard_groups": GROUPS, "victoria_metrics": {"name": "vm1", "ansible_host": "10.20.0.12"},
            "alertmanager_peers": [{"name": "am2", "ansible_host": "10.20.0.11"}]}
    data = gen.build(gen.load(None), over)
    hv = data["_meta"]["hostvars"]
    shards = data["shard_prometheus"]["hosts"]
    assert len(shards) == 2 and data["victoriametrics"]["hosts"] == ["vm1"]
    placed = sorted(t for h in shards for t in hv[h]["sharpeyes_prometheus_shard_townships"])
    assert placed == sorted(t for ts in GROUPS.values() for t in ts)
    for h in shards:
        group = hv[h]["sharpeyes_prometheus_shard_group"]
        assert hv[h]["sharpeyes_prometheus_shard_townships"] == GROUPS[group]
        # the shard's Prometheus runs on its first township's platform
        assert hv[h]["sharpeyes_exporter_shard_township"] == GROUPS[group][0]
        assert hv[h]["sharpeyes_prometheus_remote_write"] == ["http://10.20.0.12:8428/api/v1/write"]
        assert len(hv[h]["sharpeyes_prometheus_alertmanagers"]) == 2  # every rule evaluator → both peers
    static = yaml.safe_load(yaml.safe_dump(gen.to_yaml_inventory(data)))
    children = static["all"]["children"]["sharpeyes"]["children"]
    assert set(children["shard_prometheus"]["hosts"]) == set(shards)
    assert children["victoriametrics"]["hosts"]["vm1"] == {"ansible_host": "10.20.0.12"}


@pytest.mark.parametrize(("groups", "message"), [
    ({"a": ["baodong"]}, "townships in no shard group"),
    ({"a": ["baodong", "nowhere"]}, "unknown township 'nowhere'"),
    ({**GROUPS, "c": ["baodong"]}, "is in shard groups"),
    ({"a": []}, "non-empty list"),
])
def test_bad_shard_groups_are_refused(groups: dict[str, list[str]], message: str) -> None:
    with pytest.raises(gen.GeneratorError, match=message):
        gen.build(gen.load(None), {"shard_groups": groups})


def test_without_shard_groups_nothing_changes() -> None:
    data = gen.build(gen.load(None), {})
    assert "shard_prometheus" not in data and "victoriametrics" not in data
