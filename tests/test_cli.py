"""The one CLI dialect (sharpeyes/cli.py): durations, HOST:PORT, database URLs, errors, and that every
command speaks it (``--help`` exits 0 and lists ``--log.level``; no component keeps its own duration
parser)."""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sharpeyes.cli import (
    ConfigError,
    UserError,
    cli_main,
    db_url,
    format_duration,
    host_port,
    parse_duration,
    problems_error,
)

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------- durations

@pytest.mark.parametrize(("text", "seconds"), [
    ("10s", 10), ("500ms", 0.5), ("1m30s", 90), ("5m", 300), ("2.5s", 2.5), ("1h", 3600), ("1h30m", 5400),
    ("1d12h", 129600), ("2w", 1_209_600), ("1y", 31_536_000), ("7s500ms", 7.5), ("0", 0), (" 30d ", 2_592_000),
])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "s", "10 s", "-1s", "1ms5s", "30m1h", "1h1h", "5min", "1.5", "1e3s",
                                  "ms", "PT5M", "0.5"])
def test_parse_duration_refuses_with_the_reason(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == f"{text!r} is not a duration (e.g. 500ms, 10s, 1m30s, 2h, 30d)"


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (0.5, "500ms"), (7.5, "7s500ms"), (15, "15s"), (90, "1m30s"), (300, "5m"), (3600, "1h"),
    (5400, "1h30m"), (86401, "1d1s"), (2_592_000, "30d"),
])
def test_format_duration_is_prometheus_grammar_and_round_trips(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    # Prometheus' own grammar: integer units in descending order, no decimal point
    assert re.fullmatch(r"(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?", text)
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("seconds", [0.001, 1.25, 59.999, 61, 3599, 3601.5, 90061, 1e7])
def test_format_parse_round_trip(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(-1)


def test_the_other_duration_parsers_are_gone() -> None:
    """No module of ours but sharpeyes/cli.py defines a duration parser or a unit table of its own.

    Parses every module and looks for the shapes the old parsers had: a function named like a
    duration parser, or a dict literal mapping unit letters to seconds.
    """
    offenders = []
    for path in sorted((ROOT / "sharpeyes").rglob("*.py")):
        if path == ROOT / "sharpeyes" / "cli.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.FunctionDef) and re.fullmatch(r"_?(parse|to)_?duration", node.name)
                    and (node.name, path.name) != ("to_duration", "yamlnodes.py")):  # the wrapper of ours
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} def {node.name}")
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
                if {"s", "m", "h"} <= keys or {"ms", "s"} <= keys:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} a unit table")
    assert offenders == []


@pytest.mark.parametrize(("needle", "what"), [
    ('rpartition(":")', "a HOST:PORT parser"), ('"postgresql+psycopg://"', "a Postgres-URL normaliser"),
    ("class UserError", "a user-error type"), ("class ConfigError", "a configuration-error type"),
    ("logging.basicConfig(", "a log set-up of its own"), ('"--log-level"', "the old log flag"),
])
def test_one_of_each_lives_in_sharpeyes_cli(needle: str, what: str) -> None:
    """Each of these exists once, in sharpeyes/cli.py; a second copy anywhere in the package fails."""
    where = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "sharpeyes").rglob("*.py"))
             if path != ROOT / "sharpeyes" / "cli.py" and needle in path.read_text(encoding="utf-8")]
    assert where == [], f"{what} outside sharpeyes/cli.py"


def test_the_components_read_durations_in_the_one_grammar(tmp_path: Path) -> None:
    """The same text means the same in the exporter config, the tickets config, the report config,
    the fault engine and the history scenario — and a unitless number is refused in each."""
    from sharpeyes.exporters.config import parse_config
    from sharpeyes.reports.config import load_config as load_report_config
    from sharpeyes.simulator.faults import FaultError, fault_seconds
    from sharpeyes.simulator.history import whole_seconds
    from sharpeyes.tickets.config import duration as tickets_duration
    from sharpeyes.yamlnodes import FieldError

    cfg = parse_config("modules:\n  icmp:\n    prober: icmp\n    timeout: 1m30s\n")
    assert cfg.modules["icmp"].timeout == 90
    assert tickets_duration("1m30s", "x").total_seconds() == 90
    assert fault_seconds("1m30s") == 90
    assert whole_seconds("1m30s") == 90
    report = tmp_path / "report.yaml"
    report.write_text("scrape_interval: 1m30s\n", encoding="utf-8")
    assert load_report_config(report).scrape_interval == 90

    with pytest.raises(ConfigError, match="is not a duration"):
        parse_config("modules:\n  icmp:\n    prober: icmp\n    timeout: '90'\n")
    with pytest.raises(ConfigError, match="is not a duration"):
        tickets_duration("90 s", "x")
    with pytest.raises(FaultError, match="is not a duration"):
        fault_seconds("90 s")
    with pytest.raises(FieldError, match="is not a duration"):
        whole_seconds("90")
    report.write_text("scrape_interval: '90'\n", encoding="utf-8")
    with pytest.raises(UserError, match="is not a duration"):
        load_report_config(report)


