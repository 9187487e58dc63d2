"""Render every dashboard in every language to JSON: ``generated/<lang>/<audience>/<name>.json``.

The output is deterministic (sorted keys, panel ids numbered in order), committed, and compared in CI
by ``sharpeyes-dashboards check``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from sharpeyes.dashboards import camera, fiber, monitoring, overview, switches, tickets, township, video_recording
from sharpeyes.dashboards.common import AUDIENCE, LANGS, UIDS, Lang

GENERATED = Path(__file__).resolve().parent / "generated"
BUILDERS: dict[str, Callable[[Lang], Dashboard]] = {
    "overview": overview.build,
    "township": township.build,
    "camera": camera.build,
    "fiber": fiber.build,
    "switches": switches.build,
    "tickets": tickets.build,
    "monitoring": monitoring.build,
    "recording": video_recording.build,
}
assert BUILDERS.keys() == UIDS.keys() == AUDIENCE.keys()


def _number_panels(panels: list[dict[str, Any]], start: int = 1) -> int:
    n = start
    for p in panels:
        p["id"] = n
        n += 1
        n = _number_panels(p.get("panels", []), n)
    return n


def render(name: str, lang: str) -> dict[str, Any]:
    """One dashboard as the JSON model Grafana stores."""
    model = BUILDERS[name](Lang(lang)).build()
    data: dict[str, Any] = json.loads(json.dumps(model, cls=JSONEncoder))
    _number_panels(data.get("panels", []))
    data["annotations"] = {
        "list": [
            {
                "builtIn": 1,
                "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                "enable": True,
                "hide": True,
                "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts",
                "type": "dashboard",
            }
        ]
    }
    data["id"] = None
    data["version"] = 1
    return data


def relpath(name: str, lang: str) -> str:
    return f"{lang}/{AUDIENCE[name]}/{name}.json"


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_all(langs: Iterable[str] = LANGS) -> dict[str, str]:
    """relative path -> file text, for every dashboard and language."""
    return {relpath(name, lang): dumps(render(name, lang)) for lang in langs for name in BUILDERS}


def write(out: Path, langs: Iterable[str] = LANGS) -> list[Path]:
    written = []
    for rel, text in render_all(langs).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def diff(committed: Path = GENERATED) -> list[str]:
    """Relative paths whose committed text differs from a fresh build (missing, changed or extra)."""
    fresh = render_all()
    on_disk = (
        {str(p.relative_to(committed)): p for p in committed.rglob("*.json")} if committed.is_dir() else {}
    )
    changed = [
        rel
        for rel, text in fresh.items()
        if rel not in on_disk or on_disk[rel].read_text(encoding="utf-8") != text
    ]
    extra = [rel for rel in on_disk if rel not in fresh]
    return sorted(changed + extra)
