"""Print a sha256 over a sharpeyes source tree's package files (what pip would install)."""

import hashlib
import sys
from pathlib import Path

PACKAGES = ("inventory", "exporters", "alerts", "tickets", "dashboards", "reports", "simulator")
SKIP = {"__pycache__", "build", "dist"}

root = Path(sys.argv[1])
digest = hashlib.sha256()
files = [root / "pyproject.toml"]
for pkg in PACKAGES:
    files += [p for p in (root / pkg).rglob("*") if p.is_file() and not SKIP & set(p.parts) and p.suffix != ".pyc"]
for path in sorted(files):
    digest.update(str(path.relative_to(root)).encode() + b"\0")
    digest.update(path.read_bytes() if path.exists() else b"")
print(digest.hexdigest())