# ------------------------------------------------------------------------------ addresses, URLs

@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:9430", ("127.0.0.1", 9430)), (":9430", ("0.0.0.0", 9430)), ("[::1]:9440", ("::1", 9440)),
    ("localhost:1", ("localhost", 1)), ("0.0.0.0:65535", ("0.0.0.0", 65535)),
])
def test_host_port(text: str, expected: tuple[str, int]) -> None:
    assert host_port(text) == expected


@pytest.mark.parametrize("text", ["9430", "host:", "host:0", "host:65536", "host:http", "[::1:80", "", "::1"])
def test_host_port_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        host_port(text)


def test_host_port_zero_only_when_allowed() -> None:
    assert host_port("127.0.0.1:0", allow_zero=True) == ("127.0.0.1", 0)


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"), ("postgres://h/db", "postgresql+psycopg://h/db"),
    ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db"), ("sqlite:///var/t.db", "sqlite:///var/t.db"),
])
def test_db_url(url: str, expected: str) -> None:
    assert db_url(url) == expected


def test_tickets_and_report_read_database_urls_alike() -> None:
    from sharpeyes.tickets.store import Store

    store = Store("postgresql://127.0.0.1:1/none")  # not connected: only the URL is read
    try:
        assert store.url.startswith("postgresql+psycopg://")
    finally:
        store.dispose()


# ------------------------------------------------------------------------------------- errors

