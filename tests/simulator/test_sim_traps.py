"""Simulated devices send traps when faults change them; decoded by the exporter's receiver codec
(an implementation the simulator shares nothing with). In-process World: no network namespace,
no nftables, nothing heavy."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.exporters.snmp.auth import SnmpAuth
from sharpeyes.exporters.traps import pdu
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.model import Inventory
from sharpeyes.simulator.network import Levels, World
from sharpeyes.simulator.runner import initial_state
from sharpeyes.simulator.secrets import demo_document, parse
from sharpeyes.simulator.snmp.agent import SnmpAgent
from sharpeyes.simulator.snmp.traps import TrapSender


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(SAMPLE_DISTRICT)


@pytest.fixture
def sim(inv: Inventory) -> Iterator[tuple[World, TrapSender, socket.socket, dict[str, Any]]]:
    doc = demo_document()
    secrets = parse(doc)
    mono = time.monotonic()
    world = World(inv, {d.id: initial_state(d, mono) for d in inv.active_devices()})
    agent = SnmpAgent(world.devices.values(), secrets.snmp)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2)
    sender = TrapSender(world, agent, rx.getsockname(), seed=7)
    try:
        yield world, sender, rx, doc
    finally:
        rx.close()


def receive(rx: socket.socket, doc: dict[str, Any], inv: Inventory) -> list[tuple[str, pdu.Notification]]:
    """Every datagram waiting, decoded with the sending device's own profile: (device, notification)."""
    by_ip = {d.ip: d for d in inv.devices.values()}
    out = []
    rx.settimeout(0.5)
    while True:
        try:
            data, (ip, _) = rx.recvfrom(65535)
        except TimeoutError:
            return out
        dev = by_ip[ip]
        snmp = doc["auths"][dev.auth]["snmp"]
        auth = SnmpAuth.from_dict(snmp)
        if auth.version == 2:
            note = pdu.decode_v2c(data)
            assert note.community == auth.community.encode()
        else:
            engine_id, user, flags = pdu.peek_v3(data)
            assert user == auth.username.encode() and flags & 3 == 3  # authPriv
            note = pdu.decode_v3(data, auth, engine_id)
        out.append((dev.id, note))


def _camera_port(inv: Inventory, vendor_auth: str | None = None) -> tuple[str, str, str]:
    for cam in inv.active_devices():
        if cam.kind == "camera" and cam.uplink is not None:
            sw = inv.devices[cam.uplink.switch]
            if vendor_auth is None or sw.auth == vendor_auth:
                return cam.id, sw.id, cam.uplink.port
    raise LookupError(vendor_auth)


@pytest.mark.parametrize("profile", ["switches-v3", "switches-v2c"])
def test_port_down_and_up_send_link_down_and_link_up(sim: Any, inv: Inventory, profile: str) -> None:
    world, sender, rx, doc = sim
    _, switch, port = _camera_port(inv, profile)
    world.apply(Levels(ports_down={(switch, port)}))
    sender.update()
    world.apply(Levels())
    sender.update()
    got = receive(rx, doc, inv)
    assert [(d, n.name) for d, n in got] == [(switch, "linkDown"), (switch, "linkUp")]
    if_index = world.switches[switch].by_name[port].if_index
    assert [n.if_index() for _, n in got] == [if_index, if_index]
    assert all(n.pdu_type == pdu.TRAP_V2 for _, n in got)


def test_fiber_cut_is_reported_by_the_near_end_only(sim: Any, inv: Inventory) -> None:
    """Both ends' ports go down; the far switch is cut off, so only the near one's trap gets out."""
    world, sender, rx, doc = sim
    link = next(lk for lk in inv.links.values() if lk.active and lk.a.switch in world.switches
                and lk.b.switch in world.switches)
    world.apply(Levels(links_cut={link.id}, ports_down={(link.a.switch, link.a.port), (link.b.switch, link.b.port)}))
    sender.update()
    got = [(d, n.name, n.if_index()) for d, n in receive(rx, doc, inv)]
    near = {d for d, name, _ in got if name == "linkDown"}
    assert len(near) == 1
    (sw,) = near
    end = link.a if link.a.switch == sw else link.b
    assert (sw, "linkDown", world.switches[sw].by_name[end.port].if_index) in got
    assert all(world.devices[d].reachable for d, _, _ in got)


def test_power_return_sends_cold_start(sim: Any, inv: Inventory) -> None:
    world, sender, rx, doc = sim
    cam, switch, _ = _camera_port(inv)
    world.apply(Levels(power_off={cam}))
    sender.update()
    first = receive(rx, doc, inv)
    assert (switch, "linkDown") in [(d, n.name) for d, n in first]  # PoE port of the dark camera
    world.apply(Levels())
    sender.update()
    got = [(d, n.name) for d, n in receive(rx, doc, inv)]
    assert (cam, "coldStart") in got and (switch, "linkUp") in got


def test_packet_loss_loses_traps(sim: Any, inv: Inventory) -> None:
    world, sender, rx, doc = sim
    _, switch, port = _camera_port(inv)
    for n in range(20):
        world.apply(Levels(ports_down={(switch, port)} if n % 2 == 0 else set(), loss={switch: 100}))
        sender.update()
    assert receive(rx, doc, inv) == []
    assert sender.stats["lost"] == 20 and sender.stats["sent"] == 0
