"""The monthly report against a backfilled month in a real Prometheus, checked against the scenario's
ground truth (exact seconds per device, within one sample interval)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zoneinfo
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.inventory import load_inventory
from sharpeyes.reports.availability import Result, compute, month_period
from sharpeyes.reports.cli import main
from sharpeyes.reports.config import Config, load_exclusions
from sharpeyes.reports.prometheus import Prometheus
from tests.reports.report_testlib import MONTH, STEP, Backfilled, free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = SAMPLE_DISTRICT
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SHEETS = [
    "汇总",
    "乡镇",
    "村",
    "摄像机",
    "最差20",
    "承建单位",
    "资金来源",
    "网络与平台设备",
    "光纤链路",
    "故障明细",
    "剔除时段",
    "每日趋势",
]


@pytest.fixture(scope="module")
def result(backfilled: Backfilled) -> Result:
    inv = load_inventory(SAMPLE)
    excl = load_exclusions(backfilled.history / "exclusions.yaml", TZ)
    return compute(Prometheus(backfilled.url), Config(), month_period(MONTH, TZ), inv, excl)


@pytest.fixture(scope="module")
def report(backfilled: Backfilled, tickets_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    rc = main(
        [
            "monthly",
            "--month",
            MONTH,
            "--prometheus",
            backfilled.url,
            "--inventory",
            str(SAMPLE),
            "--exclusions",
            str(backfilled.history / "exclusions.yaml"),
            "--tickets-db",
            tickets_db,
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    return out


def sheet(path: Path, name: str) -> pd.DataFrame:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb[name].iter_rows(min_row=2, values_only=True))
    wb.close()
    return pd.DataFrame(rows[1:], columns=rows[0])


# --- figures against the ground truth -------------------------------------------------------------


@pytest.mark.parametrize("column", ["online_s", "offline_s", "unknown_s", "excluded_s", "monitored_s"])
def test_seconds_per_device_match_ground_truth(result: Result, backfilled: Backfilled, column: str) -> None:
    truth = backfilled.truth
    got = result.devices[column].reindex(truth.index)
    diff = (got - truth[column]).abs()
    assert got.notna().all(), f"devices missing from the report: {list(got[got.isna()].index)}"
    assert (diff <= STEP).all(), diff[diff > STEP].to_dict()


@pytest.mark.parametrize("column", ["image_fault_s", "intact_s", "image_judged_s"])
def test_intact_seconds_per_camera_match_ground_truth(result: Result, backfilled: Backfilled, column: str) -> None:
    """完好率: online and picture intact, from the stills, exactly as the scenario's seeded image faults."""
    cams = result.devices[result.devices["kind"] == "camera"].index
    truth = backfilled.truth.reindex(cams)
    got = result.devices.loc[cams, column]
    diff = (got - truth[column]).abs()
    assert (diff <= STEP).all(), diff[diff > STEP].to_dict()
    if column == "image_fault_s":
        assert (truth["image_fault_s"] > 0).sum() >= 1, "the slice should hold at least one image fault"
    rate = result.devices.loc[cams, "intact_rate"]
    assert ((rate <= result.devices.loc[cams, "rate"] + 1e-12) | rate.isna()).all()  # 完好 ⊆ 在线


def test_outage_counts_and_longest_match(result: Result, backfilled: Backfilled) -> None:
    truth = backfilled.truth
    got = result.devices.reindex(truth.index)
    assert (got["outages"] == truth["outages"]).all(), (got["outages"] - truth["outages"]).to_dict()
    assert ((got["longest_outage_s"] - truth["longest_outage_s"]).abs() <= STEP).all()
    assert truth["outages"].sum() >= 20  # the scenario really exercised outages


def test_every_device_in_the_slice_is_reported(result: Result, backfilled: Backfilled) -> None:
    assert set(result.devices.index) == set(backfilled.truth.index)
    assert len(result.devices) == 38


def test_fiber_cut_takes_its_subtree_down(result: Result) -> None:
    sub = [
        d
        for d in result.devices.index
        if d.startswith("cam-baodong-beizhan-0") and 8 <= int(d[-3:]) <= 22 and d != "cam-baodong-beizhan-015"
    ]
    out = result.outages[result.outages["device"].isin([*sub, "sw-baodong-beizhan-a1"])]
    cut = out[out["start"] == dt.datetime(2026, 10, 8, 9, 30)]
    assert set(cut["device"]) >= {"sw-baodong-beizhan-a1", "cam-baodong-beizhan-008"}
    assert (cut["end"] == dt.datetime(2026, 10, 8, 17, 45)).all()


