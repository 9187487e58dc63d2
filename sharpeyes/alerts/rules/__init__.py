"""Rule groups by area. Each module exposes ``groups(cfg) -> list[Group]``."""

from __future__ import annotations

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules import cameras, fiber, images, monitoring, places, recording, switches, video_recording
from sharpeyes.alerts.rules.common import Group

ALERT_AREAS = (cameras, images, switches, fiber, places, video_recording, monitoring)


def alert_groups(cfg: Config) -> list[Group]:
    return [g for area in ALERT_AREAS for g in area.groups(cfg)]


def recording_groups(cfg: Config) -> list[Group]:
    return recording.groups(cfg)
