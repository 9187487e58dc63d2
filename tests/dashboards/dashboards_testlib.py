"""Helpers shared by the dashboards tests (a plain module: tests/ has no packages)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sharpeyes.dashboards import build
from sharpeyes.dashboards.common import LANGS

# Grafana's global variables, replaced by values that make a query mean the same thing.
GLOBALS: dict[str, str] = {
    "__rate_interval": "2m",
    "__interval": "1m",
    "__range": "1d",
    "__range_s": "86400",
    "__range_ms": "86400000",
}
_VAR = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$([A-Za-z_]\w*)|\[\[(\w+)\]\]")  # $1 is a regex group, not a variable
_LABEL_VALUES = re.compile(r"^label_values\((.*),\s*(\w+)\)$", re.S)


@dataclass(frozen=True)
class Query:
    dashboard: str  # uid
    panel: str  # panel title ("variable <name>" for variables)
    ref: str
    expr: str
    instant: bool

    def where(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref}"


def dashboards(lang: str = "en") -> dict[str, dict[str, Any]]:
    return {name: build.render(name, lang) for name in build.BUILDERS}


def all_dashboards() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for lang in LANGS:
        for name, data in dashboards(lang).items():
            yield lang, name, data


def panels(data: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for p in data.get("panels", []):
        yield p
        yield from p.get("panels", [])


def queries(data: Mapping[str, Any]) -> list[Query]:
    uid = data["uid"]
    out = []
    for p in panels(data):
        for t in p.get("targets", []):
            if "expr" in t:
                out.append(Query(uid, p.get("title", ""), t["refId"], t["expr"], bool(t.get("instant"))))
    return out


def variable_queries(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, query) of every query variable, in dashboard order (dependencies come first)."""
    out = []
    for v in data.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            query = v["query"] if isinstance(v["query"], str) else v["query"]["query"]
            out.append((v["name"], query))
    return out


def label_values(query: str) -> tuple[str, str]:
    """``label_values(selector, label)`` -> (selector, label)."""
    m = _LABEL_VALUES.match(query.strip())
    if not m:
        raise ValueError(f"not a label_values() query: {query!r}")
    return m.group(1).strip(), m.group(2)


def substitute(expr: str, values: Mapping[str, str], default: str | None = None) -> str:
    """Replace ``$var``, ``${var}``, ``${var:fmt}`` and ``[[var]]`` by sample values."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        if name in GLOBALS:
            return GLOBALS[name]
        if name in values:
            return values[name]
        if default is None:
            raise KeyError(f"no value for ${name} in {expr!r}")
        return default

    return _VAR.sub(repl, expr)


def links(data: Mapping[str, Any]) -> Iterator[str]:
    """Every URL in dashboard links, panel links and field (data) links."""
    for link in data.get("links", []):
        if link.get("url"):
            yield link["url"]
    for p in panels(data):
        for link in p.get("links", []):
            if link.get("url"):
                yield link["url"]
        field_config = p.get("fieldConfig", {})
        for link in field_config.get("defaults", {}).get("links", []):
            yield link["url"]
        for override in field_config.get("overrides", []):
            for prop in override.get("properties", []):
                if prop.get("id") == "links":
                    for link in prop["value"]:
                        yield link["url"]
