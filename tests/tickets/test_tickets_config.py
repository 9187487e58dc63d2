"""Strict config: defaults, one invalid YAML per rule naming the field, secrets by file/env."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sharpeyes.tickets.config import ConfigError, hash_token, load_config, parse_config


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "tickets.yaml"
    p.write_text(text)
    return p


def test_empty_config_gives_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ""))
    assert (cfg.listen_host, cfg.listen_port) == ("127.0.0.1", 9440)
    assert cfg.db_url == "sqlite:///var/tickets.sqlite3"
    assert cfg.timezone == "Asia/Shanghai"
    assert cfg.sla[("critical", "urban")].response == timedelta(hours=2)
    assert cfg.sla[("critical", "urban")].repair == timedelta(hours=24)
    assert cfg.sla[("critical", "rural")].repair == timedelta(hours=48)


def test_full_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "district.token").write_text("s3cret\n")
    monkeypatch.setenv("AM_TOKEN", "am-token")
    monkeypatch.setenv("SMTP_PW", "pw")
    digest = hash_token("contractor-token")
    cfg = load_config(write(tmp_path, f"""
listen: 0.0.0.0:9999
db: postgresql://tickets@db/tickets
hold_down: 15m
reopen_window: 3d
sla:
  critical:
    rural: {{repair: 36h}}
channels:
  - {{name: ops, type: wecom, url: "http://127.0.0.1:1/x", events: [opened, breached]}}
  - {{name: mail, type: email, smtp_host: mail.local, from: a@b.c, to: [d@e.f], password_env: SMTP_PW}}
tokens:
  - {{name: district, role: district, token_file: district.token}}
  - {{name: am, role: webhook, token_env: AM_TOKEN}}
  - {{name: ct-a, role: contractor, contractor: ct-a, sha256: "{digest}"}}
