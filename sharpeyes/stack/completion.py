"""Shell completion (bash, zsh) for every sharpeyes command, generated from the commands' own parsers.

``python3 -m sharpeyes.stack.completion bash --out DIR`` writes one file per command (bash-completion's
layout: ``DIR/sharpeyes-inventory``); ``zsh`` writes ``DIR/_sharpeyes-inventory`` (a ``$fpath``
directory). Without ``--out`` the scripts of every command go to stdout, to ``source`` directly.

The scripts are static (shtab): a tab press runs no Python, which matters for commands that take a
second to import. It lives with the stack because it imports every component's parser.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import shtab

from sharpeyes.cli import UserError, cli_main, setup_logging
from sharpeyes.cli import parser as cli_parser

PROG = "python3 -m sharpeyes.stack.completion"
SHELLS = ("bash", "zsh")
# console script -> (module, function building its parser); the same table the CLI tests walk
COMMANDS = {
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
# flags that name a file or a directory complete as one
_FILES = ("--config.file", "--web.config.file", "--out", "--scenario", "--secrets", "--mapping", "--observations",
          "--firmware-baseline", "--deny-list", "--exclusions", "--tickets-db-file", "--info")
_DIRS = ("--inventory", "--into", "--state-dir", "--workdir", "--dir")


def _mark_paths(p: argparse.ArgumentParser) -> None:
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _mark_paths(sub)
        elif set(action.option_strings) & set(_DIRS):
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
        elif set(action.option_strings) & set(_FILES):
            action.complete = shtab.FILE  # type: ignore[attr-defined]


def script(command: str, shell: str) -> str:
    """The completion script of one command for one shell."""
    module, fn = COMMANDS[command]
    p: argparse.ArgumentParser = getattr(importlib.import_module(module), fn)()
    p.prog = command
    _mark_paths(p)
    return str(shtab.complete(p, shell=shell))


def filename(command: str, shell: str) -> str:
    return command if shell == "bash" else f"_{command}"


def build_parser() -> argparse.ArgumentParser:
    p = cli_parser(PROG, "Write bash or zsh completion scripts for every sharpeyes command.", examples=(
        f"{PROG} bash --out /usr/share/bash-completion/completions",
        f"{PROG} zsh --out /usr/local/share/zsh/site-functions",
        f"source <({PROG} bash)"))
    p.add_argument("shell", choices=SHELLS)
    p.add_argument("--out", type=Path, metavar="DIR", help="one file per command in DIR (default: all to stdout)")
    return p


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    if args.out is None:
        for command in COMMANDS:
            sys.stdout.write(script(command, args.shell) + "\n")
        return 0
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        for command in COMMANDS:
            (args.out / filename(command, args.shell)).write_text(script(command, args.shell), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {exc.filename}: {exc.strerror}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main(None))
