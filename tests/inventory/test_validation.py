# ruff: noqa: E501  (the table of exact messages reads best one message per line)
"""Every validation rule has its own tiny broken inventory (invalid/<rule>/, a copy of valid_min/ with
one thing broken) and the exact message it must produce: file:line: object: field: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharpeyes.inventory.cli import main
from sharpeyes.inventory.loader import InventoryError, load_inventory

HERE = Path(__file__).parent
INVALID = HERE / "invalid"

EXPECTED: dict[str, list[str]] = {
    "recording_unknown_recorder": [
        "townships/east.yaml:48: device cam-east-v1-001: field 'recording.recorder': recorder 'nvr-east' does not exist"
    ],
    "recording_channel_twice": [
        "townships/east.yaml:62: device cam-east-v1-002: field 'recording.channel': nvr-east channel 7 is also assigned to device cam-east-v1-001 (townships/east.yaml:54)"
    ],
    "recording_bad_plan": [
        "townships/east.yaml:61: device cam-east-v1-002: field 'plan': window '19:00-07:00' is empty or ends after 24:00 (split a night window in two)"
    ],
    "bad_date": [
        "townships/east.yaml:45: device cam-east-v1-001: field 'installed': '2019-06-31' is not a date (YYYY-MM-DD)"
    ],
    "bad_kind": [
        "townships/east.yaml:49: device cam-east-v1-002: field 'kind': 'dome_camera' is not one of camera, switch, nvr, platform"
    ],
    "bad_role": [
        "townships/east.yaml:50: device cam-east-v1-002: field 'role': 'fisheye' is not one of bullet, ptz_dome, face_recognition, high_altitude_lookout"
    ],
    "bad_status": [
        "townships/east.yaml:54: device cam-east-v1-002: field 'status': 'broken' is not one of active, planned, staged, offline, failed, decommissioning"
    ],
    "duplicate_device_id": [
        "townships/east.yaml:48: device cam-east-v1-001: field 'id': duplicate device id (first defined at townships/east.yaml:38)"
    ],
    "duplicate_ip": [
        "townships/east.yaml:48: device cam-east-v1-002: field 'ip': 127.20.0.1 is also used by device cam-east-v1-001 (townships/east.yaml:38)"
    ],
    "duplicate_mac": [
        "townships/east.yaml:48: device cam-east-v1-002: field 'mac': 44:19:b6:00:00:01 is also used by device cam-east-v1-001 (townships/east.yaml:38)"
    ],
    "link_copper_port": [
        "townships/east.yaml:63: fiber link fl-east-0002: field 'a': port sw-east-v1-p01:GigabitEthernet0/0/8 is a copper port, not fiber"
    ],
    "link_port_missing": [
        "townships/east.yaml:63: fiber link fl-east-0002: field 'a': switch sw-east-v1-p01 has no port 'GigabitEthernet0/0/11'"
    ],
    "link_switch_missing": [
        "townships/east.yaml:63: fiber link fl-east-0002: field 'a': switch 'sw-east-v1-p09' does not exist"
    ],
    "malformed_ip": [
        "townships/east.yaml:52: device cam-east-v1-002: field 'ip': '127.20.0.256' is not a valid IPv4 address"
    ],
    "malformed_mac": [
        "townships/east.yaml:43: device cam-east-v1-001: field 'mac': '44:19:b6:00:00' is not a MAC address (aa:bb:cc:dd:ee:ff)"
    ],
    "missing_required": [
        "townships/east.yaml:48: device cam-east-v1-002: field 'ip': required field is missing"
    ],
    "outside_bbox": [
        "townships/east.yaml:26: site east-v1-s001: field 'lat/lon': (35.61, 113.81) is outside the district's bounding box (lat 35.0..35.5, lon 113.5..114.0)"
    ],
    "port_used_by_device_and_link": [
        "townships/east.yaml:63: fiber link fl-east-0002: field 'a': port sw-east-v1-p01:GigabitEthernet0/0/9 is already used by device cam-east-v1-002 (townships/east.yaml:48)"
    ],
    "port_used_twice": [
        "townships/east.yaml:48: device cam-east-v1-002: field 'uplink': port sw-east-v1-p01:GigabitEthernet0/0/1 is already used by device cam-east-v1-001 (townships/east.yaml:38)"
    ],
    "several_errors": [
        "townships/east.yaml:25: village east-v1: field 'secretary': unknown key",
        "townships/east.yaml:27: site east-v1-s001: field 'lat/lon': (35.61, 113.81) is outside the district's bounding box (lat 35.0..35.5, lon 113.5..114.0)",
        "townships/east.yaml:44: device cam-east-v1-001: field 'mac': '44:19:b6:00:00' is not a MAC address (aa:bb:cc:dd:ee:ff)",
        "townships/east.yaml:49: device cam-east-v1-002: field 'ip': 127.20.0.1 is also used by device cam-east-v1-001 (townships/east.yaml:39)",
        "townships/east.yaml:49: device cam-east-v1-002: field 'uplink': switch sw-east-v1-p01 has no port 'GigabitEthernet0/0/24'",
    ],
    "topology_cycle": [
        "townships/east.yaml:13: device agg-east-1: field 'uplink': topology cycle: agg-east-1 → sw-east-v1-p01 → agg-east-1"
    ],
    "unknown_contractor": [
        "townships/east.yaml:2: township east: field 'contractor': unknown contractor 'acne'"
    ],
    "unknown_key_device": ["townships/east.yaml:47: device cam-east-v1-001: field 'bitrate': unknown key"],
    "unknown_key_district": ["district.yaml:7: district: field 'mayor': unknown key"],
    "unknown_key_link": ["townships/east.yaml:69: fiber link fl-east-0002: field 'colour': unknown key"],
    "unknown_key_site": ["townships/east.yaml:29: site east-v1-s001: field 'height_m': unknown key"],
    "unknown_key_township": ["townships/east.yaml:6: township east: field 'population': unknown key"],
    "unknown_key_village": ["townships/east.yaml:25: village east-v1: field 'secretary': unknown key"],
    "unreachable": [
        "townships/east.yaml:38: device cam-east-v1-001: field 'uplink': not reachable from the core: its path ends at sw-east-v1-p01 (planned), which has no uplink"
    ],
    "uplink_missing_port": [
        "townships/east.yaml:48: device cam-east-v1-002: field 'uplink': switch sw-east-v1-p01 has no port 'GigabitEthernet0/0/24'"
    ],
    "uplink_missing_switch": [
        "townships/east.yaml:48: device cam-east-v1-002: field 'uplink': switch 'sw-east-v1-p02' does not exist"
    ],
    "uplink_not_a_switch": [
        "townships/east.yaml:48: device cam-east-v1-002: field 'uplink': 'cam-east-v1-001' is a camera, not a switch"
    ],
    "yaml_syntax": [
        "townships/east.yaml:20: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence started at line 19)"
    ],
}


def test_valid_min_loads() -> None:
    inv = load_inventory(HERE / "valid_min")
    assert sorted(inv.devices) == [
        "agg-east-1",
        "cam-east-v1-001",
        "cam-east-v1-002",
        "core-1",
        "platform-district",
        "sw-east-v1-p01",
    ]
    assert inv.devices["cam-east-v1-001"].contractor == "acme"  # inherited from the township


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in INVALID.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_rule(rule: str) -> None:
    with pytest.raises(InventoryError) as info:
        load_inventory(INVALID / rule)
    assert [str(p) for p in info.value.problems] == EXPECTED[rule]


def test_several_errors_are_reported_together_sorted_by_line() -> None:
    lines = [int(m.split(":")[1]) for m in EXPECTED["several_errors"]]
    assert len(lines) == 5 and lines == sorted(lines)


@pytest.mark.parametrize("rule", ["unknown_key_device", "several_errors", "yaml_syntax"])
def test_cli_reports_every_error_without_traceback(rule: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-i", str(INVALID / rule)]) == 1
    err = capsys.readouterr().err
    n = len(EXPECTED[rule])
    assert err.splitlines()[0] == (
        f"sharpeyes-inventory: error: {INVALID / rule}: {n} inventory error{'s' if n > 1 else ''}"
    )
    assert [line.strip() for line in err.splitlines()[1:]] == EXPECTED[rule]
    assert "Traceback" not in err


def test_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as info:
        load_inventory(tmp_path / "nowhere")
    assert [str(p) for p in info.value.problems] == [
        f"{tmp_path / 'nowhere'}: inventory directory does not exist"
    ]


def test_missing_district_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as info:
        load_inventory(tmp_path)
    assert [str(p) for p in info.value.problems] == [
        f"{tmp_path / 'district.yaml'}: district.yaml is missing"
    ]


def test_unknown_vendor_is_a_warning_with_its_place(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging
    import shutil

    root = tmp_path / "inv"
    shutil.copytree(HERE / "valid_min", root)
    east = root / "townships" / "east.yaml"
    text = east.read_text(encoding="utf-8")
    text = text.replace("            role: bullet\n", "            role: bullet\n            vendor: Acme Optics\n", 1)
    text = text.replace("            role: ptz_dome\n", "            role: ptz_dome\n            vendor: HP\n", 1)
    east.write_text(text, encoding="utf-8")
    caplog.set_level(logging.WARNING, "sharpeyes.inventory")
    inv = load_inventory(root)  # not an error
    assert inv.devices["cam-east-v1-002"].vendor == "HP"
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("townships/east.yaml:38: device cam-east-v1-001: unknown vendor 'Acme Optics' (1 device(s)); known: huawei, h3c, hpe,")
