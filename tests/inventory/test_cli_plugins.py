"""Sub-commands other packages add to sharpeyes-inventory through the entry-point group
``sharpeyes.inventory_commands`` (discovery lives in exporters/, which inventory/ must not import)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from sharpeyes.inventory.cli import ENTRY_POINT_GROUP, build_parser

CLI = shutil.which("sharpeyes-inventory")


def test_discovery_is_registered_as_an_entry_point() -> None:
    eps = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert eps.get("discovery") == "sharpeyes.exporters.discovery.cli:register", \
        "run `pip install -e . --no-deps` after editing pyproject.toml"


@pytest.mark.skipif(CLI is None, reason="sharpeyes-inventory is not installed (pip install -e .)")
@pytest.mark.parametrize(("command", "option"), [("discover", "--once"), ("reconcile", "--apply"),
                                                 ("audit", "--check")])
def test_discovery_commands_through_the_installed_script(command: str, option: str) -> None:
    assert CLI is not None
    proc = subprocess.run([CLI, command, "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: sharpeyes-inventory {command}")
    assert option in proc.stdout and "--township" in proc.stdout and "--inventory" in proc.stdout


def test_inventory_does_not_import_exporters() -> None:
    code = ("import sys, sharpeyes.inventory, sharpeyes.inventory.cli, sharpeyes.inventory.sd; "
            "print(any(m.startswith('sharpeyes.exporters') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_discovery_defaults_do_not_shadow_the_parent_parser() -> None:
    args = build_parser().parse_args(["reconcile"])
    assert not hasattr(args, "inventory") and not hasattr(args, "config_file")  # SUPPRESS: use the defaults
    args = build_parser().parse_args(["reconcile", "--inventory", "/x", "--township", "baodong"])
    assert args.inventory == "/x" and args.township == ["baodong"] and callable(args.fn)


def test_exporter_still_has_the_discovery_commands() -> None:
    proc = subprocess.run([sys.executable, "-m", "sharpeyes.exporters.cli", "audit", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "usage: sharpeyes-exporter audit" in proc.stdout, proc.stderr
