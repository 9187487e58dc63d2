"""sharpeyes.output: tables that line up with zh-CN text, JSON and CSV that scripts can read back,
progress and colour only on a terminal (the terminal case runs under a real pty), ``--quiet``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
from wcwidth import wcswidth

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.output import FORMATS, StatusLine, emit

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160", "TERM": "xterm-256color"}
ENV.pop("NO_COLOR", None)
ESC = "\x1b["

RECORDS: list[dict[str, Any]] = [
    {"device": "cam-baodong-0001", "name": "宝东街道 东风村委会门口", "village": "东风村", "up": True},
    {"device": "sw-2", "name": "ASCII name, with \"quotes\"", "village": "ab", "up": False},
    {"device": "cam-3", "name": "潞王坟乡 ① 路口", "village": "", "up": None},
]
FIELDS = ("device", "name", "village", "up")


def _column_starts(line: str, values: list[str]) -> list[int]:
    """The display column (wcwidth) at which each value starts in a table row."""
    starts, pos = [], 0
    for v in values:
        i = line.index(v, pos) if v else pos
        starts.append(wcswidth(line[:i]))
        pos = i + len(v)
    return starts


def test_table_with_chinese_names_lines_up() -> None:
    buf = io.StringIO()
    emit(RECORDS, FIELDS, "table", buf)
    lines = buf.getvalue().splitlines()
    assert lines[0].split() == ["DEVICE", "NAME", "VILLAGE", "UP"]
    header = _column_starts(lines[0], ["DEVICE", "NAME", "VILLAGE", "UP"])
    rows = [[r["device"], r["name"], r["village"], {True: "true", False: "false", None: ""}[r["up"]]]
            for r in RECORDS]
    for line, values in zip(lines[1:], rows, strict=True):
        starts = _column_starts(line, values)
        # a value that is empty has no start to compare; every other one starts under its header
        assert [s for s, v in zip(starts, values, strict=True) if v] == \
            [h for h, v in zip(header, values, strict=True) if v], line
    assert ESC not in buf.getvalue()  # not a terminal: no colour


def test_table_in_a_pipe_never_wraps_or_cuts() -> None:
    long = "很长的名字" * 40
    buf = io.StringIO()
    emit([{"a": long, "b": "x"}], ("a", "b"), "table", buf)
    assert long in buf.getvalue() and len(buf.getvalue().splitlines()) == 2


def test_table_cells_are_inert_one_line_text() -> None:
    """A hostile name (newline, terminal escape) stays on its row and drives nothing."""
    buf = io.StringIO()
    emit([{"a": "x\n\x1b[2Jboom\x07", "b": "宝东"}, {"a": "y", "b": "z"}], ("a", "b"), "table", buf)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3 and "\x1b" not in buf.getvalue() and "\x07" not in buf.getvalue()
    assert lines[1].startswith("x\\x0a\\x1b[2Jboom\\x07")


def test_json_parses_and_csv_round_trips() -> None:
    out = io.StringIO()
    emit(RECORDS, FIELDS, "json", out)
    assert json.loads(out.getvalue()) == RECORDS
    out = io.StringIO()
    emit(RECORDS, FIELDS, "csv", out)
    back = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["name"] for r in back] == [r["name"] for r in RECORDS]
    assert [r["up"] for r in back] == ["true", "false", ""]
    assert list(back[0]) == list(FIELDS)


def test_empty_table_says_so_and_empty_csv_is_a_header() -> None:
    for fmt, expected in (("table", "no findings\n"), ("csv", "device,name,village,up\n"), ("json", "[]\n")):
        buf = io.StringIO()
        emit([], FIELDS, fmt, buf, empty="no findings")
        assert buf.getvalue() == expected


# ------------------------------------------------------------------ progress and colour, pipe vs terminal

GENERATE = [sys.executable, "-m", "sharpeyes.inventory.cli", "generate", "--force", "--scale", "20000"]


@pytest.mark.slow  # a 20,000-device generate, three times
def test_progress_absent_when_not_a_terminal(tmp_path: Path) -> None:
    """In a pipe: no bar, no escape, no carriage return, nothing at all for quick phases."""
    proc = subprocess.run([*GENERATE, "--out", str(tmp_path)], capture_output=True, text=True, env=ENV,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert ESC not in proc.stderr + proc.stdout and "\r" not in proc.stderr
    assert all("source=sharpeyes.progress" in ln for ln in proc.stderr.splitlines())  # no other kind of line
    assert len(proc.stderr.splitlines()) <= 2  # at most one per phase (generate, write files)
    for flag in ("--quiet", "--log.level=warn"):
        quiet = subprocess.run([*GENERATE, "--out", str(tmp_path), flag], capture_output=True, text=True,
                               env=ENV, timeout=120, cwd=ROOT)
        assert quiet.returncode == 0 and quiet.stderr == "", (flag, quiet.stderr)


def test_a_long_phase_off_a_terminal_is_one_log_line(monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from sharpeyes import output

    err = io.StringIO()
    caplog.set_level("INFO", logger="sharpeyes.progress")
    with output.progress("quick", total=3, stream=err) as t:
        t.advance(3)
    assert caplog.records == []  # under PHASE_LOG_MIN_S: nothing
    monkeypatch.setattr(output, "PHASE_LOG_MIN_S", 0.0)
    with output.progress("polls", total=3, stream=err) as t:
        for _ in range(3):
            t.advance()
    assert [r.getMessage().split(" done")[0] for r in caplog.records] == ["polls: 3/3"]
    with output.progress("polls", total=3, stream=err, args=argparse.Namespace(quiet=True)) as t:
        t.advance(3)
    assert len(caplog.records) == 1 and err.getvalue() == ""


def _pty(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    child = pexpect.spawn(argv[0], argv[1:], env=env or ENV, encoding="utf-8", timeout=120, cwd=str(ROOT),
                          dimensions=(40, 160), use_poll=True)  # select() fails once the suite holds >1024 fds
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus or 0), str(child.before)


@pytest.mark.slow  # a 20,000-device generate, twice, on a pty
def test_progress_on_a_terminal_has_count_rate_and_eta(tmp_path: Path) -> None:
    status, out = _pty([*GENERATE, "--out", str(tmp_path)])
    assert status == 0, out
    assert "write files" in out and "ETA" in out and "/s" in out and "\r" in out and ESC in out
    assert "/54" in out or "/" in out.split("write files", 1)[1]  # a count: done/total
    status, out = _pty([*GENERATE, "--out", str(tmp_path), "--quiet"])
    assert status == 0 and "ETA" not in out and "write files" not in out


def test_no_color_is_respected_on_a_terminal(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "sharpeyes.inventory.cli", "stats", "--output", "table"]
    _, coloured = _pty(cmd)
    assert re.search(r"\x1b\[[0-9;]*36m", coloured)  # the header is cyan on a terminal
    _, plain = _pty(cmd, {**ENV, "NO_COLOR": "1"})
    # NO_COLOR: no colour at all (bold is not a colour and may stay)
    assert not re.search(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;[0-9;]+)m", plain) and "GROUP" in plain


def test_status_line_in_a_pipe_is_one_line_per_change() -> None:
    buf = io.StringIO()
    line = StatusLine(buf)
    for up in (0, 0, 3, 3, 3, 8):
        line.update(f"devices seen up: {up}/8")
    line.done()
    assert buf.getvalue() == "devices seen up: 0/8\ndevices seen up: 3/8\ndevices seen up: 8/8\n"


def test_status_line_on_a_terminal_is_rewritten_in_place() -> None:
    code = ("from sharpeyes.output import StatusLine; import sys\n"
            "s = StatusLine(sys.stdout)\n"
            "[s.update(f'seen up: {n}/8') for n in (0, 0, 3, 8)]\n"
            "s.done(); print('next')\n")
    status, out = _pty([sys.executable, "-c", code])
    assert status == 0
    assert out.count("seen up: 0/8") == 1 and "\r\x1b[2Kseen up: 3/8" in out
    assert out.replace("\r\n", "\n").endswith("seen up: 8/8\nnext\n")


# ------------------------------------------------------------------ every record-printing command

def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, env=ENV, timeout=120,
                          cwd=ROOT)


def _shapes(argv: list[str], status: int = 0) -> list[dict[str, Any]]:
    """Run a command in each shape; JSON parses, CSV reads back to the same rows and columns as JSON."""
    got = {fmt: _run([*argv, "--output", fmt]) for fmt in FORMATS}
    for fmt, proc in got.items():
        assert proc.returncode == status, (fmt, proc.stderr)
        assert ESC not in proc.stdout
    records = json.loads(got["json"].stdout)
    rows = list(csv.DictReader(io.StringIO(got["csv"].stdout)))
    assert len(rows) == len(records)
    for row, rec in zip(rows, records, strict=True):
        for key, value in row.items():
            want = rec.get(key)
            want = "" if want is None else str(want).lower() if isinstance(want, bool) else str(want)
            if not isinstance(rec.get(key), dict | list):
                assert value == want, (key, value, want)
    table = got["table"].stdout.splitlines()
    assert table[0].split()[0].isupper() if records else len(table) == 1
    return records


def test_inventory_stats_shapes() -> None:
    records = _shapes(["sharpeyes.inventory.cli", "stats"])
    by = {(r["group"], r["key"]): r["count"] for r in records}
    assert by[("total", "cameras")] == 2240
    [baoxi] = [r for r in records if r["group"] == "cameras_by_township" and r["name"] == "宝西街道"]
    assert baoxi["count"] == 530 and baoxi["key"]  # the township's id beside its name


def test_inventory_validate_shapes_and_exit_status(tmp_path: Path) -> None:
    assert _shapes(["sharpeyes.inventory.cli", "validate"]) == []
    bad = tmp_path / "bad"
    subprocess.run(["cp", "-r", str(SAMPLE_DISTRICT), str(bad)], check=True)
    text = (bad / "district.yaml").read_text(encoding="utf-8")
    (bad / "district.yaml").write_text(text + "bogus: 1\n", encoding="utf-8")
    records = _shapes(["sharpeyes.inventory.cli", "validate", "-i", str(bad)], status=1)
    assert records and records[0]["file"].endswith("district.yaml") and records[0]["line"]


def test_inventory_diff_shapes(tmp_path: Path) -> None:
    new = tmp_path / "new"
    subprocess.run(["cp", "-r", str(SAMPLE_DISTRICT), str(new)], check=True)
    town = sorted((new / "townships").glob("*.yaml"))[0]
    text = town.read_text(encoding="utf-8")
    first_name = next(line for line in text.splitlines() if line.strip().startswith("name:"))
    town.write_text(text.replace(first_name, first_name.rstrip() + "改", 1), encoding="utf-8")
    records = _shapes(["sharpeyes.inventory.cli", "diff", str(SAMPLE_DISTRICT), str(new)])
    assert len(records) == 1 and records[0]["change"] == "changed" and records[0]["new"].endswith("改")


@pytest.mark.slow  # promtool and amtool
def test_alerts_check_shapes(tmp_path: Path) -> None:
    """On a build whose alert tests are one rule group's (the shapes, not the alerts, are under test
    here: tests/alerts runs every promtool test)."""
    for tool in ("promtool", "amtool"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            pytest.fail(f"{tool} not found (apt-get install prometheus prometheus-alertmanager)")
    assert _run(["sharpeyes.alerts.cli", "build", "--out", str(tmp_path)]).returncode == 0
    for test in (tmp_path / "tests").glob("alerts-*.test.yml"):
        if test.name != "alerts-images.test.yml":
            test.unlink()
    records = _shapes(["sharpeyes.alerts.cli", "check", "--dir", str(tmp_path)])
    assert records and all(r["ok"] is True for r in records)
    assert {r["tool"] for r in records} == {"promtool check rules", "promtool test rules", "amtool check-config"}
    assert {Path(str(r["file"])).name for r in records if r["tool"] == "promtool test rules"} == \
        {"alerts-images.test.yml", "recording.test.yml"}
