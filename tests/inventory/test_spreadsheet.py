
"""Spreadsheet export/import: the whole sample district round-trips; bad rows are reported by row number."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest

from sharpeyes.cli import UserError
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.cli import main
from sharpeyes.inventory.model import Inventory
from sharpeyes.inventory.spreadsheet import DEFAULT_MAPPING, export_inventory, import_spreadsheet, load_mapping
from sharpeyes.inventory.writer import render_files, write_inventory

HERE = Path(__file__).parent
VALID = HERE / "valid_min"
HEADERS = [
    "设备编号",
    "设备名称",
    "设备类型",
    "设备用途",
    "IP地址",
    "资金来源",
    "点位编号",
    "点位名称",
    "经度",
    "纬度",
    "所属乡镇",
    "所属村",
    "上联交换机",
    "上联端口",
    "状态",
]


def _new_cam(n: int, **over: str) -> dict[str, str]:
    row = {
        "设备编号": f"cam-east-v1-{n:03d}",
        "设备名称": f"新装枪机{n}",
        "设备类型": "摄像机",
        "设备用途": "枪机",
        "IP地址": f"127.20.0.{n}",
        "资金来源": "市三期",
        "点位编号": "east-v1-s001",
        "点位名称": "东一村村委会门口",
        "经度": "113.81",
        "纬度": "35.31",
        "所属乡镇": "东镇",
        "所属村": "东一村",
        "上联交换机": "sw-east-v1-p01",
        "上联端口": f"GigabitEthernet0/0/{n}",
        "状态": "在用",
    }
    row.update(over)
    return row


def _write_csv(path: Path, rows: list[dict[str, str]], headers: list[str] = HEADERS) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerows([[r.get(h, "") for h in headers] for r in rows])
    return path


@pytest.fixture()
def inv_dir(tmp_path: Path) -> Path:
    d = tmp_path / "inv"
    shutil.copytree(VALID, d)
    return d


@pytest.fixture(scope="module")
def mapping():  # type: ignore[no-untyped-def]
    return load_mapping(DEFAULT_MAPPING)


def _seed_district_only(sample: Inventory, directory: Path) -> None:
    """district.yaml with the district and its contractors, nothing else."""
    bare = Inventory(sample.district, contractors=dict(sample.contractors))
    write_inventory(bare, directory)


@pytest.mark.slow  # the whole sample district through a spreadsheet and back: 2-8 s each
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("seed", ["empty", "district_yaml"])
def test_sample_district_round_trips(fmt, seed, sample_inventory, tmp_path, mapping):  # type: ignore[no-untyped-def]
    book = export_inventory(sample_inventory, tmp_path / f"fengquan.{fmt}", fmt, mapping)[0]
    into = tmp_path / "imported"
    if seed == "district_yaml":
        _seed_district_only(sample_inventory, into)
        assert load_inventory(into).devices == {}
    _, _, result, _, problems = import_spreadsheet(book, into, mapping)
    assert result.failed == [] and problems == [] and result.notes == []
    assert main(["import", str(book), "--into", str(into)]) == 0
    assert render_files(load_inventory(into)) == render_files(sample_inventory)


def test_export_has_every_sheet_with_chinese_headers(sample_inventory, tmp_path, mapping):  # type: ignore[no-untyped-def]
    path = export_inventory(sample_inventory, tmp_path / "f.xlsx", "xlsx", mapping)[0]
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["区县", "运维单位", "乡镇", "行政村", "点位", "设备", "光纤链路"]
    devices = list(book["设备"].iter_rows(values_only=True))
    assert len(devices) == 1 + len(sample_inventory.devices)
    header = devices[0]
    for h in ("点位名称", "IP地址", "经度", "纬度", "所属乡镇", "所属村", "设备型号", "序列号"):
        assert h in header
    cam = dict(
        zip(header, next(r for r in devices[1:] if r[header.index("设备用途")] == "球机"), strict=True)
    )
    assert cam["设备类型"] == "摄像机" and cam["状态"] in ("在用", "故障", "离线", "拆除中")
    links = list(book["光纤链路"].iter_rows(values_only=True))
    assert len(links) == 1 + len(sample_inventory.links)


def test_import_adds_and_updates_by_id(inv_dir, tmp_path, capsys):  # type: ignore[no-untyped-def]
    rows = [_new_cam(3), {"设备编号": "cam-east-v1-001", "序列号": "SN-NEW-1", "安装日期": "2019-07-01"}]
    path = _write_csv(tmp_path / "台账.csv", rows, [*HEADERS, "序列号", "安装日期"])
    assert main(["import", str(path), "--into", str(inv_dir)]) == 0
    inv = load_inventory(inv_dir)
    assert inv.devices["cam-east-v1-003"].funding == "city_phase3"
    assert inv.devices["cam-east-v1-003"].uplink.port == "GigabitEthernet0/0/3"  # type: ignore[union-attr]
    old = inv.devices["cam-east-v1-001"]
    assert (old.serial, str(old.installed), old.role, old.ip) == (
        "SN-NEW-1",
        "2019-07-01",
        "bullet",
        "127.20.0.1",
    )
    out = capsys.readouterr().out.splitlines()
    assert "+ device cam-east-v1-003" in out
    assert "~ device cam-east-v1-001: serial: ∅ → SN-NEW-1; installed: 2019-06-12 → 2019-07-01" in out
    assert out[-1] == "imported 2 rows into " + str(inv_dir)


def test_dry_run_writes_nothing(inv_dir, tmp_path, capsys):  # type: ignore[no-untyped-def]
    before = {p: p.read_bytes() for p in inv_dir.rglob("*") if p.is_file()}
    path = _write_csv(
        tmp_path / "a.csv", [_new_cam(3), _new_cam(4, 点位编号="east-v1-s002", 点位名称="东一村桥头")]
    )
    assert main(["import", str(path), "--into", str(inv_dir), "--dry-run"]) == 0
    assert {p: p.read_bytes() for p in inv_dir.rglob("*") if p.is_file()} == before
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "+ site east-v1-s002",
        "+ device cam-east-v1-003",
        "+ device cam-east-v1-004",
        "added: 1 site, 2 devices",
        "removed: nothing",
        "changed: nothing",
        "unchanged: 1 contractor, 1 township, 1 village, 3 sites, 6 devices, 2 fiber links",
        "dry run: 2 rows would be imported; nothing written",
    ]


BAD_ROWS = [
    (
        _new_cam(3, IP地址="127.20.0.300"),
        "a.csv row 2: device cam-east-v1-003: IP地址: '127.20.0.300' is not a valid IPv4 address",
    ),
    (
        _new_cam(4, 所属乡镇="西镇", 点位编号="west-s1"),
        "a.csv row 3: device cam-east-v1-004: 所属乡镇: unknown township '西镇'",
    ),
    (
        _new_cam(5, 设备编号="cam-east-v1-003"),
        "a.csv row 4: device cam-east-v1-003: device cam-east-v1-003 is already in a.csv row 2",
    ),
    (
        _new_cam(6, 设备用途="鱼眼", 状态="坏了"),
        "a.csv row 5: device cam-east-v1-006: 设备用途: '鱼眼' is not one of bullet, ptz_dome, face_recognition, "
        "high_altitude_lookout; 状态: '坏了' is not one of active, planned, staged, offline, failed, decommissioning",
    ),
    (
        _new_cam(7, 设备名称=""),
        "a.csv row 6: device cam-east-v1-007: 设备名称: required for a new device, but empty",
    ),
    (_new_cam(8, 上联端口=""), "a.csv row 7: device cam-east-v1-008: 上联交换机 and 上联端口 go together"),
    (
        _new_cam(9, 经度="113.9"),
        "a.csv row 8: device cam-east-v1-009: site east-v1-s001: name/coordinates differ from a.csv row 2",
    ),
]


def test_bad_rows_are_each_reported_with_row_number(inv_dir, tmp_path, mapping):  # type: ignore[no-untyped-def]
    # row 2 is good (the duplicate in row 4 refers to it) except for its IP: make a good first row instead
    rows = [r for r, _ in BAD_ROWS]
    rows[0] = _new_cam(3)
    expected = [m for _, m in BAD_ROWS[1:]]
    _, _, result, _, problems = import_spreadsheet(_write_csv(tmp_path / "a.csv", rows), inv_dir, mapping)
    assert result.failed == expected
    assert problems == [] and result.imported == 1


def test_bad_ip_row(inv_dir, tmp_path, mapping):  # type: ignore[no-untyped-def]
    _, _, result, _, _ = import_spreadsheet(
        _write_csv(tmp_path / "a.csv", [BAD_ROWS[0][0]]), inv_dir, mapping
    )
    assert result.failed == [BAD_ROWS[0][1]]


def test_missing_column(inv_dir, tmp_path, mapping):  # type: ignore[no-untyped-def]
    headers = [h for h in HEADERS if h != "IP地址"]
    rows = [_new_cam(3), {"设备编号": "cam-east-v1-001", "设备名称": "改名"}]
    _, _, result, _, _ = import_spreadsheet(_write_csv(tmp_path / "a.csv", rows, headers), inv_dir, mapping)
    # the new device needs an address; the existing one is updated without it
    assert result.failed == [
        "a.csv row 2: device cam-east-v1-003: IP地址: column missing (required for a new device)"
    ]
    assert result.imported == 1


def test_missing_id_column_is_one_error(inv_dir, tmp_path, mapping):  # type: ignore[no-untyped-def]
    path = _write_csv(tmp_path / "a.csv", [_new_cam(3), _new_cam(4)], [h for h in HEADERS if h != "设备编号"])
    with pytest.raises(
        UserError, match=r"^a.csv: no 设备编号 column \(id\): none of its 2 rows can be imported$"
    ):
        import_spreadsheet(path, inv_dir, mapping)


def test_cli_fails_on_bad_rows_unless_partial(inv_dir, tmp_path, capsys):  # type: ignore[no-untyped-def]
    path = _write_csv(tmp_path / "a.csv", [_new_cam(3), BAD_ROWS[1][0]])
    before = (inv_dir / "townships/east.yaml").read_text(encoding="utf-8")
    assert main(["import", str(path), "--into", str(inv_dir)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"sharpeyes-inventory: error: {path}: 1 row cannot be imported; nothing written "
        "(--allow-partial imports the others)",
        "  a.csv row 3: device cam-east-v1-004: 所属乡镇: unknown township '西镇'",
    ]
    assert (inv_dir / "townships/east.yaml").read_text(encoding="utf-8") == before
    assert main(["import", str(path), "--into", str(inv_dir), "--allow-partial"]) == 0
    assert (
        "skipped: a.csv row 3: device cam-east-v1-004: 所属乡镇: unknown township '西镇'"
        in capsys.readouterr().out
    )
    assert "cam-east-v1-003" in load_inventory(inv_dir).devices


def test_validation_problems_name_the_row(inv_dir, tmp_path, capsys):  # type: ignore[no-untyped-def]
    # each row is fine on its own; together with the inventory they break the validator's rules
    rows = [_new_cam(3, IP地址="127.20.0.1"), _new_cam(4, 上联端口="GigabitEthernet0/0/2")]
    path = _write_csv(tmp_path / "a.csv", rows)
    assert main(["import", str(path), "--into", str(inv_dir)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"sharpeyes-inventory: error: {path}: the merged inventory is invalid; nothing written"
    assert err[1:] == [
        "  a.csv row 2: device cam-east-v1-003: field 'ip': 127.20.0.1 is also used by device cam-east-v1-001 "
        "(townships/east.yaml:38)",
        "  a.csv row 3: device cam-east-v1-004: field 'uplink': port sw-east-v1-p01:GigabitEthernet0/0/2 is already "
        "used by device cam-east-v1-002 (townships/east.yaml:48)",
    ]


def test_xlsx_cells_typed_by_excel(inv_dir, tmp_path, mapping):  # type: ignore[no-untyped-def]
    """Numbers and dates typed into Excel come back as the text a person meant."""
    import datetime as dt

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "设备"
    ws.append(["设备编号", "安装日期", "主码流码率(kbps)", "序列号", "备注"])
    ws.append(["cam-east-v1-002", dt.datetime(2018, 5, 3), 2048.0, 12345678, "whatever"])
    ws.append([None, None, None, None, None])  # blank rows are not data
    book.save(tmp_path / "b.xlsx")
    _, new, result, _, problems = import_spreadsheet(tmp_path / "b.xlsx", inv_dir, mapping)
    assert result.failed == [] and problems == []
    assert result.notes == ["b.xlsx[设备]: column '备注' is not in the mapping; ignored"]
    dev = new.devices["cam-east-v1-002"]
    assert (str(dev.installed), dev.bitrate_kbps, dev.serial) == ("2018-05-03", 2048, "12345678")


def test_gbk_csv_from_chinese_excel(inv_dir, tmp_path, mapping):  # type: ignore[no-untyped-def]
    path = tmp_path / "gbk.csv"
    path.write_bytes("设备编号,固件版本\ncam-east-v1-002,V5.7.3 build 220112\n".encode("gb18030"))
    _, new, result, _, _ = import_spreadsheet(path, inv_dir, mapping)
    assert result.failed == [] and new.devices["cam-east-v1-002"].firmware == "V5.7.3 build 220112"


def test_mapping_is_strict(tmp_path):  # type: ignore[no-untyped-def]
    bad = tmp_path / "m.yaml"
    bad.write_text(
        "sheets:\n  devices:\n    sheet: 设备\n    colums: {}\nvalues:\n  status: {在用: running}\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError) as info:
        load_mapping(bad)
    assert info.value.detail == [
        f"{bad}:3: sheet devices: field 'columns': required section is missing",
        f"{bad}:4: sheet devices: field 'colums': unknown key",
        f"{bad}:6: values status: field '在用': 'running' is not one of active, planned, staged, offline, failed, "
        "decommissioning",
    ]


def test_import_into_empty_dir_needs_a_district(tmp_path, mapping):  # type: ignore[no-untyped-def]
    path = _write_csv(tmp_path / "a.csv", [_new_cam(3)])
    with pytest.raises(UserError, match=r"has no district\.yaml and a\.csv has no 区县 sheet"):
        import_spreadsheet(path, tmp_path / "new", mapping)
