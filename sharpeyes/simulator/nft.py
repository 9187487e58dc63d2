"""nftables rules that make simulated devices time out: one table, rewritten atomically on each change.

    table inet sharpeyes_sim
      set dead  { ipv4_addr }   drop everything to these addresses (unreachable, powered off)
      set hung  { ipv4_addr }   drop TCP/UDP but let pings through (firmware lock-up)
      chain lossy               one rule per loss level: numgen random mod 100 < P drop

Created at start, deleted at exit (also on Ctrl-C). Dropping at the input hook makes a client see a
*timeout*, never "connection refused", for ICMP, SNMP, ONVIF and RTSP alike.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import subprocess
from collections.abc import Mapping, Set


class NftError(RuntimeError):
    """nft is missing or refused our rules."""


def _elements(addrs: Set[str]) -> str:
    return "{ " + ", ".join(sorted(addrs)) + " }"


class Firewall:
    def __init__(self, table: str = "sharpeyes_sim") -> None:
        self.table = table
        self.nft = shutil.which("nft") or ""
        self.active = False
        self._last: tuple[frozenset[str], frozenset[str], tuple[tuple[int, frozenset[str]], ...]] | None = (
            None
        )

    def _run_sync(self, script: str) -> None:
        try:
            proc = subprocess.run(
                [self.nft, "-f", "-"], input=script, capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NftError(f"nft failed: {exc}") from None
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["unknown error"])[0]
            raise NftError(f"nft refused the rules: {first}")

    async def _run(self, script: str) -> None:
        await asyncio.to_thread(self._run_sync, script)

    def start(self) -> None:
        if not self.nft:
            raise NftError(
                "nft (nftables) not found: install nftables and run as root "
                "(or pass --no-firewall to serve without unreachable faults)"
            )
        t = self.table
        self._run_sync(f"""
table inet {t}
delete table inet {t}
table inet {t} {{
  set dead {{ type ipv4_addr; }}
  set hung {{ type ipv4_addr; }}
  chain input {{
    type filter hook input priority -10; policy accept;
    ip daddr @dead drop
    ip daddr @hung meta l4proto {{ tcp, udp }} drop
    jump lossy
  }}
  chain lossy {{
  }}
}}
""")
        self.active = True
        atexit.register(self.stop)  # also when the loop dies before stop() is awaited

    async def update(self, dead: Set[str], hung: Set[str], lossy: Mapping[str, int]) -> None:
        if not self.active:
            return
        levels: dict[int, set[str]] = {}
        for addr, pct in lossy.items():
            if addr not in dead and pct > 0:
                levels.setdefault(min(100, int(pct)), set()).add(addr)
        key = (frozenset(dead), frozenset(hung), tuple(sorted((p, frozenset(a)) for p, a in levels.items())))
        if key == self._last:
            return
        t = self.table
        lines = [f"flush set inet {t} dead", f"flush set inet {t} hung", f"flush chain inet {t} lossy"]
        if dead:
            lines.append(f"add element inet {t} dead {_elements(dead)}")
        if hung:
            lines.append(f"add element inet {t} hung {_elements(hung)}")
        for pct, addrs in sorted(levels.items()):
            lines.append(
                f"add rule inet {t} lossy ip daddr {_elements(addrs)} numgen random mod 100 < {pct} drop"
            )
        await self._run("\n".join(lines) + "\n")
        self._last = key

    def stop(self) -> None:
        if self.active:
            self.active = False
            with contextlib.suppress(NftError):
                self._run_sync(f"delete table inet {self.table}\n")
