"""Security-hygiene audit of the fleet. Polite by construction:

- ``snmp_default_community``: SNMP v2c GET of sysObjectID with ``public`` then ``private`` ONLY
  (never a dictionary), one attempt each, all checks sharing one rate limit (``rate``/s).
- ``snmp_not_v3_authpriv``: from the auth profiles, no network: devices polled with v2c or with
  SNMPv3 below authPriv.
- ``onvif_default_password``: at most the vendor's documented factory password(s)
  (:data:`VENDOR_DEFAULTS`), one GetDeviceInformation each, rate-limited; the finding says only
  "vendor default accepted" — tried passwords appear nowhere (findings, logs, metrics).
- ``clock_offset``: cameras whose ONVIF clock (from the last discovery) is off by more than
  ``clock_max_s``.
- ``firmware_denylist``: firmware (observed, else the inventory's) matching a YAML deny-list::

      - {vendor: hikvision, firmware: "V5.4.0 build 160530", reason: "CVE-2017-7921 auth bypass"}
      - {vendor: dahua, firmware_regex: "^2\\.400\\.", reason: "CVE-2021-33044", severity: critical}
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sharpeyes.exporters.discovery.model import AuditFinding, Identity, Observations
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.snmp.transport import SnmpError, SnmpTransport
from sharpeyes.inventory.model import Device, Inventory

CHECKS = ("snmp_default_community", "snmp_not_v3_authpriv", "onvif_default_password", "clock_offset",
          "firmware_denylist")
DEFAULT_COMMUNITIES = ("public", "private")
# Factory defaults as documented by each vendor for older firmware (newer ones force a change at
# first login). Deliberately short: this is an audit of known defaults, not a password guesser.
VENDOR_DEFAULTS: dict[str, tuple[tuple[str, str], ...]] = {
    "hikvision": (("admin", "12345"),),
    "dahua": (("admin", "admin"),),
    "uniview": (("admin", "123456"),),
}
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"


@dataclass(slots=True)
class AuditSettings:
    checks: tuple[str, ...] | None = None  # None: all
    rate: float = 20.0  # network attempts per second
    snmp_port: int = 161
    onvif_port: int | None = None
    townships: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    deny_list: Path | None = None
    clock_max_s: float = 300.0
    observations: Path | None = None
    timeout: float = 2.0
    concurrency: int = 64


class RateLimiter:
    """At most ``rate`` starts per second, evenly spaced (shared by every check)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            if self.next > now:
                await asyncio.sleep(self.next - now)
            self.next = max(now, self.next) + self.interval


def _finding(check: str, severity: str, dev: Device, detail: str) -> AuditFinding:
    return AuditFinding(check, severity, dev.id, dev.township, dev.contractor, dev.village, detail)


def _scope(inv: Inventory, s: AuditSettings) -> list[Device]:
    out = []
    for d in sorted(inv.active_devices(), key=lambda d: d.id):
        if s.townships and d.township not in s.townships:
            continue
        if s.kinds and d.kind not in s.kinds:
            continue
        if s.devices and d.id not in s.devices:
            continue
        out.append(d)
    return out


async def run_audit(inv: Inventory, auths: Mapping[str, Any], s: AuditSettings, *,
                    snmp: SnmpTransport | None = None, tracker: Any = None) -> list[AuditFinding]:
    """``tracker`` (a :class:`sharpeyes.output.Tracker`) hears the attempt count and each attempt."""
    checks = set(s.checks or CHECKS)
    devices = _scope(inv, s)
    limiter = RateLimiter(s.rate)
    sem = asyncio.Semaphore(s.concurrency)
    findings: list[AuditFinding] = []
    if "snmp_not_v3_authpriv" in checks:
        findings += weak_snmp_profiles(devices, auths)
    obs = _observations(s.observations)
    if "clock_offset" in checks and obs is not None:
        findings += clock_offsets(devices, obs.merged_identities(), s.clock_max_s)
    if "firmware_denylist" in checks and s.deny_list is not None:
        findings += denylisted(devices, obs.merged_identities() if obs else {}, load_deny_list(s.deny_list))
    jobs = []
    own = snmp is None
    if "snmp_default_community" in checks:
        if snmp is None:
            from sharpeyes.exporters.snmp.client import SnmpClient

            snmp = SnmpClient()
        jobs += [_community(snmp, d, s, limiter, sem) for d in devices]
    if "onvif_default_password" in checks:
        import aiohttp

        session = aiohttp.ClientSession()
        offsets = {k: v.clock_offset_s or 0.0 for k, v in (obs.merged_identities() if obs else {}).items()}
        jobs += [_onvif_default(session, d, s, limiter, sem, offsets.get(d.id, 0.0))
                 for d in devices if d.kind == "camera" and d.vendor in VENDOR_DEFAULTS]
    else:
        session = None
    if tracker is not None:
        tracker.total(len(jobs))
        jobs = [_counted(j, tracker) for j in jobs]
    try:
        for got in await asyncio.gather(*jobs):
            if got is not None:
                findings.append(got)
    finally:
        if own and snmp is not None:
            await snmp.close()
        if session is not None:
            await session.close()
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: (order.get(f.severity, 3), f.check, f.township, f.device))


async def _counted(job: Any, tracker: Any) -> Any:
    try:
        return await job
    finally:
        tracker.advance()


def _observations(path: Path | None) -> Observations | None:
    if path is None or not path.exists():
        return None
    try:
        return Observations.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


# ------------------------------------------------------------------ checks without network


