"""What the SNMP probers share: settings, target -> (address, auth), and error translation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

from sharpeyes.exporters.probers.base import Module, ProbeError, Target
from sharpeyes.exporters.snmp.auth import SnmpAuth, SnmpConfigError
from sharpeyes.exporters.snmp.transport import (
    Addr,
    SnmpAuthFailure,
    SnmpError,
    SnmpMalformed,
    SnmpResponseError,
    SnmpTimeout,
)

HUAWEI_UNITS = ("uw", "centi_dbm")  # optics.family.HUAWEI_UNITS; "auto" decides per device


@dataclass(frozen=True, slots=True)
class SnmpSettings:
    """Module settings of snmp_camera / snmp_switch."""

    port: int = 161
    retries: int = 1  # retransmissions; all attempts share the probe's time budget
    auth: SnmpAuth | None = None  # used when the target's inventory names no auth profile
    huawei_optical_unit: str = "auto"  # auto (per device, see snmp/family.py) | uw | centi_dbm
    # per-model override, e.g. {"S5720-56C-PWR-EI-AC": "uw"}: matched case-folded against the
    # inventory model, then as a substring of sysDescr; wins over everything else
    huawei_optical_unit_by_model: tuple[tuple[str, str], ...] = ()
    rewalk_interval: float = 600.0  # at most this often re-walk ifName for ports not found

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, where: str = "settings") -> SnmpSettings:
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise SnmpConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
        values: dict[str, Any] = {}
        if "port" in d:
            values["port"] = _int(d["port"], f"{where}.port", 1, 65535)
        if "retries" in d:
            values["retries"] = _int(d["retries"], f"{where}.retries", 0, 10)
        if "auth" in d:
            values["auth"] = SnmpAuth.from_dict(d["auth"], f"{where}.auth")
        if "huawei_optical_unit" in d:
            unit = d["huawei_optical_unit"]
            if unit not in ("auto", *HUAWEI_UNITS):
                choices = ", ".join(("auto", *HUAWEI_UNITS))
                raise SnmpConfigError(f"{where}.huawei_optical_unit: must be one of {choices}")
            values["huawei_optical_unit"] = unit
        if "huawei_optical_unit_by_model" in d:
            values["huawei_optical_unit_by_model"] = _by_model(
                d["huawei_optical_unit_by_model"], f"{where}.huawei_optical_unit_by_model"
            )
        if "rewalk_interval" in d:
            value = d["rewalk_interval"]
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise SnmpConfigError(f"{where}.rewalk_interval: must be a number of seconds >= 0")
            values["rewalk_interval"] = float(value)
        return cls(**values)


def _by_model(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise SnmpConfigError(f"{where}: must be a mapping of model -> unit")
    out = []
    for model, unit in value.items():
        if not isinstance(model, str) or not model.strip():
            raise SnmpConfigError(f"{where}: model names must be non-empty strings")
        if unit not in HUAWEI_UNITS:
            raise SnmpConfigError(f"{where}.{model}: must be one of {', '.join(HUAWEI_UNITS)}")
        out.append((model.strip(), unit))
    return tuple(out)


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise SnmpConfigError(f"{where}: must be an integer from {lo} to {hi}")
    return value


def settings_of(module: Module) -> SnmpSettings:
    s = module.settings
    if isinstance(s, SnmpSettings):
        return s
    if s is None or isinstance(s, Mapping):
        return SnmpSettings.from_dict(s, f"modules.{module.name}")
    raise TypeError(f"module {module.name}: settings of type {type(s).__name__} are not SnmpSettings")


def address_of(target: Target, settings: SnmpSettings) -> Addr:
    return target.ip, int(target.extra.get("snmp_port", settings.port))


def auth_of(target: Target, settings: SnmpSettings) -> SnmpAuth:
    auth = target.auth if isinstance(target.auth, SnmpAuth) else settings.auth
    if auth is None:
        raise ProbeError("auth", "no SNMP auth profile for this target")
    return auth


@contextmanager
def probe_errors() -> Iterator[None]:
    """Translate transport failures into ProbeError reasons, once, here."""
    try:
        yield
    except SnmpTimeout as exc:
        raise ProbeError("timeout", str(exc)) from None
    except SnmpAuthFailure as exc:
        raise ProbeError("auth", str(exc)) from None
    except SnmpMalformed as exc:
        raise ProbeError("malformed", str(exc)) from None
    except SnmpResponseError as exc:
        raise ProbeError("protocol", str(exc)) from None
    except SnmpError as exc:
        raise ProbeError("protocol", str(exc)) from None
    except OSError as exc:  # e.g. sendto: network unreachable
        raise ProbeError("unreachable", exc.strerror or str(exc)) from None


def text(value: object) -> str:
    """An OCTET STRING as label text: UTF-8, else GB18030 (Chinese firmware), whitespace folded."""
    if isinstance(value, bytes):
        try:
            s = value.decode("utf-8")
        except UnicodeDecodeError:
            s = value.decode("gb18030", "replace")
    elif isinstance(value, str):
        s = value
    else:
        return ""
    return " ".join(s.replace("\x00", " ").split())
