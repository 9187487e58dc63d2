"""Project-wide test fixtures: paths to the shared real-device captures and the sample district."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
SAMPLE = ROOT / "inventory" / "sample" / "fengquan"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(f"real device captures not found at {FIXTURES} (../shared/fixtures beside the checkout)")
    return FIXTURES


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_inventory():  # type: ignore[no-untyped-def]
    from inventory import load_inventory

    return load_inventory(SAMPLE)
