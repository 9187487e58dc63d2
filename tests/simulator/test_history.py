"""sharpeyes-sim history: scenario strictness, ground-truth arithmetic, the OpenMetrics file shape,
determinism, and that promtool accepts what we write."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sharpeyes.cli import UserError
from sharpeyes.inventory import Inventory
from sharpeyes.simulator import history
from sharpeyes.simulator.history import build_month, load_scenario, select_devices, truth_rows

MONTH = "2026-10"
T0 = 1790784000  # 2026-10-01 00:00 +08:00


@pytest.fixture
def scenario(tmp_path: Path) -> Callable[[str], Path]:
    def write(body: str) -> Path:
        p = tmp_path / "scenario.yaml"
        p.write_text(body, encoding="utf-8")
        return p

    return write


QUIET = "seed: 1\nbackground: {camera_fraction: 0}\n"


def truths(inv: Inventory, path: Path, devices: list[str]) -> dict[str, dict[str, Any]]:
    sc = load_scenario(path, inv)
    devs = [inv.devices[d] for d in devices]
    return {r["device"]: r for r in truth_rows(build_month(inv, sc, MONTH, devs))}


def test_month_starts_at_local_midnight() -> None:
    import zoneinfo

    start, end = history.month_bounds(MONTH, zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert start == T0 and end - start == 31 * 86400


def test_embedded_scenario_loads(sample_inventory: Inventory) -> None:
    sc = load_scenario(history.DEFAULT_SCENARIO, sample_inventory)
    assert {e.type for e in sc.events} == set(history.EVENT_TYPES)
    assert sc.gaps and sc.maintenance and sc.installs and sc.decommissions


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        ("colour: red\n", ":1:", "field 'colour': unknown key"),
        (
            "events:\n  - type: camera_power_loss\n    device: cam-nope\n    start: 2026-10-03 02:00\n",
            ":3:",
            "unknown device 'cam-nope'",
        ),
        (
            "events:\n  - type: camera_power_loss\n"
            "    device: sw-baodong-beizhan-p01\n    start: 2026-10-03\n",
            ":3:",
            "is a switch, camera_power_loss needs a camera",
        ),
        (
            "events:\n  - type: fiber_cut\n    link: fl-baodong-0008\n"
            "    start: 2026-10-03 02:00\n    duration: 5x\n",
            ":5:",
            "is not a duration",
        ),
        (
            "events:\n  - type: meteor\n    device: x\n    start: 2026-10-03\n",
            ":2:",
            "'meteor' is not one of",
        ),
        ("monitoring_gaps:\n  - start: 2026-10-03 02:00\n", ":2:", "field 'end': required field is missing"),
        (
            "maintenance:\n  - id: m\n    start: 2026-10-03 02:00\n"
            "    end: 2026-10-03 01:00\n    devices: [core-1]\n"
            "    reason: r\n    approver: a\n",
            ":4:",
            "must be after start",
        ),
        (
            "maintenance:\n  - id: m\n    start: 2026-10-03 02:00\n"
            "    end: 2026-10-03 03:00\n    devices: [core-1]\n"
            "    reason: r\n",
            ":2:",
            "field 'approver': required field is missing",
        ),
        ("background:\n  outages: [3, 1]\n", ":2:", "expected [min, max]"),
        ("events: [\n", ":", "YAML syntax error"),
    ],
)
def test_invalid_scenarios_name_file_and_line(
    sample_inventory: Inventory, scenario: Callable[[str], Path], body: str, where: str, message: str
) -> None:
    path = scenario(body)
    with pytest.raises(UserError) as exc:
        load_scenario(path, sample_inventory)
    text = str(exc.value)
    assert f"scenario.yaml{where}" in text and message in text


def test_fiber_cut_downs_the_subtree(sample_inventory: Inventory, scenario: Callable[[str], Path]) -> None:
    path = scenario(
        QUIET + "events:\n  - type: fiber_cut\n    link: fl-baodong-0008\n"
        "    start: 2026-10-08 09:30\n    end: 2026-10-08 17:45\n"
    )
    devs = ["sw-baodong-beizhan-a1", "cam-baodong-beizhan-008", "cam-baodong-beizhan-001", "agg-baodong-1"]
    t = truths(sample_inventory, path, devs)
    cut = 8 * 3600 + 15 * 60
    assert t["sw-baodong-beizhan-a1"]["offline_s"] == cut and t["cam-baodong-beizhan-008"]["outages"] == 1
    assert t["cam-baodong-beizhan-001"]["offline_s"] == 0 and t["agg-baodong-1"]["offline_s"] == 0


def test_gap_exclusion_install_arithmetic(
    sample_inventory: Inventory, scenario: Callable[[str], Path]
) -> None:
    body = QUIET + (
        "events:\n  - type: camera_power_loss\n    device: cam-baodong-beizhan-001\n"
        "    start: 2026-10-14 00:00\n    end: 2026-10-14 06:00\n"  # 2 h of it under maintenance
        "maintenance:\n  - id: m1\n    start: 2026-10-14 01:00\n    end: 2026-10-14 03:00\n"
        "    devices: [cam-baodong-beizhan-001]\n    reason: 检修\n    approver: 李明\n    down: false\n"
        "monitoring_gaps:\n  - start: 2026-10-14 05:00\n"
        "    end: 2026-10-14 08:00\n"  # 1 h overlaps the outage
        "installs:\n  - device: cam-baodong-beizhan-002\n    at: 2026-10-16 10:00\n"
    )
    t = truths(sample_inventory, scenario(body), ["cam-baodong-beizhan-001", "cam-baodong-beizhan-002"])
    a = t["cam-baodong-beizhan-001"]
    assert a["excluded_s"] == 2 * 3600 and a["unknown_s"] == 3 * 3600
    assert a["offline_s"] == 3 * 3600  # 00-01 and 03-05: two outages split by the exclusion
    assert a["outages"] == 2 and a["longest_outage_s"] == 2 * 3600
    assert a["monitored_s"] == 31 * 86400 - 5 * 3600
    b = t["cam-baodong-beizhan-002"]
    assert b["active_from"] == "2026-10-16T10:00:00+08:00" and b["active_to"] == "2026-11-01T00:00:00+08:00"
    assert b["monitored_s"] == (16 * 86400 - 10 * 3600) and b["unknown_s"] == 0


def test_fiber_degrading_cuts_when_light_is_gone(
    sample_inventory: Inventory, scenario: Callable[[str], Path]
) -> None:
    body = QUIET + (
        "events:\n  - type: fiber_degrading\n    link: fl-baodong-0003\n    start: 2026-10-01 00:00\n"
        "    rate_db_per_day: 2\n    los_dbm: -26\n"
    )
    t = truths(sample_inventory, scenario(body), ["sw-baodong-beizhan-p02"])["sw-baodong-beizhan-p02"]
    # base ≈ -6 dBm: ~10 days to lose 20 dB, then down to the end of the month
    assert 19 * 86400 < t["offline_s"] < 23 * 86400 and t["outages"] == 1


def test_background_is_per_device_not_per_slice(sample_inventory: Inventory) -> None:
    sc = load_scenario(history.DEFAULT_SCENARIO, sample_inventory)
    cams = [d for d in sample_inventory.active_devices() if d.kind == "camera"]
    hit = [d for d in cams if history.background_outages(sc, d, T0, T0 + 31 * 86400)]
    assert 0.015 < len(hit) / len(cams) < 0.05
    d = hit[0]
    assert history.background_outages(sc, d, T0, T0 + 31 * 86400) == history.background_outages(
        sc, d, T0, T0 + 31 * 86400
    )
    for s, e in history.background_outages(sc, d, T0, T0 + 31 * 86400):
        assert 300 <= e - s <= 30 * 3600 and s % 60 == 0


# the first active devices of baodong: its aggregation switches, platform and three recorders, then the
# first access switch and camera (whose month carries the declared exclusions these tests read)
SMALL_LIMIT = "8"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hist")
    assert (
        history.main(
            [
                "--month",
                MONTH,
                "--out",
                str(out),
                "--township",
                "baodong",
                "--limit",
                SMALL_LIMIT,
                "--step",
                "5m",
                "--split-days",
                "16",
            ]
        )
        == 0
    )
    return out


SAMPLE = re.compile(r"^([a-z_]+)\{([^}]*)\} (\S+) (\d+)$")


def test_openmetrics_shape(small: Path) -> None:
    files = sorted(small.glob("history-*.om"))
    assert [f.name for f in files] == ["history-01.om", "history-02.om"]
    for f in files:
        lines = f.read_text().splitlines()
        assert lines[-1] == "# EOF"
        families: list[str] = []
        last: dict[str, int] = {}
        done: set[str] = set()
        current = ""
        for line in lines[:-1]:
            if line.startswith("# TYPE"):
                families.append(line.split()[2])
                continue
            if line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            assert m, line
            name, labels, _, ts = m.groups()
            assert name == families[-1]  # families are not interleaved
            series = name + labels
            if series != current:
                assert series not in done, f"series split: {series}"
                if current:
                    done.add(current)
                current = series
            assert int(ts) > last.get(series, 0)
            last[series] = int(ts)
        assert families == ["probe_success", "sharpeyes_vqd_image_intact", "sharpeyes_vqd_check_fault",
                            "sharpeyes_optical_rx_power_dbm", "sharpeyes_device_info"]
    first = files[0].read_text().splitlines()[2]
    assert first.startswith(
        'probe_success{job="sharpeyes_icmp",instance="agg-baodong-1",module="icmp",device="agg-baodong-1"} 1 '
    )


def test_outputs_are_deterministic(small: Path, tmp_path: Path) -> None:
    assert (
        history.main(
            [
                "--month",
                MONTH,
                "--out",
                str(tmp_path),
                "--township",
                "baodong",
                "--limit",
                SMALL_LIMIT,
                "--step",
                "5m",
                "--split-days",
                "16",
            ]
        )
        == 0
    )
    for name in ("history-01.om", "history-02.om", "ground-truth.csv", "exclusions.yaml"):
        assert (tmp_path / name).read_bytes() == (small / name).read_bytes(), name


def test_ground_truth_columns_and_exclusions(small: Path) -> None:
    gt = pd.read_csv(small / "ground-truth.csv")
    assert list(gt.columns) == list(history.GROUND_TRUTH_COLUMNS)
    assert (gt["monitored_s"] == gt["online_s"] + gt["offline_s"]).all()
    import yaml

    doc = yaml.safe_load((small / "exclusions.yaml").read_text(encoding="utf-8"))
    assert doc["exclusions"][0]["approver"] == "李明"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_file(small: Path, tmp_path: Path) -> None:
    for f in sorted(small.glob("history-*.om")):
        r = subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "--max-block-duration=1458h",
                str(f),
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
    assert any(tmp_path.iterdir())


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            "python",
            "-m",
            "sharpeyes.simulator.history",
            "--month",
            "2026-10",
            "--out",
            str(tmp_path),
            "--township",
            "atlantis",
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "atlantis" in r.stderr


def test_select_devices_limit(sample_inventory: Inventory) -> None:
    devs = select_devices(sample_inventory, "baodong", 5)
    assert [d.id for d in devs][:2] == ["agg-baodong-1", "platform-baodong"] and len(devs) == 5


def test_register_wires_into_a_parent_cli(tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="sharpeyes-sim")
    history.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        ["history", "--month", MONTH, "--out", str(tmp_path), "--limit", "2", "--step", "1h"]
    )
    assert args.func is history.run_history and args.func(args) == 0
    assert (tmp_path / "history.om").read_text().endswith("# EOF\n")
