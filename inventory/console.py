"""Shared CLI behaviour for every sharpeyes command: one clear line on error, never a traceback."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class UserError(Exception):
    """An error the user can fix; printed as one line (plus optional detail lines), exit status 1."""

    def __init__(self, message: str, detail: Iterable[str] = (), status: int = 1) -> None:
        super().__init__(message)
        self.detail = list(detail)
        self.status = status


def cli_main(prog: str) -> Callable[[Callable[[list[str] | None], int]], Callable[[list[str] | None], int]]:
    """Wrap a CLI main: UserError → message + status; Ctrl-C → 130; anything else → one line, status 1."""

    def wrap(fn: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
        @functools.wraps(fn)
        def main(argv: list[str] | None = None) -> int:
            try:
                return fn(argv)
            except UserError as exc:
                print(f"{prog}: error: {exc}", file=sys.stderr)
                for line in exc.detail:
                    print(f"  {line}", file=sys.stderr)
                return exc.status
            except KeyboardInterrupt:
                print(f"{prog}: interrupted", file=sys.stderr)
                return 130
            except BrokenPipeError:
                return 0
            except Exception as exc:  # the last line of defence: no traceback for users
                print(f"{prog}: internal error: {type(exc).__name__}: {exc} "
                      f"(set SHARPEYES_DEBUG=1 for a traceback)", file=sys.stderr)
                if _debug():
                    raise
                return 1

        return main

    return wrap


def _debug() -> bool:
    import os

    return os.environ.get("SHARPEYES_DEBUG", "") not in ("", "0")


def progress(items: Iterable[T], total: int, label: str, every: float = 0.5) -> Iterator[T]:
    """Yield items, showing 'label n/total' on stderr when it is a terminal (and at most every 0.5 s)."""
    tty = sys.stderr.isatty()
    last = 0.0
    n = 0
    for n, item in enumerate(items, 1):
        now = time.monotonic()
        if tty and now - last >= every:
            print(f"\r{label} {n}/{total}", end="", file=sys.stderr, flush=True)
            last = now
        yield item
    if tty:
        print(f"\r{label} {n}/{total}", file=sys.stderr, flush=True)
