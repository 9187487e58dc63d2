"""sharpeyes-tickets CLI: one-line errors and exit codes (2 usage/config, 1 failure), migrate, export-csv,
serve with no config, serve --config.check."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.tickets.cli import demo_tokens, main
from sharpeyes.tickets.config import hash_token
from tests.tickets.test_tickets_crash import ROOT, free_port
from tests.tickets.tickets_testlib import cam_down, deliver


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_usage_error_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sharpeyes-tickets: ")


@pytest.mark.parametrize(("argv", "status"), [
    (["serve", "--config.file", "/nonexistent/tickets.yaml"], 2),
    (["serve", "--web.listen-address", "nowhere"], 2),
    (["migrate", "--db", "mysql://nobody@nowhere/db"], 1),
    (["migrate", "--db", "postgresql://nobody@127.0.0.1:1/none"], 1),
])
def test_failures_are_one_line(argv: list[str], status: int, capsys: pytest.CaptureFixture[str]) -> None:
    if status == 2 and "--web.listen-address" in argv:
        with pytest.raises(SystemExit) as e:
            main(argv)
        code, err = e.value.code, capsys.readouterr().err
    else:
        code, _, err = run(argv, capsys)
    assert code == status
    assert err.count("\n") == 1 and "Traceback" not in err, err


def test_config_error_names_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "t.yaml"
    cfg.write_text("hold_down: forever\n")
    code, _, err = run(["serve", "--config.file", str(cfg)], capsys)
    assert code == 2 and "hold_down: 'forever' is not a duration" in err


async def test_migrate_and_export_csv(make_service: Any, sqlite_url: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    code, out, _ = run(["migrate", "--db", db], capsys)
    assert code == 0 and "revision 0003" in out
    svc = make_service(sqlite_url)
    await deliver(svc, cam_down("cam-1"))
    code, out, _ = run(["export-csv", "--db", sqlite_url, "--state", "open"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("id,state,severity,root_key") and "device:cam-1" in lines[1]
    code, _, err = run(["export-csv", "--db", sqlite_url, "--severity", "bad"], capsys)
    assert code == 2 and "--severity" in err


def test_demo_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARPEYES_TICKETS_TOKEN", "demo-secret")
    (tok,) = demo_tokens(tmp_path / "t.txt")
    assert tok.roles == {"district", "webhook"} and tok.digest == hash_token("demo-secret")
    monkeypatch.delenv("SHARPEYES_TICKETS_TOKEN")
    path = tmp_path / "var" / "tokens.txt"
    first = demo_tokens(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {t.name for t in first} == {"demo-district", "demo-webhook"}
    assert demo_tokens(path) == first  # generated once, reused


@pytest.mark.slow
async def test_serve_without_config_runs_on_embedded_defaults(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SHARPEYES_TICKETS_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "sharpeyes.tickets", "serve", "--web.listen-address",
                             f"127.0.0.1:{port}"],
                            cwd=tmp_path, env=env, stdout=log, stderr=log)
    try:
        tokens = tmp_path / "var" / "tickets-tokens.txt"
        async with aiohttp.ClientSession() as s:
            from tests.tickets.test_tickets_crash import Service

            svc = Service.__new__(Service)
            svc.proc, svc.url, svc.log = proc, f"http://127.0.0.1:{port}", tmp_path / "serve.log"
            await svc.ready(s)
            assert (tmp_path / "var" / "tickets.sqlite3").exists()
            assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
            district = dict(line.split("=", 1) for line in tokens.read_text().split())["district"]
            headers = {"Authorization": f"Bearer {district}"}
            async with s.get(f"{svc.url}/api/v1/tickets", headers=headers) as r:
                assert r.status == 200
        assert district not in (tmp_path / "serve.log").read_text()  # never logged
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_check_accepts_a_good_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "district.token").write_text("d-token\n")
    (tmp_path / "db.url").write_text("postgresql://tickets:secret-pw@127.0.0.1:1/none\n")
    cfg = tmp_path / "tickets.yml"
    cfg.write_text(f"db_file: {tmp_path / 'db.url'}\ninventory: {SAMPLE_DISTRICT}\n"
                   "tokens:\n  - {name: d, role: district, token_file: district.token}\n")
    code, out, err = run(["serve", "--config.file", str(cfg), "--config.check"], capsys)
    assert (code, out, err) == (0, "ok\n", "")  # nothing connected to: port 1 would have failed
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(("text", "files", "message"), [
    ("tokens:\n  - {name: d, role: district, token_file: missing.token}\n", {},
     "tokens[0].token_file: cannot read"),
    ("hold_down: forever\n", {}, "hold_down: 'forever' is not a duration"),
    ("db: mysql://u@h/db\n", {}, "db: unsupported database 'mysql'"),
    ("db: 'not a url'\n", {}, "db: cannot parse the database URL"),
    ("db_file: db.url\n", {"db.url": ""}, "db_file: empty database URL"),
    ("inventory: nowhere\n", {}, "inventory nowhere: "),
    ("channels:\n  - {name: m, type: email, smtp_host: h, from: a@b, to: [c@d], password_env: NO_SUCH_ENV_X}\n",
     {}, "environment variable NO_SUCH_ENV_X is not set"),
])
def test_check_reports_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                           files: dict[str, str], message: str) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    cfg = tmp_path / "tickets.yml"
    cfg.write_text(text)
    code, out, err = run(["serve", "--config.check", "--config.file", str(cfg)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("sharpeyes-tickets: ") and message in err, err
    assert "Traceback" not in err


def test_check_needs_a_config(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["serve", "--config.check"], capsys)
    assert code == 2 and "--config.check needs --config.file" in err


def test_check_never_prints_the_db_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "tickets.yml"
    cfg.write_text("db: 'oracle://u:hunter2-pw@h/db'\n")
    code, _, err = run(["serve", "--config.check", "--config.file", str(cfg)], capsys)
    assert code == 2 and "hunter2-pw" not in err


async def test_list_in_three_shapes(make_service: Any, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``list --output json`` parses, ``--output csv`` reads back to the same rows, the table lines up."""
    import csv
    import io
    import json

    svc = make_service(sqlite_url)
    await deliver(svc, cam_down("cam-1"))
    await deliver(svc, cam_down("cam-2"))
    code, out, _ = run(["list", "--db", sqlite_url, "--state", "open", "--output", "json"], capsys)
    records = json.loads(out)
    assert code == 0 and sorted(r["subject"] for r in records) == ["cam-1", "cam-2"]
    assert {"root_key", "devices", "title_zh"} <= set(records[0])  # json: the whole summary
    code, out, _ = run(["list", "--db", sqlite_url, "--state", "open", "-o", "csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["id"] for r in rows] == [str(r["id"]) for r in records]
    assert [r["title_zh"] for r in rows] == [r["title_zh"] for r in records]
    assert list(rows[0]) == ["id", "state", "severity", "subject", "title_zh", "contractor", "township",
                             "village", "opened_at", "repair_due", "breached"]
    code, out, _ = run(["list", "--db", sqlite_url, "--state", "open"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["ID", "STATE", "SEVERITY"] and len(lines) == 3
    code, out, _ = run(["list", "--db", sqlite_url, "--state", "closed"], capsys)
    assert (code, out) == (0, "no tickets\n")
    code, _, err = run(["list", "--db", sqlite_url, "--severity", "bad"], capsys)
    assert code == 2 and "--severity" in err
