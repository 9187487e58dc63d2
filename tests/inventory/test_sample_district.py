"""The committed sample district reproduces the news report's figures and is what the generator makes."""

from __future__ import annotations

from collections import Counter

from sharpeyes.inventory.generate import generate
from sharpeyes.inventory.stats import compute_stats
from sharpeyes.inventory.writer import render_files


def test_sample_has_the_seed_figures(sample_inventory):
    s = compute_stats(sample_inventory)
    assert s["district_funded_cameras"] == 1640
    assert s["by_funding"]["city_phase3"] == 600
    assert s["sharp_eyes_by_role"] == {"bullet": 291, "ptz_dome": 60, "face_recognition": 5,
                                       "high_altitude_lookout": 1}
    assert s["fiber_links_by_build"]["sharp_eyes"] == 291
    assert s["townships"] == 5 and s["township_platforms"] == 5
    assert s["villages"] == 46
    assert s["district_funded_per_village"] == 35.6
    assert s["sharp_eyes_per_village_min"] >= 6 and s["sharp_eyes_per_village_max"] == 9
    names = {t.name for t in sample_inventory.townships.values()}
    assert names == {"宝东街道", "宝西街道", "耿黄镇", "大块镇", "潞王坟乡"}


def test_committed_sample_is_the_generators_output(sample_dir):
    files = render_files(generate())
    for rel, text in files.items():
        assert (sample_dir / rel).read_text(encoding="utf-8") == text, f"{rel} differs: regenerate the sample"
    assert sorted(p.relative_to(sample_dir).as_posix() for p in sample_dir.rglob("*.yaml")) == sorted(files)


def test_every_address_is_loopback_and_unique(sample_inventory):
    ips = [d.ip for d in sample_inventory.devices.values()]
    assert all(ip.startswith("127.") for ip in ips)
    assert len(set(ips)) == len(ips)


def test_fiber_cut_takes_down_exactly_its_subtree(sample_inventory):
    topo = sample_inventory.topology
    link = next(lk for lk in sample_inventory.links.values() if lk.build == "sharp_eyes")
    pole = topo.link_child[link.id]
    down = topo.downstream(link.id)
    cams = {d.id for d in sample_inventory.devices.values() if d.uplink and d.uplink.switch == pole}
    assert down == {pole} | cams
    for cam in cams:
        path = topo.path_to_core(cam)
        assert path[:3] == [cam, pole, link.id] and path[-1] == "core-1"


def test_target_labels_name_the_path(sample_inventory):
    cam = next(d for d in sample_inventory.devices.values()
               if d.kind == "camera" and d.township == "genghuang")
    labels = sample_inventory.target_labels(cam.id)
    assert labels["access_switch"] == cam.uplink.switch == labels["uplink_switch"]
    assert labels["fiber_link"] == sample_inventory.topology.uplink_link[cam.uplink.switch]
    assert labels["agg_switch"].startswith("agg-genghuang-")
    assert labels["area"] == "rural" and labels["contractor"] == "tianwang"


def test_each_contractor_has_a_zone(sample_inventory):
    by_township = Counter((d.township, d.contractor) for d in sample_inventory.devices.values() if d.township)
    for (township, _), _n in by_township.items():
        owners = {c for (t, c) in by_township if t == township}
        assert len(owners) == 1, f"{township} has several contractors: {owners}"
