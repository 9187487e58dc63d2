"""Strict YAML configuration for sharpeyes-tickets.

Every section is decoded by a small function that pops the keys it knows and rejects the rest, so a
typo is an error naming the field (``channels[1].urll: unknown key``), never a silently ignored line.
Secrets (tokens, SMTP passwords) are referenced by file or environment variable and never kept in
clear text longer than it takes to hash them.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from sharpeyes.cli import ConfigError, db_url, host_port, parse_duration
from sharpeyes.contract import TICKET_SEVERITIES as SEVERITIES  # the severities that open tickets
from sharpeyes.yamlnodes import decode_error

AREAS = ("urban", "rural")
ROLES = ("district", "contractor", "webhook")
EVENTS = ("opened", "reopened", "resolved", "closed", "breached", "merged", "rejected")
DEFAULT_EVENTS = ("opened", "reopened", "resolved", "breached")
CHANNEL_TYPES = ("webhook", "wecom", "dingtalk", "email")
DEFAULT_DB = "sqlite:///var/tickets.sqlite3"
DEFAULT_LISTEN = "127.0.0.1:9440"


@dataclass(frozen=True)
class SlaTerms:
    response: timedelta
    repair: timedelta


@dataclass(frozen=True)
class Token:
    name: str
    roles: frozenset[str]
    contractor: str
    digest: str  # sha256 hex of the token; the token itself is never stored


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    type: str
    events: tuple[str, ...]
    timeout: timedelta
    url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = ""
    mail_to: tuple[str, ...] = ()
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class OutboxConfig:
    max_attempts: int = 12
    backoff_initial: timedelta = timedelta(seconds=10)
    backoff_max: timedelta = timedelta(hours=1)
    poll_interval: timedelta = timedelta(seconds=5)


@dataclass(frozen=True)
class WebConfig:
    """The contractors' web app (``web:``)."""

    # the address people open, e.g. https://tickets.example.gov.cn (links in notifications)
    base_url: str = ""
    prometheus_url: str = ""  # devices' live state on the ticket page; "" = not shown
    prometheus_timeout: timedelta = timedelta(seconds=1.5)
    data_dir: str = "var/tickets-data"  # photos live under <data_dir>/photos
    photo_max_bytes: int = 10 * 1024 * 1024
    keep_photo_gps: bool = False  # keep the GPS position in photos' EXIF (district policy)
    session_ttl: timedelta = timedelta(hours=12)
    # Secure cookies: on when base_url is https (or the request came over TLS)
    secure_cookies: bool = False


@dataclass(frozen=True)
class AlertmanagerConfig:
    """The Alertmanagers whose notifications feed this service (``alertmanager:``), asked every
    ``reconcile_interval`` which alerts are still active. Alertmanager drops the resolved notification
    of an alert that resolved while inhibited or silenced (a monitoring-blind alert inhibits every
    device alert): without this check its ticket would wait for it forever."""

    urls: tuple[str, ...] = ()  # every member of the HA pair; () = no reconciliation
    reconcile_interval: timedelta = timedelta(minutes=2)
    # an Alertmanager up for less than this may not hold every alert yet (Prometheus re-sends each
    # firing alert every minute, the trap receiver every 30 s): its answer is not used
    min_uptime: timedelta = timedelta(minutes=2)
    timeout: timedelta = timedelta(seconds=10)


def default_sla() -> dict[tuple[str, str], SlaTerms]:
    h = timedelta(hours=1)
    return {
        ("critical", "urban"): SlaTerms(2 * h, 24 * h),
        ("critical", "rural"): SlaTerms(2 * h, 48 * h),
        ("warning", "urban"): SlaTerms(4 * h, 48 * h),
        ("warning", "rural"): SlaTerms(4 * h, 72 * h),
    }


