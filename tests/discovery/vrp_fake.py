"""A fake Huawei VRP CLI over SSH (asyncssh), answering in the real S-series V200R011 formats.

fakenos' huawei_vrp serves one canned output per command (not our switches, no ``lldp neighbor
brief``, no transceivers), so discovery's end-to-end CLI tests and the benchmark use this instead:
ONE listener on 0.0.0.0:PORT serves every switch; the address a client connected to selects the
switch. Outputs are rendered from the inventory (cameras' MACs on their ports, the uplink
neighbour, optics on fiber ports) in the layouts written down in test_parsers.py (VRP V200R011C10,
S5720). ``extra_macs`` adds MACs (a rogue device) to a (switch, port).

The prompt is ``<sysname>`` as on a real switch; netmiko's huawei driver sends
``screen-length 0 temporary`` first, which is accepted silently.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import asyncssh

from sharpeyes.inventory.model import Device, Inventory

USER, PASSWORD = "netops", "Vrp-fake-2024"


def short(port: str) -> str:
    """GigabitEthernet0/0/1 -> GE0/0/1, XGigabitEthernet0/0/1 -> XGE0/0/1 (VRP brief tables)."""
    for long, abbr in (("XGigabitEthernet", "XGE"), ("GigabitEthernet", "GE"), ("Ethernet", "Eth")):
        if port.startswith(long):
            return abbr + port[len(long):]
    return port


def dotted(mac: str) -> str:
    h = mac.replace(":", "").lower()
    return f"{h[0:4]}-{h[4:8]}-{h[8:12]}"


class VrpModel:
    """Per-switch CLI outputs derived from an inventory."""

    def __init__(self, inv: Inventory, extra_macs: dict[tuple[str, str], list[str]] | None = None) -> None:
        self.inv = inv
        self.extra = extra_macs or {}
        self.by_ip = {d.ip: d for d in inv.active_devices() if d.kind == "switch"}
        self.below: dict[str, list[Device]] = {}
        for d in inv.active_devices():
            if d.uplink is not None:
                self.below.setdefault(d.uplink.switch, []).append(d)

    def on_port(self, sw: Device) -> dict[str, list[Device]]:
        out: dict[str, list[Device]] = {}
        for d in self.below.get(sw.id, []):
            assert d.uplink is not None
            out.setdefault(d.uplink.port, []).append(d)
        return out

    def version(self, sw: Device) -> str:
        series = sw.model.split("-")[0]
        return ("Huawei Versatile Routing Platform Software\n"
                f"VRP (R) software, Version 5.170 ({series} {sw.firmware})\n"
                "Copyright (C) 2000-2018 HUAWEI TECH CO., LTD\n"
                f"HUAWEI {sw.model} Routing Switch uptime is 12 weeks, 3 days, 2 hours, 10 minutes\n")

    def lldp_brief(self, sw: Device) -> str:
        lines = ["Local Intf       Neighbor Dev             Neighbor Intf             Exptime(s)"]
        for port, devs in sorted(self.on_port(sw).items()):
            for d in devs:
                far = short(self._far_port(d)) if d.kind == "switch" else "eth0"
                lines.append(f"{short(port):<17}{d.id:<25}{far:<26}{110}")
        if sw.uplink is not None:
            own = short(self._own_uplink(sw))
            lines.append(f"{own:<17}{sw.uplink.switch:<25}{short(sw.uplink.port):<26}{98}")
        return "\n".join(lines) + "\n"

    def _far_port(self, child: Device) -> str:
        return self._own_uplink(child)

    def _own_uplink(self, sw: Device) -> str:
        for link in self.inv.links.values():
            if link.a.switch == sw.id and sw.uplink and link.b.switch == sw.uplink.switch:
                return link.a.port
            if link.b.switch == sw.id and sw.uplink and link.a.switch == sw.uplink.switch:
                return link.b.port
        return next((p.name for p in sw.ports if p.media == "fiber"), "GigabitEthernet0/0/1")

    def mac_table(self, sw: Device) -> str:
        rows = []
        for port, devs in sorted(self.on_port(sw).items()):
            for d in devs:
                if d.mac:
                    rows.append((d.mac, port))
        for (s, port), macs in self.extra.items():
            if s == sw.id:
                rows += [(m, port) for m in macs]
        if sw.uplink is not None:
            parent = self.inv.devices[sw.uplink.switch]
            rows.append((parent.mac, self._own_uplink(sw)))
        lines = ["MAC address table of slot 0:", "-" * 79,
                 "MAC Address    VLAN/       PEVLAN CEVLAN Port            Type      LSP/LSR-ID",
                 "               VSI/SI                                              MAC-Tunnel", "-" * 79]
        lines += [f"{dotted(m)} 1           -      -      {short(p):<16}dynamic   0/-" for m, p in rows]
        lines += ["-" * 79, f"Total matching items on slot 0 displayed = {len(rows)}"]
        return "\n".join(lines) + "\n"

    def interfaces(self, sw: Device) -> str:
        used = set(self.on_port(sw))
        if sw.uplink is not None:
            used.add(self._own_uplink(sw))
        lines = ["PHY: Physical", "*down: administratively down", "(l): loopback", "(s): spoofing",
                 "(b): BFD down", "(e): ETHOAM down", "(dl): DLDP down", "(d): Dampening Suppressed",
                 "InUti/OutUti: input utility/output utility",
                 "Interface                   PHY   Protocol InUti OutUti   inErrors  outErrors"]
        for p in sw.ports:
            st = "up" if p.name in used else "down"
            lines.append(f"{p.name:<28}{st:<6}{st:<9}{'0.01%':>5}  {'0.04%':>5}          0          0")
        lines.append(f"{'Vlanif1':<28}{'up':<6}{'up':<9}{'--':>5}  {'--':>5}          0          0")
        return "\n".join(lines) + "\n"

    def transceivers(self, sw: Device) -> str:
        blocks = []
        used = set(self.on_port(sw)) | ({self._own_uplink(sw)} if sw.uplink else set())
        for i, p in enumerate(q for q in sw.ports if q.media == "fiber" and q.name in used):
            rx, tx = -12.5 - i * 0.25, -5.69
            blocks.append(
                f"{p.name} transceiver information:\n"
                "-------------------------------------------------------------\n"
                "Common information:\n"
                "  Transceiver Type                      :1000_BASE_LX_SFP\n"
                "  Connector Type                        :LC\n"
                "  Wavelength(nm)                        :1310\n"
                "  Transfer Distance(m)                  :10000(9um)\n"
                "  Digital Diagnostic Monitoring         :YES\n"
                "  Vendor Name                           :HUAWEI\n"
                "  Vendor Part Number                    :02315200\n"
                "-------------------------------------------------------------\n"
                "Manufacture information:\n"
                f"  Manu. Serial Number                   :HA1019030{i:04d}\n"
                "  Manufacturing Date                    :2019-03-05\n"
                "-------------------------------------------------------------\n"
                "Diagnostic information:\n"
                "  Temperature(\u00b0C)                       :37.00\n"
                "  Supply Voltage(V)                     :3.30\n"
                "  Bias Current(mA)                      :14.35\n"
                f"  Current RX Power(dBm)                 :{rx:.2f}\n"
                "  Default RX Power High Threshold(dBm)  :-3.00\n"
                "  Default RX Power Low  Threshold(dBm)  :-20.00\n"
                f"  Current TX Power(dBm)                 :{tx:.2f}\n"
                "  Default TX Power High Threshold(dBm)  :-3.00\n"
                "  Default TX Power Low  Threshold(dBm)  :-9.50\n")
        return "\n".join(blocks)

    def answer(self, sw: Device, command: str) -> str | None:
        c = " ".join(command.split())
        table: dict[str, Callable[[Device], str]] = {
            "display version": self.version, "display lldp neighbor brief": self.lldp_brief,
            "display mac-address": self.mac_table, "display interface brief": self.interfaces,
            "display transceiver verbose": self.transceivers,
        }
        if c in table:
            return table[c](sw)
        if c in ("", "screen-length 0 temporary", "quit"):
            return ""
        return None


class VrpFakeServer:
    """asyncssh server on a background event loop; ``start()`` returns the port."""

    def __init__(self, model: VrpModel, port: int = 0) -> None:
        self.model = model
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncssh.SSHAcceptor | None = None
        self.key = asyncssh.generate_private_key("ssh-ed25519")
        self.sessions = 0

    def start(self) -> int:
        self.thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self.loop)
        return fut.result(30)

    async def _start(self) -> int:
        model = self.model
        owner = self

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return username == USER and password == PASSWORD

        async def handle(process: asyncssh.SSHServerProcess) -> None:
            owner.sessions += 1
            local = process.get_extra_info("sockname")[0]
            sw = model.by_ip.get(local)
            if sw is None:
                process.exit(1)
                return
            prompt = f"<{sw.id}>"
            process.stdout.write(f"\r\nInfo: The max number of VTY users is 10.\r\n{prompt}")
            try:
                while True:
                    line = await process.stdin.readline()
                    if not line:
                        break
                    cmd = line.strip()
                    if cmd == "quit":
                        break
                    out = model.answer(sw, cmd)
                    if out is None:
                        out = "              ^\r\nError: Unrecognized command found at '^' position.\r\n"
                    text = out.replace("\r\n", "\n").replace("\n", "\r\n")
                    process.stdout.write(text + ("" if not text or text.endswith("\r\n") else "\r\n") + prompt)
            except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, ConnectionError):
                pass
            process.exit(0)

        self.server = await asyncssh.create_server(
            Server, "0.0.0.0", self.port, server_host_keys=[self.key], process_factory=handle,
            line_editor=True, keepalive_interval=0)
        sock = self.server.sockets[0]
        self.port = int(sock.getsockname()[1])
        return self.port

    def stop(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()
                await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def main() -> None:
    """``python vrp_fake.py INVENTORY_DIR PORT``: serve until killed (used by bench/bench_discovery.py)."""
    import signal
    import sys

    from sharpeyes.inventory import load_inventory

    server = VrpFakeServer(VrpModel(load_inventory(sys.argv[1])), int(sys.argv[2]))
    print(server.start(), flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


if __name__ == "__main__":
    main()
