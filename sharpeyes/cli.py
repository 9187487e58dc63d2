"""One command-line dialect for every sharpeyes command (the exporter-toolkit / promslog flags).

A leaf module: it imports nothing of ours, and every command imports it. It holds:

* :func:`cli_main` — one line on error and a documented exit status, never a traceback;
* :class:`UserError` — the one error type a command raises for something the user can fix, and
  :class:`ConfigError`, the one "this configuration is invalid" error (exit status 2);
* :func:`problems_error` — the one way to report a list of file:line problems (an invalid
  inventory, config or spreadsheet) as a UserError;
* :func:`parse_duration` — Prometheus' duration grammar (``1h30m``, ``10s``, ``500ms``), used by
  every flag and every config file; :func:`host_port` and :func:`db_url`, the one reading of a
  listen address and of a database URL;
* the shared flags: ``--log.level``/``--log.format``, ``--config.file``, ``--config.check``,
  ``--web.listen-address``, ``--web.config.file``;
* :func:`parser` — a command's parser: description, examples and exit status in ``--help``;
  ``--log.level``/``--log.format`` on it and on every sub-command (before or after the sub-command
  name); usage errors on one line, exit status 2.

Its sibling leaf :mod:`sharpeyes.output` holds the rest of the dialect: ``--output table|json|csv``
and ``--quiet`` on every command that prints records, and progress (docs/cli-output.md).

Exit status: 0 ok; 1 the command ran and reports failures or findings (validation errors, a failed
check); 2 usage or configuration error; 130 interrupted.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

LOG_LEVELS = ("debug", "info", "warn", "error")
LOG_FORMATS = ("logfmt", "json")
QUIET_LIBRARIES = ("alembic",)


class UserError(Exception):
    """An error the user can fix: printed as one line (plus optional detail lines).

    ``status`` is the exit status: 1 for failures the command reports, 2 for usage/configuration.
    """

    def __init__(self, message: str, detail: Iterable[str] = (), status: int = EXIT_FINDINGS) -> None:
        super().__init__(message)
        self.message = message
        self.detail = list(detail)
        self.status = status

    def __str__(self) -> str:
        return "\n".join([self.message, *self.detail])


class ConfigError(UserError):
    """A configuration (file, flags or environment it names) is invalid: exit status 2.

    ``problems`` lists every error found (file:line objects or plain strings); the message is the
    first line a user sees, the problems its detail lines.
    """

    def __init__(self, problems: str | Iterable[object], what: str = "config") -> None:
        self.problems: list[Any] = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message, detail = f"invalid {what}: {self.problems[0]}", []
        else:
            message, detail = f"invalid {what}: {len(self.problems)} errors", [str(p) for p in self.problems]
        super().__init__(message, detail, status=EXIT_USAGE)


def problems_error(where: str, what: str, problems: Iterable[object], status: int = EXIT_USAGE,
                   hint: str = "") -> UserError:
    """``WHERE: N WHAT error(s)`` plus one detail line per problem (at most 20, then a count)."""
    items = [str(p) for p in problems]
    n = len(items)
    shown = items[:20] + ([f"… and {n - 20} more"] if n > 20 else [])
    return UserError(f"{where}: {n} {what} error{'s' if n != 1 else ''}" + (f" ({hint})" if hint else ""),
                     shown, status=status)


Main = Callable[[list[str] | None], int]


def cli_main(prog: str) -> Callable[[Main], Main]:
    """Wrap a CLI main: UserError → message + status; Ctrl-C → 130; anything else → one line, status 1."""

    def wrap(fn: Main) -> Main:
        @functools.wraps(fn)
        def main(argv: list[str] | None = None) -> int:
            try:
                return fn(argv)
            except UserError as exc:
                print(f"{prog}: error: {exc.message}", file=sys.stderr)
                for line in exc.detail:
                    print(f"  {line}", file=sys.stderr)
                return exc.status
            except KeyboardInterrupt:
                print(f"{prog}: interrupted", file=sys.stderr)
                return EXIT_INTERRUPTED
            except BrokenPipeError:
                return EXIT_OK
            except Exception as exc:  # the last line of defence: no traceback for users
                print(f"{prog}: internal error: {type(exc).__name__}: {exc} "
                      f"(set SHARPEYES_DEBUG=1 for a traceback)", file=sys.stderr)
                if _debug():
                    raise
                return EXIT_FINDINGS

        return main

    return wrap


def _debug() -> bool:
    return os.environ.get("SHARPEYES_DEBUG", "") not in ("", "0")


# --------------------------------------------------------------------------------------- durations

# Prometheus' model.ParseDuration: units in descending order, each at most once; we also accept a
# decimal fraction per unit (``2.5s``), which Prometheus' own grammar refuses but people write.
_UNITS = (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1), ("ms", 0.001))
_DURATION = re.compile("^" + "".join(rf"(?:(\d+(?:\.\d+)?){u}{'(?!s)' if u == 'm' else ''})?" for u, _ in _UNITS)
                       + "$")


def parse_duration(text: str) -> float:
    """``1h30m``, ``10s``, ``2.5s``, ``500ms``, ``30d`` → seconds; ``0`` is zero; bare numbers are refused."""
    s = str(text).strip()
    if s == "0":
        return 0.0
    m = _DURATION.match(s)
    if not s or m is None or not any(m.groups()):
        raise ValueError(f"{text!r} is not a duration (e.g. 500ms, 10s, 1m30s, 2h, 30d)")
    return sum(float(g) * mult for g, (_, mult) in zip(m.groups(), _UNITS, strict=True) if g)


def format_duration(seconds: float) -> str:
    """Seconds → the shortest duration Prometheus itself parses (integer units only: ``7s500ms``,
    never ``7.5s``), which :func:`parse_duration` reads back to the same value (to the millisecond)."""
    if seconds < 0:
        raise ValueError(f"negative duration {seconds!r}")
    out, rest = "", round(seconds * 1000)
    for unit, mult in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if rest >= mult:
            out += f"{rest // mult}{unit}"
            rest %= mult
    return out or "0s"


def duration_arg(text: str) -> float:
    """argparse ``type=`` for duration flags."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def host_port(text: str, default_host: str = "0.0.0.0", allow_zero: bool = False) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` (every address) or ``[::1]:PORT`` → (host, port).

    Port 0 (any free port) only with ``allow_zero``. ``ValueError`` with the reason otherwise.
    """
    s = str(text).strip()
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit() or not (0 if allow_zero else 1) <= int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT")
    if host.startswith("[") != host.endswith("]") or (":" in host and not host.startswith("[")):
        raise ValueError(f"{text!r} is not HOST:PORT (an IPv6 host is written [::1]:PORT)")
    return host.strip("[]") or default_host, int(port)


def host_port_arg(text: str) -> tuple[str, int]:
    try:
        return host_port(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def db_url(url: str) -> str:
    """A database URL as SQLAlchemy should read it: plain ``postgresql://``/``postgres://`` mean
    psycopg 3 (the driver we ship), not psycopg2; anything else is returned unchanged."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# ----------------------------------------------------------------------------------------- flags

