"""Render Prometheus text exposition without a per-sample object graph.

Probes append samples to a TextWriter; families stay contiguous with one HELP/TYPE each, as the
format requires. This is the hot path of a switch probe (hundreds of samples), so it formats
strings directly instead of building prometheus_client metric objects.
"""

from __future__ import annotations

import math

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape_label(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def format_value(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_labels(labels: dict[str, str] | None) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items()) + "}"


class TextWriter:
    """A MetricWriter (see probers.base) that renders to exposition text."""

    __slots__ = ("_families",)

    def __init__(self) -> None:
        self._families: dict[str, tuple[str, str, list[str]]] = {}

    def _add(self, kind: str, name: str, help: str, value: float, labels: dict[str, str] | None) -> None:
        fam = self._families.get(name)
        if fam is None:
            fam = self._families[name] = (kind, help, [])
        elif fam[0] != kind:
            raise ValueError(f"metric {name} emitted as both {fam[0]} and {kind}")
        fam[2].append(f"{name}{format_labels(labels)} {format_value(value)}")

    def gauge(self, name: str, help: str, value: float, labels: dict[str, str] | None = None) -> None:
        self._add("gauge", name, help, value, labels)

    def counter(self, name: str, help: str, value: float, labels: dict[str, str] | None = None) -> None:
        if not name.endswith("_total"):
            raise ValueError(f"counter {name} must end in _total")
        self._add("counter", name, help, value, labels)

    def samples(self, name: str) -> list[str]:
        fam = self._families.get(name)
        return list(fam[2]) if fam else []

    def render(self) -> str:
        parts: list[str] = []
        for name, (kind, help, lines) in self._families.items():
            # text format 0.0.4: the family is announced with the sample name (as client_python does)
            parts.append(f"# HELP {name} {help}\n# TYPE {name} {kind}\n")
            parts.append("\n".join(lines))
            parts.append("\n")
        return "".join(parts)