def weak_snmp_profiles(devices: list[Device], auths: Mapping[str, Any]) -> list[AuditFinding]:
    out = []
    for d in devices:
        profile = auths.get(d.auth) if d.auth else None
        snmp: SnmpAuth | None = profile.section("snmp") if profile is not None else None
        if snmp is None:
            continue
        if snmp.version != 3:
            out.append(_finding("snmp_not_v3_authpriv", "warning", d, "polled with SNMP v2c (community in clear)"))
        elif snmp.security_level != "authPriv":
            out.append(_finding("snmp_not_v3_authpriv", "warning", d,
                                f"SNMPv3 {snmp.security_level} (no encryption)"))
    return out


def clock_offsets(devices: list[Device], idents: Mapping[str, Identity], max_s: float) -> list[AuditFinding]:
    out = []
    for d in devices:
        i = idents.get(d.id)
        if i is not None and i.clock_offset_s is not None and abs(i.clock_offset_s) > max_s:
            out.append(_finding("clock_offset", "warning", d, f"clock off by {i.clock_offset_s:+.0f} s"))
    return out


@dataclass(frozen=True, slots=True)
class DenyRule:
    vendor: str
    model: str
    firmware: str
    regex: re.Pattern[str] | None
    reason: str
    severity: str

    def matches(self, dev: Device, firmware: str) -> bool:
        if (self.vendor and self.vendor != dev.vendor) or (self.model and self.model != dev.model):
            return False
        if self.regex is not None:
            return bool(self.regex.search(firmware))
        return firmware == self.firmware


def load_deny_list(path: Path) -> list[DenyRule]:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read deny-list {path}: {type(exc).__name__}") from None
    if not isinstance(doc, list):
        raise ValueError(f"{path}: expected a list of rules")
    rules = []
    for n, r in enumerate(doc, 1):
        if not isinstance(r, dict) or not (r.get("firmware") or r.get("firmware_regex")):
            raise ValueError(f"{path}: rule {n}: needs firmware or firmware_regex")
        sev = str(r.get("severity", "critical"))
        if sev not in ("critical", "warning", "info"):
            raise ValueError(f"{path}: rule {n}: severity must be critical, warning or info")
        rx = re.compile(str(r["firmware_regex"])) if r.get("firmware_regex") else None
        rules.append(DenyRule(str(r.get("vendor", "")), str(r.get("model", "")), str(r.get("firmware", "")),
                              rx, str(r.get("reason", "on the firmware deny-list")), sev))
    return rules


def denylisted(devices: list[Device], idents: Mapping[str, Identity], rules: list[DenyRule]) -> list[AuditFinding]:
    out = []
    for d in devices:
        seen = idents.get(d.id)
        firmware = seen.firmware if seen is not None and seen.firmware else d.firmware
        rule = next((r for r in rules if firmware and r.matches(d, firmware)), None)
        if rule is not None:
            out.append(_finding("firmware_denylist", rule.severity, d, f"{firmware}: {rule.reason}"))
    return out


# ------------------------------------------------------------------ checks on the network


async def _community(snmp: SnmpTransport, d: Device, s: AuditSettings, limiter: RateLimiter,
                     sem: asyncio.Semaphore) -> AuditFinding | None:
    async with sem:
        for community in DEFAULT_COMMUNITIES:
            await limiter.wait()
            try:
                await snmp.get((d.ip, s.snmp_port), SnmpAuth(2, community), [SYS_OBJECT_ID], s.timeout, 0)
            except (SnmpError, OSError, TimeoutError):
                continue
            return _finding("snmp_default_community", "critical", d,
                            f"answers SNMP v2c with the default community '{community}'")
    return None


def _soap(user: str, password: str, offset: float) -> bytes:
    nonce = os.urandom(16)
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)
    created = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
    ptype = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
    return (
        '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        f'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:wsse="{wsse}" xmlns:wsu="{wsu}">'
        '<s:Header><wsse:Security s:mustUnderstand="1"><wsse:UsernameToken>'
        f"<wsse:Username>{user}</wsse:Username><wsse:Password Type=\"{ptype}\">{digest}</wsse:Password>"
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security></s:Header>"
        "<s:Body><tds:GetDeviceInformation/></s:Body></s:Envelope>").encode()


async def onvif_login_accepted(session: Any, ip: str, port: int, user: str, password: str,
                               offset: float, timeout: float) -> bool | None:
    """True: the camera accepted these credentials; False: refused; None: no usable answer."""
    import aiohttp

    try:
        async with session.post(f"http://{ip}:{port}/onvif/device_service", data=_soap(user, password, offset),
                                headers={"Content-Type": "application/soap+xml; charset=utf-8"},
                                timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            body = await resp.read()
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None
    if resp.status == 200 and b"GetDeviceInformationResponse" in body:
        return True
    return False if resp.status in (400, 401, 500) else None


async def _onvif_default(session: Any, d: Device, s: AuditSettings, limiter: RateLimiter,
                         sem: asyncio.Semaphore, offset: float) -> AuditFinding | None:
    async with sem:
        for user, password in VENDOR_DEFAULTS[d.vendor]:
            await limiter.wait()
            ok = await onvif_login_accepted(session, d.ip, s.onvif_port or d.onvif_port, user, password,
                                            offset, s.timeout)
            if ok is None:
                return None  # no answer: do not try the next one
            if ok:
                return _finding("onvif_default_password", "critical", d, "vendor default ONVIF password accepted")
    return None
