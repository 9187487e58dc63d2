"""The exporter's configuration: ``modules`` (what to probe, how) and ``auths`` (credentials), apart.

Read strictly, as blackbox_exporter and snmp_exporter do: unknown keys are errors, every error
names ``file:line``, the object and the field, and the whole file is checked before it is refused
(all problems at once). Secrets are never written in the file itself::

    auths:
      cams-v3:
        snmp:
          version: 3
          username: sharpeyes
          auth_password: {env: CAMS_V3_AUTH}                       # an environment variable
          priv_password: {file: /etc/sharpeyes/cams-v3.priv}       # a file's whole content
        onvif:
          username: admin
          password: {file: "${SHARPEYES_SECRETS}", key: cams-v3.onvif.password}   # a YAML file

A literal secret is refused unless the file says ``insecure_literal_secrets: true`` (tests and
throw-away demos only). Secrets are resolved once at load; ``Config.dump()`` prints ``<secret>``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sharpeyes.cli import ConfigError, format_duration
from sharpeyes.contract import DEVICE_KINDS as KINDS
from sharpeyes.contract import MODULES as CONTRACT_MODULES
from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.probers import PROBERS, ProberEntry
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.yamlnodes import (
    FieldError,
    MappingReader,
    Problems,
    compose_file,
    read_text,
    to_duration,
    to_id,
)

SECRET = "<secret>"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_CONFIG = Path(__file__).with_name("default.yml")
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_CONCURRENCY = 1024
TOP_KEYS = frozenset({"modules", "auths", "insecure_literal_secrets"})
MODULE_KEYS = frozenset({"prober", "timeout", "retries", "kinds", "max_concurrency", "auth", "description",
                         "adhoc_targets", "adhoc_auths"})


@dataclass(frozen=True, slots=True)
class AuthSection:
    """One protocol section of an auth profile: the class parsing it and which of its keys are secrets."""

    cls: Any  # has from_dict(mapping, where) and redacted()
    fields: frozenset[str]
    secrets: frozenset[str]


AUTH_SECTIONS: dict[str, AuthSection] = {
    "snmp": AuthSection(SnmpAuth, frozenset(f.name for f in dataclasses.fields(SnmpAuth)),
                        frozenset({"community", "auth_password", "priv_password"})),
    "onvif": AuthSection(OnvifAuth, frozenset({"username", "password"}), frozenset({"password"})),
}


@dataclass(frozen=True, slots=True, repr=False)
class AuthProfile:
    """An ``auths:`` entry: optional per-protocol credentials. repr/str never show a secret."""

    name: str
    sections: Mapping[str, Any] = field(default_factory=dict)  # "snmp" -> SnmpAuth, "onvif" -> OnvifAuth

    def section(self, name: str | None) -> Any:
        return self.sections.get(name) if name else None

    @property
    def snmp(self) -> SnmpAuth | None:
        return self.sections.get("snmp")

    @property
    def onvif(self) -> OnvifAuth | None:
        return self.sections.get("onvif")

    def redacted(self) -> dict[str, Any]:
        return {name: sec.redacted() for name, sec in self.sections.items()}

    def __repr__(self) -> str:
        return f"AuthProfile({self.name!r}, sections={sorted(self.sections)})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class ModuleConfig:
    name: str
    prober: str
    timeout: float
    settings: Any  # the prober's settings dataclass
    kinds: tuple[str, ...]  # device kinds the module applies to (SD, and /probe refuses others)
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    auth: str = ""  # default auth profile for targets without one (and ad-hoc probes)
    description: str = ""
    # Addresses outside the inventory this module may probe. A module whose prober sends
    # credentials probes inventory devices only unless the address is in one of these networks
    # (otherwise anyone reaching /probe could have our secrets sent to a host of their choosing).
    adhoc_targets: tuple[IPNetwork, ...] = ()
    adhoc_auths: tuple[str, ...] = ()  # profiles &auth= may pick for those (besides the module's auth)

    def allows_adhoc(self, ip: str) -> bool:
        """Whether ip (canonical text, see exporters.addresses) is in adhoc_targets."""
        addr = ipaddress.ip_address(ip)
        return any(addr.version == net.version and addr in net for net in self.adhoc_targets)


@dataclass(frozen=True, slots=True)
class Config:
    modules: dict[str, ModuleConfig]
    auths: dict[str, AuthProfile]
    source: str = "<embedded>"
    insecure_literal_secrets: bool = False

    def dump(self) -> str:
        """The effective configuration as YAML, secrets shown as ``<secret>``."""
        data: dict[str, Any] = {}
        if self.insecure_literal_secrets:
            data["insecure_literal_secrets"] = True
        data["modules"] = {name: _dump_module(m) for name, m in self.modules.items()}
        data["auths"] = {name: a.redacted() for name, a in self.auths.items()}
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _dump_module(m: ModuleConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"prober": m.prober, "timeout": format_duration(m.timeout)}
    if m.description:
        out["description"] = m.description
    out["kinds"] = list(m.kinds)
    out["max_concurrency"] = m.max_concurrency
    if m.auth:
        out["auth"] = m.auth
    if m.adhoc_targets:
        out["adhoc_targets"] = [str(n) for n in m.adhoc_targets]
    if m.adhoc_auths:
        out["adhoc_auths"] = list(m.adhoc_auths)
    if m.settings is not None and dataclasses.is_dataclass(m.settings):
        settings = {f.name: _plain(getattr(m.settings, f.name)) for f in dataclasses.fields(m.settings)}
        out[m.prober] = {k: v for k, v in settings.items() if v is not None}
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "redacted"):
        return value.redacted()
    if isinstance(value, tuple):
        return list(value)
    return value


# ------------------------------------------------------------------------------------------ loading

def load_config(path: str | Path | None = None, probers: Mapping[str, ProberEntry] | None = None) -> Config:
    """Read and validate a config file (None: the embedded default). Raises ConfigError."""
    file = Path(path) if path is not None else DEFAULT_CONFIG
    shown = str(file) if path is not None else "<embedded default.yml>"
    problems = Problems()
    text = read_text(file, shown, problems)
    if text is None:
        raise ConfigError(list(problems))
    base = file.parent if path is not None else Path.cwd()
    return parse_config(text, shown, probers=probers, base_dir=base)


def parse_config(text: str, file: str = "<config>", probers: Mapping[str, ProberEntry] | None = None,
                 base_dir: Path | None = None) -> Config:
    reader = _ConfigReader(file, probers if probers is not None else PROBERS, base_dir or Path.cwd())
    return reader.read(text)


class _ConfigReader:
    def __init__(self, file: str, probers: Mapping[str, ProberEntry], base_dir: Path) -> None:
        self.file = file
        self.probers = probers
        self.base_dir = base_dir
        self.problems = Problems()
        self.insecure = False
        self._secret_files: dict[str, Any] = {}
        self._reported: set[str] = set()
        self._failed_silently = False

    def read(self, text: str) -> Config:
        root = compose_file(self.file, text, self.problems)
        modules: dict[str, ModuleConfig] = {}
        auths: dict[str, AuthProfile] = {}
        if root is not None:
            top = MappingReader(self.file, root, "", self.problems)
            top.reject_unknown(TOP_KEYS)
            self.insecure = bool(top.scalar("insecure_literal_secrets", _to_bool, default=False))
            auths = self._auths(top)
            modules = self._modules(top, auths)
        elif not self.problems:
            self.problems.add(None, "", "", "empty config")
        if self.problems:
            raise ConfigError([dataclasses.replace(p, file=self.file) if p.file == "<inventory>" else p
                               for p in self.problems])
        return Config(modules, auths, self.file, self.insecure)

    # ---- auths

    def _auths(self, top: MappingReader) -> dict[str, AuthProfile]:
        section = top.mapping("auths", "auths")
        out: dict[str, AuthProfile] = {}
        if section is None:
            return out
        for name, node in section.values.items():
            if not self._valid_name(section, name, "auth profile"):
                continue
            reader = MappingReader(self.file, node, f"auth {name}", self.problems)
            reader.reject_unknown(frozenset(AUTH_SECTIONS))
            parsed: dict[str, Any] = {}
            for sec_name, spec in AUTH_SECTIONS.items():
                sub = reader.mapping(sec_name, f"auth {name} {sec_name}")
                if sub is None:
                    continue
                value = self._auth_section(sub, spec, f"auths.{name}.{sec_name}")
                if value is not None:
                    parsed[sec_name] = value
            out[name] = AuthProfile(name, parsed)
        return out

    def _auth_section(self, sub: MappingReader, spec: AuthSection, where: str) -> Any:
        if not isinstance(sub.node, yaml.MappingNode):
            return None
        before = len(self.problems.items)
        for key in sub.values:
            if key not in spec.fields:
                hint = f" (write {key[:-4] if key.endswith(('_env', '_file')) else key}: {{env: NAME}} " \
                       "or {file: PATH})" if key.endswith(("_env", "_file")) else ""
                sub.error(key, "unknown key" + hint)
        values: dict[str, Any] = {}
        for key, node in sub.values.items():
            if key not in spec.fields:
                continue
            if isinstance(node, yaml.MappingNode):
                resolved = self._secret_ref(sub, key, node)
                if resolved is not None:
                    values[key] = resolved
            elif key in spec.secrets and not self.insecure:
                sub.error(key, "literal secret not allowed: give {env: NAME} or {file: PATH} "
                               "(or set insecure_literal_secrets: true for tests)")
            else:
                values[key] = _python(node)
        if len(self.problems.items) > before or self._failed_silently:
            self._failed_silently = False
            return None
        try:
            return spec.cls.from_dict(values, where)
        except ValueError as exc:
            _report(where, str(exc), sub, sub, None)
            return None

    def _secret_ref(self, sub: MappingReader, key: str, node: yaml.Node) -> str | None:
        ref = MappingReader(self.file, node, sub.obj, self.problems)
        for k in ref.values:
            if k not in ("env", "file", "key"):
                ref.error(k, f"unknown key in the secret reference of '{key}' (env, file, key)")
        env, file, dotted = ref.values.get("env"), ref.values.get("file"), ref.values.get("key")
        if (env is None) == (file is None):
            sub.error(key, "a secret reference takes exactly one of env: NAME or file: PATH")
            return None
        if env is not None:
            name = ref.scalar("env")
            if dotted is not None:
                ref.error("key", "key: goes with file:, not env:")
            if name is None:
                return None
            value = os.environ.get(name)
            if value is None:
                sub.error(key, f"environment variable {name} is not set")
            return value
        raw = ref.scalar("file")
        if raw is None:
            return None
        try:
            path = self._path(raw)
        except ValueError as exc:
            if str(exc) in self._reported:  # one line per unset variable, not one per secret
                self._failed_silently = True
            else:
                self._reported.add(str(exc))
                sub.error(key, str(exc))
            return None
        dotted_key = ref.scalar("key") if dotted is not None else None
        return self._read_secret_file(sub, key, path, dotted_key)

    def _path(self, raw: str) -> Path:
        def expand(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(3)
            value = os.environ.get(name) or default
            if value is None:
                raise ValueError(f"environment variable {name} (in the file path) is not set")
            return value

        path = Path(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", expand, raw))
        return path if path.is_absolute() else self.base_dir / path

    def _read_secret_file(self, sub: MappingReader, key: str, path: Path, dotted: str | None) -> str | None:
        cache_key = str(path)
        if cache_key not in self._secret_files:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                self._secret_files[cache_key] = OSError(f"cannot read {path}: {exc.strerror}")
            else:
                self._secret_files[cache_key] = text
        content = self._secret_files[cache_key]
        if isinstance(content, OSError):
            if cache_key not in self._reported:  # one line per unreadable file, not one per secret
                self._reported.add(cache_key)
                sub.error(key, str(content))
            else:
                self._failed_silently = True
            return None
        if dotted is None:
            return str(content).rstrip("\r\n")
        try:
            data = yaml.safe_load(content)
        except yaml.YAMLError:
            sub.error(key, f"{path} is not valid YAML")  # no detail: the parser would quote secrets
            return None
        cur: Any = data
        for part in dotted.split("."):
            if not isinstance(cur, dict) or part not in cur:
                sub.error(key, f"{path} has no key {dotted}")
                return None
            cur = cur[part]
        if not isinstance(cur, str | int) or isinstance(cur, bool):
            sub.error(key, f"{path} key {dotted} is not a string")
            return None
        return str(cur)

    # ---- modules

    def _modules(self, top: MappingReader, auths: dict[str, AuthProfile]) -> dict[str, ModuleConfig]:
        section = top.mapping("modules", "modules", required=True)
        out: dict[str, ModuleConfig] = {}
        if section is None:
            return out
        if isinstance(section.node, yaml.MappingNode) and not section.values:
            section.problems.add(section.source, "modules", "", "no modules defined")
        for name, node in section.values.items():
            if not self._valid_name(section, name, "module"):
                continue
            reader = MappingReader(self.file, node, f"module {name}", self.problems)
            module = self._module(name, reader, auths)
            if module is not None:
                out[name] = module
        return out

    def _module(self, name: str, r: MappingReader, auths: dict[str, AuthProfile]) -> ModuleConfig | None:
        if not isinstance(r.node, yaml.MappingNode):
            return None
        prober = r.scalar("prober")
        entry = self.probers.get(prober) if prober is not None else None
        if prober is not None and entry is None:
            r.error("prober", f"unknown prober {prober!r} (one of {', '.join(sorted(self.probers))})")
        others = frozenset(self.probers) - {prober}
        for key in r.values:
            if key in others:
                r.error(key, f"settings section '{key}' does not match prober {prober!r}")
            elif key not in MODULE_KEYS and key != prober:
                r.error(key, "unknown key")
        timeout = r.scalar("timeout", to_duration, default=DEFAULT_TIMEOUT)
        if timeout is not None and not 0 < timeout <= 600:
            r.error("timeout", "must be more than 0s and at most 10m")
        retries = r.scalar("retries", _to_int, default=None)
        max_conc = r.scalar("max_concurrency", _to_int, default=DEFAULT_MAX_CONCURRENCY)
        if max_conc is not None and max_conc < 1:
            r.error("max_concurrency", "must be at least 1")
        auth = r.scalar("auth", default="")
        if auth and auth not in auths:
            r.error("auth", f"no auth profile {auth!r} in auths")
        kinds = self._kinds(r, name, prober)
        description = r.scalar("description", default="")
        adhoc_targets = self._networks(r, "adhoc_targets")
        adhoc_auths = r.str_list("adhoc_auths") if "adhoc_auths" in r.values else ()
        for profile in adhoc_auths:
            if profile not in auths:
                r.error("adhoc_auths", f"no auth profile {profile!r} in auths")
        if entry is None or prober is None:
            return None
        if adhoc_auths and entry.auth is None:
            r.error("adhoc_auths", f"prober {prober!r} takes no credentials")
        settings = self._settings(r, name, prober, entry, retries)
        if settings is None or timeout is None or max_conc is None:
            return None
        return ModuleConfig(name, prober, timeout, settings, kinds, max_conc, auth or "", description or "",
                            adhoc_targets, tuple(adhoc_auths))

    def _networks(self, r: MappingReader, key: str) -> tuple[IPNetwork, ...]:
        if key not in r.values:
            return ()
        out = []
        for text in r.str_list(key):
            try:
                out.append(ipaddress.ip_network(text, strict=True))
            except ValueError as exc:
                r.error(key, f"{text!r} is not a network (CIDR such as 10.20.0.0/16): {exc}")
        return tuple(out)

    def _kinds(self, r: MappingReader, name: str, prober: str | None) -> tuple[str, ...]:
        if "kinds" not in r.values:
            contract = CONTRACT_MODULES.get(name) or CONTRACT_MODULES.get(prober or "")
            return contract.kinds if contract else KINDS
        kinds = r.str_list("kinds")
        for kind in kinds:
            if kind not in KINDS:
                r.error("kinds", f"{kind!r} is not a device kind ({', '.join(KINDS)})")
        if not kinds:
            r.error("kinds", "must list at least one device kind")
        return kinds

    def _settings(self, r: MappingReader, name: str, prober: str, entry: ProberEntry,
                  retries: int | None) -> Any:
        node = r.values.get(prober)
        data: Any = {} if node is None else _python(node)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            r.error(prober, "expected a mapping of settings")
            return None
        if "auth" in data:
            r.error(prober, "credentials belong in auths: (set the module's auth: <profile> instead)")
            return None
        if retries is not None:
            cls = entry.settings_cls
            names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
            if "retries" not in names:
                r.error("retries", f"prober {prober!r} has no retries setting")
                return None
            if "retries" in data:
                r.error("retries", f"given twice (here and in {prober}.retries)")
                return None
            data["retries"] = retries
        try:
            return entry.settings_cls.from_dict(data, f"modules.{name}.{prober}")
        except ValueError as exc:
            inner = MappingReader(self.file, node, f"{r.obj} {prober}", self.problems) \
                if isinstance(node, yaml.MappingNode) else None
            fallback = prober if node is not None else "retries" if retries is not None else "prober"
            _report(f"modules.{name}.{prober}", str(exc), inner, r, fallback)
            return None

    def _valid_name(self, section: MappingReader, name: str, what: str) -> bool:
        try:
            to_id(name)
        except ValueError as exc:
            section.error(name, f"invalid {what} name: {exc}")
            return False
        return True


def _report(where: str, message: str, section: MappingReader | None, parent: MappingReader,
            parent_key: str | None) -> None:
    """Report a from_dict() error ``<where>.<field>: text`` at the field's own line when ``section``
    (the validated mapping) has that field; otherwise at ``parent_key`` of ``parent`` (or the parent)."""
    rest = message[len(where):] if message.startswith(where + ".") else ""
    field_name, sep, text = rest[1:].partition(": ")
    if section is not None and sep and field_name in section.values:
        section.error(field_name, text)
    elif parent_key is not None:
        parent.error(parent_key, message)
    else:
        parent.problems.add(parent.source, parent.obj, "", message)


def _python(node: yaml.Node) -> Any:
    """A YAML node as plain Python values (YAML 1.1 scalars: ints, floats, bools)."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)  # type: ignore[no-untyped-call]


def _to_bool(v: str) -> bool:
    if v in ("true", "True", "yes"):
        return True
    if v in ("false", "False", "no"):
        return False
    raise FieldError(f"{v!r} is not true or false")


def _to_int(v: str) -> int:
    try:
        return int(v)
    except ValueError:
        raise FieldError(f"{v!r} is not an integer") from None