def add_log_flags(p: argparse.ArgumentParser, default_level: str = "info") -> None:
    """``--log.level``/``--log.format``; ``default_level=argparse.SUPPRESS`` on sub-commands, so that
    the flag given before the sub-command stays in force when it is not repeated after it."""
    sub = default_level == argparse.SUPPRESS
    p.add_argument("--log.level", dest="log_level", choices=LOG_LEVELS, default=default_level,
                   help="only log messages with the given severity or above"
                        + ("" if sub else f" (default: {default_level})"))
    p.add_argument("--log.format", dest="log_format", choices=LOG_FORMATS,
                   default=argparse.SUPPRESS if sub else "logfmt",
                   help="output format of log messages" + ("" if sub else " (default: logfmt)"))


def add_config_flags(p: argparse.ArgumentParser, default: str | None = None, required: bool = False,
                     what: str = "configuration file") -> None:
    p.add_argument("--config.file", dest="config_file", default=default, required=required, metavar="PATH",
                   help=f"{what}" + (f" (default: {default})" if default else " (default: embedded defaults)"))
    p.add_argument("--config.check", dest="config_check", action="store_true",
                   help="validate the configuration, print 'ok' and exit 0; else one line and exit 2")


def add_web_flags(p: argparse.ArgumentParser, default_address: str) -> None:
    p.add_argument("--web.listen-address", dest="web_listen_address", default=default_address,
                   metavar="HOST:PORT", help=f"address to listen on (default: {default_address})")
    p.add_argument("--web.config.file", dest="web_config_file", default=None, metavar="PATH",
                   help="exporter-toolkit web configuration (TLS and basic auth); default: plain HTTP")