@dataclass(frozen=True)
class Config:
    listen_host: str = "127.0.0.1"
    listen_port: int = 9440
    db_url: str = DEFAULT_DB
    timezone: str = "Asia/Shanghai"
    hold_down: timedelta = timedelta(minutes=10)
    reopen_window: timedelta = timedelta(hours=72)
    tick_interval: timedelta = timedelta(seconds=30)
    inventory: str = ""
    sla: dict[tuple[str, str], SlaTerms] = field(default_factory=default_sla)
    channels: tuple[ChannelConfig, ...] = ()
    tokens: tuple[Token, ...] = ()
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    web: WebConfig = field(default_factory=WebConfig)
    alertmanager: AlertmanagerConfig = field(default_factory=AlertmanagerConfig)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# --- primitives --------------------------------------------------------------------------------

def duration(value: Any, where: str) -> timedelta:
    """A non-negative duration in the one grammar (``90s``, ``10m``, ``2h``, ``3d``); a YAML number
    is seconds."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a duration like 2h or 30m, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        try:
            seconds = parse_duration(str(value))
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if seconds < 0:
        raise ConfigError(f"{where}: must not be negative")
    return timedelta(seconds=seconds)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


class _Section:
    """Pops known keys from a mapping; ``done()`` rejects whatever is left."""

    def __init__(self, data: Any, where: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{where or 'config'}: expected a mapping, got {type(data).__name__}")
        self.data = dict(data)
        self.where = where

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.pop(key, default)

    def text(self, key: str, default: str = "", required: bool = False) -> str:
        if required and key not in self.data:
            raise ConfigError(f"{self.path(key)}: required")
        value = self.data.pop(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{self.path(key)}: expected a string, got {value!r}")
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.data.pop(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{self.path(key)}: expected an integer, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.pop(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.path(key)}: expected true or false, got {value!r}")
        return value

    def duration(self, key: str, default: timedelta) -> timedelta:
        if key not in self.data:
            return default
        return duration(self.data.pop(key), self.path(key))

    def items(self, key: str) -> list[Any]:
        value = self.data.pop(key, None)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ConfigError(f"{self.path(key)}: expected a list")
        return value

    def done(self) -> None:
        for key in self.data:
            raise ConfigError(f"{self.path(str(key))}: unknown key")


# --- sections ----------------------------------------------------------------------------------


def _read_secret(sec: _Section, stem: str, base: Path) -> str:
    """``<stem>_file`` or ``<stem>_env``; returns the secret stripped of surrounding whitespace."""
    file_key, env_key = f"{stem}_file", f"{stem}_env"
    path, env = sec.text(file_key), sec.text(env_key)
    if path and env:
        raise ConfigError(f"{sec.path(file_key)}: give either {file_key} or {env_key}, not both")
    if path:
        p = (base / path) if not Path(path).is_absolute() else Path(path)
        try:
            return p.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{sec.path(file_key)}: cannot read {p}: {e.strerror}") from None
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConfigError(f"{sec.path(env_key)}: environment variable {env} is not set")
        return value
    return ""


def _token(data: Any, where: str, base: Path) -> Token:
    sec = _Section(data, where)
    name = sec.text("name", required=True)
    role = sec.text("role", required=True)
    if role not in ROLES:
        raise ConfigError(f"{sec.path('role')}: must be one of {', '.join(ROLES)}, got {role!r}")
    contractor = sec.text("contractor")
    if role == "contractor" and not contractor:
        raise ConfigError(f"{sec.path('contractor')}: required for role contractor")
    if role != "contractor" and contractor:
        raise ConfigError(f"{sec.path('contractor')}: only tokens with role contractor have a contractor")
    digest = sec.text("sha256").lower()
    secret = _read_secret(sec, "token", base)
    sec.done()
    if bool(digest) == bool(secret):
        raise ConfigError(f"{where}: give exactly one of token_file, token_env, sha256")
    if digest and not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ConfigError(f"{sec.path('sha256')}: expected 64 hex digits")
    return Token(name, frozenset({role}), contractor, digest or hash_token(secret))


def _channel(data: Any, where: str, base: Path) -> ChannelConfig:
    sec = _Section(data, where)
    name = sec.text("name", required=True)
    ctype = sec.text("type", required=True)
    if ctype not in CHANNEL_TYPES:
        raise ConfigError(f"{sec.path('type')}: must be one of {', '.join(CHANNEL_TYPES)}, got {ctype!r}")
    events = tuple(sec.items("events")) or DEFAULT_EVENTS
    for i, ev in enumerate(events):
        if ev not in EVENTS:
            raise ConfigError(f"{sec.path('events')}[{i}]: must be one of {', '.join(EVENTS)}, got {ev!r}")
    timeout = sec.duration("timeout", timedelta(seconds=10))
    if ctype == "email":
        host = sec.text("smtp_host", required=True)
        port = sec.integer("smtp_port", 25)
        mail_from = sec.text("from", required=True)
        to = tuple(str(x) for x in sec.items("to"))
        if not to:
            raise ConfigError(f"{sec.path('to')}: at least one recipient required")
        starttls = sec.boolean("starttls", False)
        username = sec.text("username")
        password = _read_secret(sec, "password", base)
        sec.done()
        return ChannelConfig(name, ctype, events, timeout, smtp_host=host, smtp_port=port,
                             mail_from=mail_from, mail_to=to, starttls=starttls,
                             username=username, password=password)
    url = sec.text("url", required=True)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{sec.path('url')}: expected an http:// or https:// URL")
    sec.done()
    return ChannelConfig(name, ctype, events, timeout, url=url)


def _sla(data: Any) -> dict[tuple[str, str], SlaTerms]:
    table = default_sla()
    sec = _Section(data, "sla")
    for severity in SEVERITIES:
        sev = _Section(sec.get(severity), sec.path(severity))
        for area in AREAS:
            terms = _Section(sev.get(area), sev.path(area))
            old = table[(severity, area)]
            table[(severity, area)] = SlaTerms(terms.duration("response", old.response),
                                               terms.duration("repair", old.repair))
            terms.done()
        sev.done()
    sec.done()
    return table


def _outbox(data: Any) -> OutboxConfig:
    sec = _Section(data, "outbox")
    d = OutboxConfig()
    out = OutboxConfig(max_attempts=sec.integer("max_attempts", d.max_attempts),
                       backoff_initial=sec.duration("backoff_initial", d.backoff_initial),
                       backoff_max=sec.duration("backoff_max", d.backoff_max),
                       poll_interval=sec.duration("poll_interval", d.poll_interval))
    sec.done()
    if out.max_attempts < 1:
        raise ConfigError("outbox.max_attempts: must be at least 1")
    return out


def _alertmanager(data: Any) -> AlertmanagerConfig:
    sec = _Section(data, "alertmanager")
    d = AlertmanagerConfig()
    urls = []
    for i, u in enumerate(sec.items("urls")):
        if not isinstance(u, str) or not u.startswith(("http://", "https://")):
            raise ConfigError(f"alertmanager.urls[{i}]: expected an http:// or https:// URL")
        urls.append(u.rstrip("/"))
    out = AlertmanagerConfig(urls=tuple(urls),
                             reconcile_interval=sec.duration("reconcile_interval", d.reconcile_interval),
                             min_uptime=sec.duration("min_uptime", d.min_uptime),
                             timeout=sec.duration("timeout", d.timeout))
    sec.done()
    if out.reconcile_interval.total_seconds() <= 0 or out.timeout.total_seconds() <= 0:
        raise ConfigError("alertmanager: reconcile_interval and timeout must be positive")
    return out


def _web(data: Any) -> WebConfig:
    sec = _Section(data, "web")
    d = WebConfig()
    base_url = sec.text("base_url").rstrip("/")
    prom = sec.text("prometheus_url").rstrip("/")
    for key, url in (("base_url", base_url), ("prometheus_url", prom)):
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{sec.path(key)}: expected an http:// or https:// URL")
    out = WebConfig(base_url=base_url, prometheus_url=prom,
                    prometheus_timeout=sec.duration("prometheus_timeout", d.prometheus_timeout),
                    data_dir=sec.text("data_dir", d.data_dir),
                    photo_max_bytes=sec.integer("photo_max_bytes", d.photo_max_bytes),
                    keep_photo_gps=sec.boolean("keep_photo_gps", d.keep_photo_gps),
                    session_ttl=sec.duration("session_ttl", d.session_ttl),
                    secure_cookies=sec.boolean("secure_cookies", base_url.startswith("https://")))
    sec.done()
    if not out.data_dir:
        raise ConfigError("web.data_dir: must not be empty")
    if not 1024 <= out.photo_max_bytes <= 100 * 1024 * 1024:
        raise ConfigError("web.photo_max_bytes: between 1024 and 104857600")
    if out.session_ttl.total_seconds() < 60:
        raise ConfigError("web.session_ttl: at least 1m")
    return out


def _db_url(sec: _Section, base: Path) -> str:
    """``db: URL``, or the URL from ``db_file: PATH`` / ``db_env: NAME`` (so that a PostgreSQL password
    need not sit in the config); at most one of the three, none = the SQLite default."""
    given = [k for k in ("db", "db_file", "db_env") if k in sec.data]
    if len(given) > 1:
        raise ConfigError(f"{sec.path(given[1])}: give exactly one of db, db_file, db_env")
    if "db" in given:
        url = sec.text("db")
    elif given:
        url = _read_secret(sec, "db", base)
    else:
        return DEFAULT_DB
    if not url:
        raise ConfigError(f"{sec.path(given[0])}: empty database URL")
    return url


def parse_config(data: Any, base: Path = Path(".")) -> Config:
    sec = _Section(data, "")
    listen = sec.text("listen", DEFAULT_LISTEN)
    try:
        host, port = host_port(listen)
    except ValueError as exc:
        raise ConfigError(f"listen: {exc}") from None
    db = db_url(_db_url(sec, base))
    tz = sec.text("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: unknown time zone {tz!r}") from None
    cfg = Config(
        listen_host=host, listen_port=port, db_url=db, timezone=tz,
        hold_down=sec.duration("hold_down", timedelta(minutes=10)),
        reopen_window=sec.duration("reopen_window", timedelta(hours=72)),
        tick_interval=sec.duration("tick_interval", timedelta(seconds=30)),
        inventory=sec.text("inventory"),
        sla=_sla(sec.get("sla")),
        channels=tuple(_channel(c, f"channels[{i}]", base) for i, c in enumerate(sec.items("channels"))),
        tokens=tuple(_token(t, f"tokens[{i}]", base) for i, t in enumerate(sec.items("tokens"))),
        outbox=_outbox(sec.get("outbox")),
        web=_web(sec.get("web")),
        alertmanager=_alertmanager(sec.get("alertmanager")),
    )
    sec.done()
    if cfg.tick_interval.total_seconds() <= 0:
        raise ConfigError("tick_interval: must be positive")
    names = [c.name for c in cfg.channels]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise ConfigError(f"channels[{i}].name: duplicate channel name {n!r}")
    tnames = [t.name for t in cfg.tokens]
    for i, n in enumerate(tnames):
        if n in tnames[:i]:
            raise ConfigError(f"tokens[{i}].name: duplicate token name {n!r}")
    return cfg


def load_config(path: str | Path) -> Config:
    p = Path(path)
    try:
        data_bytes = p.read_bytes()
    except OSError as e:
        raise ConfigError(f"{p}: cannot read: {e.strerror}") from None
    try:
        text = data_bytes.decode("utf-8")
    except UnicodeDecodeError as e:
        line, message = decode_error(data_bytes, e)
        raise ConfigError(f"{p}:{line}: {message}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{p}:{at} invalid YAML") from None
    try:
        return parse_config(data, p.parent)
    except ConfigError as e:
        raise ConfigError([f"{p}: {q}" for q in e.problems]) from None
