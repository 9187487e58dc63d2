"""The simulator's secrets per auth profile, in the shape of the exporter config's ``auths:`` section.

    auths:
      cams-v3:
        snmp: {version: 3, username: …, security_level: authPriv, auth_protocol: SHA,
               auth_password: …, priv_protocol: AES, priv_password: …}
        onvif: {username: admin, password: …}
      cams-legacy:
        snmp: {version: 2, community: …}
        onvif: {username: admin, password: …}

Without a file, demo secrets are generated once and written to ``var/sim-secrets.yaml`` (mode 0600)
so that the demo stack's exporter config (sharpeyes/stack) can reference the same file. Secret values
never reach logs or errors.
"""

from __future__ import annotations

import os
import secrets as pysecrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .snmp.agent import SnmpProfile
from .snmp.usm import UsmUser
from .state import Credentials

PROFILES = ("cams-v3", "cams-legacy", "switches-v3", "switches-v2c", "platforms")
DEFAULT_PATH = Path("var/sim-secrets.yaml")


class SecretsError(ValueError):
    """The secrets file is invalid; the message names the field, never a value."""


@dataclass(slots=True)
class Secrets:
    snmp: dict[str, SnmpProfile] = field(default_factory=dict)
    onvif: dict[str, Credentials] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Secrets(profiles={sorted(set(self.snmp) | set(self.onvif))}, values=<secret>)"


def demo_document() -> dict[str, Any]:
    """Fresh random demo secrets for every sample profile."""

    def pw() -> str:
        return pysecrets.token_urlsafe(12)

    def v3(user: str) -> dict[str, Any]:
        return {
            "version": 3,
            "username": user,
            "security_level": "authPriv",
            "auth_protocol": "SHA",
            "auth_password": pw(),
            "priv_protocol": "AES",
            "priv_password": pw(),
        }

    cams = {"username": "admin", "password": pw()}
    return {
        "auths": {
            "cams-v3": {"snmp": v3("sharpeyes"), "onvif": cams},
            "cams-legacy": {"snmp": {"version": 2, "community": pw()}, "onvif": cams},
            "switches-v3": {"snmp": v3("sharpeyes-sw")},
            "switches-v2c": {"snmp": {"version": 2, "community": pw()}},
            "platforms": {
                "snmp": {"version": 2, "community": pw()},
                "onvif": {"username": "admin", "password": pw()},
            },
        }
    }


def write_demo(path: Path) -> dict[str, Any]:
    doc = demo_document()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# sharpeyes-sim demo secrets (generated; the demo stack's exporter config references them)\n")
        yaml.safe_dump(doc, fh, sort_keys=False)
    os.chmod(path, 0o600)
    return doc


def load_secrets(path: Path | None = None, *, create: bool = True) -> Secrets:
    """Read ``path`` (default var/sim-secrets.yaml, generated when missing and ``create``)."""
    target = path or Path(os.environ.get("SHARPEYES_SIM_SECRETS", DEFAULT_PATH))
    if not target.exists():
        if path is not None or not create:
            raise SecretsError(f"secrets file {target} not found")
        return parse(write_demo(target))
    try:
        doc = yaml.safe_load(target.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SecretsError(f"cannot read secrets file {target}: {type(exc).__name__}") from None
    return parse(doc, str(target))


def _str(d: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    if key not in d:
        if required:
            raise SecretsError(f"{where}.{key}: required")
        return ""
    value = d[key]
    if key.endswith("_env"):
        env = os.environ.get(str(value))
        if env is None:
            raise SecretsError(f"{where}.{key}: environment variable {value} is not set")
        return env
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise SecretsError(f"{where}.{key}: expected a string")
    return str(value)


def _secret(d: Mapping[str, Any], key: str, where: str) -> str:
    if f"{key}_env" in d:
        return _str(d, f"{key}_env", where)
    return _str(d, key, where)


def parse(doc: Any, where: str = "secrets") -> Secrets:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("auths"), Mapping):
        raise SecretsError(f"{where}: expected a mapping with 'auths'")
    out = Secrets()
    for name, prof in doc["auths"].items():
        w = f"auths.{name}"
        if not isinstance(prof, Mapping):
            raise SecretsError(f"{w}: expected a mapping")
        unknown = sorted(set(prof) - {"snmp", "onvif"})
        if unknown:
            raise SecretsError(f"{w}: unknown key {unknown[0]}")
        if "snmp" in prof:
            out.snmp[str(name)] = _snmp(prof["snmp"], f"{w}.snmp")
        if "onvif" in prof:
            o = prof["onvif"]
            if not isinstance(o, Mapping):
                raise SecretsError(f"{w}.onvif: expected a mapping")
            out.onvif[str(name)] = Credentials(
                _str(o, "username", f"{w}.onvif"), _secret(o, "password", f"{w}.onvif")
            )
    return out


def _snmp(d: Any, where: str) -> SnmpProfile:
    if not isinstance(d, Mapping):
        raise SecretsError(f"{where}: expected a mapping")
    version = str(d.get("version", 2)).lower().lstrip("v")
    if version in ("2", "2c"):
        return SnmpProfile(2, community=_secret(d, "community", where))
    if version != "3":
        raise SecretsError(f"{where}.version: must be 2 or 3")
    level = d.get("security_level", "authPriv")
    if level not in ("authNoPriv", "authPriv"):
        raise SecretsError(f"{where}.security_level: the simulator supports authNoPriv and authPriv")
    auth = str(d.get("auth_protocol", "SHA")).upper()
    if auth not in ("SHA", "MD5"):
        raise SecretsError(f"{where}.auth_protocol: the simulator supports SHA and MD5")
    priv = str(d.get("priv_protocol", "AES")).upper()
    if level == "authPriv" and priv not in ("AES", "AES128"):
        raise SecretsError(f"{where}.priv_protocol: the simulator supports AES (128)")
    auth_pw = _secret(d, "auth_password", where)
    priv_pw = _secret(d, "priv_password", where) if level == "authPriv" else ""
    if len(auth_pw) < 8 or (level == "authPriv" and len(priv_pw) < 8):
        raise SecretsError(f"{where}: passwords must have at least 8 characters (RFC 3414)")
    user = UsmUser(_str(d, "username", where), auth, auth_pw, "AES" if level == "authPriv" else "", priv_pw)
    return SnmpProfile(3, user=user)
