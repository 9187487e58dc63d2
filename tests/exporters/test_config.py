"""Exporter config: one tiny invalid YAML per validation rule, with the exact message; secrets."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from sharpeyes.exporters.config import Config, ConfigError, load_config, parse_config
from sharpeyes.exporters.probers.icmp import IcmpSettings
from sharpeyes.exporters.snmp.probing import SnmpSettings
from sharpeyes.inventory.sd import MODULES
from tests.exporters.exporters_testlib import DEMO_SECRETS, secret_values

ICMP = "modules:\n  ping:\n    prober: icmp\n"


def errors(text: str, base_dir: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), "t.yml", base_dir=base_dir)
    return [str(p) for p in info.value.problems]


def test_minimal_module_gets_defaults() -> None:
    cfg = parse_config(ICMP, "t.yml")
    m = cfg.modules["ping"]
    assert (m.prober, m.timeout, m.kinds, m.max_concurrency) == ("icmp", 10.0, MODULES["icmp"], 1024)
    assert m.settings == IcmpSettings()


# ------------------------------------------------------------------- one rule, one file, one message

def test_unknown_top_level_key() -> None:
    assert errors(ICMP + "modlues: {}\n") == ["t.yml:4: field 'modlues': unknown key"]


def test_modules_required() -> None:
    assert errors("auths: {}\n") == ["t.yml:1: field 'modules': required section is missing"]


def test_unknown_key_in_module() -> None:
    assert errors(ICMP + "    timout: 5s\n") == ["t.yml:4: module ping: field 'timout': unknown key"]


def test_unknown_prober() -> None:
    assert errors("modules:\n  p:\n    prober: http\n") == [
        "t.yml:3: module p: field 'prober': unknown prober 'http' "
        "(one of icmp, onvif, rtsp, snapshot, snmp_camera, snmp_switch, tcp)"]


def test_missing_prober() -> None:
    assert errors("modules:\n  p:\n    timeout: 5s\n") == [
        "t.yml:3: module p: field 'prober': required field is missing"]


def test_bad_duration() -> None:
    assert errors(ICMP + "    timeout: 5\n") == [
        "t.yml:4: module ping: field 'timeout': '5' is not a duration (e.g. 500ms, 10s, 1m30s, 2h, 30d)"]
    assert errors(ICMP + "    timeout: 5 sec\n") == [
        "t.yml:4: module ping: field 'timeout': '5 sec' is not a duration (e.g. 500ms, 10s, 1m30s, 2h, 30d)"]


def test_timeout_range() -> None:
    assert errors(ICMP + "    timeout: 0s\n") == [
        "t.yml:4: module ping: field 'timeout': must be more than 0s and at most 10m"]


def test_unknown_key_in_settings() -> None:
    assert errors(ICMP + "    icmp: {cnt: 3}\n") == [
        "t.yml:4: module ping: field 'icmp': modules.ping.icmp: unknown key(s) cnt; "
        "allowed: count, interval, payload_size, dont_fragment"]


def test_invalid_setting_value() -> None:
    assert errors(ICMP + "    icmp:\n      interval: 0.5\n      count: 0\n") == [
        "t.yml:6: module ping icmp: field 'count': must be 1..100, got 0"]


def test_settings_section_of_another_prober() -> None:
    assert errors(ICMP + "    rtsp: {path: /}\n") == [
        "t.yml:4: module ping: field 'rtsp': settings section 'rtsp' does not match prober 'icmp'"]


def test_retries_on_a_prober_without_retries() -> None:
    assert errors(ICMP + "    retries: 2\n") == [
        "t.yml:4: module ping: field 'retries': prober 'icmp' has no retries setting"]


def test_retries_go_into_snmp_settings() -> None:
    cfg = parse_config("modules:\n  s:\n    prober: snmp_camera\n    retries: 3\n", "t.yml")
    assert cfg.modules["s"].settings == SnmpSettings(retries=3)


def test_retries_given_twice() -> None:
    text = "modules:\n  s:\n    prober: snmp_camera\n    retries: 3\n    snmp_camera: {retries: 2}\n"
    assert errors(text) == [
        "t.yml:4: module s: field 'retries': given twice (here and in snmp_camera.retries)"]


def test_credentials_in_module_settings_refused() -> None:
    text = "modules:\n  s:\n    prober: snmp_switch\n    snmp_switch: {auth: {community: public}}\n"
    assert errors(text) == [
        "t.yml:4: module s: field 'snmp_switch': credentials belong in auths: "
        "(set the module's auth: <profile> instead)"]


def test_module_auth_must_exist() -> None:
    assert errors(ICMP + "    auth: nobody\n") == [
        "t.yml:4: module ping: field 'auth': no auth profile 'nobody' in auths"]


def test_unknown_kind() -> None:
    assert errors(ICMP + "    kinds: [camera, toaster]\n") == [
        "t.yml:4: module ping: field 'kinds': 'toaster' is not a device kind (camera, switch, nvr, platform)"]


def test_bad_module_name() -> None:
    assert errors("modules:\n  Ping!:\n    prober: icmp\n") == [
        "t.yml:2: modules: field 'Ping!': invalid module name: 'Ping!' is not a valid id "
        "(lower-case letters, digits, '-', '_', '.')"]


def test_yaml_syntax_error() -> None:
    assert errors("modules:\n  p: [\n") == [
        "t.yml:3: YAML syntax error: did not find expected node content (while parsing a flow node)"]


def test_unknown_key_in_auth_profile() -> None:
    assert errors(ICMP + "auths:\n  a:\n    ssh: {}\n") == ["t.yml:6: auth a: field 'ssh': unknown key"]


def test_unknown_key_in_auth_section() -> None:
    text = ICMP + "auths:\n  a:\n    snmp:\n      version: 2\n      communty: {env: X}\n"
    assert errors(text) == ["t.yml:8: auth a snmp: field 'communty': unknown key"]


def test_env_suffix_keys_point_to_the_reference_form() -> None:
    text = ICMP + "auths:\n  a:\n    onvif:\n      username: u\n      password_env: X\n"
    assert errors(text) == [
        "t.yml:8: auth a onvif: field 'password_env': unknown key "
        "(write password: {env: NAME} or {file: PATH})"]


def test_literal_secret_refused() -> None:
    text = ICMP + "auths:\n  a:\n    onvif:\n      username: admin\n      password: hunter2-literal\n"
    msgs = errors(text)
    assert msgs == ["t.yml:8: auth a onvif: field 'password': literal secret not allowed: give {env: NAME} "
                    "or {file: PATH} (or set insecure_literal_secrets: true for tests)"]
    assert "hunter2-literal" not in "".join(msgs)


def test_literal_secret_allowed_when_insecure() -> None:
    text = "insecure_literal_secrets: true\n" + ICMP + \
        "auths:\n  a:\n    onvif:\n      username: admin\n      password: hunter2-literal\n"
    cfg = parse_config(text, "t.yml")
    assert cfg.auths["a"].onvif is not None and cfg.auths["a"].onvif.password == "hunter2-literal"
    assert "hunter2-literal" not in cfg.dump()


def test_missing_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SE_TEST_PW", raising=False)
    text = ICMP + "auths:\n  a:\n    onvif:\n      username: admin\n      password: {env: SE_TEST_PW}\n"
    assert errors(text) == [
        "t.yml:8: auth a onvif: field 'password': environment variable SE_TEST_PW is not set"]


def test_secret_reference_needs_exactly_one_source() -> None:
    text = ICMP + "auths:\n  a:\n    onvif:\n      username: admin\n      password: {env: A, file: /x}\n"
    assert errors(text) == [
        "t.yml:8: auth a onvif: field 'password': "
        "a secret reference takes exactly one of env: NAME or file: PATH"]


def test_missing_secret_file_reported_once(tmp_path: Path) -> None:
    text = ICMP + "auths:\n  a:\n    snmp:\n      version: 3\n      username: u\n" \
        "      auth_password: {file: nope.yml, key: a.x}\n      priv_password: {file: nope.yml, key: a.y}\n"
    assert errors(text, tmp_path) == [
        f"t.yml:9: auth a snmp: field 'auth_password': "
        f"cannot read {tmp_path}/nope.yml: No such file or directory"]


def test_missing_key_in_secret_file(tmp_path: Path) -> None:
    (tmp_path / "s.yml").write_text("a: {onvif: {password: pw-12345678}}\n")
    text = ICMP + "auths:\n  a:\n    onvif:\n      username: admin\n" \
        "      password: {file: s.yml, key: a.onvif.pass}\n"
    assert errors(text, tmp_path) == [
        f"t.yml:8: auth a onvif: field 'password': {tmp_path}/s.yml has no key a.onvif.pass"]


def test_auth_class_validation_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SE_SHORT", "short")
    text = ICMP + "auths:\n  a:\n    snmp:\n      version: 3\n      username: u\n" \
        "      auth_password: {env: SE_SHORT}\n      priv_password: {env: SE_SHORT}\n"
    assert errors(text) == [
        "t.yml:9: auth a snmp: field 'auth_password': required, at least 8 characters (RFC 3414)"]


def test_every_problem_is_reported_at_once() -> None:
    text = "modules:\n  a:\n    prober: nope\n  b:\n    prober: icmp\n    timeout: soon\nextra: 1\n"
    assert len(errors(text)) == 3


# ------------------------------------------------------------------- secrets: resolved, never shown

def test_secret_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SE_AUTH", "from-env-12345")
    (tmp_path / "priv").write_text("from-file-12345\n")
    (tmp_path / "all.yml").write_text("onvif: {password: from-yaml-1}\n")
    text = ICMP + textwrap.dedent("""\
        auths:
          a:
            snmp:
              version: 3
              username: u
              auth_password: {env: SE_AUTH}
              priv_password: {file: priv}
            onvif:
              username: admin
              password: {file: "${SE_DIR_UNSET:-all.yml}", key: onvif.password}
        """)
    cfg = parse_config(text, "t.yml", base_dir=tmp_path)
    snmp, onvif = cfg.auths["a"].snmp, cfg.auths["a"].onvif
    assert snmp is not None and onvif is not None
    assert (snmp.auth_password, snmp.priv_password, onvif.password) == \
        ("from-env-12345", "from-file-12345", "from-yaml-1")
    shown = cfg.dump() + repr(cfg) + str(cfg.auths)
    for secret in ("from-env-12345", "from-file-12345", "from-yaml-1"):
        assert secret not in shown
    assert shown.count("<secret>") >= 3


def test_default_config_loads(demo_secrets: Path, sample_inventory) -> None:  # type: ignore[no-untyped-def]
    cfg = load_config()
    assert list(cfg.modules) == list(MODULES)
    assert {m.prober for m in cfg.modules.values()} == set(MODULES)
    named = {d.auth for d in sample_inventory.devices.values()}
    assert named <= set(cfg.auths)
    v3 = cfg.auths["cams-v3"].snmp
    assert v3 is not None and (v3.version, v3.security_level, v3.auth_protocol, v3.priv_protocol) == \
        (3, "authPriv", "SHA", "AES")
    assert v3.auth_password == DEMO_SECRETS["cams-v3"]["snmp"]["auth_password"]
    legacy = cfg.auths["cams-legacy"]
    assert legacy.snmp is not None and legacy.snmp.version == 2 and legacy.onvif is not None


def test_dump_hides_every_secret_and_reloads(demo_secrets: Path, tmp_path: Path) -> None:
    cfg = load_config()
    dumped = cfg.dump()
    for secret in secret_values():
        assert secret not in dumped
    assert "<secret>" in dumped
    assert isinstance(cfg, Config)


def test_no_secret_in_errors_or_logs(demo_secrets: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A broken config next to good secrets: neither the message nor anything logged shows a secret."""
    caplog.set_level(logging.DEBUG)
    bad = tmp_path / "bad.yml"
    default = (Path(__file__).resolve().parents[2] / "sharpeyes" / "exporters" / "default.yml").read_text()
    bad.write_text(default.replace("auth_protocol: SHA\n", "auth_protocol: SHA999\n", 1))
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    text = str(info.value) + caplog.text + "".join(capsys.readouterr())
    assert "field 'auth_protocol': must be one of" in text
    for secret in secret_values():
        assert secret not in text


