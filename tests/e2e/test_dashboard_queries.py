"""Data test: every dashboard query against a real Prometheus holding live simulator data.

The ``district_prometheus`` fixture (the URL of a Prometheus scraping the simulated township through
sharpeyes-exporter, with our recording and alert rules loaded) comes from ``tests/e2e/stack.py``.
Every query must parse (HTTP 200) and return at least one series, except the few in
``dashboards.common.MAY_BE_EMPTY`` (each with its reason), which only have to parse. Variables'
``label_values()`` must resolve to at least one value; the first value is used for the panels (so
the camera dashboard is checked on a real camera).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from sharpeyes.dashboards import common
from tests.dashboards.dashboards_testlib import dashboards, label_values, queries, substitute, variable_queries


def _query(base: str, expr: str) -> tuple[int, Any]:
    data = urllib.parse.urlencode({"query": expr}).encode()
    req = urllib.request.Request(f"{base.rstrip('/')}/api/v1/query", data=data, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _resolve_variables(base: str, data: dict[str, Any], failures: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for v in data["templating"]["list"]:
        if v["type"] == "constant":
            values[v["name"]] = v["query"]
    for name, query in variable_queries(data):
        selector, label = label_values(query)
        expr = f"count by ({label}) ({substitute(selector, values)})"
        status, body = _query(base, expr)
        found = (
            sorted(r["metric"].get(label, "") for r in body.get("data", {}).get("result", []))
            if status == 200
            else []
        )
        found = [f for f in found if f]
        if not found:
            failures.append(f"{data['uid']} / variable {name}: {query} -> HTTP {status}, no value")
            values[name] = "no-value"
        else:
            values[name] = found[0]
    return values


@pytest.mark.parametrize("store", ["district_prometheus", "district_victoriametrics"])
def test_every_panel_query_returns_series(store: str, request: pytest.FixtureRequest) -> None:
    """The same queries, unchanged, against Prometheus and against VictoriaMetrics (the global store
    a sharded deployment's Grafana points at), which holds what Prometheus remote-wrote to it."""
    store_url = request.getfixturevalue(store)
    base = str(getattr(store_url, "url", store_url))
    failures: list[str] = []
    checked = 0
    for data in dashboards("en").values():
        values = _resolve_variables(base, data, failures)
        for q in queries(data):
            expr = substitute(q.expr, values)
            status, body = _query(base, expr)
            checked += 1
            if status != 200 or body.get("status") != "success":
                failures.append(f"{q.where()}: HTTP {status} {body.get('error', '')}\n    {expr}")
            elif not body["data"]["result"] and q.expr not in common.MAY_BE_EMPTY:
                failures.append(f"{q.where()}: no series\n    {expr}")
    assert checked > 100
    assert not failures, f"{len(failures)} dashboard queries failed:\n" + "\n".join(failures)
