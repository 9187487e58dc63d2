"""Simulated devices send SNMP notifications when their state changes, as real ones do.

Switches send linkDown/linkUp (IF-MIB, RFC 2863: varbinds ifIndex, ifAdminStatus, ifOperStatus) for
every port whose operational state changed, and every device with SNMP sends coldStart once its
power returns (a power cut, a reboot). v2c with the device's community, v3 with its USM user
(authPriv, the device's own engine id: the sender is authoritative for a trap). A dead switch sends
nothing, nor does a device behind a dead link or switch; a device with packet loss loses that
share of its traps, as UDP would.
Deliberate copy: this encoder is the simulator's own (it shares no protocol code with the exporter).
"""

from __future__ import annotations

import logging
import random
import socket
from collections.abc import Iterable

from sharpeyes.simulator.network import DeviceRt, World
from sharpeyes.simulator.snmp import ber
from sharpeyes.simulator.snmp.agent import SnmpAgent, SnmpProfile, _V3Ctx
from sharpeyes.simulator.snmp.devices import IF_INDEX_OID, engine_id

log = logging.getLogger(__name__)

TRAP_V2 = 0xA7
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
COLD_START = (1, 3, 6, 1, 6, 3, 1, 1, 5, 1)
LINK_DOWN = (1, 3, 6, 1, 6, 3, 1, 1, 5, 3)
LINK_UP = (1, 3, 6, 1, 6, 3, 1, 1, 5, 4)
IF_ADMIN_STATUS = (1, 3, 6, 1, 2, 1, 2, 2, 1, 7)
IF_OPER_STATUS = (1, 3, 6, 1, 2, 1, 2, 2, 1, 8)


class TrapSender:
    """Diff the world after every change and notify ``target`` of what changed."""

    def __init__(self, world: World, agent: SnmpAgent, target: tuple[str, int], seed: int | None = None) -> None:
        self.world = world
        self.agent = agent
        self.target = target
        self.rng = random.Random(seed)
        self.ports = self._ports()
        self.powered = {d: rt.state.powered for d, rt in world.devices.items()}
        self.stats = {"sent": 0, "lost": 0}
        self._rid = self.rng.randrange(1, 1 << 30)

    def _ports(self) -> dict[tuple[str, str], bool]:
        return {(s.dev.id, p.name): p.up for s in self.world.switches.values() for p in s.ports}

    def update(self) -> None:
        """Send the notifications for what changed since the last call."""
        ports = self._ports()
        for rt in self.world.devices.values():
            if rt.state.powered and not self.powered.get(rt.dev.id, True):
                self.send(rt, COLD_START, [])
        for (switch_id, name), up in ports.items():
            if self.ports.get((switch_id, name)) == up:
                continue
            sw = self.world.switches[switch_id]
            port = sw.by_name[name]
            i = port.if_index
            self.send(sw, LINK_UP if up else LINK_DOWN, [
                ((*IF_INDEX_OID, i), (ber.INTEGER, i)),
                ((*IF_ADMIN_STATUS, i), (ber.INTEGER, 1)),
                ((*IF_OPER_STATUS, i), (ber.INTEGER, 1 if up else 2)),
            ])
        self.ports = ports
        self.powered = {d: rt.state.powered for d, rt in self.world.devices.items()}

    def send(self, rt: DeviceRt, trap: ber.OID, extra: Iterable[tuple[ber.OID, ber.Value]]) -> None:
        profile = self.agent.profiles.get(rt.dev.auth)
        if profile is None or not rt.dev.ip or not rt.reachable:
            return  # no SNMP, or nothing gets out (dead, or behind a dead link or switch)
        loss = self.world.lossy.get(rt.dev.id, 0)
        if loss and self.rng.random() * 100 < loss:
            self.stats["lost"] += 1
            return
        uptime = int(rt.state.uptime_s() * 100) & 0xFFFFFFFF
        varbinds = [(SYS_UPTIME, (ber.TIMETICKS, uptime)), (SNMP_TRAP_OID, (ber.OBJECT_ID, trap)), *extra]
        self._rid = (self._rid + 1) & 0x7FFFFFFF
        pdu = ber.enc_pdu(TRAP_V2, self._rid, 0, 0, b"".join(ber.enc_varbind(o, v) for o, v in varbinds))
        message = self._message(rt, profile, pdu)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind((rt.dev.ip, 0))  # from the device's own address, as the receiver expects
                sock.sendto(message, self.target)
            self.stats["sent"] += 1
        except OSError as exc:
            log.debug("trap from %s not sent: %s", rt.dev.id, exc)

    def _message(self, rt: DeviceRt, profile: SnmpProfile, pdu: bytes) -> bytes:
        if profile.version == 2:
            return ber.tlv(ber.SEQUENCE, ber.enc_int(1) + ber.tlv(ber.OCTET_STRING, profile.community.encode())
                           + pdu)
        user = profile.user
        assert user is not None
        ctx = _V3Ctx(self._rid, 65507, engine_id(rt), rt.engine_boots(), int(rt.state.uptime_s()),
                     user.name.encode())
        return self.agent._wrap_v3(ctx, pdu, b"", user.level, user)

