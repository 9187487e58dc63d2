"""Project-wide test fixtures: the shared real-device captures, the sample district, this run's
network slot (tests/runnet.py), and the ``slow`` marker that ``-m "not slow"`` (scripts/test.sh --fast)
deselects."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharpeyes.contract import SAMPLE_DISTRICT
from tests import runnet

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
SAMPLE = SAMPLE_DISTRICT

# `slow`: every test that starts the simulator, Prometheus, the demo, the e2e stack or an Ansible
# converge — whole folders, and elsewhere every test using one of the fixtures that start them.
# Other slow tests carry @pytest.mark.slow themselves.
SLOW_FOLDERS = frozenset({"demo", "e2e"})
SLOW_FIXTURES = frozenset({
    "running_sim",  # tests/simulator: the simulator with nftables
    "sim_env",  # tests/discovery: the simulator as a subprocess
    "district_stack", "district_prometheus",  # tests/e2e: the whole stack
    "backfilled",  # tests/reports: a month backfilled into a real Prometheus
    "converged",  # tests/ansible: an Ansible converge
})


def shared_fixtures(sub: str = "") -> Path:
    """``../shared/fixtures[/sub]`` beside the checkout root (the real device captures), never checked."""
    return FIXTURES / sub if sub else FIXTURES


def require_fixtures(sub: str = "") -> Path:
    """``shared_fixtures(sub)``; when it is missing the test is skipped, or fails under CI=true."""
    path = shared_fixtures(sub)
    if not path.is_dir():
        msg = (f"real device captures not found at {path} (expected ../shared/fixtures beside the "
               f"checkout {ROOT}; link or copy them there)")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return path


# scripts/test.sh runs the suite in two phases. First every test but the whole-stack ones on two
# pytest-xdist workers, a test package at a time (the xdist_group below), so that package- and
# session-scoped fixtures (a backfilled month, a running simulator) start once per worker. Then the
# whole-stack tests (marker ``whole_stack``: real Prometheus, Alertmanager, tickets and simulator,
# with alert timings in real time) alone, one after the other: two of them, or one beside other
# tests, on two cores starve each other into scrape timeouts and false alerts.
STACK_TESTS = (
    "tests/demo/", "tests/e2e/", "tests/scale/", "tests/vqd/test_stack_image_faults.py",
    "tests/exporters/test_e2e_prometheus.py",
)


def xdist_group(rel: str) -> str:
    if rel.startswith(STACK_TESTS):
        return "whole-stack"
    parts = rel.split("/")
    return parts[1] if len(parts) > 2 else "root"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        rel = Path(str(item.fspath)).relative_to(ROOT).as_posix()
        parts = rel.split("/")
        in_slow_folder = len(parts) > 2 and parts[0] == "tests" and parts[1] in SLOW_FOLDERS
        if in_slow_folder or SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        group = xdist_group(rel)
        item.add_marker(pytest.mark.xdist_group(group))
        if group == "whole-stack":
            item.add_marker(pytest.mark.whole_stack)


def pytest_unconfigure(config: pytest.Config) -> None:
    runnet.release_current()


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A command's main() run in-process configures the root logger with a handler on the test's
    captured stderr; left behind, every later log line of the session fails on the closed stream."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in before and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return require_fixtures()


@pytest.fixture(scope="session")
def run_net() -> runnet.RunNet:
    """This run's slot: address block, nftables table names (tests/runnet.py)."""
    return runnet.current()


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_inventory():  # type: ignore[no-untyped-def]
    from sharpeyes.inventory import load_inventory

    return load_inventory(SAMPLE)


@pytest.fixture(scope="session")
def run_sample_dir(run_net: runnet.RunNet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The whole sample district moved into this run's address block (for tests that serve it)."""
    yield run_net.copy_sample(tmp_path_factory.mktemp("run-sample") / "fengquan")