"""))
    assert cfg.listen_port == 9999 and cfg.db_url == "postgresql+psycopg://tickets@db/tickets"
    assert cfg.hold_down == timedelta(minutes=15) and cfg.reopen_window == timedelta(days=3)
    assert cfg.sla[("critical", "rural")].repair == timedelta(hours=36)
    assert cfg.sla[("critical", "rural")].response == timedelta(hours=2)  # default kept
    assert cfg.channels[0].events == ("opened", "breached")
    assert cfg.channels[1].password == "pw" and "pw" not in repr(cfg.channels[1])
    assert [t.digest for t in cfg.tokens] == [hash_token("s3cret"), hash_token("am-token"),
                                              hash_token("contractor-token")]
    assert "s3cret" not in repr(cfg)


@pytest.mark.parametrize(("text", "message"), [
    ("lisen: 1.2.3.4:5", "lisen: unknown key"),
    ("listen: nowhere", "listen: 'nowhere' is not HOST:PORT"),
    ("hold_down: soon", "hold_down: 'soon' is not a duration (e.g. 500ms"),
    ("timezone: Mars/Olympus", "timezone: unknown time zone"),
    ("sla: {critical: {urban: {respond: 1h}}}", "sla.critical.urban.respond: unknown key"),
    ("sla: {info: {}}", "sla.info: unknown key"),
    ("sla: {warning: {suburban: {}}}", "sla.warning.suburban: unknown key"),
    ("channels: [{name: x, type: fax, url: 'http://a'}]", "channels[0].type: must be one of"),
    ("alertmanager: {url: 'http://a'}", "alertmanager.url: unknown key"),
    ("alertmanager: {urls: ['a:9093']}", "alertmanager.urls[0]: expected an http"),
    ("alertmanager: {urls: ['http://a'], reconcile_interval: 0s}", "alertmanager: reconcile_interval and timeout"),
    ("channels: [{name: x, type: webhook}]", "channels[0].url: required"),
    ("channels: [{name: x, type: webhook, url: 'ftp://a'}]", "channels[0].url: expected an http"),
    ("channels: [{name: x, type: webhook, url: 'http://a', urll: 1}]", "channels[0].urll: unknown key"),
    ("channels: [{name: x, type: webhook, url: 'http://a', events: [born]}]", "channels[0].events[0]"),
    ("channels: [{name: x, type: email, smtp_host: h, from: a}]", "channels[0].to: at least one"),
    ("channels: [{name: x, type: webhook, url: 'http://a'}, {name: x, type: webhook, url: 'http://b'}]",
     "channels[1].name: duplicate"),
    ("tokens: [{name: a, role: admin, sha256: x}]", "tokens[0].role: must be one of"),
    ("tokens: [{name: a, role: contractor, sha256: x}]", "tokens[0].contractor: required"),
    ("tokens: [{name: a, role: district}]", "tokens[0]: give exactly one of"),
    ("tokens: [{name: a, role: district, sha256: abc}]", "tokens[0].sha256: expected 64 hex"),
    ("tokens: [{name: a, role: district, token_env: NOPE_NOT_SET_42}]", "tokens[0].token_env"),
    ("tokens: [{name: a, role: district, token_file: missing.token}]", "tokens[0].token_file: cannot read"),
    ("outbox: {max_attempts: 0}", "outbox.max_attempts"),
    ("- just a list", "config: expected a mapping"),
])
def test_invalid_config_names_the_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text))
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_invalid_yaml_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line \d+ invalid YAML"):
        load_config(write(tmp_path, "a: [unclosed"))


def test_parse_config_accepts_none() -> None:
    assert parse_config(None).listen_port == 9440


def test_db_url_from_file_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url_file = tmp_path / "db.url"
    url_file.write_text("postgresql://tickets:pa%2Fss@db:5432/tickets\n")
    cfg = load_config(write(tmp_path, "db_file: db.url\n"))  # relative to the config's directory
    assert cfg.db_url == "postgresql+psycopg://tickets:pa%2Fss@db:5432/tickets"
    cfg = load_config(write(tmp_path, f"db_file: {url_file}\n"))
    assert cfg.db_url == "postgresql+psycopg://tickets:pa%2Fss@db:5432/tickets"
    monkeypatch.setenv("TICKETS_DB", "sqlite:///x.sqlite3")
    assert load_config(write(tmp_path, "db_env: TICKETS_DB\n")).db_url == "sqlite:///x.sqlite3"


@pytest.mark.parametrize(("text", "message"), [
    ("db: sqlite:///a\ndb_file: db.url\n", "db_file: give exactly one of db, db_file, db_env"),
    ("db_file: db.url\ndb_env: TICKETS_DB\n", "db_env: give exactly one of db, db_file, db_env"),
    ("db_file: missing.url\n", "db_file: cannot read"),
    ("db_env: SHARPEYES_TEST_UNSET_DB\n", "db_env: environment variable SHARPEYES_TEST_UNSET_DB is not set"),
    ("db_file: empty.url\n", "db_file: empty database URL"),
])
def test_db_url_alternatives_are_exclusive_and_checked(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "db.url").write_text("sqlite:///a\n")
    (tmp_path / "empty.url").write_text("\n")
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_web_section() -> None:
    cfg = parse_config({"web": {"base_url": "https://tickets.example.gov.cn/", "prometheus_url": "http://p:9090",
                                "keep_photo_gps": True, "session_ttl": "8h"}})
    assert cfg.web.base_url == "https://tickets.example.gov.cn" and cfg.web.secure_cookies
    assert cfg.web.keep_photo_gps and cfg.web.session_ttl == timedelta(hours=8)
    assert not parse_config({}).web.secure_cookies and not parse_config({}).web.keep_photo_gps
    for bad, msg in (({"base_url": "javascript:alert(1)"}, "web.base_url"),
                     ({"photo_max": 1}, "web.photo_max: unknown"), ({"photo_max_bytes": 10}, "web.photo_max_bytes")):
        with pytest.raises(ConfigError, match=msg):
            parse_config({"web": bad})
