"""Parse gate, offline: every panel and variable query, with variables replaced by sample values, is
written as a recording rule and checked by ``promtool check rules``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.dashboards.dashboards_testlib import all_dashboards, label_values, queries, substitute, variable_queries

SAMPLE = "sample-value"


def collect() -> list[tuple[str, str]]:
    """(where, PromQL) for every query of every dashboard in every language."""
    out = []
    for lang, _, data in all_dashboards():
        for q in queries(data):
            out.append((f"{lang}: {q.where()}", substitute(q.expr, {}, default=SAMPLE)))
        for name, query in variable_queries(data):
            selector, _ = label_values(query)
            out.append((f"{lang}: {data['uid']} / variable {name}", substitute(selector, {}, default=SAMPLE)))
    return out


def test_every_query_parses(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed")
    found = collect()
    assert len(found) > 150
    rules = [{"record": f"dashboard:query_{i}:check", "expr": expr} for i, (_, expr) in enumerate(found)]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(
        yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, allow_unicode=True),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        bad = sorted({found[int(i)][0] for i in _rule_indexes(proc.stdout + proc.stderr)})
        pytest.fail(f"promtool rejected dashboard queries:\n{proc.stdout}{proc.stderr}\nqueries: {bad}")


def _rule_indexes(text: str) -> list[str]:
    import re

    # promtool names the failing rule by its position in the group ("rule 12")
    return [str(int(n) - 1) for n in re.findall(r"rule (\d+)", text)]


def test_substitution() -> None:
    assert (
        substitute('rate(x{a=~"$v"}[$__rate_interval]) [$__range] ${v:regex} [[v]]', {"v": "z"})
        == 'rate(x{a=~"z"}[2m]) [1d] z z'
    )
