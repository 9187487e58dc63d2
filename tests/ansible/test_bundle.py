"""The offline bundle (ansible/build_bundle.py): built for a subset (one Debian package with its
dependencies, two Python requirements plus the sharpeyes wheel, to bound time and size; the full
build is the same command without --deb/--requirement), then installed with every network package
source disabled: pip with --no-index (and an unreachable index for good measure), apt with a
temporary configuration whose only source is the bundle's flat repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEBS = ["snmp"]
REQS = ["PyYAML", "icmplib"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("apt-get") is None or shutil.which("dpkg-scanpackages") is None:
        pytest.fail("the bundle needs apt-get and dpkg-scanpackages (dpkg-dev)")
    out = tmp_path_factory.mktemp("bundle") / "b"
    argv = [sys.executable, str(ROOT / "ansible" / "build_bundle.py"), "--out", str(out)]
    for d in DEBS:
        argv += ["--deb", d]
    for r in REQS:
        argv += ["--requirement", r]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


def test_bundle_contents_and_checksums(bundle: Path) -> None:
    for sub in ("wheels", "debs", "dashboards", "rules", "inventory"):
        assert any((bundle / sub).iterdir()), sub
    assert list((bundle / "wheels").glob("sharpeyes-*.whl"))
    assert (bundle / "debs" / "Packages.gz").is_file()
    assert list((bundle / "debs").glob("snmp_*.deb")) and list((bundle / "debs").glob("libsnmp40_*.deb"))
    ok = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    victim = next((bundle / "rules").rglob("*.yml"))
    original = victim.read_bytes()
    victim.write_bytes(original + b"#")
    try:
        bad = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True)
        assert bad.returncode != 0 and victim.name in bad.stdout
    finally:
        victim.write_bytes(original)


def test_pip_installs_from_the_bundle_without_an_index(bundle: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_CONFIG_FILE": os.devnull}
    env.pop("PYTHONPATH", None)
    pip = [str(venv / "bin" / "pip"), "--disable-pip-version-check", "install", "--no-index",
           "--find-links", str(bundle / "wheels")]
    r = subprocess.run([*pip, *REQS], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([*pip, "--no-deps", "sharpeyes"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([str(venv / "bin" / "python"), "-c",
                        "import yaml, icmplib, sharpeyes.contract as c; print(c.__file__)"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0 and str(venv) in r.stdout, r.stderr
    # and a requirement the bundle does not hold fails rather than reaching out
    r = subprocess.run([*pip, "requests"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode != 0


def test_apt_resolves_everything_from_the_bundle_alone(bundle: Path, tmp_path: Path) -> None:
    apt = tmp_path / "apt"
    for d in ("parts", "prefs", "lists/partial", "cache/archives/partial"):
        (apt / d).mkdir(parents=True)
    (apt / "sources.list").write_text(f"deb [trusted=yes] file:{bundle / 'debs'} ./\n")
    (apt / "apt.conf").write_text("\n".join([
        f'Dir::Etc::SourceList "{apt / "sources.list"}";', f'Dir::Etc::SourceParts "{apt / "parts"}";',
        f'Dir::Etc::PreferencesParts "{apt / "prefs"}";', f'Dir::State::Lists "{apt / "lists"}";',
        f'Dir::Cache "{apt / "cache"}";', ""]))
    env = {**os.environ, "APT_CONFIG": str(apt / "apt.conf")}
    r = subprocess.run(["apt-get", "update"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "http" not in r.stdout
    debs = sorted((bundle / "debs").glob("*.deb"))
    names = sorted({p.name.split("_", 1)[0] for p in debs})
    policy = subprocess.run(["apt-cache", "policy", *names], capture_output=True, text=True, env=env).stdout
    assert "http://" not in policy and "https://" not in policy
    # fetch every package of the dependency closure (reinstall: this machine has them) from the bundle
    r = subprocess.run(["apt-get", "install", "--reinstall", "--download-only", "-y", "--no-install-recommends",
                        *names], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    got = [ln for ln in r.stdout.splitlines() if ln.startswith("Get:")]
    assert len(got) == len(names) and all(f"file:{bundle / 'debs'}" in ln for ln in got), got
