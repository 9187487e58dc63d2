"""Strict reading of YAML node trees with file:line in every error.

We compose YAML into nodes (libyaml when available) and convert scalars ourselves, per field,
so that ``no``/``on``/``2019-06-12`` mean what the schema says, and every error can name the line.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sharpeyes.cli import parse_duration

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is in every wheel we ship against
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

@dataclass(frozen=True, slots=True)
class Source:
    """Where an object was written: file and 1-based line, for error messages."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation error: where, which object, which field, what is wrong."""

    file: str
    line: int
    obj: str  # e.g. "device cam-001" or "" for file-level problems
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" {self.obj}:" if self.obj else ""
        fld = f" field '{self.field}':" if self.field else ""
        return f"{where}:{who}{fld} {self.message}"


class Problems:
    """Collects every problem of a load; the load fails once, with all of them."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, src: Source | None, obj: str, field: str, message: str) -> None:
        file, line = (src.file, src.line) if src else ("<inventory>", 0)
        self.items.append(Problem(file, line, obj, field, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)


def read_text(path: str | Path, shown: str, problems: Problems) -> str | None:
    """A file's text, or None with a file:line problem: unreadable, or not UTF-8 (a file saved
    as GBK/GB18030 by a Chinese Windows editor is the usual case)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        problems.add(Source(shown, 0), "", "", f"cannot read: {exc.strerror}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, message = decode_error(data, exc)
        problems.add(Source(shown, line), "", "", message)
        return None


def decode_error(data: bytes, exc: UnicodeDecodeError) -> tuple[int, str]:
    """(1-based line, message) for bytes that are not UTF-8."""
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return line, (
        f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
        "(saved as GBK/GB18030 or another encoding? save the file as UTF-8)"
    )


def first_alias(text: str) -> tuple[int, str] | None:
    """(line, what) of the first YAML anchor or alias in text, or None. Aliases let a few KB
    expand into millions of nodes for everything that walks the tree (billion laughs); data
    written by people and spreadsheets has no use for them. Only a text containing & or * is
    parsed for it, so ordinary files pay nothing."""
    if "&" not in text and "*" not in text:
        return None
    try:
        for event in yaml.parse(text, Loader=_Loader):
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                line = event.start_mark.line + 1 if event.start_mark is not None else 0
                kind = "alias *" if isinstance(event, yaml.AliasEvent) else "anchor &"
                return line, f"{kind}{anchor}"
    except yaml.YAMLError:
        return None  # compose reports the syntax error with its line
    return None


def compose_file(path: str, text: str, problems: Problems, *, aliases: bool = True) -> yaml.Node | None:
    """The node tree of a YAML text; None (with a problem) on a syntax error, an empty document, or
    with aliases=False an anchor or alias."""
    if not aliases:
        found = first_alias(text)
        if found is not None:
            problems.add(Source(path, found[0]), "", "", f"YAML {found[1]}: anchors and aliases are not allowed here")
            return None
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        context = ""
        if exc.context:
            context = f" ({exc.context}"
            if exc.context_mark and exc.context_mark.line + 1 != line:
                context += f" started at line {exc.context_mark.line + 1}"
            context += ")"
        problems.add(Source(path, line), "", "", f"YAML syntax error: {exc.problem}{context}")
    except yaml.YAMLError as exc:
        problems.add(Source(path, 0), "", "", f"YAML error: {exc}")
    return None


NULLS = frozenset(("", "~", "null", "Null", "NULL"))


class Missing:
    pass


MISSING = Missing()


class FieldError(ValueError):
    pass


# --- scalar converters: str -> value, raising FieldError with a readable reason -------------------

def to_str(v: str) -> str:
    return v


def to_int(v: str) -> int:
    try:
        return int(v)
    except ValueError:
        raise FieldError(f"{v!r} is not an integer") from None


def to_float(v: str) -> float:
    try:
        return float(v)
    except ValueError:
        raise FieldError(f"{v!r} is not a number") from None


def to_duration(v: str) -> float:
    """A Prometheus duration (``1h30m``, ``10s``, ``500ms``) → seconds."""
    try:
        return parse_duration(v)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def to_date(v: str) -> dt.date:
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise FieldError(f"{v!r} is not a date (YYYY-MM-DD)") from None


def to_ipv4(v: str) -> str:
    try:
        return str(ipaddress.IPv4Address(v))
    except ValueError:
        raise FieldError(f"{v!r} is not a valid IPv4 address") from None


_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$")


def to_mac(v: str) -> str:
    if not _MAC.match(v):
        raise FieldError(f"{v!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    return v.replace("-", ":").lower()


_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def to_id(v: str) -> str:
    if not _ID.match(v):
        raise FieldError(f"{v!r} is not a valid id (lower-case letters, digits, '-', '_', '.')")
    return v


def to_bool(v: str) -> bool:
    if v in ("true", "True", "yes"):
        return True
    if v in ("false", "False", "no"):
        return False
    raise FieldError(f"{v!r} is not true or false")


def one_of(*choices: str) -> Callable[[str], str]:
    def conv(v: str) -> str:
        if v not in choices:
            raise FieldError(f"{v!r} is not one of {', '.join(choices)}")
        return v

    return conv


class MappingReader:
    """Reads one YAML mapping against a field spec, reporting unknown/missing/invalid fields."""

    __slots__ = ("_seen", "file", "lines", "node", "obj", "problems", "values")

    def __init__(self, file: str, node: yaml.Node, obj: str, problems: Problems) -> None:
        self.file = file
        self.node = node
        self.obj = obj
        self.problems = problems
        self.values: dict[str, yaml.Node] = {}
        self.lines: dict[str, int] = {}
        if not isinstance(node, yaml.MappingNode):
            problems.add(self.source, obj, "", f"expected a mapping, found {_kind(node)}")
            return
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k)
            if key in self.values:
                problems.add(Source(file, k.start_mark.line + 1), obj, key, "key given twice")
            self.values[key] = v
            self.lines[key] = k.start_mark.line + 1

    @property
    def source(self) -> Source:
        return Source(self.file, self.node.start_mark.line + 1)

    def src(self, key: str) -> Source:
        line = self.lines.get(key)
        return Source(self.file, line) if line else self.source

    def reject_unknown(self, allowed: set[str] | frozenset[str]) -> None:
        for key in self.values:
            if key not in allowed:
                self.problems.add(self.src(key), self.obj, key, "unknown key")

    def error(self, key: str, message: str) -> None:
        self.problems.add(self.src(key), self.obj, key, message)

    def scalar(self, key: str, conv: Callable[[str], Any] = to_str, default: Any = MISSING) -> Any:
        node = self.values.get(key)
        if node is None or (isinstance(node, yaml.ScalarNode) and node.value in NULLS and node.style is None):
            if default is MISSING:
                if isinstance(self.node, yaml.MappingNode):
                    self.error(key, "required field is missing")
                return None
            return default
        if not isinstance(node, yaml.ScalarNode):
            self.error(key, f"expected a value, found {_kind(node)}")
            return None
        try:
            return conv(node.value)
        except FieldError as exc:
            self.error(key, str(exc))
            return None

    def seq(self, key: str, required: bool = False) -> list[yaml.Node]:
        node = self.values.get(key)
        if node is None or (isinstance(node, yaml.ScalarNode) and node.value in NULLS):
            if required:
                self.error(key, "required list is missing")
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(key, f"expected a list, found {_kind(node)}")
            return []
        return list(node.value)

    def str_list(self, key: str) -> tuple[str, ...]:
        out = []
        for item in self.seq(key):
            if isinstance(item, yaml.ScalarNode):
                out.append(item.value)
            else:
                self.error(key, f"expected a list of strings, found {_kind(item)} in it")
        return tuple(out)

    def mapping(self, key: str, obj: str, required: bool = False) -> MappingReader | None:
        node = self.values.get(key)
        if node is None:
            if required:
                self.error(key, "required section is missing")
            return None
        return MappingReader(self.file, node, obj, self.problems)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{node.value!r}"
