"""Serve only the simulated recorders of a district (no SNMP, cameras or firewall): for benchmarks
and tests of the recording collector. Prints ``ready <port> <recorders>`` when listening.

    python -m sharpeyes.simulator.recorders [-i INVENTORY] [--port 80] [--history 1h] [--township T ...]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path

from sharpeyes.cli import parse_duration
from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.inventory import load_inventory
from sharpeyes.simulator.faults import FaultEngine
from sharpeyes.simulator.network import World
from sharpeyes.simulator.runner import _subset, initial_state, select_devices
from sharpeyes.simulator.secrets import load_secrets

from .server import RecorderServers
from .truth import RecorderTruth


async def serve(args: argparse.Namespace) -> None:
    inv = load_inventory(args.inventory)
    chosen = select_devices(inv, tuple(args.township))
    states = {d: initial_state(inv.devices[d], time.monotonic()) for d in sorted(chosen)}
    world = World(_subset(inv, chosen) if args.township else inv, states)
    truth = RecorderTruth(world, time.time() - parse_duration(args.history))
    engine = FaultEngine(world)
    for spec in args.fault:
        kind, _, target = spec.partition("=")
        await engine.add({"type": kind, "target": target})
    truth.update(time.time())
    secrets = load_secrets(Path(args.secrets) if args.secrets else None)
    servers = RecorderServers(world, truth, secrets.onvif, port=args.port)
    await servers.start()
    print(f"ready {args.port} {len(servers.by_ip)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await servers.close()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m sharpeyes.simulator.recorders")
    p.add_argument("-i", "--inventory", default=str(SAMPLE_DISTRICT))
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--history", default="1h", help="recorded before start (Prometheus duration)")
    p.add_argument("--township", action="append", default=[])
    p.add_argument("--secrets", default=None, help="simulator secrets file (default var/sim-secrets.yaml)")
    p.add_argument("--fault", action="append", default=[], help="TYPE=TARGET applied at start")
    asyncio.run(serve(p.parse_args()))
    sys.exit(0)


if __name__ == "__main__":
    main()