def test_monitoring_gap_is_unknown_not_downtime(result: Result) -> None:
    gap = 2.5 * 3600
    full = result.devices[~result.devices["prorated"]]
    assert ((full["unknown_s"] - gap).abs() <= STEP).all()
    day = result.daily.xs(dt.date(2026, 10, 18), level="day")
    assert ((day["unknown_s"].reindex(full.index) - gap).abs() <= STEP).all()
    # nobody was charged downtime for the gap
    assert (day["offline_s"].reindex(full.index) < gap).all()


def test_maintenance_window_is_excluded(result: Result) -> None:
    beizhan = result.devices[result.devices["village"] == "baodong-beizhan"]
    active = beizhan[~beizhan["prorated"]]
    assert ((active["excluded_s"] - 4 * 3600).abs() <= STEP).all()
    others = result.devices[result.devices["village"] != "baodong-beizhan"]
    assert (others["excluded_s"] == 0).all()
    # devices went down during the window, and no outage overlaps it
    win = (dt.datetime(2026, 10, 14, 1), dt.datetime(2026, 10, 14, 5))
    o = result.outages
    assert not ((o["start"] < win[1]) & (o["end"] > win[0])).any()


def test_mid_month_install_and_decommission_are_prorated(result: Result, backfilled: Backfilled) -> None:
    new = result.devices.loc["cam-baodong-beizhan-024"]
    gone = result.devices.loc["cam-baodong-beizhan-023"]
    assert new["prorated"] and gone["prorated"]
    assert abs((new["active_from"] - dt.datetime(2026, 10, 16, 10)).total_seconds()) <= STEP
    assert new["active_to"] == dt.datetime(2026, 11, 1)
    assert abs((gone["active_to"] - dt.datetime(2026, 10, 25, 12)).total_seconds()) <= STEP
    assert gone["active_from"] == dt.datetime(2026, 10, 1)
    month = 31 * 86400
    assert abs(new["active_s"] - (month - (15 * 86400 + 10 * 3600))) <= STEP
    # prorated: the denominator is the active period, so a new camera can still reach 100 %
    truth = backfilled.truth.loc["cam-baodong-beizhan-024"]
    assert abs(new["monitored_s"] - truth["monitored_s"]) <= STEP


def test_rate_formula(result: Result) -> None:
    d = result.devices.dropna(subset=["rate"])
    expect = d["online_s"] / (d["active_s"] - d["excluded_s"] - d["unknown_s"])
    assert ((d["rate"] - expect).abs() < 1e-9).all()


def test_fiber_link_sheet_sees_the_cut(result: Result) -> None:
    links = result.links.set_index("fiber_link")
    assert links.loc["fl-baodong-0008", "status"] == "中断"
    assert links.loc["fl-baodong-0008", "days_los"] == 1
    assert links.loc["fl-baodong-0002", "status"] == "正常"


# --- the files ------------------------------------------------------------------------------------


def test_workbook_has_the_expected_sheets(report: Path) -> None:
    wb = openpyxl.load_workbook(report / f"online-rate-{MONTH}.xlsx", read_only=True)
    assert wb.sheetnames == SHEETS
    wb.close()


def test_camera_sheet_has_intact_rate_and_image_fault_time(report: Path, backfilled: Backfilled) -> None:
    xlsx = next(report.glob("*.xlsx"))
    cams = sheet(xlsx, "摄像机").set_index("设备编号")
    for col in ("完好率", "图像故障(小时)", "图像未判定(小时)", "完好是否达标"):
        assert col in cams.columns
    truth = backfilled.truth.reindex(cams.index)
    faulty = truth.index[truth["image_fault_s"] > 0]
    assert len(faulty)
    got = pd.to_numeric(cams.loc[faulty, "图像故障(小时)"])
    assert ((got - truth.loc[faulty, "image_fault_s"] / 3600).abs() < 0.01).all()
    for name in ("乡镇", "村", "承建单位", "资金来源"):
        assert "完好率" in sheet(xlsx, name).columns, name


def test_camera_sheet_matches_ground_truth(report: Path, backfilled: Backfilled) -> None:
    cams = sheet(report / f"online-rate-{MONTH}.xlsx", "摄像机").set_index("设备编号")
    truth = backfilled.truth.reindex(cams.index)
    for col, key in (
        ("在线(小时)", "online_s"),
        ("离线(小时)", "offline_s"),
        ("监测缺失(小时)", "unknown_s"),
        ("剔除(小时)", "excluded_s"),
    ):
        assert ((cams[col] * 3600 - truth[key]).abs() <= STEP).all(), col
    assert cams.loc["cam-baodong-beizhan-024", "按在册时段折算"] == "是"
    rate = truth["online_s"] / truth["monitored_s"]
    assert ((cams["在线率"] - rate).abs() < 1e-4).all()


