"""Helpers shared by the alerts tests (a plain module: tests/ has no packages)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sharpeyes.alerts import build


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} not installed")
    return path


GENERATED: Path = build.DEFAULT_OUT
