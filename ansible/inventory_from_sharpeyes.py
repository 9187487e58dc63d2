#!/usr/bin/env python3
"""Turn a sharpeyes inventory directory into an Ansible inventory (and be an Ansible dynamic inventory).

Groups:
  district_centre     the district centre host (Prometheus, Alertmanager, Grafana, tickets, reports,
                      plus an exporter for the district-level devices: core switch, district platform)
  township_platforms  one host per township (its exporter probes that township's devices only)
  alertmanager        the centre, plus the standby nodes named in the overrides (clustered)
  sharpeyes           parent of all of them

Host names are the platform device ids of the inventory (``platform-baodong``); a township without a
platform device becomes ``township-<id>``. ``ansible_host`` is the platform device's address unless
the overrides file says otherwise.

Usage:
  inventory_from_sharpeyes.py --list                         (Ansible dynamic inventory; see env below)
  inventory_from_sharpeyes.py --host NAME                    (always {} : hostvars come with --list)
  inventory_from_sharpeyes.py --inventory DIR [--overrides FILE] --out hosts.yml   (static YAML)

Environment (dynamic-inventory mode): SHARPEYES_INVENTORY (default: the embedded sample district),
SHARPEYES_ANSIBLE_OVERRIDES (optional overrides file).

Overrides file (YAML), every key optional::

    exporter_port: 9430
    hosts:                          # by host name or by township id ("district" = the centre)
      platform-baodong: {ansible_host: 10.20.1.10}
      dakuai: {ansible_host: 10.20.5.10, ansible_user: ops}
    centre: {name: sharpeyes-centre, ansible_host: 10.20.0.10}
    alertmanager_peers:             # extra Alertmanager cluster nodes (the centre is always one)
      - {name: sharpeyes-am2, ansible_host: 10.20.0.11}
    shard_groups:                   # a city: township groups, each with its own Prometheus (rules)
      north: [baodong, dakuai]      #   remote-writing to VictoriaMetrics; every township in one group
      south: [genghuang, luwangfen]
    victoria_metrics: {name: sharpeyes-vm, ansible_host: 10.20.0.12}   # default: the centre

With shard_groups, group ``shard_prometheus`` holds one host per group (the platform of the group's
first township) with ``sharpeyes_prometheus_shard_townships``, ``sharpeyes_prometheus_remote_write``
and ``sharpeyes_prometheus_alertmanagers`` (every Alertmanager peer), and group ``victoriametrics``
the global store.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
EXPORTER_PORT = 9430
ALLOWED_OVERRIDE_KEYS = {"exporter_port", "hosts", "centre", "alertmanager_peers", "shard_groups",
                         "victoria_metrics"}
PROMETHEUS_PORT = 9090


class GeneratorError(Exception):
    pass


def _import_sharpeyes() -> Any:
    try:
        import sharpeyes.contract
        import sharpeyes.inventory
    except ImportError:  # run from a checkout without `pip install`: the package sits beside ansible/
        sys.path.insert(0, str(HERE.parent))
        import sharpeyes.contract
        import sharpeyes.inventory
    return sharpeyes


def load(directory: str | None) -> Any:
    sharpeyes = _import_sharpeyes()
    inventory = sharpeyes.inventory
    path = Path(directory) if directory else sharpeyes.contract.SAMPLE_DISTRICT
    try:
        return inventory.load_inventory(path)
    except inventory.InventoryError as exc:
        raise GeneratorError(f"{path}: invalid inventory ({len(exc.problems)} errors; "
                             f"run sharpeyes-inventory validate -i {path})") from None


def load_overrides(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GeneratorError(f"{path}: cannot read overrides: {exc}") from None
    if not isinstance(data, dict):
        raise GeneratorError(f"{path}: overrides must be a mapping")
    unknown = set(data) - ALLOWED_OVERRIDE_KEYS
    if unknown:
        raise GeneratorError(f"{path}: unknown keys {sorted(unknown)} (allowed: {sorted(ALLOWED_OVERRIDE_KEYS)})")
    return data


def _host_overrides(overrides: dict[str, Any], *keys: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    hosts = overrides.get("hosts") or {}
    for key in keys:
        merged.update(hosts.get(key) or {})
    return merged


def build(inv: Any, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Ansible inventory as the ``--list`` JSON structure (groups, hosts in ``_meta.hostvars``)."""
    overrides = overrides or {}
    port = int(overrides.get("exporter_port", EXPORTER_PORT))
    hostvars: dict[str, dict[str, Any]] = {}
    townships: list[str] = []
    shards: list[dict[str, str]] = []

    for tid in sorted(inv.townships):
        township = inv.townships[tid]
        platform = inv.devices.get(township.platform) if township.platform else None
        name = platform.id if platform else f"township-{tid}"
        hv: dict[str, Any] = {
            "sharpeyes_exporter_shard_township": tid,
            "sharpeyes_township_name": township.name,
        }
        if platform:
            hv["ansible_host"] = platform.ip
        hv.update(_host_overrides(overrides, tid, name))
        if "ansible_host" not in hv:
            raise GeneratorError(f"township {tid} has no platform device: give hosts.{tid}.ansible_host "
                                 "in the overrides file")
        hostvars[name] = hv
        townships.append(name)
        shards.append({"township": tid, "address": f"{hv['ansible_host']}:{port}"})

    centre_dev = next((d for d in inv.devices.values() if d.kind == "platform" and d.role == "district"), None)
    centre_over = dict(overrides.get("centre") or {})
    centre = str(centre_over.pop("name", centre_dev.id if centre_dev else f"centre-{inv.district.id}"))
    cv: dict[str, Any] = {"sharpeyes_exporter_shard_township": ""}
    if centre_dev:
        cv["ansible_host"] = centre_dev.ip
    cv.update(_host_overrides(overrides, "district", centre))
    cv.update(centre_over)
    if "ansible_host" not in cv:
        raise GeneratorError("the inventory has no district platform device: give centre.ansible_host "
                             "in the overrides file")
    shards.append({"township": "", "address": f"{cv['ansible_host']}:{port}"})
    cv["sharpeyes_prometheus_exporter_shards"] = shards
    hostvars[centre] = cv

    am_hosts = [centre]
    for peer in overrides.get("alertmanager_peers") or []:
        peer = dict(peer)
        if "name" not in peer or "ansible_host" not in peer:
            raise GeneratorError("alertmanager_peers entries need name and ansible_host")
        name = str(peer.pop("name"))
        hostvars[name] = peer
        am_hosts.append(name)
    for name in am_hosts:
        hostvars[name]["sharpeyes_alertmanager_cluster_peers"] = [
            f"{hostvars[other]['ansible_host']}:9094" for other in am_hosts if other != name]

    groups = _shard_groups(inv, overrides, hostvars, townships, centre, am_hosts)
    return {
        **groups,
        "_meta": {"hostvars": hostvars},
        "all": {
            "children": ["sharpeyes", "ungrouped"],
            "vars": {"sharpeyes_district": inv.district.id, "sharpeyes_district_timezone": inv.district.timezone},
        },
        "sharpeyes": {"children": ["district_centre", "township_platforms", "alertmanager",
                                   *(g for g in ("shard_prometheus", "victoriametrics") if g in groups)]},
        "district_centre": {"hosts": [centre]},
        "township_platforms": {"hosts": townships},
        "alertmanager": {"hosts": am_hosts},
    }