def test_summary_and_exclusions_sheets(report: Path, backfilled: Backfilled) -> None:
    path = report / f"online-rate-{MONTH}.xlsx"
    summary = dict(sheet(path, "汇总").values.tolist())
    assert summary["统计月份"] == MONTH
    assert summary["区县"] == "凤泉区"
    assert summary["剔除时段数"] == 1
    cams = backfilled.truth[backfilled.truth.index.str.startswith("cam-")]
    assert summary["摄像机数"] == len(cams)
    assert abs(summary["监测缺失合计(小时，不计入离线)"] * 3600 - cams["unknown_s"].sum()) <= STEP
    assert abs(summary["离线时长合计(小时)"] * 3600 - cams["offline_s"].sum()) <= STEP * 5
    excl = sheet(path, "剔除时段")
    assert excl["审批人"].tolist() == ["李明"]
    assert excl["原因"].tolist() == ["北站社区接入交换机固件升级"]


def test_contractor_sheet_has_mttr_and_sla_from_tickets(report: Path) -> None:
    ct = sheet(report / f"online-rate-{MONTH}.xlsx", "承建单位").set_index("承建单位")
    row = ct.loc["河南中安安防工程有限公司"]
    assert row["工单数"] == 2  # the merged ticket and September's are not counted
    assert row["平均修复时长MTTR(小时)"] == pytest.approx((8.25 + 26) / 2)
    assert row["修复超时"] == 1
    assert row["SLA达标率"] == pytest.approx(0.5)


def test_worst_list_and_daily_trend(report: Path) -> None:
    path = report / f"online-rate-{MONTH}.xlsx"
    worst = sheet(path, "最差20")
    assert worst["设备编号"].iloc[0] == "cam-baodong-beizhan-007"  # hung for 46 h
    assert worst["在线率"].is_monotonic_increasing
    daily = sheet(path, "每日趋势")
    assert len(daily) == 31
    assert daily.set_index("日期").loc["2026-10-18", "监测缺失(小时)"] > 0


def test_pdf_renders(report: Path, tmp_path: Path) -> None:
    pdf = report / f"online-rate-{MONTH}.pdf"
    assert pdf.stat().st_size > 10_000
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "50", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
        capture_output=True,
    )
    pngs = list(tmp_path.glob("p*.png"))
    assert len(pngs) == 1 and pngs[0].stat().st_size > 5_000
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+3$", info, re.M)
    assert "A4" in info


def test_without_tickets_db_the_sheet_says_so(backfilled: Backfilled, tmp_path: Path) -> None:
    rc = main(
        [
            "monthly",
            "--month",
            MONTH,
            "--prometheus",
            backfilled.url,
            "--inventory",
            str(SAMPLE),
            "--out",
            str(tmp_path),
            "--no-pdf",
        ]
    )
    assert rc == 0
    ct = sheet(tmp_path / f"online-rate-{MONTH}.xlsx", "承建单位")
    assert set(ct["工单（MTTR/SLA）"]) == {"无工单数据"}
    # without exclusions the maintenance window counts as downtime
    cams = sheet(tmp_path / f"online-rate-{MONTH}.xlsx", "摄像机").set_index("设备编号")
    assert cams.loc["cam-baodong-beizhan-003", "离线(小时)"] == pytest.approx(4.0)


def test_without_inventory_labels_come_from_device_info(backfilled: Backfilled, tmp_path: Path) -> None:
    rc = main(
        [
            "monthly",
            "--month",
            MONTH,
            "--prometheus",
            backfilled.url,
            "--out",
            str(tmp_path),
            "--no-pdf",
            "--exclusions",
            str(backfilled.history / "exclusions.yaml"),
        ]
    )
    assert rc == 0
    cams = sheet(tmp_path / f"online-rate-{MONTH}.xlsx", "摄像机").set_index("设备编号")
    assert set(cams["乡镇（街道）"]) == {"baodong"}
    assert len(cams) == backfilled.truth.index.str.startswith("cam-").sum()


def test_previous_month_without_data(result: Result) -> None:
    assert result.previous is None
    assert any("环比不可计算" in n for n in result.notes)


# --- errors: one line, no traceback ---------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sharpeyes.reports", *args], capture_output=True, text=True, cwd=ROOT)


