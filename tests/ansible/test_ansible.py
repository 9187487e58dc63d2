"""The deployment roles (ansible/): lint, syntax, the inventory generator, and a real converge.

The converge runs every role against this machine (connection local) into a temporary prefix:
packages installed, the sharpeyes wheel pip-installed into a venv, every config rendered and passed
through its validator (promtool, amtool, sharpeyes-exporter --config.check, tickets' loader).
There is no running systemd here, so the rendered units are checked with ``systemd-analyze verify``
and their ExecStart lines are started by the test itself, as the unit's user, then stopped.
A second converge must report changed=0.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sharpeyes.contract import SAMPLE_DISTRICT
from tests.runnet import free_port_base

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = ROOT / "ansible"
VAULT_PASSWORD = ANSIBLE / "tests" / "vault-password.txt"
SAMPLE = SAMPLE_DISTRICT
PLAYBOOKS = sorted(p.name for p in (ANSIBLE / "playbooks").glob("*.yml"))
ROLES = ("sharpeyes_common", "sharpeyes_exporter", "sharpeyes_tickets", "sharpeyes_reports",
         "sharpeyes_prometheus", "sharpeyes_alertmanager", "sharpeyes_grafana")
UNITS = ("sharpeyes-exporter.service", "sharpeyes-tickets.service", "prometheus.service",
         "prometheus-alertmanager.service", "sharpeyes-report-monthly.service",
         "sharpeyes-report-monthly.timer")

# the converge tests are `slow` through their fixture (tests/conftest.py); the rest is the fast subset
pytestmark = [
    pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible is not installed"),
]


def _env() -> dict[str, str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ANSIBLE / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PY_COLORS="0")
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    env.pop("PYTHONPATH", None)  # the converge installs into its own venv: never see the caller's checkout
    return env


def _run(argv: list[str], timeout: float = 300, **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(argv, cwd=ANSIBLE, env=_env(), capture_output=True, text=True, timeout=timeout, **kw)


def _tail(proc: subprocess.CompletedProcess[str], n: int = 60) -> str:
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-n:])


# ------------------------------------------------------------------------------------- static checks

def test_every_role_has_the_prometheus_community_shape() -> None:
    for role in ROLES:
        base = ANSIBLE / "roles" / role
        for rel in ("defaults/main.yml", "meta/main.yml", "meta/argument_specs.yml", "tasks/main.yml"):
            assert (base / rel).is_file(), f"{role}: {rel} missing"
        if role != "sharpeyes_common":
            for rel in ("tasks/preflight.yml", "tasks/install.yml", "tasks/configure.yml", "handlers/main.yml"):
                assert (base / rel).is_file(), f"{role}: {rel} missing"
        import yaml

        defaults = yaml.safe_load((base / "defaults/main.yml").read_text(encoding="utf-8"))
        spec = yaml.safe_load((base / "meta/argument_specs.yml").read_text(encoding="utf-8"))
        options = spec["argument_specs"]["main"]["options"]
        assert all(name.startswith(role + "_") for name in defaults), f"{role}: unprefixed default"
        assert set(defaults) == set(options), f"{role}: argument_specs and defaults disagree"


@pytest.mark.slow  # ~20 s: the linter loads every role and playbook
def test_ansible_lint_production_profile() -> None:
    if shutil.which("ansible-lint") is None:
        pytest.skip("ansible-lint is not installed")
    proc = _run(["ansible-lint", "--offline", "--profile", "production", "--nocolor"], timeout=300)
    assert proc.returncode == 0, _tail(proc)


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_syntax_check(playbook: str) -> None:
    proc = _run(["ansible-playbook", "--syntax-check", f"playbooks/{playbook}"], timeout=120)
    assert proc.returncode == 0, _tail(proc)


def test_vault_example_is_encrypted_and_opens_with_the_test_password() -> None:
    vault = ANSIBLE / "group_vars" / "all" / "vault.yml"
    assert vault.read_text().startswith("$ANSIBLE_VAULT;"), "the committed vault must stay encrypted"
    assert "TEST-ONLY" in VAULT_PASSWORD.read_text()
    proc = _run(["ansible-vault", "view", "--vault-password-file", str(VAULT_PASSWORD), str(vault)])
    assert proc.returncode == 0, _tail(proc)
    assert "vault_sharpeyes_tickets_webhook_token" in proc.stdout


# --------------------------------------------------------------------------------- the generator

def _generator(*args: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "inventory_from_sharpeyes.py", *args], timeout=60)


def test_generator_groups_and_shards_match_the_inventory() -> None:
    from sharpeyes.inventory import load_inventory

    inv = load_inventory(SAMPLE)
    proc = _generator("--list", "--inventory", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    hv = data["_meta"]["hostvars"]
    (centre,) = data["district_centre"]["hosts"]
    townships = data["township_platforms"]["hosts"]
    assert len(townships) == len(inv.townships) == 5
    assert sorted(hv[h]["sharpeyes_exporter_shard_township"] for h in townships) == sorted(inv.townships)
    for host in townships:
        tid = hv[host]["sharpeyes_exporter_shard_township"]
        assert hv[host]["ansible_host"] == inv.devices[inv.townships[tid].platform].ip
    shards = hv[centre]["sharpeyes_prometheus_exporter_shards"]
    assert sorted(s["township"] for s in shards) == sorted([*inv.townships, ""])
    assert data["alertmanager"]["hosts"] == [centre]


def test_generator_overrides_and_static_yaml(tmp_path: Path) -> None:
    import yaml

    over = tmp_path / "over.yml"
    over.write_text(yaml.safe_dump({
        "exporter_port": 9500,
        "hosts": {"dakuai": {"ansible_host": "10.20.5.10"}},
        "centre": {"name": "sharpeyes-centre", "ansible_host": "10.20.0.10"},
        "alertmanager_peers": [{"name": "sharpeyes-am2", "ansible_host": "10.20.0.11"}],
    }))
    out = tmp_path / "hosts.yml"
    proc = _generator("--inventory", str(SAMPLE), "--overrides", str(over), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    proc = _run(["ansible-inventory", "-i", str(out), "--list", "--vault-password-file", str(VAULT_PASSWORD)],
                timeout=60)
    assert proc.returncode == 0, _tail(proc)
    data = json.loads(proc.stdout)
    hv = data["_meta"]["hostvars"]
    assert hv["platform-dakuai"]["ansible_host"] == "10.20.5.10"
    assert {"township": "dakuai", "address": "10.20.5.10:9500"} in hv["sharpeyes-centre"][
        "sharpeyes_prometheus_exporter_shards"]
    assert hv["sharpeyes-centre"]["sharpeyes_alertmanager_cluster_peers"] == ["10.20.0.11:9094"]
    assert hv["sharpeyes-am2"]["sharpeyes_alertmanager_cluster_peers"] == ["10.20.0.10:9094"]
    bad = tmp_path / "bad.yml"
    bad.write_text("hostz: {}\n")
    proc = _generator("--list", "--inventory", str(SAMPLE), "--overrides", str(bad))
    assert proc.returncode == 1 and "unknown keys" in proc.stderr and "Traceback" not in proc.stderr


def test_generator_is_an_ansible_dynamic_inventory() -> None:
    proc = _run(["ansible-inventory", "--graph"], timeout=60)  # ansible.cfg names the script
    assert proc.returncode == 0, _tail(proc)
    assert "@township_platforms" in proc.stdout and "platform-baodong" in proc.stdout


def test_sd_shards_give_each_township_only_its_devices(tmp_path: Path) -> None:
    from sharpeyes.inventory import load_inventory

    inv = load_inventory(SAMPLE)
    script = ANSIBLE / "roles" / "sharpeyes_prometheus" / "files" / "sharpeyes-sd-shards.py"
    argv = [sys.executable, str(script), "--inventory", str(SAMPLE), "--out", str(tmp_path)]
    proc = subprocess.run([*argv, *(f"--shard={t}" for t in [*inv.townships, ""])],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["changed"]
    seen: list[str] = []
    for tid in [*inv.townships, ""]:
        groups = json.loads((tmp_path / f"icmp_{tid or 'district'}.json").read_text())
        assert groups and all(g["labels"]["township"] == tid for g in groups)
        seen += [t for g in groups for t in g["targets"]]
    assert sorted(seen) == sorted(d.id for d in inv.active_devices())
    again = subprocess.run([*argv, *(f"--shard={t}" for t in [*inv.townships, ""])],
                           capture_output=True, text=True, timeout=60)
    assert json.loads(again.stdout)["changed"] == []
    missing = subprocess.run([*argv, "--shard=baodong"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no exporter shard probes" in missing.stderr


# ------------------------------------------------------------------------------------- converge

@dataclass
class Converge:
    prefix: Path
    port_base: int
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]

    @property
    def units(self) -> Path:
        return self.prefix / "etc" / "systemd" / "system"


def _port_base() -> int:
    """A base whose +90/+93/+430/+440 ports are free now (picked by the kernel, never a fixed range)."""
    return free_port_base((90, 93, 430, 440))


def _package(workdir: Path) -> Path:
    """A wheel of this checkout (a stable snapshot: files edited meanwhile do not change it)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                           "-w", str(workdir), str(ROOT)], capture_output=True, text=True, timeout=180)
    wheels = sorted(workdir.glob("sharpeyes-*.whl"))
    if proc.returncode != 0 or not wheels:  # offline without setuptools/wheel: the source tree itself
        return ROOT
    return wheels[-1]


