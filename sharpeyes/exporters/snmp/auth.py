"""SNMP credentials: one auth profile, parsed strictly, never printing its secrets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

SECRET = "<secret>"
SECURITY_LEVELS = ("noAuthNoPriv", "authNoPriv", "authPriv")
AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "AES", "AES192", "AES256")
_SECRET_FIELDS = ("community", "auth_password", "priv_password")


class SnmpConfigError(ValueError):
    """SNMP config (an auth profile, module settings) is invalid; names the field, never a secret."""


@dataclass(frozen=True, slots=True, repr=False)
class SnmpAuth:
    version: int = 2  # 2 (v2c) or 3
    community: str = "public"
    username: str = ""
    security_level: str = "authPriv"
    auth_protocol: str = "SHA"
    auth_password: str = ""
    priv_protocol: str = "AES"
    priv_password: str = ""
    context_name: str = ""

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            shown = SECRET if f.name in _SECRET_FIELDS and value else repr(value)
            parts.append(f"{f.name}={shown}")
        return f"SnmpAuth({', '.join(parts)})"

    __str__ = __repr__

    @property
    def auth_enabled(self) -> bool:
        return self.version == 3 and self.security_level != "noAuthNoPriv"

    @property
    def priv_enabled(self) -> bool:
        return self.version == 3 and self.security_level == "authPriv"

    def redacted(self) -> dict[str, Any]:
        """The profile as a dict for dumping, secrets replaced by <secret>."""
        return {
            f.name: (SECRET if f.name in _SECRET_FIELDS and getattr(self, f.name) else getattr(self, f.name))
            for f in fields(self)
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "auth") -> SnmpAuth:
        """Parse a config mapping. Secrets may be given inline, as NAME_env or as NAME_file."""
        if not isinstance(d, Mapping):
            raise SnmpConfigError(f"{where}: expected a mapping, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        allowed = known | {f"{n}_{s}" for n in _SECRET_FIELDS for s in ("env", "file")}
        unknown = sorted(set(d) - allowed)
        if unknown:
            raise SnmpConfigError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
        values: dict[str, Any] = {}
        values["version"] = _version(d.get("version", 2), f"{where}.version")
        for name in ("username", "context_name"):
            if name in d:
                values[name] = _string(d[name], f"{where}.{name}")
        for name in _SECRET_FIELDS:
            secret = _secret(d, name, where)
            if secret is not None:
                values[name] = secret
        values["security_level"] = _choice(
            d.get("security_level", "authPriv"), SECURITY_LEVELS, f"{where}.security_level"
        )
        values["auth_protocol"] = _choice(
            str(d.get("auth_protocol", "SHA")).upper(), AUTH_PROTOCOLS, f"{where}.auth_protocol"
        )
        priv = str(d.get("priv_protocol", "AES")).upper()
        values["priv_protocol"] = _choice(
            "AES" if priv == "AES128" else priv, PRIV_PROTOCOLS, f"{where}.priv_protocol"
        )
        auth = cls(**values)
        auth._validate(d, where)
        return auth

    def _validate(self, d: Mapping[str, Any], where: str) -> None:
        if self.version == 2:
            v2_keys = ("version", "community", "community_env", "community_file")
            v3_only = sorted(k for k in d if k not in v2_keys)
            if v3_only:
                raise SnmpConfigError(f"{where}.{v3_only[0]}: only valid with version 3")
            if not self.community:
                raise SnmpConfigError(f"{where}.community: must not be empty for version 2")
            return
        if "community" in d:
            raise SnmpConfigError(f"{where}.community: only valid with version 2")
        if not self.username:
            raise SnmpConfigError(f"{where}.username: required for version 3")
        if self.auth_enabled and len(self.auth_password) < 8:
            raise SnmpConfigError(f"{where}.auth_password: required, at least 8 characters (RFC 3414)")
        if self.priv_enabled and len(self.priv_password) < 8:
            raise SnmpConfigError(f"{where}.priv_password: required, at least 8 characters (RFC 3414)")


def _version(value: Any, where: str) -> int:
    text = str(value).lower().lstrip("v")
    if text in ("2", "2c"):
        return 2
    if text == "3":
        return 3
    raise SnmpConfigError(f"{where}: must be 2 (v2c) or 3, got {value!r}")


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise SnmpConfigError(f"{where}: expected a string, got {type(value).__name__}")
    return value


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise SnmpConfigError(f"{where}: must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _secret(d: Mapping[str, Any], name: str, where: str) -> str | None:
    given = [k for k in (name, f"{name}_env", f"{name}_file") if k in d]
    if len(given) > 1:
        raise SnmpConfigError(f"{where}: give only one of {', '.join(given)}")
    if not given:
        return None
    key = given[0]
    raw = _string(d[key], f"{where}.{key}")
    if key == name:
        return raw
    if key.endswith("_env"):
        value = os.environ.get(raw)
        if value is None:
            raise SnmpConfigError(f"{where}.{key}: environment variable {raw} is not set")
        return value
    try:
        with open(raw, encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError as exc:
        raise SnmpConfigError(f"{where}.{key}: cannot read {raw}: {exc.strerror}") from None