def _shard_groups(inv: Any, overrides: dict[str, Any], hostvars: dict[str, dict[str, Any]],
                  townships: list[str], centre: str, am_hosts: list[str]) -> dict[str, Any]:
    spec = overrides.get("shard_groups")
    if not spec:
        return {}
    if not isinstance(spec, dict) or not all(isinstance(v, list) and v for v in spec.values()):
        raise GeneratorError("shard_groups must map a group name to a non-empty list of township ids")
    host_of = {hostvars[h]["sharpeyes_exporter_shard_township"]: h for h in townships}
    seen: dict[str, str] = {}
    for group, tids in spec.items():
        for tid in tids:
            if tid not in inv.townships:
                raise GeneratorError(f"shard_groups.{group}: unknown township {tid!r}")
            if tid in seen:
                raise GeneratorError(f"township {tid} is in shard groups {seen[tid]} and {group}")
            seen[tid] = str(group)
    missing = sorted(set(inv.townships) - set(seen))
    if missing:
        raise GeneratorError(f"townships in no shard group: {', '.join(missing)}")
    vm = dict(overrides.get("victoria_metrics") or {})
    vm_name = str(vm.pop("name", centre))
    if vm_name != centre:
        if "ansible_host" not in vm:
            raise GeneratorError("victoria_metrics needs ansible_host (or leave it out: the centre)")
        hostvars[vm_name] = vm
    vm_port = _import_sharpeyes().contract.SCALE_PORTS["victoria_metrics"]
    write = f"http://{hostvars[vm_name]['ansible_host']}:{vm_port}/api/v1/write"
    ams = [f"{hostvars[h]['ansible_host']}:9093" for h in am_hosts]
    shard_hosts = []
    for group, tids in spec.items():
        host = host_of[tids[0]]
        hostvars[host].update({"sharpeyes_prometheus_shard_group": str(group),
                               "sharpeyes_prometheus_shard_townships": list(tids),
                               "sharpeyes_prometheus_remote_write": [write],
                               "sharpeyes_prometheus_alertmanagers": ams})
        shard_hosts.append(host)
    return {"shard_prometheus": {"hosts": shard_hosts}, "victoriametrics": {"hosts": [vm_name]}}


