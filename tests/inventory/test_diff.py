"""`diff OLD NEW`: added / removed / changed devices, links and sites with the changed fields."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.cli import main
from sharpeyes.inventory.diff import diff_inventories, format_diff

VALID = Path(__file__).parent / "valid_min"


@pytest.fixture()
def new_dir(tmp_path: Path) -> Path:
    d = tmp_path / "new"
    shutil.copytree(VALID, d)
    t = d / "townships" / "east.yaml"
    text = t.read_text(encoding="utf-8")
    text = text.replace(
        "            ip: 127.20.0.2\n", "            ip: 127.20.0.9\n            status: offline\n"
    )
    text = text.replace("    length_m: 900\n", "    length_m: 950\n")
    text = text.replace("        lat: 35.31\n", "        lat: 35.32\n")
    # remove camera 1, add camera 3 on the freed port
    start = text.index("          - id: cam-east-v1-001\n")
    end = text.index("          - id: cam-east-v1-002\n")
    cam3 = (
        "          - id: cam-east-v1-003\n            kind: camera\n            role: bullet\n"
        "            name: 新枪机\n            ip: 127.20.0.3\n            funding: city_phase3\n"
        "            uplink: {switch: sw-east-v1-p01, port: GigabitEthernet0/0/1}\n"
    )
    t.write_text(text[:start] + cam3 + text[end:], encoding="utf-8")
    return d


def test_diff_lists_added_removed_changed(new_dir: Path) -> None:
    d = diff_inventories(load_inventory(VALID), load_inventory(new_dir))
    assert format_diff(d).splitlines() == [
        "+ device cam-east-v1-003",
        "- device cam-east-v1-001",
        "~ site east-v1-s001: lat: 35.31 → 35.32",
        "~ device cam-east-v1-002: ip: 127.20.0.2 → 127.20.0.9; status: active → offline",
        "~ fiber link fl-east-0002: length_m: 900 → 950",
        "added: 1 device",
        "removed: 1 device",
        "changed: 1 site, 1 device, 1 fiber link",
        "unchanged: 1 contractor, 1 township, 1 village, 2 sites, 4 devices, 1 fiber link",
    ]


def test_identical_inventories(sample_inventory) -> None:  # type: ignore[no-untyped-def]
    d = diff_inventories(sample_inventory, sample_inventory)
    assert not d and d.unchanged["device"] == len(sample_inventory.devices)


def test_cli_json_and_exit_code(new_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(VALID), str(new_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["added"] == [{"kind": "device", "id": "cam-east-v1-003"}]
    assert out["removed"] == [{"kind": "device", "id": "cam-east-v1-001"}]
    assert {
        "kind": "fiber link",
        "id": "fl-east-0002",
        "fields": {"length_m": {"old": "900", "new": "950"}},
    } in out["changed"]
    assert main(["diff", str(VALID), str(new_dir), "--exit-code"]) == 1
    assert main(["diff", str(VALID), str(VALID), "--exit-code"]) == 0


def test_cli_invalid_side_is_one_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(VALID), str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"sharpeyes-inventory: error: {tmp_path / 'missing'}: 1 inventory error",
        f"  {tmp_path / 'missing'}: inventory directory does not exist",
    ]
