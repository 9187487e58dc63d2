"""The import contracts (pyproject.toml [tool.importlinter]) hold, and they do catch a violation."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ("layers", "inventory-is-the-fleet-model", "simulator-shares-no-protocol-code")


def _lint_imports(pythonpath: Path, config: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports not found: pip install -e '.[test]' (import-linter)")
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([exe, "--config", str(config), "--no-cache"], capture_output=True, text=True,
                          cwd=pythonpath, env=env, timeout=300, check=False)


def test_the_import_contracts_are_kept() -> None:
    proc = _lint_imports(ROOT, ROOT / "pyproject.toml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in proc.stdout, proc.stdout[-2000:]


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("simulator/nft.py", "from sharpeyes.exporters.snmp import ber", "the simulator shares no protocol code"),
    ("simulator/nft.py", "import pysnmp", "the simulator shares no protocol code"),
    ("inventory/stats.py", "from sharpeyes.tickets import store", "the fleet model imports no component"),
    ("alerts/config.py", "from sharpeyes.dashboards import common", "stack > components (independent)"),
    ("contract.py", "from sharpeyes.inventory import model", "stack > components (independent)"),
    ("newcomponent.py", "", "stack > components (independent)"),  # not placed in a layer
])
def test_a_violation_breaks_its_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    """Run the same contracts on a copy of the package's sources with one forbidden import added."""
    shutil.copytree(ROOT / "sharpeyes", tmp_path / "sharpeyes",
                    ignore=lambda d, names: [n for n in names if not (n.endswith(".py") or Path(d, n).is_dir())
                                             or n == "__pycache__"])
    target = tmp_path / "sharpeyes" / module
    before = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(before + f"\n{line}  # noqa\n", encoding="utf-8")
    proc = _lint_imports(tmp_path, ROOT / "pyproject.toml")
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert f"{broken}" in proc.stdout.split("Broken contracts", 1)[-1], proc.stdout[-2000:]
