"""A small client for Prometheus' HTTP API (instant and range queries) with one-line errors.

Queries are POSTed (device regexes can be long). Every failure becomes a ``PrometheusError`` whose
message names the server and says what went wrong; the CLI prints it as one line.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sharpeyes.cli import UserError

MAX_POINTS = 11000  # Prometheus refuses query_range with more points per series


class PrometheusError(UserError):
    """Prometheus is unreachable, not ready, or refused a query."""


@dataclass(frozen=True, slots=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]  # (time, value)


class Prometheus:
    def __init__(self, url: str, timeout: float = 120.0, workers: int = 4) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise PrometheusError(f"--prometheus {url!r} is not an http(s) URL", status=2)
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.workers = workers
        self.queries = 0
        self.on_query: Callable[[], None] | None = None  # progress: called after each answered query

    def _post(self, path: str, params: dict[str, str]) -> Any:
        body = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(
            self.url + path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.queries += 1
        where = f"Prometheus at {self.url}"
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                payload = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            payload = _error_body(exc)
            if payload is None:
                raise PrometheusError(f"{where}: HTTP {exc.code} {exc.reason} for {path}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, OSError) and reason.strerror:
                reason = reason.strerror
            raise PrometheusError(f"{where} is unreachable: {reason}") from None
        except TimeoutError:
            raise PrometheusError(f"{where} did not answer within {self.timeout:g} s") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PrometheusError(f"{where} answered {path} with something that is not JSON") from None
        if not isinstance(payload, dict) or payload.get("status") != "success":
            err = payload.get("error", "unknown error") if isinstance(payload, dict) else "unexpected answer"
            kind = payload.get("errorType", "") if isinstance(payload, dict) else ""
            expr = params.get("query", "")
            short = expr if len(expr) <= 120 else expr[:117] + "..."
            raise PrometheusError(f"Prometheus at {self.url} rejected a query ({kind}: {err}): {short}")
        if self.on_query is not None:
            self.on_query()
        return payload["data"]

    def check(self) -> None:
        """Fail early with a clear message if the server is not a ready Prometheus."""
        self.query("vector(1)", 0)

    def query(self, expr: str, at: float) -> list[Series]:
        data = self._post("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})
        if data.get("resultType") != "vector":
            raise PrometheusError(f"Prometheus at {self.url}: expected a vector for {expr!r}")
        return [Series(r["metric"], [(float(r["value"][0]), float(r["value"][1]))]) for r in data["result"]]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        """A range query split into chunks of at most MAX_POINTS steps; series are merged."""
        chunks = []
        t = start
        while t <= end:
            last = min(end, t + step * (MAX_POINTS - 1))
            chunks.append((t, last))
            t = last + step
        merged: dict[tuple[tuple[str, str], ...], Series] = {}
        for part in self.map(lambda c: self._range(expr, c[0], c[1], step), chunks):
            for s in part:
                key = tuple(sorted(s.labels.items()))
                if key in merged:
                    merged[key].points.extend(s.points)
                else:
                    merged[key] = s
        return list(merged.values())

    def _range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        data = self._post(
            "/api/v1/query_range",
            {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"},
        )
        return [Series(r["metric"], [(float(t), float(v)) for t, v in r["values"]]) for r in data["result"]]

    def map(self, fn: Any, items: Iterable[Any]) -> list[Any]:
        """Run independent queries concurrently (Prometheus evaluates them on its own cores)."""
        items = list(items)
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(fn, items))


def _error_body(exc: urllib.error.HTTPError) -> Any:
    try:
        return json.loads(exc.read())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return None


def regex_escape(value: str) -> str:
    """Escape a label value for a PromQL regex matcher inside a double-quoted string."""
    special = set(r".^$*+?()[]{}|\\")
    out = "".join("\\" + c if c in special else c for c in value)
    return out.replace("\\", "\\\\").replace('"', '\\"')


def device_matcher(devices: Iterable[str]) -> str:
    return "|".join(regex_escape(d) for d in sorted(devices))
