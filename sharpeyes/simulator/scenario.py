"""Scripted fault scenarios in YAML, validated strictly before anything runs.

# a list of steps (or {steps: [...]})
- at: 30s                 # from the start of the scenario
  fault: fiber_cut
  target: fl-baodong-0002
  duration: 2m            # optional: cleared after that
  name: cut               # optional: lets a later step clear it
- at: 1m
  fault: packet_loss
  target: dakuai
  params: {percent: 20}
- at: 5m
  clear: cut              # a named step, or "all"
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .faults import FaultEngine, FaultError, fault_seconds

log = logging.getLogger(__name__)
STEP_KEYS = {"at", "fault", "target", "params", "duration", "name", "clear"}


class ScenarioError(ValueError):
    pass


@dataclass(slots=True)
class Step:
    at: float
    spec: dict[str, Any] = field(default_factory=dict)  # the fault spec, or empty for a clear step
    name: str = ""
    clear: str = ""


def load_scenario(path: str | Path, engine: FaultEngine) -> list[Step]:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    return parse_scenario(doc, engine, str(path))


def parse_scenario(doc: Any, engine: FaultEngine, where: str = "scenario") -> list[Step]:
    if isinstance(doc, Mapping):
        extra = sorted(set(doc) - {"steps"})
        if extra:
            raise ScenarioError(f"{where}: unknown key {extra[0]!r} (expected 'steps')")
        doc = doc.get("steps")
    if not isinstance(doc, list) or not doc:
        raise ScenarioError(f"{where}: expected a non-empty list of steps")
    steps: list[Step] = []
    names: set[str] = set()
    for n, raw in enumerate(doc, 1):
        w = f"{where}: step {n}"
        if not isinstance(raw, Mapping):
            raise ScenarioError(f"{w}: expected a mapping")
        unknown = sorted(set(raw) - STEP_KEYS)
        if unknown:
            raise ScenarioError(f"{w}: unknown key {unknown[0]!r}")
        if "at" not in raw:
            raise ScenarioError(f"{w}.at: required")
        try:
            at = 0.0 if raw["at"] in (0, "0", "0s") else fault_seconds(raw["at"], "at")
        except FaultError as exc:
            raise ScenarioError(f"{w}.{exc}") from None
        name = str(raw.get("name", ""))
        if "clear" in raw:
            if "fault" in raw or "target" in raw:
                raise ScenarioError(f"{w}: a step either adds a fault or clears one, not both")
            clear = str(raw["clear"])
            if clear != "all" and clear not in names:
                raise ScenarioError(f"{w}.clear: no earlier step named {clear!r}")
            steps.append(Step(at or 0.0, clear=clear))
            continue
        spec = {
            "type": raw.get("fault"),
            "target": raw.get("target"),
            "params": raw.get("params") or {},
            "duration": raw.get("duration"),
        }
        try:
            engine.validate(spec)
        except FaultError as exc:
            field_name = "fault" if exc.field == "type" else exc.field
            raise ScenarioError(f"{w}.{field_name}: {str(exc).split(': ', 1)[1]}") from None
        if name:
            if name in names:
                raise ScenarioError(f"{w}.name: {name!r} used twice")
            names.add(name)
        steps.append(Step(at or 0.0, spec, name))
    return sorted(steps, key=lambda s: s.at)


async def run_scenario(steps: list[Step], engine: FaultEngine) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    ids: dict[str, str] = {}
    for step in steps:
        delay = start + step.at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if step.clear == "all":
            await engine.clear_all()
        elif step.clear:
            fid = ids.get(step.clear)
            if fid and fid in engine.faults:
                await engine.clear(fid)
        else:
            fault = await engine.add(step.spec, source="scenario")
            if step.name:
                ids[step.name] = fault.id
        log.info("scenario step at %.0f s done", step.at)