def to_yaml_inventory(data: dict[str, Any]) -> dict[str, Any]:
    """The same inventory in Ansible's YAML inventory format (for a committed/static hosts file)."""
    hostvars = data["_meta"]["hostvars"]

    placed = set(data["district_centre"]["hosts"]) | set(data["township_platforms"]["hosts"])

    def group(name: str) -> dict[str, Any]:
        return {"hosts": {h: hostvars[h] for h in data[name]["hosts"]}}

    return {"all": {
        "vars": data["all"]["vars"],
        "children": {"sharpeyes": {"children": {
            "district_centre": group("district_centre"),
            "township_platforms": group("township_platforms"),
            # hosts already listed above keep their vars there; standby nodes get theirs here
            "alertmanager": {"hosts": {h: {} if h in placed else hostvars[h] for h in data["alertmanager"]["hosts"]}},
            **{g: {"hosts": {h: {} if h in placed else hostvars[h] for h in data[g]["hosts"]}}
               for g in ("shard_prometheus", "victoriametrics") if g in data},
        }}},
    }}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--list", action="store_true", help="Ansible dynamic inventory: print every group as JSON")
    p.add_argument("--host", help="Ansible dynamic inventory: host vars (empty: they come with --list)")
    p.add_argument("--inventory", "-i", default=os.environ.get("SHARPEYES_INVENTORY"),
                   help="sharpeyes inventory directory (default: $SHARPEYES_INVENTORY or the sample district)")
    p.add_argument("--overrides", default=os.environ.get("SHARPEYES_ANSIBLE_OVERRIDES"),
                   help="YAML overrides: host addresses, exporter port, Alertmanager peers")
    p.add_argument("--out", help="write a static YAML inventory to this file ('-' for stdout)")
    args = p.parse_args(argv)
    try:
        if args.host is not None:
            print("{}")
            return 0
        data = build(load(args.inventory), load_overrides(args.overrides))
    except GeneratorError as exc:
        print(f"inventory_from_sharpeyes: error: {exc}", file=sys.stderr)
        return 1
    if args.out:
        text = yaml.safe_dump(to_yaml_inventory(data), sort_keys=False, allow_unicode=True)
        text = "# Generated by ansible/inventory_from_sharpeyes.py; do not edit (edit the overrides file).\n" + text
        if args.out == "-":
            sys.stdout.write(text)
        else:
            Path(args.out).write_text(text, encoding="utf-8")
        return 0
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
