"""promtool check rules / test rules, amtool check-config and route tests on the committed output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from sharpeyes.alerts import build
from tests.alerts.alerts_testlib import GENERATED, require


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)


def test_promtool_check_rules() -> None:
    promtool = require("promtool")
    proc = run(
        promtool, "check", "rules", str(GENERATED / build.RULES_FILE), str(GENERATED / build.RECORDING_FILE)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


TEST_FILES = sorted(p.name for p in (GENERATED / build.TESTS_DIR).glob("*.test.yml"))


def test_every_alert_rule_group_has_its_test_file() -> None:
    groups = {g["name"].removeprefix("sharpeyes.") for g in yaml.safe_load(
        (GENERATED / build.RULES_FILE).read_text(encoding="utf-8"))["groups"]}
    assert set(TEST_FILES) == {f"alerts-{g}.test.yml" for g in groups} | {"recording.test.yml"}


@pytest.mark.slow  # promtool evaluates every alert scenario: ~25 s in all
@pytest.mark.parametrize("name", TEST_FILES)
def test_promtool_test_rules(name: str) -> None:
    promtool = require("promtool")
    proc = run(promtool, "test", "rules", str(GENERATED / build.TESTS_DIR / name))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_fails_on_a_broken_boundary(tmp_path: Path) -> None:
    """The boundary tests have teeth: shifting every for: by one 15 s evaluation makes promtool fail."""
    promtool = require("promtool")
    rules = (GENERATED / build.RULES_FILE).read_text(encoding="utf-8")
    (tmp_path / build.RULES_FILE).write_text(rules.replace("for: 30s", "for: 15s"), encoding="utf-8")
    (tmp_path / build.RECORDING_FILE).write_text(
        (GENERATED / build.RECORDING_FILE).read_text(encoding="utf-8")
    )
    (tmp_path / "tests").mkdir()
    test = GENERATED / build.TESTS_DIR / "alerts-cameras.test.yml"  # CameraOffline's group
    (tmp_path / "tests" / test.name).write_text(test.read_text(encoding="utf-8"), encoding="utf-8")
    proc = run(promtool, "test", "rules", str(tmp_path / "tests" / test.name))
    assert proc.returncode != 0
    assert "CameraOffline" in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", [build.ALERTMANAGER_FILE, build.EXAMPLE_CHANNELS_FILE])
def test_amtool_check_config(name: str) -> None:
    amtool = require("amtool")
    proc = run(amtool, "check-config", str(GENERATED / name))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (
            ["alertname=CameraOffline", "severity=critical", "scope=device", "device=cam-1"],
            "sharpeyes-tickets",
        ),
        (
            ["alertname=CameraClockDrift", "severity=warning", "scope=device", "device=cam-1"],
            "sharpeyes-tickets",
        ),
        (
            ["alertname=FiberLinkDown", "severity=critical", "scope=fiber_link", "fiber_link=fl-1"],
            "sharpeyes-tickets",
        ),
        (["alertname=CameraRebooted", "severity=info", "scope=device", "device=cam-1"], "null"),
    ],
)
def test_amtool_routes(labels: list[str], receivers: str) -> None:
    amtool = require("amtool")
    proc = run(
        amtool, "config", "routes", "test", f"--config.file={GENERATED / build.ALERTMANAGER_FILE}", *labels
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == receivers


def test_example_channels_copy_critical_to_email_and_robots() -> None:
    amtool = require("amtool")
    proc = run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={GENERATED / build.EXAMPLE_CHANNELS_FILE}",
        "alertname=VillageOffline",
        "severity=critical",
        "scope=village",
        "village=v1",
        "township=t1",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = set(proc.stdout.strip().split(","))
    assert got == {
        "example-email-video-centre",
        "example-dingtalk-robot-relay",
        "example-wecom-robot-relay",
        "sharpeyes-tickets",
    }


@pytest.mark.slow  # every promtool test again, through the command
def test_cli_check_passes() -> None:
    require("promtool")
    require("amtool")
    from sharpeyes.alerts.cli import main

    assert main(["check"]) == 0


def test_cli_check_fails_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require("promtool")
    from sharpeyes.alerts.cli import main

    assert main(["build", "--out", str(tmp_path)]) == 0
    rules = tmp_path / build.RULES_FILE
    rules.write_text(rules.read_text(encoding="utf-8").replace("probe_success", "probe_success{{", 1))
    capsys.readouterr()
    assert main(["check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sharpeyes-alerts: error: promtool check rules")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
