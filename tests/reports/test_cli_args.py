"""``sharpeyes-report monthly`` arguments: the tickets database URL kept off the command line
(--tickets-db-env / --tickets-db-file) and the default month (the previous one in the district's
time zone). No Prometheus: every case stops before the first query or at an unreachable address."""

from __future__ import annotations

import datetime as dt
import socket
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

import sharpeyes.reports.cli as cli
from sharpeyes.cli import UserError
from sharpeyes.contract import SAMPLE_DISTRICT

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _args(*argv: str) -> Any:
    return cli.parser().parse_args(["monthly", "--prometheus", "http://x", "--out", "o", *argv])


@pytest.mark.parametrize(("utc", "tz", "month"), [
    # 17:00 UTC on 28 Feb is already 1 March in Shanghai: the previous month there is February
    (dt.datetime(2026, 2, 28, 17, 0, tzinfo=dt.UTC), SHANGHAI, "2026-02"),
    (dt.datetime(2026, 2, 28, 17, 0, tzinfo=dt.UTC), zoneinfo.ZoneInfo("UTC"), "2026-01"),
    (dt.datetime(2026, 1, 1, 3, 0, tzinfo=dt.UTC), SHANGHAI, "2025-12"),
    (dt.datetime(2026, 10, 31, 15, 59, tzinfo=dt.UTC), SHANGHAI, "2026-09"),
    (dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC), SHANGHAI, "2026-10"),
])
def test_previous_month_in_the_districts_time_zone(utc: dt.datetime, tz: zoneinfo.ZoneInfo, month: str) -> None:
    assert cli.previous_month(tz, utc) == month


def test_month_is_optional() -> None:
    assert _args().month is None
    assert _args("--month", "2026-10").month == "2026-10"


def test_tickets_db_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://report:s3cret-pw@db/tickets"
    assert cli.tickets_db_url(_args()) is None
    assert cli.tickets_db_url(_args("--tickets-db", url)) == url
    monkeypatch.setenv("REPORT_TICKETS_DB", f"  {url}\n")
    assert cli.tickets_db_url(_args("--tickets-db-env", "REPORT_TICKETS_DB")) == url
    (tmp_path / "db.url").write_text(url + "\n")
    assert cli.tickets_db_url(_args("--tickets-db-file", str(tmp_path / "db.url"))) == url


@pytest.mark.parametrize(("argv", "message"), [
    (("--tickets-db-env", "SHARPEYES_TEST_NO_SUCH_VAR"), "not set or empty"),
    (("--tickets-db-file", "/nonexistent/db.url"), "cannot read"),
])
def test_tickets_db_source_errors(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(UserError, match=message):
        cli.tickets_db_url(_args(*argv))


def test_tickets_db_options_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        _args("--tickets-db", "sqlite:///x", "--tickets-db-env", "X")
    assert e.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_missing_secret_fails_before_prometheus(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHARPEYES_TEST_NO_SUCH_VAR", raising=False)
    rc = cli.main(["monthly", "--prometheus", _dead_url(), "--out", str(tmp_path / "o"),
                   "--tickets-db-env", "SHARPEYES_TEST_NO_SUCH_VAR"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "SHARPEYES_TEST_NO_SUCH_VAR" in err and "unreachable" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("argv", "tz"), [((), SHANGHAI), (("--timezone", "America/New_York"), None),
                                          (("--inventory", str(SAMPLE_DISTRICT)), SHANGHAI)])
def test_default_month_is_the_previous_one(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...],
                                           tz: zoneinfo.ZoneInfo | None) -> None:
    seen: list[tuple[str, str]] = []
    real = cli.month_period

    def spy(month: str, zone: zoneinfo.ZoneInfo) -> Any:
        seen.append((month, str(zone)))
        return real(month, zone)

    monkeypatch.setattr(cli, "month_period", spy)
    zone = tz or zoneinfo.ZoneInfo("America/New_York")
    rc = cli.main(["monthly", "--prometheus", _dead_url(), "--out", str(tmp_path), *argv])
    assert rc == 1 and "unreachable" in capsys.readouterr().err  # got as far as Prometheus
    assert seen == [(cli.previous_month(zone), str(zone))]
