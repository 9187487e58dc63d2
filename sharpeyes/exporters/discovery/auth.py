"""SSH CLI credentials: the ``cli:`` section of an exporter auth profile.

    auths:
      switches-v3:
        snmp: {...}
        cli:
          username: {file: /run/secrets/sw.yaml, key: cli.username}
          password: {env: SW_CLI_PASSWORD}
          device_type: huawei          # netmiko: huawei | hp_comware | cisco_ios
          port: 22

The exporter's config reader resolves ``{env:}``/``{file:}`` before :meth:`CliAuth.from_dict` sees
the values; ``repr``/``redacted`` never show the password. :func:`register_auth_section` adds the
section type to ``exporters.config.AUTH_SECTIONS`` (done by ``exporters/cli.py`` at import).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECRET = "<secret>"
# netmiko device_type -> ntc-templates platform
DEVICE_TYPES: dict[str, str] = {
    "huawei": "huawei_vrp",
    "huawei_vrpv8": "huawei_vrp",
    "hp_comware": "hp_comware",
    "cisco_ios": "cisco_ios",
    "cisco_xe": "cisco_ios",
}
FIELDS = frozenset({"username", "password", "device_type", "port", "enable_secret"})
SECRETS = frozenset({"password", "enable_secret"})


class CliAuthError(ValueError):
    """A ``cli:`` section is invalid; names the field, never a secret."""


@dataclass(frozen=True, slots=True, repr=False)
class CliAuth:
    username: str
    password: str
    device_type: str = "huawei"
    port: int = 22
    enable_secret: str = ""

    @property
    def platform(self) -> str:
        return DEVICE_TYPES[self.device_type]

    def __repr__(self) -> str:
        return (f"CliAuth(username={self.username!r}, password={SECRET if self.password else ''!r}, "
                f"device_type={self.device_type!r}, port={self.port})")

    __str__ = __repr__

    def redacted(self) -> dict[str, Any]:
        return {"username": self.username, "password": SECRET if self.password else "",
                "device_type": self.device_type, "port": self.port,
                "enable_secret": SECRET if self.enable_secret else ""}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "cli") -> CliAuth:
        if not isinstance(d, Mapping):
            raise CliAuthError(f"{where}: expected a mapping")
        unknown = sorted(set(d) - FIELDS)
        if unknown:
            raise CliAuthError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(sorted(FIELDS))}")
        user = d.get("username")
        if not isinstance(user, str) or not user:
            raise CliAuthError(f"{where}.username: a non-empty string is required")
        password = d.get("password")
        if not isinstance(password, str) or not password:
            raise CliAuthError(f"{where}.password: required ({{env: NAME}} or {{file: PATH}})")
        dtype = d.get("device_type", "huawei")
        if dtype not in DEVICE_TYPES:
            raise CliAuthError(f"{where}.device_type: must be one of {', '.join(DEVICE_TYPES)}")
        port = d.get("port", 22)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise CliAuthError(f"{where}.port: must be a TCP port number")
        enable = d.get("enable_secret", "")
        if not isinstance(enable, str):
            raise CliAuthError(f"{where}.enable_secret: expected a string")
        return cls(user, password, str(dtype), port, enable)


def register_auth_section() -> None:
    """Teach the exporter's config reader the ``cli:`` section (idempotent)."""
    from sharpeyes.exporters.config import AUTH_SECTIONS, AuthSection

    AUTH_SECTIONS.setdefault("cli", AuthSection(CliAuth, FIELDS, SECRETS))
