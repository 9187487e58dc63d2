"""Service discovery: file_sd/http_sd groups carry exactly the contract's labels, active devices only."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from sharpeyes.inventory.cli import main
from sharpeyes.inventory.sd import LABELS, MODULES, file_sd, http_sd, write_file_sd

# docs/contract.md, "Target labels"
CONTRACT_LABELS = [
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
]
CONTRACT_MODULES = {
    "icmp": {"camera", "switch", "nvr", "platform"},
    "rtsp": {"camera"},
    "snmp_camera": {"camera"},
    "snmp_switch": {"switch"},
    "onvif": {"camera"},
    "snapshot": {"camera"},
}


def test_modules_and_labels_are_the_contracts() -> None:
    assert {m: set(k) for m, k in MODULES.items()} == CONTRACT_MODULES
    assert list(LABELS) == CONTRACT_LABELS


@pytest.mark.parametrize("module", sorted(CONTRACT_MODULES))
def test_file_sd_per_module(module: str, sample_inventory) -> None:  # type: ignore[no-untyped-def]
    groups = file_sd(sample_inventory, module)
    kinds = CONTRACT_MODULES[module]
    want = {d.id for d in sample_inventory.devices.values() if d.kind in kinds and d.status == "active"}
    assert len(groups) == len(want)
    assert {g["targets"][0] for g in groups} == want  # type: ignore[index]
    for g in groups:
        assert len(g["targets"]) == 1  # type: ignore[arg-type]
        labels = g["labels"]
        assert list(labels) == CONTRACT_LABELS  # type: ignore[arg-type]
        assert all(isinstance(v, str) for v in labels.values())  # type: ignore[attr-defined]
        assert labels["device"] == g["targets"][0]  # type: ignore[index]
        assert labels["kind"] in kinds  # type: ignore[index]


def test_inactive_devices_are_not_targets(sample_inventory) -> None:  # type: ignore[no-untyped-def]
    inactive = [d for d in sample_inventory.devices.values() if d.status != "active"]
    assert len(inactive) == 4 and all(d.kind == "camera" for d in inactive)
    targets = {g["targets"][0] for g in file_sd(sample_inventory, "icmp")}  # type: ignore[index]
    assert not targets & {d.id for d in inactive}
    cams = sum(1 for d in sample_inventory.devices.values() if d.kind == "camera")
    assert len(file_sd(sample_inventory, "rtsp")) == cams - 4


def test_camera_labels_name_its_path(sample_inventory) -> None:  # type: ignore[no-untyped-def]
    g = next(g for g in file_sd(sample_inventory, "onvif") if g["labels"]["funding"] == "sharp_eyes")  # type: ignore[index]
    labels = g["labels"]
    assert labels["access_switch"] == labels["uplink_switch"] and labels["fiber_link"].startswith("fl-")  # type: ignore[index]
    assert labels["agg_switch"].startswith("agg-") and labels["area"] in ("urban", "rural")  # type: ignore[index]


def test_http_sd_is_the_same_groups(sample_inventory) -> None:  # type: ignore[no-untyped-def]
    assert json.loads(http_sd(sample_inventory, "snmp_switch")) == file_sd(sample_inventory, "snmp_switch")
    with pytest.raises(KeyError):
        http_sd(sample_inventory, "http")


def test_write_file_sd_and_cli(sample_inventory, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    counts = write_file_sd(sample_inventory, tmp_path / "a")
    by_kind = Counter(d.kind for d in sample_inventory.active_devices())
    assert counts == {
        "icmp": sum(by_kind.values()),
        "rtsp": by_kind["camera"],
        "snmp_camera": by_kind["camera"],
        "snmp_switch": by_kind["switch"],
        "onvif": by_kind["camera"],
        "snapshot": by_kind["camera"],
    }
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(f"{m}.json" for m in CONTRACT_MODULES)
    assert main(["sd", "--out", str(tmp_path / "b")]) == 0
    for m in CONTRACT_MODULES:
        assert (tmp_path / "b" / f"{m}.json").read_text(encoding="utf-8") == (
            tmp_path / "a" / f"{m}.json"
        ).read_text(encoding="utf-8")


def test_sd_township_filter(sample_inventory, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    inv = sample_inventory
    assert main(["sd", "--out", str(tmp_path / "t"), "--township", "baodong", "--township", "baoxi",
                 "--info", str(tmp_path / "info.prom")]) == 0
    icmp = json.loads((tmp_path / "t" / "icmp.json").read_text(encoding="utf-8"))
    want = {d.id for d in inv.active_devices() if d.township in ("baodong", "baoxi")}
    assert {g["targets"][0] for g in icmp} == want
    assert {g["labels"]["township"] for g in icmp} == {"baodong", "baoxi"}
    snmp = json.loads((tmp_path / "t" / "snmp_switch.json").read_text(encoding="utf-8"))
    assert {g["labels"]["role"] for g in snmp} == {"access", "aggregation"}  # no core: it has no township
    info = (tmp_path / "info.prom").read_text(encoding="utf-8")
    assert info.count("sharpeyes_device_info{") == len(want)
    assert 'township="dakuai"' not in info
    assert f"icmp: {len(want)}," in capsys.readouterr().out
    # "" = the district-level devices (core switch, district platform …)
    assert main(["sd", "--out", str(tmp_path / "d"), "--township", ""]) == 0
    district = json.loads((tmp_path / "d" / "icmp.json").read_text(encoding="utf-8"))
    assert {g["targets"][0] for g in district} == {d.id for d in inv.active_devices() if not d.township}
    assert "core-1" in {g["targets"][0] for g in district}
    # every township plus "" is everything
    shards = [*inv.townships, ""]
    assert file_sd(inv, "icmp", shards) == file_sd(inv, "icmp")
    assert main(["sd", "--out", str(tmp_path / "x"), "--township", "atlantis"]) == 2
    assert "no township 'atlantis'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
