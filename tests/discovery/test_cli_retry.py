"""A CLI session that breaks is tried once more; a refused login and a timeout are final (a second
wrong password may lock the account on the switch)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from sharpeyes.exporters.discovery.auth import CliAuth
from sharpeyes.exporters.discovery.model import Observations
from sharpeyes.exporters.discovery.run import DiscoverySettings, _cli_one
from sharpeyes.exporters.discovery.snmp import SwitchL2
from sharpeyes.exporters.discovery.ssh_cli import _send
from sharpeyes.inventory import load_inventory
from tests.discovery.disc_helpers import SAMPLE

SWITCH = next(d for d in load_inventory(SAMPLE).active_devices() if d.kind == "switch")


class NetmikoAuthenticationException(Exception):  # netmiko's own class name is what the poller reads
    pass


def _poll(failures: list[Exception], timeout: float = 10.0) -> tuple[Observations, int]:
    calls = 0

    def collector(dev: Any, auth: Any, ports: list[str], budget: float) -> SwitchL2:
        nonlocal calls
        calls += 1
        assert 0 < budget <= timeout
        if failures:
            raise failures.pop(0)
        return SwitchL2()

    obs = Observations()
    auth = CliAuth(username="u", password="p", device_type="huawei")
    settings = DiscoverySettings(cli_timeout=timeout)
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        asyncio.run(_cli_one(ex, collector, SWITCH, auth, settings, asyncio.Semaphore(1), obs))
    return obs, calls


def test_broken_session_is_retried_once() -> None:
    obs, calls = _poll([EOFError("socket closed")])
    assert calls == 2 and [(p.ok, p.error) for p in obs.polls] == [(True, "")]


def test_second_break_is_reported_once() -> None:
    obs, calls = _poll([EOFError(), ConnectionResetError()])
    assert calls == 2 and [(p.ok, p.error) for p in obs.polls] == [(False, "ConnectionResetError")]


def test_refused_login_is_not_retried() -> None:
    obs, calls = _poll([NetmikoAuthenticationException("denied")])
    assert calls == 1 and [(p.ok, p.error) for p in obs.polls] == [(False, "NetmikoAuthenticationException")]


class _Conn:
    """A session whose first read of a command ended on a late prompt (seen with fakenos under load)."""

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.sent, self.drained = replies, 0, 0

    def send_command(self, command: str, read_timeout: float) -> str:
        self.sent += 1
        return self.replies.pop(0)

    def clear_buffer(self) -> None:
        self.drained += 1


def test_a_read_with_nothing_but_the_echo_is_asked_again() -> None:
    table = "MAC Address    VLAN ID  State   Port/Nickname  Aging\naaaa-bbbb-cccc  1  Learned  GE1/0/41  Y"
    for first in ("", "displ", "display mac-address"):
        conn = _Conn([first, table])
        assert _send(conn, "display mac-address", 5) == table and conn.drained == 1
    conn = _Conn([table])
    assert _send(conn, "display mac-address", 5) == table and (conn.sent, conn.drained) == (1, 0)
