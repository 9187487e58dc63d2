"""The demo stack's own exporter config: written from the simulator's secrets, read by the real exporter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sharpeyes.contract import MODULES
from sharpeyes.exporters.config import load_config
from sharpeyes.simulator.secrets import write_demo
from sharpeyes.stack.exporter_config import ExporterConfigError, exporter_config, write_exporter_config

ROOT = Path(__file__).resolve().parents[2]


def _secret_values(doc: dict) -> list[str]:  # type: ignore[type-arg]
    return [str(v) for prof in doc["auths"].values() for sec in prof.values() for k, v in sec.items()
            if k in ("community", "auth_password", "priv_password", "password")]


def test_the_exporter_reads_every_simulator_secret_through_the_stack_config(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHARPEYES_SECRETS", raising=False)
    secrets = tmp_path / "sim-secrets.yaml"
    doc = write_demo(secrets)
    out = tmp_path / "exporter.yml"
    write_exporter_config(secrets, out)
    text = out.read_text(encoding="utf-8")
    for value in _secret_values(doc):
        assert value not in text  # references only
    cfg = load_config(out)
    assert list(cfg.modules) == list(MODULES)
    assert set(cfg.auths) == set(doc["auths"])
    for name, profile in doc["auths"].items():
        if "snmp" in profile:
            snmp = cfg.auths[name].snmp
            assert snmp is not None and snmp.version == profile["snmp"]["version"]
            for key in ("community", "username", "auth_password", "priv_password", "security_level",
                        "auth_protocol", "priv_protocol"):
                if key in profile["snmp"]:
                    assert getattr(snmp, key) == profile["snmp"][key], (name, key)
        if "onvif" in profile:
            onvif = cfg.auths[name].onvif
            assert onvif is not None
            assert (onvif.username, onvif.password) == (profile["onvif"]["username"], profile["onvif"]["password"])


def test_moved_devices_move_the_exporters_snmp_port(tmp_path: Path) -> None:
    secrets = tmp_path / "sim-secrets.yaml"
    write_demo(secrets)
    out = tmp_path / "exporter.yml"
    write_exporter_config(secrets, out, snmp_port=20161)
    cfg = load_config(out)
    assert cfg.modules["snmp_camera"].settings.port == 20161
    assert cfg.modules["snmp_switch"].settings.port == 20161
    write_exporter_config(secrets, out)
    assert load_config(out).modules["snmp_camera"].settings.port == 161


def test_the_simulators_env_spelling_becomes_an_env_reference(tmp_path: Path) -> None:
    doc = {"auths": {"sw": {"snmp": {"version": 2, "community_env": "SW_COMMUNITY"}}}}
    cfg = exporter_config(doc, tmp_path / "s.yaml")
    assert cfg["auths"]["sw"]["snmp"] == {"version": 2, "community": {"env": "SW_COMMUNITY"}}


@pytest.mark.parametrize("doc", [None, {}, {"auths": {}}, {"auths": {"p": "x"}}, {"auths": {"p": {"snmp": 1}}}])
def test_a_broken_secrets_document_is_refused(doc: object, tmp_path: Path) -> None:
    with pytest.raises(ExporterConfigError):
        exporter_config(doc, tmp_path / "s.yaml")


def test_config_check_of_the_stack_config_needs_no_environment(tmp_path: Path) -> None:
    secrets = tmp_path / "sim-secrets.yaml"
    write_demo(secrets)
    out = tmp_path / "exporter.yml"
    write_exporter_config(secrets, out)
    env = {k: v for k, v in os.environ.items() if k not in ("SHARPEYES_SECRETS", "SHARPEYES_SIM_SECRETS")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "sharpeyes.exporters.cli", "--config.file", str(out),
                           "--config.check"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"config OK: {out}: {len(MODULES)} modules")