def epilog(examples: Iterable[str], exit_status: bool = True) -> str | None:
    lines = [f"  {e}" for e in examples]
    text = ("examples:\n" + "\n".join(lines)) if lines else ""
    if exit_status:
        text += ("\n\n" if text else "") + ("exit status: 0 ok, 1 failures or findings reported, "
                                             "2 usage or configuration error")
    return text or None


def _usage_error(p: argparse.ArgumentParser, message: str) -> NoReturn:
    """Usage errors are one line too, with where to look, and exit status 2."""
    print(f"{p.prog}: error: {message} (see {p.prog} --help)", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


class _HouseParser(argparse.ArgumentParser):
    """Sub-commands are :class:`SubcommandParser`; a sub-command's one-line help is its description
    too (``cmd sub --help`` says what it does); usage errors are one line."""

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("parser_class", SubcommandParser)
        action = super().add_subparsers(**kwargs)
        add_parser = action.add_parser

        def add(name: str, **kw: Any) -> argparse.ArgumentParser:
            if kw.get("help") and not kw.get("description"):
                kw["description"] = kw["help"][:1].upper() + kw["help"][1:] + "."
            return add_parser(name, **kw)  # type: ignore[no-any-return]

        action.add_parser = add  # type: ignore[method-assign]
        return action

    def error(self, message: str) -> NoReturn:
        _usage_error(self, message)


class SubcommandParser(_HouseParser):
    """A sub-command's parser: it accepts ``--log.level``/``--log.format`` after the sub-command too."""

    def __init__(self, *args: Any, examples: Iterable[str] = (), **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        if examples and "epilog" not in kwargs:
            kwargs["epilog"] = epilog(examples, exit_status=False)
        super().__init__(*args, **kwargs)
        add_log_flags(self, default_level=argparse.SUPPRESS)


class Parser(_HouseParser):
    """The top-level parser: its sub-commands are :class:`SubcommandParser`."""


def parser(prog: str, description: str, examples: Iterable[str] = ()) -> argparse.ArgumentParser:
    """An ArgumentParser in the house style: description, examples and exit status in the epilog,
    ``--log.*`` flags present on it and on every sub-command."""
    p = Parser(prog=prog, description=description, epilog=epilog(examples),
               formatter_class=argparse.RawDescriptionHelpFormatter)
    add_log_flags(p)
    return p


# --------------------------------------------------------------------------------------- logging

class _Logfmt(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        msg = record.getMessage().replace('"', '\\"')
        level = "warn" if record.levelname == "WARNING" else record.levelname.lower()
        out = f'ts={ts} level={level} source={record.name} msg="{msg}"'
        if record.exc_info and _debug():
            out += "\n" + self.formatException(record.exc_info)
        return out


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        import json

        level = "warn" if record.levelname == "WARNING" else record.levelname.lower()
        return json.dumps({"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": level,
                           "source": record.name, "msg": record.getMessage()}, ensure_ascii=False)


def setup_logging(args: Any) -> None:
    """Configure the root logger from ``--log.level``/``--log.format`` (args may lack them)."""
    level = getattr(args, "log_level", "info") or "info"
    fmt = getattr(args, "log_format", "logfmt") or "logfmt"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Json() if fmt == "json" else _Logfmt())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel({"warn": logging.WARNING}.get(level, getattr(logging, level.upper(), logging.INFO)))
    # libraries that narrate their own set-up at info (alembic lists every plugin it loads on each
    # migration) speak only at warn and above unless the user asked for debug
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
