"""sharpeyes-sim: run the simulated district, inject and clear faults by hand.

sharpeyes-sim run --inventory DIR [--control 127.0.0.1:9180] [--scenario FILE] [--secrets FILE]
                  [--township ID ...] [--snmp-port N --onvif-port N --rtsp-port N] [--no-firewall]
sharpeyes-sim fault add TYPE TARGET [--param k=v ...] [--duration 120s]
sharpeyes-sim fault clear ID | --all
sharpeyes-sim fault list
sharpeyes-sim fault types
sharpeyes-sim history --month 2026-10 --out DIR [--scenario FILE]
sharpeyes-sim demo [--township ID ...] [--port-offset N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from inventory.console import UserError, cli_main

PROG = "sharpeyes-sim"
DEFAULT_CONTROL = "127.0.0.1:9180"


def _hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="The simulated Sharp Eyes district on loopback.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve every active device of an inventory")
    run.add_argument("--inventory", "-i", required=True, type=Path, help="inventory directory")
    run.add_argument("--control", type=_hostport, default=_hostport(DEFAULT_CONTROL), metavar="HOST:PORT")
    run.add_argument("--scenario", type=Path, help="YAML scenario of timed faults")
    run.add_argument("--secrets", type=Path, help="secrets YAML (default: var/sim-secrets.yaml, generated)")
    run.add_argument("--township", action="append", default=[], help="serve only this township (repeatable)")
    run.add_argument("--snmp-port", type=_port, default=161)
    run.add_argument("--onvif-port", type=_port, help="one ONVIF port for all cameras (tests)")
    run.add_argument("--rtsp-port", type=_port, help="one RTSP port for all cameras (tests)")
    run.add_argument("--no-cameras", action="store_true", help="no ONVIF/RTSP servers (SNMP and ping only)")
    run.add_argument(
        "--no-firewall",
        action="store_true",
        help="no nftables: unreachable devices then only stop answering SNMP/ONVIF/RTSP",
    )
    run.add_argument("--nft-table", default="sharpeyes_sim", help="nftables table name")
    run.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    fault = sub.add_parser("fault", help="inject, clear and list faults (talks to the control API)")
    fault.add_argument("--control", type=_hostport, default=_hostport(DEFAULT_CONTROL), metavar="HOST:PORT")
    fsub = fault.add_subparsers(dest="action", required=True)
    add = fsub.add_parser("add", help="add a fault")
    add.add_argument("type")
    add.add_argument("target")
    add.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE")
    add.add_argument("--duration", "-d", help="e.g. 90s, 2m, 1h (default: until cleared)")
    clear = fsub.add_parser("clear", help="clear a fault by id, or all")
    clear.add_argument("id", nargs="?")
    clear.add_argument("--all", action="store_true")
    fsub.add_parser("list", help="list active faults")
    fsub.add_parser("types", help="list fault types")
    from .demo import register as register_demo
    from .history import register as register_history

    register_history(sub)
    register_demo(sub)
    return p


# ---------------------------------------------------------------- run


def cmd_run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from inventory import InventoryError, load_inventory

    from .nft import NftError
    from .runner import Options, Simulator
    from .scenario import ScenarioError, load_scenario, run_scenario
    from .secrets import SecretsError, load_secrets

    try:
        inv = load_inventory(args.inventory)
    except InventoryError as exc:
        raise UserError(
            f"inventory {args.inventory} is invalid ({len(exc.problems)} error(s), first: {exc.problems[0]}); "
            "run sharpeyes-inventory validate"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot read inventory {args.inventory}: {exc.strerror}") from None
    unknown = sorted(set(args.township) - set(inv.townships))
    if unknown:
        raise UserError(f"--township: no township {unknown[0]!r}", status=2)
    try:
        secrets = load_secrets(args.secrets)
    except SecretsError as exc:
        raise UserError(str(exc)) from None
    opts = Options(
        snmp_port=args.snmp_port,
        onvif_port=args.onvif_port,
        rtsp_port=args.rtsp_port,
        control=args.control,
        firewall=not args.no_firewall,
        nft_table=args.nft_table,
        townships=tuple(args.township),
        cameras_servers=not args.no_cameras,
    )
    sim = Simulator(inv, secrets, opts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await sim.start()
    except NftError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(str(exc)) from None
    except ValueError as exc:  # e.g. no credentials for an auth profile
        raise UserError(str(exc)) from None
    scenario_task = None
    try:
        if args.scenario is not None:
            assert sim.engine is not None
            try:
                steps = load_scenario(args.scenario, sim.engine)
            except ScenarioError as exc:
                raise UserError(str(exc)) from None
            scenario_task = loop.create_task(run_scenario(steps, sim.engine))
        host, port = args.control
        print(
            f"{PROG}: serving {len(sim.world.devices) if sim.world else 0} devices, started in "
            f"{sim.started_s:.1f} s; control API http://{host}:{port}/api/ (Ctrl-C to stop)",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    finally:
        if scenario_task is not None:
            scenario_task.cancel()
        await sim.stop()
    return 0


# ---------------------------------------------------------------- fault (HTTP client of the control API)


def _call(control: tuple[str, int], method: str, path: str, body: Any = None) -> Any:
    url = f"http://{control[0]}:{control[1]}{path}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("error", exc.reason)
        except (ValueError, AttributeError):
            detail = exc.reason
        raise UserError(str(detail)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(
            f"cannot reach the simulator's control API at {url}: {reason} (is `sharpeyes-sim run` running?)"
        ) from None


def _params(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--param: expected KEY=VALUE, got {pair!r}", status=2)
        out[key] = _number(value)
    return out


def _number(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def cmd_fault(args: argparse.Namespace) -> int:
    c = args.control
    if args.action == "add":
        spec = {"type": args.type, "target": args.target, "params": _params(args.param)}
        if args.duration:
            spec["duration"] = args.duration
        f = _call(c, "POST", "/api/faults", spec)
        print(f"{f['id']}\t{f['type']}\t{f['target']}")
    elif args.action == "clear":
        if args.all == bool(args.id):
            raise UserError("fault clear: give a fault ID or --all", status=2)
        if args.all:
            print(f"cleared {_call(c, 'DELETE', '/api/faults')['cleared']} fault(s)")
        else:
            f = _call(c, "DELETE", f"/api/faults/{args.id}")
            print(f"cleared {f['id']}\t{f['type']}\t{f['target']}")
    elif args.action == "list":
        for f in _call(c, "GET", "/api/faults"):
            params = " ".join(f"{k}={v}" for k, v in f["params"].items())
            until = (
                "until cleared"
                if f["expires"] is None
                else f"{max(0, f['expires'] - __import__('time').time()):.0f}s left"
            )
            print(f"{f['id']}\t{f['type']}\t{f['target']}\t{params}\t{until}")
    else:
        for t in _call(c, "GET", "/api/fault-types"):
            params = " ".join(
                f"{k}={v['default']}" if not v["required"] else f"{k}=<required>"
                for k, v in t["params"].items()
            )
            print(f"{t['type']:<18} {t['target']:<12} {params:<28} {t['help']}")
    return 0


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return cmd_run(args)
    if args.command == "fault":
        return cmd_fault(args)
    handler = getattr(args, "fn", None) or args.func
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main(None))
