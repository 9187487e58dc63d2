"""Every dashboard builds in both languages; committed JSON equals the build; uids, links, titles."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules.recording import recording_names
from sharpeyes.dashboards import build
from sharpeyes.dashboards.common import AUDIENCE, FOLDERS, LANGS, UIDS, Lang, has_cjk
from tests.dashboards.dashboards_testlib import all_dashboards, dashboards, links, panels, queries, variable_queries

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(build.BUILDERS))
def test_every_dashboard_builds(name: str, lang: str) -> None:
    data = build.render(name, lang)
    assert data["uid"] == UIDS[name]
    assert data["panels"], name
    assert data["schemaVersion"] >= 39
    ids = [p["id"] for p in panels(data)]
    assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
    for p in panels(data):
        for t in p.get("targets", []):
            assert t["refId"] and t["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p[
                "title"
            ]


def test_committed_json_equals_build() -> None:
    """The CI diff: regenerate in memory and compare with dashboards/generated/."""
    assert build.diff() == [], "dashboards/generated is stale: run `sharpeyes-dashboards build`"


def test_check_command_names_differing_files(tmp_path: Path) -> None:
    build.write(tmp_path)
    (tmp_path / "zh/district/overview.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "en/stray.json").write_text("{}\n", encoding="utf-8")
    assert build.diff(tmp_path) == ["en/stray.json", "zh/district/overview.json"]
    proc = subprocess.run(
        [sys.executable, "-m", "sharpeyes.dashboards.cli", "check", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1
    assert "zh/district/overview.json" in proc.stderr and "en/stray.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_uids_stable_and_unique() -> None:
    assert {name: f"sharpeyes-{name}" for name in build.BUILDERS} == UIDS
    for lang in LANGS:
        uids = [d["uid"] for d in dashboards(lang).values()]
        assert len(uids) == len(set(uids))
    assert set(AUDIENCE.values()) == set(FOLDERS)


def test_links_point_to_existing_uids() -> None:
    known = set(UIDS.values())
    seen = 0
    for lang, name, data in all_dashboards():
        for url in links(data):
            for uid in re.findall(r"/d/([^/?&\"]+)", url):
                seen += 1
                assert uid in known, f"{lang}/{name}: link to unknown dashboard {uid!r} ({url})"
    assert seen >= 20  # the drill-down paths exist


def test_drill_down_paths() -> None:
    """overview -> township -> camera, camera -> switch/fiber, switch port -> camera."""
    data = dashboards("en")
    targets = {
        name: {u for url in links(d) for u in re.findall(r"/d/([^/?&]+)", url)} for name, d in data.items()
    }
    assert {"sharpeyes-township", "sharpeyes-camera", "sharpeyes-tickets"} <= targets["overview"]
    assert {"sharpeyes-camera", "sharpeyes-switches"} <= targets["township"]
    assert {"sharpeyes-switches", "sharpeyes-fiber", "sharpeyes-township"} <= targets["camera"]
    assert {"sharpeyes-camera", "sharpeyes-fiber"} <= targets["switches"]


@pytest.mark.parametrize("lang", LANGS)
def test_titles_in_the_build_language(lang: str) -> None:
    for name, data in dashboards(lang).items():
        texts = [data["title"], *(p["title"] for p in panels(data))]
        texts += [v["label"] for v in data["templating"]["list"] if v.get("label")]
        for text in texts:
            assert text, f"{name}: empty title"
            if lang == "zh":
                assert has_cjk(text), f"{name}: {text!r} is not Chinese"
            else:
                assert not has_cjk(text), f"{name}: {text!r} is not English"
        overrides = [
            prop["value"]
            for p in panels(data)
            for o in p.get("fieldConfig", {}).get("overrides", [])
            for prop in o["properties"]
            if prop["id"] == "displayName"
        ]
        for text in overrides:
            assert has_cjk(text) == (lang == "zh"), f"{name}: column {text!r}"


def test_lang_rejects_swapped_pairs() -> None:
    with pytest.raises(ValueError):
        Lang("zh")(("Online", "在线"))
    with pytest.raises(ValueError):
        Lang("fr")


def test_recording_rules_used_exist() -> None:
    """Every ``sharpeyes:`` name in a query is a record of alerts/rules/recording.py."""
    known = set(recording_names(Config()))
    used = set()
    for _, _, data in all_dashboards():
        for q in queries(data):
            used |= set(re.findall(r"sharpeyes:[a-z0-9_:]+", q.expr))
    assert used, "no recording rule used"
    assert used <= known, f"unknown recording rules: {sorted(used - known)}"


def test_variables_use_label_values_of_inventory() -> None:
    for _, name, data in all_dashboards():
        for var, query in variable_queries(data):
            assert query.startswith("label_values("), f"{name}.{var}"


def test_geomap_reads_lat_lon_in_coords_mode() -> None:
    data = dashboards("zh")["overview"]
    (geo,) = [p for p in panels(data) if p["type"] == "geomap"]
    layer = geo["options"]["layers"][0]
    assert layer["location"] == {"mode": "coords", "latitude": "lat", "longitude": "lon"}
    assert layer["config"]["style"]["color"]["field"] == "Value"
    conversions = geo["transformations"][0]["options"]["conversions"]
    assert {c["targetField"] for c in conversions} == {"lat", "lon"}
    (target,) = geo["targets"]
    assert target["format"] == "table" and target["instant"] is True
    assert 'sharpeyes_device_info{job="sharpeyes_inventory", kind="camera"}' in target["expr"]


@pytest.mark.parametrize("lang", LANGS)
def test_provisioning_matches_build_layout(lang: str) -> None:
    import yaml

    prov = ROOT / "sharpeyes" / "dashboards" / "provisioning"
    ds = yaml.safe_load((prov / "datasources" / "sharpeyes.yaml").read_text(encoding="utf-8"))
    (source,) = ds["datasources"]
    assert source["uid"] == "sharpeyes-prometheus" and source["type"] == "prometheus"
    providers = yaml.safe_load((prov / "dashboards" / f"sharpeyes-{lang}.yaml").read_text(encoding="utf-8"))
    by_uid = {p["folderUid"]: p for p in providers["providers"]}
    for key, (uid, title) in FOLDERS.items():
        p = by_uid[uid]
        assert p["folder"] == Lang(lang)(title)
        assert p["options"]["path"].endswith(f"/{key}")
        assert (build.GENERATED / lang / key).is_dir()