def test_cli_main_prints_one_line_and_the_status(capsys: pytest.CaptureFixture[str]) -> None:
    @cli_main("prog")
    def main(argv: list[str] | None = None) -> int:
        raise ConfigError(["a.yml:3: field 'x': unknown key", "a.yml:5: field 'y': required"])

    assert main([]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["prog: error: invalid config: 2 errors", "  a.yml:3: field 'x': unknown key",
                   "  a.yml:5: field 'y': required"]


def test_config_error_with_one_problem_is_one_line() -> None:
    exc = ConfigError("listen: 'x' is not HOST:PORT")
    assert (exc.message, exc.detail, exc.status) == ("invalid config: listen: 'x' is not HOST:PORT", [], 2)


def test_problems_error_bounds_the_detail() -> None:
    exc = problems_error("inv", "inventory", [f"f.yml:{i}: bad" for i in range(25)])
    assert exc.message == "inv: 25 inventory errors" and exc.status == 2
    assert len(exc.detail) == 21 and exc.detail[-1] == "… and 5 more"


def test_invalid_inventory_reads_alike_in_every_command(tmp_path: Path) -> None:
    from sharpeyes.inventory import InventoryError, load_inventory

    (tmp_path / "district.yaml").write_text("district: {id: x}\nbogus: 1\n", encoding="utf-8")
    with pytest.raises(InventoryError) as info:
        load_inventory(tmp_path)
    err = info.value.user_error(tmp_path)
    assert err.message.startswith(f"{tmp_path}: ") and "inventory error" in err.message
    assert err.status == 2 and all(re.match(r".+:\d+:", line) for line in err.detail if "more" not in line)


# ------------------------------------------------------------------------------ every command

COMMANDS = {  # console script -> (module, function building its parser)
    "sharpeyes-inventory": ("sharpeyes.inventory.cli", "build_parser"),
    "sharpeyes-exporter": ("sharpeyes.exporters.cli", "build_parser"),
    "sharpeyes-sim": ("sharpeyes.simulator.cli", "build_parser"),
    "sharpeyes-alerts": ("sharpeyes.alerts.cli", "_parser"),
    "sharpeyes-tickets": ("sharpeyes.tickets.cli", "parser"),
    "sharpeyes-dashboards": ("sharpeyes.dashboards.cli", "_parser"),
    "sharpeyes-report": ("sharpeyes.reports.cli", "parser"),
    "sharpeyes-demo": ("sharpeyes.stack.cli", "build_parser"),
    "sharpeyes-recording": ("sharpeyes.recording.cli", "build_parser"),
}
# the spellings the one dialect replaced: no command or sub-command may accept them again
OLD_FLAGS = {"--log-level", "--config", "--listen", "--control"}


def _walk(p: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out = [(path, p)]
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _walk(sub, (*path, name))
    return out


def _all_parsers() -> list[tuple[str, tuple[str, ...], Any]]:
    found = []
    for prog, (module, fn) in COMMANDS.items():
        for path, p in _walk(getattr(importlib.import_module(module), fn)()):
            found.append((prog, path, p))
    return found


def test_the_scripts_are_the_commands_listed_here() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert {name: value.split(":")[0] for name, value in scripts.items()} == \
        {name: module for name, (module, _) in COMMANDS.items()}


@pytest.mark.parametrize("prog", sorted(COMMANDS))
def test_help_exits_0_and_reads_alike(prog: str) -> None:
    """The installed command itself (a sub-process): description, --log.level, examples, exit status."""
    module = COMMANDS[prog][0]
    proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith(f"usage: {prog} ") and "--log.level {debug,info,warn,error}" in text
    assert "--log.format {logfmt,json}" in text
    examples = text.split("\nexamples:\n", 1)[1].split("\n\n")[0].splitlines()
    assert 2 <= len(examples) <= 4 and all(line.startswith(f"  {prog} ") for line in examples), examples
    assert "exit status: 0 ok, 1 failures or findings reported, 2 usage or configuration error" in text
    assert proc.stderr == ""


def test_every_sub_command_takes_log_level_and_none_takes_an_old_flag() -> None:
    parsers = _all_parsers()
    assert len(parsers) >= 25  # every command and sub-command was found (discovery's included, twice)
    for prog, path, p in parsers:
        options = {o for a in p._actions for o in a.option_strings}
        assert {"--log.level", "--log.format", "-h"} <= options, (prog, path)
        assert not options & OLD_FLAGS, (prog, path, options & OLD_FLAGS)
        if "--inventory" in options:
            assert "-i" in options, (prog, path)
        help_text = p.format_help()
        assert ("--log.level" in help_text and p.description) or not path, (prog, path)


@pytest.mark.parametrize(("prog", "path"), [
    ("sharpeyes-exporter", ("discover",)), ("sharpeyes-inventory", ("validate",)), ("sharpeyes-sim", ("fault", "list")),
    ("sharpeyes-tickets", ("serve",)), ("sharpeyes-report", ("monthly",)), ("sharpeyes-alerts", ("check",)),
])
def test_log_level_after_the_sub_command_wins_and_before_it_stays(prog: str, path: tuple[str, ...]) -> None:
    module, fn = COMMANDS[prog]
    p = getattr(importlib.import_module(module), fn)()
    required = {"sharpeyes-report": ["--prometheus", "http://x", "--out", "o"]}.get(prog, [])
    after = p.parse_args([*path, *required, "--log.level", "debug"])
    before = p.parse_args(["--log.level", "error", "--log.format", "json", *path, *required])
    default = p.parse_args([*path, *required])
    assert (after.log_level, before.log_level, before.log_format, default.log_level) == \
        ("debug", "error", "json", "info")


@pytest.mark.parametrize("argv", [
    ["sharpeyes-sim", "fault", "add", "power_loss", "cam", "--duration", "90"],
    ["sharpeyes-exporter", "--inventory.poll-interval", "5"],
    ["sharpeyes-exporter", "--web.listen-address", "9430"],
    ["sharpeyes-tickets", "serve", "--web.listen-address", "localhost"],
    ["sharpeyes-alerts", "build", "--group-wait", "1x"],
    ["sharpeyes-dashboards", "push", "--url", "http://g", "--timeout", "10"],
    ["sharpeyes-sim", "history", "--month", "2026-10", "--out", "o", "--step", "60"],
    ["sharpeyes-sim", "fault", "--sim.url", "127.0.0.1:9180", "list"],
])
def test_usage_errors_are_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Durations without a unit and addresses without a port are refused the same way everywhere."""
    module, fn = COMMANDS[argv[0]]
    with pytest.raises(SystemExit) as info:
        getattr(importlib.import_module(module), fn)().parse_args(argv[1:])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"{argv[0]}") and ": error: " in err and "--help)" in err


def test_alerts_config_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from sharpeyes.alerts.cli import main

    assert main(["build", "--out", str(tmp_path), "--group-wait", "1m30s", "--config.check"]) == 0
    assert capsys.readouterr().out == "ok\n" and not any(tmp_path.iterdir())  # nothing written
    assert main(["build", "--out", str(tmp_path), "--for-scale", "20", "--config.check"]) == 2


def test_report_config_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from sharpeyes.reports.cli import main

    cfg = tmp_path / "report.yaml"
    cfg.write_text("scrape_interval: 30s\n", encoding="utf-8")
    assert main(["monthly", "--config.file", str(cfg), "--config.check"]) == 0
    assert capsys.readouterr().out == "ok\n"
    cfg.write_text("scrape_interval: 30\n", encoding="utf-8")
    assert main(["monthly", "--config.file", str(cfg), "--config.check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sharpeyes-report: error: invalid report config: ") and "is not a duration" in err
    assert main(["monthly", "--config.file", str(cfg)]) == 2  # --prometheus and --out are required to run
    assert "--prometheus is required" in capsys.readouterr().err


# ------------------------------------------------------------------------------ output shapes

RECORD_COMMANDS = {  # every sub-command that prints records: --output table|json|csv and --quiet
    ("sharpeyes-inventory", ("stats",)), ("sharpeyes-inventory", ("validate",)), ("sharpeyes-inventory", ("diff",)),
    ("sharpeyes-inventory", ("reconcile",)), ("sharpeyes-inventory", ("audit",)),
    ("sharpeyes-exporter", ("reconcile",)), ("sharpeyes-exporter", ("audit",)),
    ("sharpeyes-sim", ("fault", "list")), ("sharpeyes-sim", ("fault", "types")),
    ("sharpeyes-tickets", ("list",)), ("sharpeyes-report", ("monthly",)), ("sharpeyes-alerts", ("check",)),
    ("sharpeyes-exporter", ("vqd",)), ("sharpeyes-tickets", ("user", "list")),
}
LONG_COMMANDS = {  # every long operation: --quiet silences its progress
    ("sharpeyes-inventory", ("discover",)), ("sharpeyes-exporter", ("discover",)),
    ("sharpeyes-inventory", ("generate",)), ("sharpeyes-inventory", ("import",)),
    ("sharpeyes-sim", ("history",)), ("sharpeyes-report", ("monthly",)),
}


def test_every_record_command_has_the_three_shapes_and_quiet() -> None:
    from sharpeyes.output import FORMATS

    with_output = set()
    for prog, path, p in _all_parsers():
        actions = {o: a for a in p._actions for o in a.option_strings}
        if "--output" in actions:
            with_output.add((prog, path))
            assert tuple(actions["--output"].choices) == FORMATS and "-o" in actions, (prog, path)
            assert "--quiet" in actions and "-q" in actions, (prog, path)
            parsed = p.parse_args([*(["x", "y"] if path == ("diff",) else []), *(["list"] if path == ("vqd",) else []),
                                   *(["--prometheus", "http://x", "--out", "o"] if path == ("monthly",) else [])])
            assert parsed.output is None  # table unless asked: the same output in a pipe and on a terminal
        if (prog, path) in LONG_COMMANDS:
            assert "--quiet" in actions, (prog, path)
    assert with_output >= RECORD_COMMANDS, RECORD_COMMANDS - with_output
    found = {(prog, path) for prog, path, _ in _all_parsers()}
    assert found >= LONG_COMMANDS


def test_no_hand_padded_tables_remain() -> None:
    """Tables go through sharpeyes.output (terminal cells, CJK two wide), never str.ljust/rjust or a
    width format spec on a string, which count a CJK character as one column."""
    pattern = re.compile(r"\.(ljust|rjust)\(|\{[^{}]*:[<>^]\d+\}")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "sharpeyes").rglob("*.py"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offenders == []
