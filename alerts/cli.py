"""``sharpeyes-alerts build --out DIR`` and ``sharpeyes-alerts check``.

Errors are one line on stderr: exit status 2 for usage, 1 for a failed check; never a traceback.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from alerts import build
from alerts.config import Config, validate

PROG = "sharpeyes-alerts"


class CheckFailed(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Build and check sharpeyes Prometheus rules and Alertmanager config."
    )
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write rule files, alertmanager.yml and promtool tests")
    b.add_argument(
        "--out", type=Path, default=build.DEFAULT_OUT, help="output directory (default: %(default)s)"
    )
    b.add_argument("--group-wait", help="Alertmanager group_wait (e.g. 1s for demos/tests)")
    b.add_argument("--group-interval", help="Alertmanager group_interval")
    b.add_argument("--repeat-interval", help="Alertmanager repeat_interval")
    b.add_argument("--tickets-url", help="tickets service webhook URL")
    b.add_argument("--tickets-credentials-file", help="file holding the tickets webhook bearer token")
    b.add_argument("--runbook-base-url", help="base URL of docs/runbooks")
    b.add_argument("--for-scale", type=float, default=1.0,
                   help="multiply every alert's for: (e.g. 0.1 for demos; promtool tests use 1.0)")
    c = sub.add_parser("check", help="promtool check/test rules and amtool check-config on a built directory")
    c.add_argument(
        "--dir", type=Path, default=build.DEFAULT_OUT, help="built directory (default: %(default)s)"
    )
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    cfg = Config()
    if args.runbook_base_url:
        cfg = replace(cfg, runbook_base_url=args.runbook_base_url)
    if args.for_scale != 1.0:
        if not 0 < args.for_scale <= 10:
            raise CheckFailed("--for-scale must be in (0, 10]")
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
    _run(["promtool", "check", "rules", *map(str, rules)])
    for test in tests:
        _run(["promtool", "test", "rules", str(test)])
    for am in ams:
        _run(["amtool", "check-config", str(am)])
    return [str(p) for p in [*rules, *tests, *ams]]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            cfg = config_from_args(args)
            problems = validate(cfg)
            if problems:
                raise CheckFailed("invalid config: " + "; ".join(problems))
            for written in build.write(cfg, args.out):
                print(written)
        else:
            for checked in check(args.dir):
                print(f"ok {checked}")
    except CheckFailed as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{PROG}: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
