"""``sharpeyes-alerts build --out DIR`` and ``sharpeyes-alerts check``.

``build --config.check`` validates the settings given as flags without writing; ``check`` runs
promtool and amtool on a built directory. Errors are one line on stderr: exit status 2 for usage or
an invalid setting, 1 for a failed check; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from sharpeyes.alerts import build
from sharpeyes.alerts.config import Config, validate
from sharpeyes.cli import (
    ConfigError,
    UserError,
    cli_main,
    format_duration,
    parse_duration,
    setup_logging,
)
from sharpeyes.cli import parser as cli_parser
from sharpeyes.output import add_output_flags, emit, output_format

PROG = "sharpeyes-alerts"


class CheckFailed(UserError):
    """promtool or amtool refused what was built (exit status 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def _am_duration(text: str) -> str:
    """A duration flag for alertmanager.yml, written back in the grammar Alertmanager reads."""
    try:
        return format_duration(parse_duration(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    p = cli_parser(PROG, "Build and check sharpeyes Prometheus rules and Alertmanager config.", examples=(
        f"{PROG} build --out /etc/prometheus/sharpeyes",
        f"{PROG} check --dir /etc/prometheus/sharpeyes",
        f"{PROG} build --group-wait 2s --for-scale 0.1 --config.check"))
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write rule files, alertmanager.yml and promtool tests")
    b.add_argument(
        "--out", type=Path, default=build.DEFAULT_OUT, help="output directory (default: %(default)s)"
    )
    b.add_argument("--group-wait", type=_am_duration, metavar="DURATION",
                   help="Alertmanager group_wait (e.g. 1s for demos/tests)")
    b.add_argument("--group-interval", type=_am_duration, metavar="DURATION", help="Alertmanager group_interval")
    b.add_argument("--repeat-interval", type=_am_duration, metavar="DURATION",
                   help="Alertmanager repeat_interval")
    b.add_argument("--tickets-url", help="tickets service webhook URL")
    b.add_argument("--tickets-credentials-file", help="file holding the tickets webhook bearer token")
    b.add_argument("--runbook-base-url", help="base URL of docs/runbooks")
    b.add_argument("--stills-base-url", help="exporter URL whose /vqd/<device>/last.jpg image-fault alerts link")
    b.add_argument("--for-scale", type=float, default=1.0,
                   help="multiply every alert's for: (e.g. 0.1 for demos; promtool tests use 1.0)")
    b.add_argument("--config.check", dest="config_check", action="store_true",
                   help="validate these settings, print 'ok' and exit 0 (else one line, exit 2); write nothing")
    c = sub.add_parser("check", help="promtool check/test rules and amtool check-config on a built directory",
                       examples=(f"{PROG} check", f"{PROG} check --dir /etc/prometheus/sharpeyes --output json"),
                       description="Run promtool check/test rules and amtool check-config on a built "
                                   "directory: one record per run (fields: " + ", ".join(CHECK_FIELDS)
                                   + "); exit 1 when any failed.")
    add_output_flags(c)
    c.add_argument(
        "--dir", type=Path, default=build.DEFAULT_OUT, help="built directory (default: %(default)s)"
    )
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    cfg = Config()
    if args.runbook_base_url:
        cfg = replace(cfg, runbook_base_url=args.runbook_base_url)
    if args.stills_base_url:
        cfg = replace(cfg, stills_base_url=args.stills_base_url)
    if args.for_scale != 1.0:
        if not 0 < args.for_scale <= 10:
            raise UserError("--for-scale must be in (0, 10]", status=2)
        cfg = replace(cfg, for_scale=args.for_scale)
    am = {
        key: value
        for key in (
            "group_wait",
            "group_interval",
            "repeat_interval",
            "tickets_url",
            "tickets_credentials_file",
        )
        if (value := getattr(args, key)) is not None
    }
    return cfg.with_alertmanager(**am) if am else cfg


CHECK_FIELDS = ("tool", "file", "ok", "detail")


def _run(argv: list[str]) -> None:
    tool = shutil.which(argv[0])
    if tool is None:
        raise CheckFailed(
            f"{argv[0]} not found on PATH (Debian: apt-get install prometheus prometheus-alertmanager)"
        )
    proc = subprocess.run([tool, *argv[1:]], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        detail = next((ln for ln in lines if ln.startswith(("name:", "FAILED", "error", "Error"))), "")
        detail = detail or (lines[-1] if lines else f"exit status {proc.returncode}")
        raise CheckFailed(f"{' '.join(argv)} failed: {detail}")


def _stale_files(directory: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        build.write(Config(), Path(tmp))
        fresh = {p.relative_to(tmp) for p in Path(tmp).rglob("*") if p.is_file()}
        return sorted(
            str(rel)
            for rel in fresh
            if not (directory / rel).is_file()
            or (directory / rel).read_text(encoding="utf-8") != (Path(tmp) / rel).read_text(encoding="utf-8")
        )


def check(directory: Path) -> list[str]:
    """Run every check on a built directory; returns what was checked, raises CheckFailed."""
    records = check_records(directory)
    failed = [r for r in records if not r["ok"]]
    if failed:
        raise CheckFailed(str(failed[0]["detail"]))
    return [str(r["file"]) for r in records]


def check_records(directory: Path) -> list[dict[str, object]]:
    """One record per tool run on a built directory (``tool``, ``file``, ``ok``, ``detail``); every
    file is checked even after a failure. A missing or stale directory raises CheckFailed."""
    rules = [directory / build.RECORDING_FILE, directory / build.RULES_FILE]
    ams = [directory / build.ALERTMANAGER_FILE, directory / build.EXAMPLE_CHANNELS_FILE]
    tests = sorted((directory / build.TESTS_DIR).glob("*.yml"))
    for path in [*rules, *ams]:
        if not path.is_file():
            raise CheckFailed(f"{path} missing: run `{PROG} build --out {directory}`")
    if directory.resolve() == build.DEFAULT_OUT.resolve():
        stale = _stale_files(directory)
        if stale:
            raise CheckFailed(f"{directory} is out of date ({', '.join(stale)}): run `{PROG} build`")
    runs = [(["promtool", "check", "rules", str(r)], r) for r in rules]
    runs += [(["promtool", "test", "rules", str(t)], t) for t in tests]
    runs += [(["amtool", "check-config", str(a)], a) for a in ams]
    # the tools are single-threaded and the alert tests take tens of seconds: one run per core
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(_record, runs))


def _record(run: tuple[list[str], Path]) -> dict[str, object]:
    argv, path = run
    try:
        _run(argv)
        return {"tool": " ".join(argv[:-1]), "file": str(path), "ok": True, "detail": ""}
    except CheckFailed as exc:
        return {"tool": " ".join(argv[:-1]), "file": str(path), "ok": False, "detail": exc.message}


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging(args)
    try:
        if args.command == "build":
            cfg = config_from_args(args)
            problems = validate(cfg)
            if problems:
                raise ConfigError(problems)
            if args.config_check:
                print("ok")
                return 0
            for written in build.write(cfg, args.out):
                print(written)
        else:
            records = check_records(args.dir)
            emit(records, CHECK_FIELDS, output_format(args))
            failed = [r for r in records if not r["ok"]]
            if failed:
                raise CheckFailed(str(failed[0]["detail"])
                                  + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""))
    except OSError as exc:
        raise UserError(f"{exc.filename or ''}: {exc.strerror or exc}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main(None))
