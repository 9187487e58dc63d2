"""录像完整率 on a backfilled month against the simulator's ground truth: the recorders of one township
record a month with a fiber cut, a camera power loss, a channel that stops recording and a recorder
whose disks fail; one backfill collection over HTTP reads the month; the report's per-camera gaps equal
the truth to the second, unknown time is apart, and the workbook carries the figures side by side."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from sharpeyes.inventory import load_inventory
from sharpeyes.recording.collector import collect_all, targets
from sharpeyes.recording.job import Limits
from sharpeyes.recording.store import RecordingStore
from sharpeyes.recording.transport import HttpTransport
from sharpeyes.reports.recording_db import read_recording
from sharpeyes.reports.recording_tables import assessment_table, recording_tables
from sharpeyes.reports.xlsx import write_workbook
from sharpeyes.simulator.faults import FaultEngine
from sharpeyes.simulator.network import World
from sharpeyes.simulator.recorders.server import RecorderServers
from sharpeyes.simulator.recorders.truth import RecorderTruth
from sharpeyes.simulator.runner import _subset, initial_state, select_devices
from sharpeyes.simulator.state import Credentials
from tests.runnet import free_port

# a township's simulated recorders serving a backfilled month (the module fixture: ~12 s)
pytestmark = pytest.mark.slow

TZ = ZoneInfo("Asia/Shanghai")
MONTH = (dt.datetime(2026, 11, 1, tzinfo=TZ).timestamp(), dt.datetime(2026, 12, 1, tzinfo=TZ).timestamp())
PW = "month-test-pw"


def at(day: int, hour: int, minute: int = 0) -> float:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ).timestamp()


@pytest.fixture(scope="module")
def month(run_sample_dir, tmp_path_factory):  # type: ignore[no-untyped-def]
    import asyncio

    inv = load_inventory(run_sample_dir)  # the recorders bind this run's addresses (tests/runnet.py)
    chosen = select_devices(inv, ("luwangfen",))
    states = {d: initial_state(inv.devices[d], time.monotonic()) for d in sorted(chosen)}
    world = World(_subset(inv, chosen), states)
    truth = RecorderTruth(world, MONTH[0], retention_days=45)
    engine = FaultEngine(world)
    link = next(lid for lid, lk in sorted(inv.links.items())
                if lk.build == "sharp_eyes" and lk.township == "luwangfen")
    cams = sorted(c for c in truth.timelines)
    events = [  # (fault, start, end)
        ({"type": "fiber_cut", "target": link}, at(5, 10), at(5, 10, 20)),
        ({"type": "power_loss", "target": cams[100]}, at(10, 1), at(10, 4)),
        ({"type": "channel_not_recording", "target": cams[200]}, at(12, 8), at(12, 10, 30)),
        ({"type": "disk_failed", "target": "nvr-luwangfen-2"}, at(20, 23), at(21, 0, 15)),
    ]
    db = f"sqlite:///{tmp_path_factory.mktemp('rec') / 'rec.db'}"

    async def run():  # type: ignore[no-untyped-def]
        for spec, start, end in events:
            f = await engine.add(spec)
            truth.update(start)
            await engine.clear(f.id)
            truth.update(end)
        port = free_port()
        servers = RecorderServers(world, truth, {"platforms": Credentials("admin", PW)}, port=port)
        await servers.start()
        try:
            tgts = [t for t in targets(inv, port) if inv.devices[t.recorder].township == "luwangfen"]
            results = await collect_all(
                tgts, lambda tg: HttpTransport(f"http://{tg.address}", "admin", PW), MONTH[0], MONTH[1],
                now=time.time(), limits=Limits(page_size=200), deadline=240)
        finally:
            await servers.close()
        return tgts, results

    tgts, results = asyncio.run(run())
    assert all(r.up and not r.error for r in results), [(r.recorder, r.error, r.message) for r in results]
    store = RecordingStore(db)
    store.migrate()
    store.record(results, {t.recorder: t for t in tgts})
    store.dispose()
    return inv, truth, db, link


def test_backfilled_month_gaps_equal_the_ground_truth(month) -> None:  # type: ignore[no-untyped-def]
    inv, truth, db, link = month
    rec = read_recording(db, inv, *MONTH)
    cams = rec.cameras.set_index("device")
    lu = cams[cams["township"] == "luwangfen"]
    assert len(lu) == 318
    for cam, row in lu.iterrows():
        true_gap = (MONTH[1] - MONTH[0]) - sum(e - s for s, e in truth.timelines[cam].intervals(*MONTH))
        assert abs(row["gap_s"] - true_gap) <= 2, (cam, row["gap_s"], true_gap)
        assert row["unknown_s"] == 0
    behind = {c for c in inv.topology.downstream(link) if c in lu.index}
    assert behind and all(abs(lu.loc[c, "gap_s"] - 1200) <= 2 for c in behind)
    on_failed = lu[lu["recorder"] == "nvr-luwangfen-2"]
    assert (on_failed["gap_s"] >= 75 * 60 - 2).all()  # every channel of the recorder lost 1h15
    others = lu[(lu["recorder"] == "nvr-luwangfen") & ~lu.index.isin(behind)]
    assert (others["gap_s"] <= 3 * 3600 + 2).all() and (others["gap_s"] == 0).sum() >= len(others) - 2


def test_unknown_is_shown_apart_and_not_charged(month) -> None:  # type: ignore[no-untyped-def]
    inv, _truth, db, _link = month
    rec = read_recording(db, inv, *MONTH)
    other = rec.cameras[rec.cameras["township"] == "baodong"]
    assert len(other) and (other["known_s"] == 0).all() and (other["unknown_s"] == 30 * 86400).all()
    assert other["rate"].isna().all()  # nothing known: no rate, never 0 %


def test_workbook_tables_and_side_by_side_summary(month, tmp_path) -> None:  # type: ignore[no-untyped-def]
    inv, _truth, db, _link = month
    rec = read_recording(db, inv, *MONTH)
    tables = [assessment_table(0.97, 0.95, rec), *recording_tables(rec, inv)]
    path = write_workbook(tables, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["考核指标", "录像-摄像机", "录像-村", "录像-乡镇", "录像-维保单位", "录像-录像机",
                               "录像缺失明细"]
    rows = [r for r in book["考核指标"].iter_rows(values_only=True) if r and r[0]]
    items = [r[0] for r in rows]
    assert "在线率" in items and "录像完整率" in items and "存储天数达标率" in items
    assert any(str(i).startswith("完好率") for i in items)
    lu = rec.cameras[rec.cameras["known_s"] > 0]
    expected = lu["recorded_s"].sum() / lu["known_s"].sum()
    rec_row = next(r for r in rows if r[0] == "录像完整率")
    assert abs(float(rec_row[1]) - expected) < 1e-4 and 0.99 < expected < 1
    gaps = list(book["录像缺失明细"].iter_rows(values_only=True))
    assert len(gaps) > 2