def _converge(prefix: Path, base: int, package: Path) -> subprocess.CompletedProcess[str]:
    return _run(["ansible-playbook", "-i", "localhost,", "-c", "local", "playbooks/converge-local.yml",
                 "--vault-password-file", str(VAULT_PASSWORD),
                 "-e", f"ansible_python_interpreter={sys.executable}",
                 "-e", f"sharpeyes_root_prefix={prefix}",
                 "-e", f"sharpeyes_converge_port_base={base}",
                 "-e", f"sharpeyes_package={package}"], timeout=400)


@pytest.fixture(scope="module")
def converged() -> Iterator[Converge]:
    if os.geteuid() != 0:
        pytest.skip("the converge installs packages and creates users: run as root")
    for tool in ("promtool", "amtool", "prometheus", "prometheus-alertmanager", "systemd-analyze"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} missing (bash scripts/setup.sh installs it)")
    top = Path(tempfile.mkdtemp(prefix="sharpeyes-converge-"))
    top.chmod(0o755)  # the service users must reach their files below it
    prefix = top / "root"
    try:
        package = _package(top / "dist")
        base = _port_base()
        first = _converge(prefix, base, package)
        assert first.returncode == 0, "first converge failed:\n" + _tail(first, 80)
        second = _converge(prefix, base, package)
        yield Converge(prefix, base, first, second)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _recap(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    m = re.search(r"localhost\s*:\s*(.*)", proc.stdout.split("PLAY RECAP")[-1])
    assert m, _tail(proc)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


def test_converge_renders_and_validates_everything(converged: Converge) -> None:
    recap = _recap(converged.first)
    assert recap["failed"] == 0 and recap["changed"] > 0
    etc = converged.prefix / "etc" / "sharpeyes"
    for rel in ("exporter/exporter.yml", "exporter/secrets.yml", "tickets/tickets.yml",
                "prometheus/prometheus.yml", "prometheus/rules/sharpeyes-rules.yml",
                "prometheus/rules/sharpeyes-recording.yml", "prometheus/file_sd/icmp_all.json",
                "alertmanager/alertmanager.yml", "alertmanager/tickets-webhook.token",
                "grafana/provisioning/datasources/sharpeyes.yml", "grafana/provisioning/dashboards/sharpeyes.yml",
                "reports/reports.env", "inventory/district.yaml"):
        assert (etc / rel).is_file(), rel
    for unit in UNITS:
        assert (converged.units / unit).is_file(), unit
    # secrets: only in 0640 files, never literal in the configs
    for rel in ("exporter/secrets.yml", "tickets/tickets.yml", "alertmanager/tickets-webhook.token"):
        assert (etc / rel).stat().st_mode & 0o777 == 0o640, rel
    assert "test-only" not in (etc / "exporter/exporter.yml").read_text()
    assert "test-only" in (etc / "exporter/secrets.yml").read_text()
    assert "test-only" not in (etc / "tickets/tickets.yml").read_text()
    assert "credentials_file: " + str(etc / "alertmanager/tickets-webhook.token") in \
        (etc / "alertmanager/alertmanager.yml").read_text()
    # shell completion, generated by the installed venv from the commands' parsers
    bash = converged.prefix / "usr/share/bash-completion/completions/sharpeyes-inventory"
    zsh = converged.prefix / "usr/share/zsh/vendor-completions/_sharpeyes-inventory"
    assert "_shtab_sharpeyes_inventory" in bash.read_text() and zsh.read_text().startswith("#compdef")
    assert "--output" in bash.read_text()


def test_second_converge_changes_nothing(converged: Converge) -> None:
    recap = _recap(converged.second)
    changed = re.findall(r"^changed: \[localhost\].*$|^TASK \[(.*)\]", converged.second.stdout, re.M)
    assert converged.second.returncode == 0, _tail(converged.second)
    assert recap["changed"] == 0, f"not idempotent: {recap}\n{changed}"


@pytest.mark.parametrize("unit", UNITS)
def test_units_pass_systemd_analyze_verify(converged: Converge, unit: str) -> None:
    proc = subprocess.run(["systemd-analyze", "verify", str(converged.units / unit)],
                          capture_output=True, text=True, timeout=60, cwd=converged.units)
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), proc.stderr
    if unit.endswith(".service"):
        sec = subprocess.run(["systemd-analyze", "security", "--offline=true", str(converged.units / unit)],
                             capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([\d.]+)", sec.stdout)
        assert m and float(m.group(1)) <= 2.5, sec.stdout[-400:]


def test_units_are_hardened(converged: Converge) -> None:
    for unit in UNITS:
        if not unit.endswith(".service"):
            continue
        text = (converged.units / unit).read_text()
        for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes"):
            assert line in text, f"{unit}: {line}"
        assert "ReadWritePaths=" + str(converged.prefix) in text, unit
        caps = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M)
        assert caps is not None, unit
        assert caps.group(1) == ("CAP_NET_RAW" if unit == "sharpeyes-exporter.service" else ""), unit


