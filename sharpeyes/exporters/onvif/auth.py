"""ONVIF credentials: one auth profile, parsed strictly, never printing its password."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECRET = "<secret>"


class OnvifAuthConfigError(ValueError):
    """An ONVIF auth profile is invalid; the message names the field, never the secret."""


@dataclass(frozen=True, slots=True, repr=False)
class OnvifAuth:
    username: str
    password: str

    def __repr__(self) -> str:
        return f"OnvifAuth(username={self.username!r}, password={SECRET if self.password else ''!r})"

    __str__ = __repr__

    def redacted(self) -> dict[str, str]:
        return {"username": self.username, "password": SECRET if self.password else ""}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "auth") -> OnvifAuth:
        """``username`` plus exactly one of ``password``, ``password_env``, ``password_file``."""
        if not isinstance(d, Mapping):
            raise OnvifAuthConfigError(f"{where}: expected a mapping")
        allowed = {"username", "password", "password_env", "password_file"}
        unknown = sorted(set(d) - allowed)
        if unknown:
            allowed_keys = ", ".join(sorted(allowed))
            raise OnvifAuthConfigError(f"{where}.{unknown[0]}: unknown key; allowed: {allowed_keys}")
        username = d.get("username")
        if not isinstance(username, str) or not username:
            raise OnvifAuthConfigError(f"{where}.username: a non-empty string is required")
        given = [k for k in ("password", "password_env", "password_file") if k in d]
        if len(given) != 1:
            raise OnvifAuthConfigError(
                f"{where}.password: give exactly one of password, password_env, password_file")
        return cls(username, _secret(d, given[0], where))


def _secret(d: Mapping[str, Any], key: str, where: str) -> str:
    value = d[key]
    if not isinstance(value, str):
        raise OnvifAuthConfigError(f"{where}.{key}: expected a string")
    if key == "password":
        return value
    if key == "password_env":
        if value not in os.environ:
            raise OnvifAuthConfigError(f"{where}.password_env: environment variable {value} is not set")
        return os.environ[value]
    try:
        with open(value, encoding="utf-8") as f:
            return f.read().rstrip("\r\n")
    except OSError as exc:
        raise OnvifAuthConfigError(f"{where}.password_file: cannot read {value}: {exc.strerror}") from None
