"""A month of history in a REAL Prometheus: generate (sharpeyes-sim history), backfill with promtool,
start ``prometheus`` on a free loopback port, wait for /-/ready; plus a small SQLite tickets DB.

The slice: the first 38 active devices of 宝东街道 (two aggregation switches, platform, four NVRs, access
switches and their cameras) under the embedded October 2026 scenario: a fiber cut that takes a
pole switch and its cameras down, a switch down, a camera power loss, a hung camera, a village
maintenance window (excluded), a 2.5 h monitoring gap, one camera installed and one
decommissioned mid-month, and the seeded background outages.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator

import pandas as pd
import pytest

from tests.reports.report_testlib import Backfilled, backfill, free_port, generate, wait_ready


@pytest.fixture(scope="session")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found (apt-get install prometheus)")
    base = tmp_path_factory.mktemp("month")
    hist = generate(base / "history")
    tsdb = base / "tsdb"
    backfill(sorted(hist.glob("history*.om")), tsdb)
    (base / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = base / "prometheus.log"
    with log.open("wb") as logf:
        proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={base / 'prometheus.yml'}",
                f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=10y",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=logf,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(url, proc, log)
        truth = pd.read_csv(hist / "ground-truth.csv").set_index("device")
        yield Backfilled(hist, url, truth)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


UTC = dt.UTC
T = dt.datetime(2026, 10, 8, 1, 30, tzinfo=UTC)  # 09:30 local: the fiber cut

# (contractor, sla_start, acknowledged, restored, state, repair_due hours, merged?)
TICKETS = [
    ("zhongan", T, T + dt.timedelta(minutes=20), T + dt.timedelta(hours=8, minutes=15), "closed", 12),
    (
        "zhongan",
        T + dt.timedelta(days=4),
        T + dt.timedelta(days=4, hours=2),
        T + dt.timedelta(days=5, hours=2),
        "closed",
        12,
    ),  # 26 h repair: late
    ("zhongan", T + dt.timedelta(days=10), None, None, "merged", 12),  # merged: not counted
    (
        "tianwang",
        T + dt.timedelta(days=1),
        T + dt.timedelta(days=1, minutes=5),
        T + dt.timedelta(days=1, hours=2),
        "resolved",
        24,
    ),
    (
        "zhongan",
        dt.datetime(2026, 9, 20, tzinfo=UTC),
        None,
        dt.datetime(2026, 9, 21, tzinfo=UTC),
        "closed",
        12,
    ),
]


@pytest.fixture(scope="session")
def tickets_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite with the tickets package's tables (or a minimal mirror of them if it is absent)."""
    from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert

    path = tmp_path_factory.mktemp("tickets") / "tickets.sqlite3"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    try:
        from sharpeyes.tickets.models import Base

        Base.metadata.create_all(engine)
        table = Base.metadata.tables["tickets"]
    except ImportError:  # the tickets package is not there: mirror the columns we read
        md = MetaData()
        table = Table(
            "tickets",
            md,
            Column("id", Integer, primary_key=True),
            Column("root_key", String),
            Column("state", String),
            Column("severity", String),
            Column("contractor", String),
            Column("area", String),
            Column("subject", String),
            Column("opened_at", DateTime),
            Column("sla_start", DateTime),
            Column("acknowledged_at", DateTime),
            Column("restored_at", DateTime),
            Column("resolved_at", DateTime),
            Column("response_due", DateTime),
            Column("repair_due", DateTime),
        )
        md.create_all(engine)
    naive = {c.name for c in table.columns}
    with engine.begin() as conn:
        for n, (contractor, start, ack, restored, state, repair_h) in enumerate(TICKETS, 1):
            row = {
                "id": n,
                "root_key": f"device:cam-{n}",
                "state": state,
                "severity": "critical",
                "alertname": "CameraDown",
                "contractor": contractor,
                "area": "urban",
                "subject": f"cam-{n}",
                "opened_at": start,
                "sla_start": start,
                "acknowledged_at": ack,
                "restored_at": restored,
                "resolved_at": restored,
                "response_due": start + dt.timedelta(hours=1),
                "repair_due": start + dt.timedelta(hours=repair_h),
                "updated_at": start,
            }
            conn.execute(insert(table).values({k: v for k, v in row.items() if k in naive}))
    engine.dispose()
    return url
