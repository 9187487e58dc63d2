#!/usr/bin/env python3
"""Build the offline installation bundle for a video private network (no internet on the targets).

    python3 ansible/build_bundle.py --out DIR            # everything the roles install
    python3 ansible/build_bundle.py --out DIR --deb snmp --requirement PyYAML   # a subset

Run it on a Debian 12 (amd64) machine with network access; copy DIR to the controller. Contents:
  wheels/      the sharpeyes wheel and every dependency's wheel for the target (CPython 3.11,
               manylinux x86_64), so ``pip install --no-index --find-links wheels sharpeyes``
  debs/        the Debian packages the roles install, with their dependencies resolved
               (``apt-cache depends --recurse``; packages of priority required/important are left
               out: every Debian host has them), plus ``Packages``/``Packages.gz`` — a flat apt
               repository: ``deb [trusted=yes] file:DIR/debs ./``
  dashboards/  the generated Grafana dashboards;  rules/  the generated rules and alertmanager.yml
  inventory/   the sample district (replace with yours)
  SHA256SUMS   every file above (``sha256sum -c SHA256SUMS`` on arrival)
The roles install from it when ``sharpeyes_bundle_dir`` is set (docs/deployment.md, "Offline").
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ROLES = ROOT / "ansible" / "roles"
# packages the roles install that their *_packages defaults do not list (pulled by a role's tasks)
EXTRA_DEBS = ("victoria-metrics", "python3-venv")
BASE_PRIORITIES = {"required", "important"}


class BundleError(Exception):
    pass


def _run(argv: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        raise BundleError(f"{' '.join(argv[:4])} … failed: {lines[-1] if lines else proc.returncode}")
    return proc.stdout


def role_debs() -> list[str]:
    """Every Debian package a role's defaults name (``*_packages`` lists)."""
    names: set[str] = set(EXTRA_DEBS)
    for defaults in sorted(ROLES.glob("*/defaults/main.yml")):
        data = yaml.safe_load(defaults.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if key.endswith("_packages") and isinstance(value, list):
                names.update(str(v) for v in value)
    return sorted(names)


def resolve_debs(names: list[str]) -> list[str]:
    out = _run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                "--no-breaks", "--no-replaces", "--no-enhances", *names])
    pkgs = sorted({ln.strip() for ln in out.splitlines() if ln and not ln[0].isspace() and not ln.startswith("<")})
    show = _run(["apt-cache", "show", "--no-all-versions", *pkgs])
    base = set()
    for stanza in show.split("\n\n"):
        fields = dict(re.findall(r"^([\w-]+): (.*)$", stanza, re.M))
        if fields.get("Priority") in BASE_PRIORITIES:
            base.add(fields.get("Package", ""))
    return [p for p in pkgs if p not in base or p in names]


def fetch_debs(names: list[str], dest: Path) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    pkgs = resolve_debs(names)
    _run(["apt-get", "download", "-q", *pkgs], cwd=dest)
    packages = _run(["dpkg-scanpackages", "--multiversion", ".", "/dev/null"], cwd=dest)
    (dest / "Packages").write_text(packages, encoding="utf-8")
    with gzip.open(dest / "Packages.gz", "wt", encoding="utf-8") as f:
        f.write(packages)
    return pkgs


def requirements() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def fetch_wheels(reqs: list[str], dest: Path, platform: str, python: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    _run([*pip, "wheel", "--no-deps", "--wheel-dir", str(dest), str(ROOT)])
    if not reqs:
        return
    target = ["--only-binary=:all:", "--platform", platform, "--python-version", python, "--implementation", "cp"]
    try:
        _run([*pip, "download", "--dest", str(dest), *target, *reqs])
    except BundleError:
        # a dependency published as an sdist only: build wheels here (pure Python ones are portable)
        _run([*pip, "wheel", "--wheel-dir", str(dest), *reqs])


def copy_generated(out: Path) -> None:
    pairs = ((ROOT / "sharpeyes" / "dashboards" / "generated", out / "dashboards"),
             (ROOT / "sharpeyes" / "alerts" / "generated", out / "rules"),
             (ROOT / "sharpeyes" / "inventory" / "sample", out / "inventory"))
    for src, dst in pairs:
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)


def write_sums(out: Path) -> int:
    lines = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(out).as_posix()}\n")
    (out / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return len(lines)


def build(out: Path, debs: list[str], reqs: list[str], platform: str, python: str) -> str:
    if out.exists() and any(out.iterdir()):
        raise BundleError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    fetched = fetch_debs(debs, out / "debs") if debs else []
    fetch_wheels(reqs, out / "wheels", platform, python)
    copy_generated(out)
    n = write_sums(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    wheels = len(list((out / "wheels").glob("*.whl")))
    return f"bundle {out}: {len(fetched)} debs, {wheels} wheels, {n} files, {size / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Build the sharpeyes offline installation bundle.")
    p.add_argument("--out", type=Path, required=True, help="empty or new directory")
    p.add_argument("--deb", action="append", help="a Debian package (default: every package the roles install)")
    p.add_argument("--no-debs", action="store_true", help="wheels and files only")
    p.add_argument("--requirement", action="append",
                   help="a Python requirement (default: sharpeyes' dependencies from pyproject.toml)")
    p.add_argument("--platform", default="manylinux2014_x86_64", help="pip --platform of the targets")
    p.add_argument("--python-version", default="3.11", help="the targets' Python (Debian 12: 3.11)")
    args = p.parse_args(argv)
    debs = [] if args.no_debs else (args.deb or role_debs())
    try:
        print(build(args.out, debs, args.requirement or requirements(), args.platform, args.python_version))
    except BundleError as exc:
        print(f"build_bundle: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
