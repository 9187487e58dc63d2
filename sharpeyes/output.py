"""What every sharpeyes command prints: records as a table, JSON or CSV, and progress.

A leaf module (it imports nothing of ours), on ``rich``: rich measures text in terminal cells
(``cell_len``: a CJK character is two columns), drops colour when the stream is not a terminal and
honours ``NO_COLOR``.

* :func:`add_output_flags` — ``--output table|json|csv`` (table by default) and ``--quiet``;
* :func:`emit` — one list of records in the chosen shape; field names are the record keys, stable
  and documented per command;
* :func:`progress` — a bar with count, rate and ETA on a terminal (stderr); when stderr is not a
  terminal, nothing for a phase under two seconds and one log line (INFO) when a longer one ends, so
  cron/CI logs keep one line per long phase and ``--log.level warn`` makes them silent; ``--quiet``
  silences progress everywhere.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "json", "csv")
log = logging.getLogger("sharpeyes.progress")
# Off a terminal, a phase shorter than this leaves no line: quick commands stay silent in cron and CI
PHASE_LOG_MIN_S = 2.0


def add_output_flags(p: argparse.ArgumentParser, suppress: bool = False, aliases: Sequence[str] = ()) -> None:
    """``--output``/``-o`` and ``--quiet``/``-q``; ``suppress`` leaves a parent's value in force;
    ``aliases`` keeps a command's older spelling (``--format``) working."""
    p.add_argument("--output", "-o", *aliases, dest="output", choices=FORMATS,
                   default=argparse.SUPPRESS if suppress else None,
                   help="record format: table (default), json or csv")
    add_quiet_flag(p, suppress)


def add_quiet_flag(p: argparse.ArgumentParser, suppress: bool = False) -> None:
    p.add_argument("--quiet", "-q", dest="quiet", action="store_true",
                   default=argparse.SUPPRESS if suppress else False,
                   help="no progress and no summary lines on stderr")


def output_format(args: Any) -> str:
    """The chosen ``--output``, else ``table`` (in a pipe too: scripts ask for json/csv by name, so
    that what a command prints never depends on where its output goes)."""
    return str(getattr(args, "output", None) or "table")


def quiet(args: Any) -> bool:
    return bool(getattr(args, "quiet", False))


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return " ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """A cell as one line of inert text: a name from a device or a spreadsheet may hold a newline or
    an escape sequence that would break the row or drive the terminal; shown as ``\\xNN`` instead."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def render_table(records: Sequence[Mapping[str, Any]], fields: Sequence[str], stream: IO[str]) -> None:
    """Columns aligned in terminal cells (CJK = 2), header in upper case; no borders, so that the
    text copies cleanly; colour only on a terminal without ``NO_COLOR``. On a terminal, columns too
    wide for it end in an ellipsis; in a pipe nothing is cut."""
    tty = _isatty(stream)
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold cyan" if tty else "",
                  padding=(0, 2, 0, 0))
    for f in fields:
        table.add_column(f.upper(), overflow="ellipsis", no_wrap=True)
    for r in records:
        table.add_row(*(Text(_printable(_cell(r.get(f)))) for f in fields))
    width = None if tty else 100_000  # a pipe is not 80 columns: never wrap or cut a record
    console = Console(file=stream, width=width, soft_wrap=False, highlight=False,
                      force_terminal=None if tty else False)
    with console.capture() as cap:
        console.print(table)
    text = "\n".join(line.rstrip() for line in cap.get().splitlines())
    stream.write(text + "\n")


def emit(records: Iterable[Mapping[str, Any]], fields: Sequence[str], fmt: str,
         stream: IO[str] | None = None, empty: str = "no records") -> None:
    """Print ``records`` as ``fmt``: ``json`` (a list of objects, every key kept), ``csv`` (a header
    of ``fields``, one row per record) or ``table`` (``fields`` as columns; ``empty`` when none)."""
    out = stream or sys.stdout
    rows = list(records)
    if fmt == "json":
        out.write(json.dumps(rows, ensure_ascii=False, indent=1, default=str) + "\n")
    elif fmt == "csv":
        w = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows({f: _cell(r.get(f)) for f in fields} for r in rows)
    elif not rows:
        out.write(empty + "\n")
    else:
        render_table(rows, fields, out)


# ------------------------------------------------------------------------------------ progress

class Tracker:
    """What a long operation reports to: :meth:`advance` after each item, :meth:`total` once known."""

    def __init__(self, bar: Progress | None, task: Any, phase: str, total: int | None) -> None:
        self._bar, self._task, self.phase = bar, task, phase
        self.done, self._total, self.started = 0, total, time.monotonic()
        self._lock = threading.Lock()  # queries and polls finish on worker threads

    def total(self, n: int) -> None:
        self._total = n
        if self._bar is not None:
            self._bar.update(self._task, total=n)

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
        if self._bar is not None:
            self._bar.update(self._task, advance=n)

    def step(self, what: str) -> None:
        """Start the next named step of a phase (a count of steps as total)."""
        if self.done or getattr(self, "_stepped", False):
            self.advance()
        self._stepped = True
        if self._bar is not None:
            self._bar.update(self._task, description=f"{self.phase}: {what}")

    def summary(self) -> str:
        s = time.monotonic() - self.started
        count = f"{self.done}/{self._total}" if self._total is not None else f"{self.done}"
        rate = f", {self.done / s:.1f}/s" if s > 0 and self.done else ""
        return f"{self.phase}: {count} done in {s:.1f} s{rate}"


class _Rate(ProgressColumn):
    def render(self, task: Any) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "–/s")


def _bar(stream: IO[str]) -> Progress:
    console = Console(file=stream, highlight=False)
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TaskProgressColumn(), _Rate(), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=console, transient=True, refresh_per_second=8)


@contextmanager
def progress(phase: str, total: int | None = None, args: Any = None,
             stream: IO[str] | None = None) -> Iterator[Tracker]:
    """Report a long phase: a live bar on a terminal (stderr), else one INFO log line at its end."""
    err = stream or sys.stderr
    if quiet(args):
        yield Tracker(None, None, phase, total)
        return
    if not _isatty(err):
        t = Tracker(None, None, phase, total)
        yield t
        if time.monotonic() - t.started >= PHASE_LOG_MIN_S:
            log.info(t.summary())
        return
    with _bar(err) as bar:
        t = Tracker(bar, bar.add_task(phase, total=total), phase, total)
        yield t
    Console(file=err, highlight=False).print(t.summary(), markup=False)


class StatusLine:
    """One status that changes over time (the demo's "devices seen up"): rewritten in place on a
    terminal, a new line only when the text changes otherwise."""

    def __init__(self, stream: IO[str] | None = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.tty = _isatty(self.stream)
        self.enabled = enabled
        self._last = ""

    def update(self, text: str) -> None:
        if not self.enabled or text == self._last:
            return
        self._last = text
        if self.tty:
            self.stream.write("\r\x1b[2K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, text: str | None = None) -> None:
        if text is not None:
            self.update(text)
        if self.enabled and self.tty and self._last:
            self.stream.write("\n")
            self.stream.flush()
        self._last = ""