def test_unreachable_prometheus_is_one_line(tmp_path: Path) -> None:
    r = run_cli(
        "monthly",
        "--month",
        MONTH,
        "--prometheus",
        f"http://127.0.0.1:{free_port()}",
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "unreachable" in r.stderr and "Traceback" not in r.stderr


def test_bad_month_and_bad_query(backfilled: Backfilled, tmp_path: Path) -> None:
    r = run_cli("monthly", "--month", "2026-13", "--prometheus", backfilled.url, "--out", str(tmp_path))
    assert r.returncode == 2 and "YYYY-MM" in r.stderr and r.stderr.count("\n") == 1
    with pytest.raises(Exception, match="rejected a query"):
        Prometheus(backfilled.url).query("sum(", 0)


def test_month_without_data_is_a_clear_error(backfilled: Backfilled, tmp_path: Path) -> None:
    r = run_cli("monthly", "--month", "2025-01", "--prometheus", backfilled.url, "--out", str(tmp_path))
    assert r.returncode == 1 and "no probe_success samples" in r.stderr and r.stderr.count("\n") == 1


def _excl(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "excl.yaml"
    p.write_text(body, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "exclusions:\n  - id: a\n    start: 2026-10-01 00:00\n"
            "    end: 2026-10-01 01:00\n    devices: [x]\n"
            "    reason: r\n",
            "excl.yaml:2: exclusion a: field 'approver': required field is missing",
        ),
        (
            "exclusions:\n  - id: a\n    start: 2026-10-01 00:00\n"
            "    end: 2026-10-01 01:00\n    devices: [x]\n"
            "    reason: r\n    approver: p\n    colour: red\n",
            "excl.yaml:8: exclusion a: field 'colour': unknown key",
        ),
        (
            "exclusions:\n  - id: a\n    start: 2026-10-02 00:00\n    end: 2026-10-01 01:00\n    all: true\n"
            "    reason: r\n    approver: p\n",
            "excl.yaml:4: exclusion a: field 'end': must be after start",
        ),
        (
            "exclusions:\n  - id: a\n    start: yesterday\n    end: 2026-10-01 01:00\n    all: true\n"
            "    reason: r\n    approver: p\n",
            "excl.yaml:3: exclusion a: field 'start': 'yesterday' is not a time",
        ),
        (
            "exclusions:\n  - id: a\n    start: 2026-10-01 00:00\n    end: 2026-10-01 01:00\n"
            "    reason: r\n    approver: p\n",
            "needs devices, villages, townships or all: true",
        ),
    ],
)
def test_invalid_exclusions_name_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    from sharpeyes.cli import UserError

    with pytest.raises(UserError) as exc:
        load_exclusions(_excl(tmp_path, body), TZ)
    text = str(exc.value) + "\n".join(exc.value.detail)
    assert message in text


def test_config_is_strict(tmp_path: Path) -> None:
    from sharpeyes.cli import UserError
    from sharpeyes.reports.config import load_config

    p = tmp_path / "report.yaml"
    p.write_text(
        "targets:\n  default: 0.9\n  tags: {key_area: 0.99}\nscrape_interval: 15s\n", encoding="utf-8"
    )
    cfg = load_config(p)
    assert cfg.default_target == 0.9 and cfg.tag_targets == {"key_area": 0.99} and cfg.scrape_interval == 15
    assert cfg.target_for(("key_area",)) == 0.99 and cfg.target_for(()) == 0.9
    p.write_text("targets:\n  default: 95\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"report.yaml:2.*not a fraction"):
        load_config(p)


def test_summary_records_match_ground_truth_and_round_trip(result: Result, backfilled: Backfilled) -> None:
    """The per-township summary the command prints: the district's online rate from the ground truth's
    seconds, JSON parses and CSV reads back to the same records."""
    import csv
    import io
    import json

    from sharpeyes.output import emit
    from sharpeyes.reports.cli import SUMMARY_FIELDS, summary_records

    inv = load_inventory(SAMPLE)
    records = summary_records(result)
    cams = [d for d in backfilled.truth.index if inv.devices[d].kind == "camera"]
    truth = backfilled.truth.loc[cams]
    district = next(r for r in records if r["township"] == "")
    assert district["cameras"] == len(cams) and district["outages"] == int(truth["outages"].sum())
    want = truth["online_s"].sum() / truth["monitored_s"].sum()
    assert district["online_rate"] == pytest.approx(want, abs=STEP * len(cams) / truth["monitored_s"].sum())
    assert [r["township"] for r in records if r["township"]] == ["baodong"]
    assert records[0]["name"] == inv.townships["baodong"].name
    out = io.StringIO()
    emit(records, SUMMARY_FIELDS, "json", out)
    assert json.loads(out.getvalue()) == records
    out = io.StringIO()
    emit(records, SUMMARY_FIELDS, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [float(r["online_rate"]) for r in rows] == [r["online_rate"] for r in records]
    assert [r["name"] for r in rows] == [r["name"] for r in records]
