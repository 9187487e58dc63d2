"""One discovery run: poll the switches (SNMP, and SSH CLI where a profile has a ``cli:`` section)
and the cameras' identity (ONVIF), with bounded concurrency and a deadline per device.

A device that hangs costs at most its deadline: SNMP and ONVIF calls are cancelled at the deadline;
netmiko (blocking) runs in a bounded thread pool and is abandoned at the deadline (its own socket
timeouts end the thread later; the run does not wait for it). The result is cached as JSON with
timestamps under ``state_dir`` (observations.json), then reconciled (findings.json) and rendered
as the metrics text file the exporter serves on ``/discovery/metrics``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sharpeyes.exporters.discovery.model import ArpEntry, Observations, PollResult, write_json
from sharpeyes.exporters.discovery.onvif import DirectSource, ExporterSource, IdentitySource, camera_identity
from sharpeyes.exporters.discovery.reconcile import scope_devices
from sharpeyes.exporters.discovery.snmp import SwitchL2, collect_switch
from sharpeyes.exporters.snmp.transport import SnmpError, SnmpTransport
from sharpeyes.inventory.model import Device, Inventory

log = logging.getLogger("sharpeyes.discovery")

DEFAULT_STATE_DIR = Path("var/discovery")
OBSERVATIONS = "observations.json"

CliCollector = Callable[[Device, Any, list[str], float], SwitchL2]


@dataclass(slots=True)
class DiscoverySettings:
    townships: tuple[str, ...] = ()  # () = the whole inventory
    snmp_port: int = 161
    snmp_retries: int = 1
    onvif_port: int | None = None  # None: each camera's inventory onvif_port
    concurrency: int = 64  # devices polled at once (SNMP and ONVIF each)
    device_timeout: float = 20.0  # seconds per device and protocol
    cli_threads: int = 8  # netmiko sessions at once
    cli_timeout: float = 60.0
    cli_share: float = 1.0  # fraction of the CLI-capable switches polled by CLI (stable choice)
    cli_port: int | None = None  # None: the profile's port
    onvif: bool = True
    exporter_url: str = ""  # read camera identity from a running exporter's onvif probe
    state_dir: Path = field(default_factory=lambda: DEFAULT_STATE_DIR)


def _cli_chosen(dev_id: str, share: float) -> bool:
    if share >= 1:
        return True
    h = int.from_bytes(hashlib.blake2b(dev_id.encode(), digest_size=4).digest(), "big") / 2**32
    return h < share


def _section(auths: Mapping[str, Any], dev: Device, name: str) -> Any:
    profile = auths.get(dev.auth) if dev.auth else None
    return profile.section(name) if profile is not None else None


async def run_discovery(
    inv: Inventory, auths: Mapping[str, Any], settings: DiscoverySettings, *,
    snmp: SnmpTransport | None = None, identity: IdentitySource | None = None,
    cli: CliCollector | None = None, tracker: Any = None,
) -> Observations:
    """``tracker`` (a :class:`sharpeyes.output.Tracker`) hears the poll count and each finished poll."""
    devices = scope_devices(inv, settings.townships)
    obs = Observations(started=time.time(), scope=list(settings.townships))
    own_snmp = snmp is None
    if snmp is None:
        from sharpeyes.exporters.snmp.client import SnmpClient

        snmp = SnmpClient()
    own_identity = identity is None and settings.onvif
    if identity is None and settings.onvif:
        identity = ExporterSource(settings.exporter_url) if settings.exporter_url else DirectSource()
    switches = [d for d in devices if d.kind == "switch"]
    cameras = [d for d in devices if d.kind == "camera"]
    executor = concurrent.futures.ThreadPoolExecutor(max(1, settings.cli_threads), "discovery-cli")
    try:
        sem = asyncio.Semaphore(max(1, settings.concurrency))
        tasks = [_snmp_one(snmp, d, _section(auths, d, "snmp"), settings, sem, obs) for d in switches
                 if _section(auths, d, "snmp") is not None]
        cli_switches = [d for d in switches if _section(auths, d, "cli") is not None
                        and _cli_chosen(d.id, settings.cli_share)]
        if cli is None and cli_switches:
            from sharpeyes.exporters.discovery.ssh_cli import collect_cli

            cli = collect_cli
        cli_sem = asyncio.Semaphore(max(1, settings.cli_threads))
        if cli is not None:
            tasks += [_cli_one(executor, cli, d, _section(auths, d, "cli"), settings, cli_sem, obs)
                      for d in cli_switches]
        if identity is not None:
            onvif_sem = asyncio.Semaphore(max(1, settings.concurrency))
            tasks += [_onvif_one(identity, d, _section(auths, d, "onvif"), settings, onvif_sem, obs)
                      for d in cameras]
        if tracker is not None:
            tracker.total(len(tasks))
            tasks = [_counted(t, tracker) for t in tasks]
        await asyncio.gather(*tasks)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        if own_snmp:
            await snmp.close()
        if own_identity and identity is not None:
            await identity.aclose()
    obs.finished = time.time()
    return obs


async def _counted(poll: Any, tracker: Any) -> None:
    try:
        await poll
    finally:
        tracker.advance()


def _absorb(obs: Observations, l2: SwitchL2, switch: str, source: str) -> None:
    obs.fdb += l2.fdb
    obs.lldp += l2.lldp
    obs.ports += l2.ports
    if l2.identity is not None:
        obs.identities.append(l2.identity)
    obs.arp += [ArpEntry(switch, ip, mac, source) for mac, ip in sorted(l2.arp.items())]


async def _snmp_one(snmp: SnmpTransport, dev: Device, auth: Any, settings: DiscoverySettings,
                    sem: asyncio.Semaphore, obs: Observations) -> None:
    async with sem:
        t0 = time.monotonic()
        try:
            async with asyncio.timeout(settings.device_timeout):
                l2 = await collect_switch(snmp, dev.id, (dev.ip, settings.snmp_port), auth,
                                          [p.name for p in dev.ports], settings.device_timeout,
                                          retries=settings.snmp_retries, arp=dev.role != "access")
        except (SnmpError, TimeoutError, OSError) as exc:
            reason = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            obs.polls.append(PollResult(dev.id, "snmp", False, reason, round(time.monotonic() - t0, 3)))
            log.info("snmp %s: %s", dev.id, reason)
            return
        _absorb(obs, l2, dev.id, "snmp")
        obs.polls.append(PollResult(dev.id, "snmp", True, "", round(time.monotonic() - t0, 3)))


# a refused login is not retried: a second wrong password may lock the account on the switch
_NO_RETRY = frozenset({"NetmikoAuthenticationException", "AuthenticationException"})


async def _cli_one(executor: concurrent.futures.Executor, cli: CliCollector, dev: Device, auth: Any,
                   settings: DiscoverySettings, sem: asyncio.Semaphore, obs: Observations) -> None:
    """One switch over SSH. A session that breaks (a village link drops, the switch's vty is busy)
    is tried once more within the same time budget; a timeout or a refused login is final."""
    async with sem:
        t0 = time.monotonic()
        loop = asyncio.get_running_loop()
        if settings.cli_port is not None:
            import dataclasses

            auth = dataclasses.replace(auth, port=settings.cli_port)
        error = ""
        for attempt in (1, 2):
            budget = settings.cli_timeout - (time.monotonic() - t0)
            fut = loop.run_in_executor(executor, cli, dev, auth, [p.name for p in dev.ports], budget)
            try:
                l2 = await asyncio.wait_for(fut, budget)
            except TimeoutError:
                error = "timeout"
                break
            except Exception as exc:  # netmiko/paramiko raise many types; the message may quote the device
                error = type(exc).__name__
                log.info("cli %s: %s (attempt %d)", dev.id, error, attempt)
                if error in _NO_RETRY or budget < settings.cli_timeout / 2:
                    break
                continue
            _absorb(obs, l2, dev.id, "cli")
            obs.polls.append(PollResult(dev.id, "cli", True, "", round(time.monotonic() - t0, 3)))
            return
        obs.polls.append(PollResult(dev.id, "cli", False, error, round(time.monotonic() - t0, 3)))


async def _onvif_one(source: IdentitySource, dev: Device, auth: Any, settings: DiscoverySettings,
                     sem: asyncio.Semaphore, obs: Observations) -> None:
    async with sem:
        port = settings.onvif_port or dev.onvif_port
        try:
            async with asyncio.timeout(settings.device_timeout + 1):
                ident, poll = await camera_identity(source, dev.id, dev.ip, port, auth,
                                                    settings.device_timeout, "onvif")
        except TimeoutError:
            ident, poll = None, PollResult(dev.id, "onvif", False, "timeout", settings.device_timeout)
        obs.polls.append(poll)
        if ident is not None:
            obs.identities.append(ident)


# ------------------------------------------------------------------ cache files


def load_observations(path: Path) -> Observations:
    return Observations.from_json(json.loads(path.read_text(encoding="utf-8")))


def save_observations(state_dir: Path, obs: Observations) -> Path:
    path = state_dir / OBSERVATIONS
    write_json(path, obs.to_json())
    return path
