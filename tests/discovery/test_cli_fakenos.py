"""netmiko collection against fakenos (huawei_vrp, cisco_ios, hp_comware): the SSH session works,
commands the fake lacks are skipped, and the canned outputs parse into observations."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from sharpeyes.exporters.discovery.auth import CliAuth
from sharpeyes.exporters.discovery.ssh_cli import collect_cli
from sharpeyes.inventory.model import Device

PLATFORMS = {"huawei_vrp": "huawei", "cisco_ios": "cisco_ios", "hp_comware": "hp_comware"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fakenos_hosts() -> Iterator[dict[str, int]]:
    fakenos = pytest.importorskip("fakenos")
    ports = {p: _free_port() for p in PLATFORMS}
    inv = {"default": {"username": "user", "password": "user",
                       "server": {"plugin": "ParamikoSshServer",
                                  "configuration": {"address": "127.0.0.1", "timeout": 1}},
                       "shell": {"plugin": "CMDShell", "configuration": {}}},
           "hosts": {f"sw-{p}": {"port": port, "platform": p} for p, port in ports.items()}}
    net = fakenos.FakeNOS(inventory=inv)
    net.start()
    for port in ports.values():  # fakenos starts its servers in threads: wait until they listen
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    yield ports
    net.stop()


def _collect(ports: dict[str, int], platform: str):  # type: ignore[no-untyped-def]
    dev = Device(id=f"sw-{platform}", kind="switch", role="access", name="x", site="s", ip="127.0.0.1")
    return collect_cli(dev, CliAuth("user", "user", PLATFORMS[platform], ports[platform]), [], 30)


def test_huawei_vrp(fakenos_hosts: dict[str, int]) -> None:
    l2 = _collect(fakenos_hosts, "huawei_vrp")
    assert [(e.port, e.mac, e.vlan) for e in l2.fdb] == [
        ("XGE0/0/1", "b8:d6:f6:ff:73:90", 10), ("XGE0/0/1", "b8:d6:f6:ff:73:9b", 10)]
    assert l2.identity is not None and l2.identity.firmware == "V300R003C10SPC500"
    assert any(p.port == "GigabitEthernet8/1/16" and p.up for p in l2.ports)
    assert l2.lldp == []  # fakenos has no `display lldp neighbor brief`: skipped, not fatal


def test_cisco_ios(fakenos_hosts: dict[str, int]) -> None:
    l2 = _collect(fakenos_hosts, "cisco_ios")
    assert ("Fa0/13", "S2", "Gi0/13") in [(n.port, n.sys_name, n.port_id) for n in l2.lldp]
    assert l2.fdb and all(e.mac.count(":") == 5 for e in l2.fdb)  # via the show mac-address-table fallback


def test_hp_comware(fakenos_hosts: dict[str, int]) -> None:
    l2 = _collect(fakenos_hosts, "hp_comware")
    assert [(n.port, n.chassis_id, n.sys_name) for n in l2.lldp] == [
        ("XGE1/0/0/1", "bc:ea:fa:00:00:33", "SWITCH01"), ("XGE1/0/0/2", "bc:ea:fa:00:00:33", "SWITCH01")]
    assert ("GigabitEthernet1/0/41", "aa:aa:bb:bb:cc:cc") in [(e.port, e.mac) for e in l2.fdb]
