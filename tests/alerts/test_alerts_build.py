"""The generated files are committed: they must be what the code renders now; structure checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sharpeyes.alerts import build
from sharpeyes.alerts.config import SCOPES, SEVERITIES, Config, validate
from sharpeyes.alerts.rules import alert_groups, recording_groups
from tests.alerts.alerts_testlib import GENERATED

DOCS = Path(__file__).resolve().parents[2] / "docs"
ALERTS = [r for g in alert_groups(Config()) for r in g["rules"]]


def test_generated_files_are_up_to_date() -> None:
    for rel, content in build.render(Config()).items():
        path = GENERATED / rel
        assert path.is_file(), f"{path} missing: run sharpeyes-alerts build"
        assert path.read_text(encoding="utf-8") == content, f"{path} is stale: run sharpeyes-alerts build"
    on_disk = {str(p.relative_to(GENERATED)) for p in GENERATED.rglob("*") if p.is_file()}
    assert on_disk == set(build.render(Config())), "stray files in alerts/generated"


def test_config_is_valid() -> None:
    assert validate(Config()) == []
    assert set(Config().alerts) == {r["alert"] for r in ALERTS}


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: r["alert"])
def test_alert_contract(rule: dict) -> None:
    assert rule["for"], "every alert has a for:"
    assert rule["labels"]["severity"] in SEVERITIES
    assert rule["labels"]["scope"] in SCOPES
    stills = {"still_url", "reference_url"} if rule["alert"] in ("CameraVideoLoss", "CameraImageFault") else set()
    assert set(rule["annotations"]) == {
        "summary_zh",
        "summary",
        "description_zh",
        "description",
        "runbook_url",
        *stills,
    }
    assert rule["annotations"]["runbook_url"].endswith(f"/docs/runbooks/{rule['alert']}.md")
    runbook = DOCS / "runbooks" / f"{rule['alert']}.md"
    assert runbook.is_file(), f"runbook {runbook} missing"
    text = runbook.read_text(encoding="utf-8")
    assert text.index("## 含义") < text.index("## Meaning"), "runbooks are zh-CN first"


def test_alerts_and_records_documented() -> None:
    alerts_doc = (DOCS / "alerts.md").read_text(encoding="utf-8")
    for rule in ALERTS:
        assert f"`{rule['alert']}`" in alerts_doc
    records_doc = (DOCS / "recording-rules.md").read_text(encoding="utf-8")
    for group in recording_groups(Config()):
        for rule in group["rules"]:
            assert f"`{rule['record']}`" in records_doc


def test_build_options_reach_alertmanager_config(tmp_path: Path) -> None:
    from sharpeyes.alerts.cli import main

    assert (
        main(
            [
                "build",
                "--out",
                str(tmp_path),
                "--group-wait",
                "1s",
                "--group-interval",
                "2s",
                "--tickets-url",
                "http://127.0.0.1:1/hook",
            ]
        )
        == 0
    )
    am = yaml.safe_load((tmp_path / build.ALERTMANAGER_FILE).read_text(encoding="utf-8"))
    assert am["route"]["group_wait"] == "1s" and am["route"]["group_interval"] == "2s"
    assert am["receivers"][0]["webhook_configs"][0]["url"] == "http://127.0.0.1:1/hook"


def test_inhibition_sources_require_non_empty_equal_labels() -> None:
    from sharpeyes.alerts.alertmanager import inhibit_rules

    for rule in inhibit_rules():
        for label in rule.get("equal", []):
            assert f'{label}=~".+"' in rule["source_matchers"], rule
