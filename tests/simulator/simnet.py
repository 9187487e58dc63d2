"""Helpers for the simulator's network tests: a simulator running in a background thread, and
independent clients (net-snmp CLI tools, icmplib pings, raw TCP connects, the control API over HTTP)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import icmplib

from tests import runnet

T = TypeVar("T")

# This run's addresses (tests/runnet.py) and ports the kernel picked: another run's simulator serves
# other addresses on other ports, and its nftables table drops only its own addresses.
RUN = runnet.current()
SNMP_PORT = runnet.free_port(socket.SOCK_DGRAM)
ONVIF_PORT = runnet.free_port()
RTSP_PORT = runnet.free_port()
CONTROL_HOST = RUN.host(20)
CONTROL_PORT = runnet.free_port(host=CONTROL_HOST)
TOWNSHIPS = ("baodong", "genghuang")  # Huawei + H3C switches, every camera vendor


class SimThread:
    """Runs a Simulator on its own event loop in a daemon thread."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.sim: Any = None
        self._make = make
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def boot() -> None:
            try:
                self.sim = self._make()
                await self.sim.start()
            except BaseException as exc:
                self._error = exc
            finally:
                self._ready.set()

        self.loop.run_until_complete(boot())
        self.loop.run_forever()

    def start(self, timeout: float = 60) -> None:
        self.thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("simulator did not start")
        if self._error is not None:
            raise self._error

    def call(self, coro_fn: Callable[[], Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro_fn(), self.loop).result(timeout)

    def stop(self) -> None:
        if self.sim is not None:
            self.call(self.sim.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# ---------------------------------------------------------------- control API


def api(method: str, path: str, body: Any = None, port: int = CONTROL_PORT) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://{CONTROL_HOST}:{port}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def add_fault(type_: str, target: str, **params: Any) -> str:
    duration = params.pop("duration", None)
    body: dict[str, Any] = {"type": type_, "target": target, "params": params}
    if duration is not None:
        body["duration"] = duration
    status, reply = api("POST", "/api/faults", body)
    assert status == 201, reply
    return str(reply["id"])


def clear_fault(fault_id: str) -> None:
    status, reply = api("DELETE", f"/api/faults/{fault_id}")
    assert status == 200, reply


def wait_for(predicate: Callable[[], T], timeout: float = 15.0, interval: float = 0.2, what: str = "") -> T:
    """Poll until ``predicate()`` is truthy (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(interval)


# ---------------------------------------------------------------- net-snmp CLI


@dataclass(frozen=True)
class SnmpCreds:
    version: int
    community: str = ""
    user: str = ""
    auth: str = ""
    priv: str = ""

    def args(self) -> list[str]:
        if self.version == 2:
            return ["-v2c", "-c", self.community]
        return [
            "-v3",
            "-l",
            "authPriv",
            "-u",
            self.user,
            "-a",
            "SHA",
            "-A",
            self.auth,
            "-x",
            "AES",
            "-X",
            self.priv,
        ]


_LINE = re.compile(r"^(\.?[\d.]+) = (?:([\w-]+): )?(.*)$")


def _run_snmp(
    tool: str, creds: SnmpCreds, ip: str, oids: Iterable[str], timeout: float = 1.0, retries: int = 0
) -> subprocess.CompletedProcess[str]:
    cmd = [
        tool,
        *creds.args(),
        "-On",
        "-Oe",
        "-t",
        str(timeout),
        "-r",
        str(retries),
        f"{ip}:{SNMP_PORT}",
        *oids,
    ]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=60, env={**os.environ, "MIBS": ""}, check=False
    )


def parse_lines(out: str) -> dict[str, tuple[str, str]]:
    values: dict[str, tuple[str, str]] = {}
    last = ""
    for line in out.splitlines():
        m = _LINE.match(line)
        if m:
            last = m.group(1).lstrip(".")
            values[last] = (m.group(2) or "", m.group(3).strip().strip('"'))
        elif last:  # continuation of a multi-line string
            kind, text = values[last]
            values[last] = (kind, text + "\n" + line)
    return values


def snmpget(creds: SnmpCreds, ip: str, *oids: str, timeout: float = 1.0) -> dict[str, tuple[str, str]] | None:
    """{oid: (type, value)}, or None on timeout / no response."""
    proc = _run_snmp("snmpget", creds, ip, oids, timeout)
    if proc.returncode != 0:
        return None
    return parse_lines(proc.stdout)


def snmpget_error(creds: SnmpCreds, ip: str, oid: str = "1.3.6.1.2.1.1.3.0") -> str:
    proc = _run_snmp("snmpget", creds, ip, [oid])
    return "" if proc.returncode == 0 else (proc.stderr.strip() or proc.stdout.strip())


def snmpwalk(creds: SnmpCreds, ip: str, oid: str) -> dict[str, tuple[str, str]]:
    proc = _run_snmp("snmpbulkwalk", creds, ip, [oid], timeout=2.0, retries=1)
    assert proc.returncode == 0, proc.stderr
    return parse_lines(proc.stdout)


def column(walk: dict[str, tuple[str, str]], prefix: str) -> dict[str, str]:
    """{index suffix: value} of one walked column."""
    cut = len(prefix) + 1
    return {k[cut:]: v for k, (_, v) in walk.items() if k.startswith(prefix + ".")}


def counter(creds: SnmpCreds, ip: str, oid: str) -> tuple[float, int]:
    """(monotonic time of the read, Counter64 value)."""
    t0 = time.monotonic()
    got = snmpget(creds, ip, oid)
    t1 = time.monotonic()
    assert got is not None, f"no answer from {ip}"
    return (t0 + t1) / 2, int(got[oid][1])


# ---------------------------------------------------------------- ICMP, TCP


def _ping_sockets() -> bool:
    """Unprivileged ping sockets allowed for our group (scripts/setup.sh sets ping_group_range)?"""
    try:
        with open("/proc/sys/net/ipv4/ping_group_range") as f:
            low, high = map(int, f.read().split())
    except (OSError, ValueError):
        return False
    return low <= os.getgid() <= high


def answering(addrs: Iterable[str], count: int = 1, timeout: float = 1.0) -> set[str]:
    """The addresses that answer a ping. Ping sockets where allowed: the kernel gives each its own
    identifier and its own replies, whereas a raw socket (icmplib matches identifier and sequence
    only) would take another run's replies for ours."""
    hosts = icmplib.multiping(
        list(addrs), count=count, interval=0.05, timeout=timeout, concurrent_tasks=256,
        privileged=not _ping_sockets(),
    )
    return {h.address for h in hosts if h.is_alive}


def pings(addr: str) -> bool:
    return bool(answering([addr]))


def tcp_state(ip: str, port: int, timeout: float = 1.0) -> str:
    """ "open", "refused" or "timeout"."""
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
