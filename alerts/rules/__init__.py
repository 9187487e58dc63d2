"""Rule groups by area. Each module exposes ``groups(cfg) -> list[Group]``."""

from __future__ import annotations

from alerts.config import Config
from alerts.rules import cameras, fiber, monitoring, places, recording, switches
from alerts.rules.common import Group

ALERT_AREAS = (cameras, switches, fiber, places, monitoring)


def alert_groups(cfg: Config) -> list[Group]:
    return [g for area in ALERT_AREAS for g in area.groups(cfg)]


def recording_groups(cfg: Config) -> list[Group]:
    return recording.groups(cfg)
