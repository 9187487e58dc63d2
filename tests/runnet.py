"""Per-run network resources, so that two test runs on one host never meet.

A run holds one *slot* (an exclusive ``flock`` on ``<slot dir>/slot-N.lock``, kept for the life of the
pytest process and released by the kernel even when the process is killed). From the slot come:

- an address block: the sample district's device addresses (second octet 16, 18, 20) move to
  127.(16+8N).x.y, 127.(18+8N).x.y, 127.(20+8N).x.y — simulators of two runs bind, and their
  nftables tables drop, disjoint addresses. Second octet 22+8N holds the run's other test hosts
  (SNMP agents, ONVIF/RTSP servers, dead addresses), 23+8N the simulator tests' camera servers;
- nftables table names ``sharpeyes_tN_<purpose>``. Taking a slot deletes the tables a crashed
  earlier holder of the same slot left behind — only those, never another run's. A slot whose
  addresses still have listening sockets (a crashed run's orphaned simulator or agent) is skipped;
- ports: every service a test starts gets its port from the kernel (``free_port``), with a retry
  where a program binds it later (``with_free_ports``); programs that take one port base for several
  services get it from the slot's own band below the ephemeral range (``free_port_base``).

``SHARPEYES_TEST_SLOT=N`` pins the slot (it must be free); ``SHARPEYES_TEST_SLOT_DIR`` moves the lock files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import re
import shutil
import socket
import struct
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

from sharpeyes.contract import SAMPLE_DISTRICT

SLOT_DIR = Path(os.environ.get("SHARPEYES_TEST_SLOT_DIR", "/tmp/sharpeyes-test-slots"))
STRIDE = 8  # the sample district spans second octets 16..23: one stride of 8 per slot
SLOTS = range(1, 30)  # 16 + 8*29 + 7 = 255; slot 0 is the unmapped sample (the demo, benchmarks)
T = TypeVar("T")


class SlotsExhausted(RuntimeError):
    pass


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A port the kernel picked as free on ``host`` just now (TCP or, with SOCK_DGRAM, UDP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_base(offsets: Iterable[int], attempts: int = 200, slot: int | None = None) -> int:
    """A base such that ``base + o`` is free for every offset (for programs that take one port base).

    The ports lie below the kernel's ephemeral range: a program binds them later (an Ansible-rendered
    unit minutes after the converge), and a port in the ephemeral range may meanwhile become the local
    end of any process's outgoing connection. Each slot draws from its own band of that range, so two
    runs never pick the same ports, even though neither holds them between the check and the bind."""
    offsets = tuple(offsets)
    lo_off, span = min(offsets), max(offsets) - min(offsets)
    n = current().slot if slot is None else slot
    band = (_ephemeral_low() - 1025) // (SLOTS.stop + 1)
    if band <= span:
        raise RuntimeError(f"offsets span {span} ports, more than a slot's band of {band}")
    first = 1025 + n * band  # the band's lowest port; base + lo_off lies in [first, first + band - span)
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(first, first + band - span) - lo_off
        if all(port_free(base + o) for o in offsets):
            return base
    raise RuntimeError(f"no free port base for offsets {offsets} in slot {n}'s band after {attempts} attempts")


def with_free_ports(start: Callable[[], T], attempts: int = 3,
                    retry_if: Callable[[BaseException], bool] | None = None) -> T:
    """``start()`` picks fresh kernel ports on each call; retried when a port was taken meanwhile."""
    def in_use(exc: BaseException) -> bool:
        return "in use" in str(exc).lower() or getattr(exc, "errno", None) == 98

    check = retry_if or in_use
    for attempt in range(attempts):
        try:
            return start()
        except Exception as exc:
            if attempt == attempts - 1 or not check(exc):
                raise
    raise AssertionError("unreachable")


def listeners() -> list[str]:
    """Local IPv4 addresses with a listening TCP socket or a bound UDP socket (from /proc/net)."""
    found: list[str] = []
    for name, wanted in (("tcp", "0A"), ("udp", None)):  # 0A: LISTEN; UDP sockets have no such state
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and (wanted is None or fields[3] == wanted):
                found.append(socket.inet_ntoa(struct.pack("<I", int(fields[1].split(":")[0], 16))))
    return found


def nft_tables() -> list[tuple[str, str]]:
    """(family, name) of every nftables table (none without root or nft)."""
    nft = shutil.which("nft")
    if nft is None or os.geteuid() != 0:
        return []
    out = subprocess.run([nft, "list", "tables"], capture_output=True, text=True, check=False).stdout
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^table (\w+) (\S+)$", out, re.M)]


@dataclass
class RunNet:
    slot: int
    lock: IO[str] | None = field(default=None, repr=False)
    owns_tables: bool = True  # False: never deletes nftables tables (see acquire)

    @property
    def offset(self) -> int:
        return STRIDE * self.slot

    @property
    def table_prefix(self) -> str:
        return f"sharpeyes_t{self.slot}_"

    def table(self, purpose: str) -> str:
        """This run's nftables table for ``purpose`` (letters, digits, underscore)."""
        return self.table_prefix + purpose

    def ip(self, sample_ip: str) -> str:
        """A sample-district address moved into this run's block."""
        a, b, c, d = sample_ip.split(".")
        if a != "127" or not 16 <= int(b) < 16 + STRIDE:
            raise ValueError(f"{sample_ip} is not a sample-district address (127.16.0.0–127.23.255.255)")
        return f"127.{int(b) + self.offset}.{c}.{d}"

    def host(self, n: int, sub: int = 22) -> str:
        """The run's n-th test host address (n ≥ 0) outside the district's addresses."""
        if not 16 + STRIDE - 2 <= sub < 16 + STRIDE:
            raise ValueError("sub must be 22 or 23")
        return f"127.{sub + self.offset}.{n // 250}.{n % 250 + 1}"

    def copy_sample(self, dest: Path, townships: Iterable[str] = (),
                    edit: Callable[[str, str], str] | None = None) -> Path:
        """The sample district (only ``townships`` if given) with this run's addresses, at ``dest``.

        ``edit(relpath, text)`` may change more before a file is written."""
        if dest.exists():
            shutil.rmtree(dest)
        wanted = set(townships)
        for src in sorted(SAMPLE_DISTRICT.rglob("*.yaml")):
            rel = src.relative_to(SAMPLE_DISTRICT)
            if wanted and rel.parts[0] == "townships" and src.stem not in wanted:
                continue
            text = re.sub(r"\bip: (127\.\d+\.\d+\.\d+)", lambda m: f"ip: {self.ip(m.group(1))}",
                          src.read_text(encoding="utf-8"))
            if edit is not None:
                text = edit(str(rel), text)
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        return dest

    def in_block(self, ip: str) -> bool:
        a, b, *_ = ip.split(".")
        return a == "127" and 16 + self.offset <= int(b) < 16 + STRIDE + self.offset

    def busy(self) -> list[str]:
        """Addresses of this slot's block that something listens on (none when the slot is clean)."""
        return sorted({ip for ip in listeners() if self.in_block(ip)})

    def clean_leftovers(self) -> list[str]:
        """Delete this slot's nftables tables (a crashed earlier run's); returns their names."""
        gone = [(family, t) for family, t in nft_tables() if t.startswith(self.table_prefix)]
        for family, t in gone:
            subprocess.run(["nft", "delete", "table", family, t], capture_output=True, check=False)
        return [t for _, t in gone]

    def release(self) -> None:
        if self.owns_tables:
            self.clean_leftovers()
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def _try_lock(slot: int) -> IO[str] | None:
    SLOT_DIR.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        SLOT_DIR.chmod(0o1777)  # shared by every user's runs
    fh = open(SLOT_DIR / f"slot-{slot}.lock", "a+")  # noqa: SIM115 (held for the whole run)
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def acquire(clean: bool = True) -> RunNet:
    """Take a free slot (or the one ``SHARPEYES_TEST_SLOT`` names) and clear its leftovers.

    ``clean=False`` leaves nftables alone: for slots of a private ``SLOT_DIR`` (this module's own
    tests), whose numbers a real run may hold in the shared one."""
    pinned = os.environ.get("SHARPEYES_TEST_SLOT")
    candidates = [int(pinned)] if pinned else list(SLOTS)
    if pinned and int(pinned) not in SLOTS:
        raise SlotsExhausted(f"SHARPEYES_TEST_SLOT={pinned}: must be {SLOTS.start}..{SLOTS.stop - 1}")
    for slot in candidates:
        fh = _try_lock(slot)
        if fh is not None and RunNet(slot).busy():  # a dead run's processes still serve its block
            fh.close()
            if pinned:
                raise SlotsExhausted(f"SHARPEYES_TEST_SLOT={pinned}: processes still listen on its addresses "
                                     f"({', '.join(RunNet(slot).busy()[:3])} …): a crashed run's leftovers")
            continue
        if fh is not None:
            net = RunNet(slot, fh, clean)
            if clean:
                net.clean_leftovers()
            return net
    raise SlotsExhausted(f"every test slot in {SLOT_DIR} is held by a running test run"
                         + (f" (SHARPEYES_TEST_SLOT={pinned})" if pinned else ""))


_current: RunNet | None = None


def current() -> RunNet:
    """This process's slot, taken on first use (conftest releases it when the session ends)."""
    global _current
    if _current is None:
        _current = acquire()
    return _current


def release_current() -> None:
    global _current
    if _current is not None:
        _current.release()
        _current = None
