"""Root-cause keys and ancestors (docs/contract.md), and the inventory-backed assignment adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.tickets.assign import Assignment, InventoryUnavailable, load_assigner
from sharpeyes.tickets.grouping import GroupingError, ancestor_keys, root_key
from tests.tickets.tickets_testlib import cam_labels, switch_labels


@pytest.mark.parametrize(("labels", "key"), [
    ({"scope": "device", "device": "cam-x"}, "device:cam-x"),
    ({"scope": "switch", "device": "sw-y"}, "switch:sw-y"),
    ({"scope": "fiber_link", "fiber_link": "fl-z", "device": "sw-y"}, "fiber_link:fl-z"),
    ({"scope": "village", "village": "v"}, "village:v"),
    ({"scope": "township", "township": "t"}, "township:t"),
    ({"scope": "monitoring", "alertname": "SharpEyesExporterDown"}, "monitoring:SharpEyesExporterDown"),
])
def test_root_key(labels: dict[str, str], key: str) -> None:
    assert root_key(labels) == key


@pytest.mark.parametrize(("labels", "field"), [
    ({"scope": "galaxy"}, "labels.scope"),
    ({}, "labels.scope"),
    ({"scope": "switch"}, "labels.device"),
    ({"scope": "fiber_link", "fiber_link": ""}, "labels.fiber_link"),
])
def test_root_key_errors_name_the_label(labels: dict[str, str], field: str) -> None:
    with pytest.raises(GroupingError) as e:
        root_key(labels)
    assert e.value.field == field


def test_camera_ancestors_nearest_first() -> None:
    labels = {"scope": "device", **cam_labels("cam-1")}
    assert ancestor_keys(labels) == ["switch:sw-acc-1", "fiber_link:fl-1", "switch:sw-agg-1",
                                     "village:v-xiaozhuang", "township:t-fengquan"]


def test_access_switch_ancestors_exclude_itself() -> None:
    labels = {"scope": "switch", **switch_labels("sw-acc-1")}
    assert ancestor_keys(labels) == ["fiber_link:fl-1", "switch:sw-agg-1", "village:v-xiaozhuang",
                                     "township:t-fengquan"]


def test_empty_labels_are_skipped() -> None:
    labels = {"scope": "device", "device": "cam-1", "township": "t", "village": ""}
    assert ancestor_keys(labels) == ["township:t"]
    assert ancestor_keys({"scope": "township", "township": "t"}) == []


VALID_MIN = Path(__file__).resolve().parents[1] / "inventory" / "valid_min"


def test_inventory_assigner_is_authoritative_for_known_devices() -> None:
    assign = load_assigner(str(VALID_MIN))
    cam = assign({"device": "cam-east-v1-001", "contractor": "ct-label", "area": "urban"})
    assert (cam.contractor, cam.area, cam.township, cam.village) == ("acme", "rural", "east", "east-v1")
    assert assign({"device": "cam-unknown", "contractor": "ct-label", "area": "urban"}) == \
        Assignment("ct-label", "urban", "", "")
    link = assign({"scope": "fiber_link", "fiber_link": "fl-east-0002", "area": "rural"})
    assert link.contractor == "acme"
    assert set(link.affected) == {"sw-east-v1-p01", "cam-east-v1-001", "cam-east-v1-002"}


def test_load_assigner_defaults_to_labels_and_reports_bad_inventory(tmp_path: Path) -> None:
    assert load_assigner("")({"contractor": "ct-a"}).contractor == "ct-a"
    with pytest.raises(InventoryUnavailable, match=r"inventory .*nope"):
        load_assigner(str(tmp_path / "nope"))


def test_sample_inventory_assignment() -> None:
    """Against the real inventory package and sample district, when they load."""
    sample = SAMPLE_DISTRICT
    assign = load_assigner(str(sample))  # the inventory package is part of this distribution: no skip
    inv = assign.inv  # type: ignore[attr-defined]
    cam = next(d for d in inv.active_devices() if d.kind == "camera")
    got = assign({"device": cam.id, "scope": "device", "contractor": ""})
    want = inv.target_labels(cam.id)
    assert got == Assignment(want["contractor"], want["area"], want["township"], want["village"])
    assert got.contractor and got.area in ("urban", "rural")
    # and the alert labels SD would give that camera place it under its own access switch
    labels = {"scope": "device", **want}
    assert ancestor_keys(labels)[0] == f"switch:{want['uplink_switch']}"


def test_root_cause_lists_the_devices_behind_it_from_the_inventory() -> None:
    """Alertmanager inhibits the cameras behind a cut fiber: the ticket learns them from the topology."""
    sample = SAMPLE_DISTRICT
    assign = load_assigner(str(sample))
    inv = assign.inv  # type: ignore[attr-defined]
    link = next(lk for lk in inv.links.values() if lk.build == "district")
    behind = {d for d in inv.topology.downstream(link.id) if inv.devices[d].active}
    got = assign({"scope": "fiber_link", "fiber_link": link.id, "alertname": "FiberLinkDown"})
    assert set(got.affected) == behind and len(behind) > 10
    assert got.contractor == inv.devices[next(iter(behind))].contractor
    switch = inv.topology.link_child[link.id]
    assert set(assign({"scope": "switch", "device": switch}).affected) == behind
    cam = next(d for d in behind if inv.devices[d].kind == "camera")
    assert assign({"scope": "device", "device": cam}).affected == ()
