"""sharpeyes-recording configuration: strict YAML (unknown keys rejected, file:line errors).

    db: sqlite:///var/recording.db     # or postgresql://… (the URL may also come from $SHARPEYES_RECORDING_DB)
    interval: 1h                       # one collection per interval, each asking for the last interval
    concurrency: 16                    # recorders asked at once
    deadline: 50s                      # per recorder; a slower one is "could not be asked"
    request_timeout: 20s
    port: 80                           # recorders' web port
    page_size: 50
    max_pages: 200
    join: 2s                           # holes up to this between files are not gaps
    present_slack: 5m                  # not recorded for longer than this at the window end: present 0
    secrets_file: /etc/sharpeyes/secrets.yaml   # default $SHARPEYES_SECRETS; auths.<profile>.onvif.{username,password}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sharpeyes.cli import UserError
from sharpeyes.yamlnodes import MappingReader, Problems, compose_file, to_duration, to_int

from .job import Limits

DEFAULT_DB = "sqlite:///var/recording.db"
KEYS = frozenset({"db", "interval", "concurrency", "deadline", "request_timeout", "port", "page_size", "max_pages",
                  "join", "present_slack", "secrets_file"})


@dataclass(frozen=True, slots=True)
class Config:
    db: str = DEFAULT_DB
    interval: float = 3600.0
    concurrency: int = 16
    deadline: float = 50.0
    request_timeout: float = 20.0
    port: int = 80
    limits: Limits = field(default_factory=Limits)
    present_slack: float = 300.0
    secrets_file: str = ""


def load_config(path: str | None) -> Config:
    if path is None:
        return Config(db=os.environ.get("SHARPEYES_RECORDING_DB", DEFAULT_DB),
                      secrets_file=os.environ.get("SHARPEYES_SECRETS", ""))
    problems = Problems()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}", status=2) from None
    node = compose_file(path, text, problems)
    cfg = Config()
    if node is not None:
        r = MappingReader(path, node, "", problems)
        r.reject_unknown(KEYS)
        d = Config()
        lim = Limits()
        cfg = Config(
            db=os.environ.get("SHARPEYES_RECORDING_DB") or r.scalar("db", str, d.db) or d.db,
            interval=r.scalar("interval", to_duration, d.interval) or d.interval,
            concurrency=r.scalar("concurrency", to_int, d.concurrency) or d.concurrency,
            deadline=r.scalar("deadline", to_duration, d.deadline) or d.deadline,
            request_timeout=r.scalar("request_timeout", to_duration, d.request_timeout) or d.request_timeout,
            port=r.scalar("port", to_int, d.port) or d.port,
            limits=Limits(page_size=r.scalar("page_size", to_int, lim.page_size) or lim.page_size,
                          max_pages=r.scalar("max_pages", to_int, lim.max_pages) or lim.max_pages,
                          join_seconds=r.scalar("join", to_duration, lim.join_seconds)),
            present_slack=r.scalar("present_slack", to_duration, d.present_slack),
            secrets_file=r.scalar("secrets_file", str, "") or os.environ.get("SHARPEYES_SECRETS", ""),
        )
        if cfg.deadline > cfg.interval:
            r.error("deadline", "must not exceed the interval")
    if problems:
        raise UserError(f"invalid configuration {path}", [str(p) for p in problems], status=2)
    return cfg


def load_credentials(path: str) -> dict[str, tuple[str, str]]:
    """profile -> (username, password) from auths.<profile>.onvif; values never appear in errors."""
    if not path:
        raise UserError("no secrets file: set secrets_file or $SHARPEYES_SECRETS", status=2)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise UserError(f"cannot read secrets file {path}: {e.__class__.__name__}", status=2) from None
    out: dict[str, tuple[str, str]] = {}
    for profile, sections in (doc.get("auths") or {}).items():
        web = (sections or {}).get("onvif") if isinstance(sections, dict) else None
        if isinstance(web, dict) and isinstance(web.get("username"), str) and isinstance(web.get("password"), str):
            out[str(profile)] = (web["username"], web["password"])
    return out