# ------------------------------------------------------------------------- starting the services

@dataclass
class Unit:
    argv: list[str]
    user: str
    workdir: str | None
    env: dict[str, str]


def _parse_unit(path: Path) -> Unit:
    text = path.read_text().replace("\\\n", " ")
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            fields.setdefault(key.strip(), []).append(value.strip())
    env = {}
    for item in fields.get("Environment", []):
        for pair in shlex.split(item):
            k, _, v = pair.partition("=")
            env[k] = v
    return Unit(shlex.split(fields["ExecStart"][0]), fields.get("User", ["root"])[0],
                fields.get("WorkingDirectory", [None])[0], env)


def _as_user(unit: Unit) -> list[str]:
    """Run as the unit's user when that works (not always here: a pyenv interpreter under /root is
    unusable by other users), else as root."""
    if unit.user == "root" or shutil.which("setpriv") is None:
        return []
    drop = ["setpriv", f"--reuid={unit.user}", f"--regid={unit.user}", "--init-groups"]
    probe = subprocess.run([*drop, unit.argv[0], "--help"], capture_output=True, timeout=60,
                           env=dict(os.environ, **unit.env))
    return drop if probe.returncode == 0 else []


def _start(unit: Unit, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([*_as_user(unit), *unit.argv], cwd=unit.workdir, stdout=out,
                                stderr=subprocess.STDOUT, env=dict(os.environ, **unit.env), start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except OSError:
        return 0, b""


def _wait_ok(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{url}: the service exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        status, body = _get(url)
        if status == 200:
            return body
        time.sleep(0.3)
    pytest.fail(f"{url} not ready after {timeout}s:\n{log.read_text()[-2000:]}")


def test_rendered_services_start_and_answer(converged: Converge, tmp_path: Path) -> None:
    from sharpeyes.inventory import load_inventory

    base = converged.port_base
    exporter = _parse_unit(converged.units / "sharpeyes-exporter.service")
    check = subprocess.run([*_as_user(exporter), *exporter.argv, "--config.check"], capture_output=True,
                           text=True, timeout=120, cwd=exporter.workdir, env=dict(os.environ, **exporter.env))
    assert check.returncode == 0 and "config OK" in check.stdout, check.stdout + check.stderr

    procs: list[subprocess.Popen[bytes]] = []
    try:
        logs = {name: tmp_path / f"{name}.log" for name in ("exporter", "tickets", "alertmanager", "prometheus")}
        units = {"exporter": exporter,
                 "tickets": _parse_unit(converged.units / "sharpeyes-tickets.service"),
                 "alertmanager": _parse_unit(converged.units / "prometheus-alertmanager.service"),
                 "prometheus": _parse_unit(converged.units / "prometheus.service")}
        started = {name: _start(unit, logs[name]) for name, unit in units.items()}
        procs += started.values()
        _wait_ok(f"http://127.0.0.1:{base + 430}/-/healthy", started["exporter"], logs["exporter"])
        _wait_ok(f"http://127.0.0.1:{base + 440}/healthz", started["tickets"], logs["tickets"])
        _wait_ok(f"http://127.0.0.1:{base + 93}/-/ready", started["alertmanager"], logs["alertmanager"])
        _wait_ok(f"http://127.0.0.1:{base + 90}/-/ready", started["prometheus"], logs["prometheus"])

        # Prometheus discovered every active device for ICMP through the rendered file_sd, and loaded the rules
        expected = sum(1 for _ in load_inventory(SAMPLE).active_devices())
        deadline = time.monotonic() + 30
        count = -1
        while time.monotonic() < deadline:
            _, body = _get(f"http://127.0.0.1:{base + 90}/api/v1/targets?state=active")
            targets = json.loads(body or b'{"data": {"activeTargets": []}}')["data"]["activeTargets"]
            count = sum(1 for t in targets if t["labels"].get("job") == "sharpeyes_icmp")
            if count == expected:
                break
            time.sleep(0.5)
        assert count == expected
        icmp = next(t for t in targets if t["labels"].get("job") == "sharpeyes_icmp")
        assert icmp["scrapeUrl"].startswith(f"http://127.0.0.1:{base + 430}/probe?")
        assert icmp["labels"]["instance"] == icmp["labels"]["device"]
        _, body = _get(f"http://127.0.0.1:{base + 90}/api/v1/rules")
        assert len(json.loads(body)["data"]["groups"]) > 0
    finally:
        for proc in procs:
            _stop(proc)
