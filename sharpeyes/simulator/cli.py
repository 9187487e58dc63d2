"""sharpeyes-sim: run the simulated district, inject and clear faults by hand.

sharpeyes-sim run -i DIR [--web.listen-address 127.0.0.1:9180] [--scenario FILE] [--secrets FILE]
                  [--township ID ...] [--snmp-port N --onvif-port N --rtsp-port N] [--no-firewall]
sharpeyes-sim fault [--sim.url http://127.0.0.1:9180] add TYPE TARGET [--param k=v ...] [--duration 2m]
sharpeyes-sim fault clear ID | --all
sharpeyes-sim fault list
sharpeyes-sim fault types
sharpeyes-sim history --month 2026-10 --out DIR [--scenario FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from sharpeyes.cli import UserError, cli_main, duration_arg, host_port, host_port_arg, setup_logging
from sharpeyes.cli import parser as cli_parser
from sharpeyes.output import add_output_flags, emit, output_format

PROG = "sharpeyes-sim"
DEFAULT_CONTROL = "127.0.0.1:9180"


def _sim_url(text: str) -> str:
    """The control API's base URL: http://HOST:PORT (what `run --web.listen-address` listens on)."""
    parts = urllib.parse.urlsplit(text.strip())
    try:
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port is not None
    except ValueError:
        ok = False
    if not ok or parts.path not in ("", "/") or parts.query:
        raise argparse.ArgumentTypeError(f"{text!r} is not http://HOST:PORT")
    return f"{parts.scheme}://{parts.netloc}"


def _trap_target(text: str) -> tuple[str, int]:
    """Where traps go: HOST:PORT, a bare :PORT meaning this host (a destination, never 0.0.0.0)."""
    try:
        return host_port(text, default_host="127.0.0.1")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    p = cli_parser(PROG, "The simulated Sharp Eyes district on loopback: SNMP switches, ONVIF/RTSP cameras, "
                   "faults injected by hand or by scenario, a month of history.", examples=(
                       f"{PROG} run -i inventory/sample/fengquan --scenario faults.yaml",
                       f"{PROG} fault add fiber_cut fl-baodong-0002 --duration 5m",
                       f"{PROG} history --month 2026-10 --out var/history"))
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve every active device of an inventory")
    run.add_argument("--inventory", "-i", required=True, type=Path, help="inventory directory")
    run.add_argument("--web.listen-address", dest="web_listen_address", type=host_port_arg,
                     default=DEFAULT_CONTROL, metavar="HOST:PORT",
                     help=f"address of the control API (fault injection; default: {DEFAULT_CONTROL})")
    run.add_argument("--scenario", type=Path, help="YAML scenario of timed faults")
    run.add_argument("--secrets", type=Path, help="secrets YAML (default: var/sim-secrets.yaml, generated)")
    run.add_argument("--township", action="append", default=[], help="serve only this township (repeatable)")
    run.add_argument("--snmp-port", type=_port, default=161)
    run.add_argument("--onvif-port", type=_port, help="one ONVIF port for all cameras (tests)")
    run.add_argument("--rtsp-port", type=_port, help="one RTSP port for all cameras (tests)")
    run.add_argument("--no-cameras", action="store_true", help="no ONVIF/RTSP servers (SNMP and ping only)")
    run.add_argument("--recorder-history", type=duration_arg, default=3600.0, metavar="DURATION",
                     help="video the recorders already hold at start, all cameras recorded (default: 1h; "
                          "the demo gives the longest required retention so that no recorder is short)")
    run.add_argument(
        "--no-firewall",
        action="store_true",
        help="no nftables: unreachable devices then only stop answering SNMP/ONVIF/RTSP",
    )
    run.add_argument("--nft-table", default="sharpeyes_sim", help="nftables table name")
    run.add_argument("--traps.target", dest="traps_target", type=_trap_target, metavar="HOST:PORT",
                     help="devices send SNMP traps (linkDown/linkUp, coldStart) here; default: none")
    fault = sub.add_parser("fault", help="inject, clear and list faults (talks to the control API)")
    fault.add_argument("--sim.url", dest="sim_url", type=_sim_url, default=f"http://{DEFAULT_CONTROL}",
                       metavar="URL", help=f"the control API of `{PROG} run` (default: http://{DEFAULT_CONTROL})")
    fsub = fault.add_subparsers(dest="action", required=True)
    add = fsub.add_parser("add", help="add a fault")
    add.add_argument("type")
    add.add_argument("target")
    add.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE")
    add.add_argument("--duration", "-d", type=duration_arg, metavar="DURATION",
                     help="e.g. 90s, 2m, 1h30m (default: until cleared)")
    clear = fsub.add_parser("clear", help="clear a fault by id, or all")
    clear.add_argument("id", nargs="?")
    clear.add_argument("--all", action="store_true")
    add_output_flags(fsub.add_parser("list", help="list active faults", examples=(
        f"{PROG} fault list", f"{PROG} fault list --output json",
        f"{PROG} fault --sim.url http://127.0.0.1:9180 list --output csv"), description=(
        "List active faults; fields: id, type, target, params, expires_in_s (empty: until cleared).")))
    add_output_flags(fsub.add_parser("types", help="list fault types", examples=(
        f"{PROG} fault types", f"{PROG} fault types --output json"), description=(
        "List fault types; fields: type, target, params (name=default), help.")))
    from .history import register as register_history

    register_history(sub)
    return p


# ---------------------------------------------------------------- run


def cmd_run(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from sharpeyes.inventory import InventoryError, load_inventory

    from .nft import NftError
    from .runner import Options, Simulator
    from .scenario import ScenarioError, load_scenario, run_scenario
    from .secrets import SecretsError, load_secrets

    try:
        inv = load_inventory(args.inventory)
    except InventoryError as exc:
        raise exc.user_error(args.inventory) from None
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
        control=args.web_listen_address,
        firewall=not args.no_firewall,
        nft_table=args.nft_table,
        townships=tuple(args.township),
        cameras_servers=not args.no_cameras,
        recorder_history_s=args.recorder_history,
        traps_target=args.traps_target,
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
        host, port = args.web_listen_address
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


def _call(base: str, method: str, path: str, body: Any = None) -> Any:
    url = f"{base}{path}"
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
    c = args.sim_url
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
        emit(fault_records(_call(c, "GET", "/api/faults")), FAULT_FIELDS, output_format(args),
             empty="no active faults")
    else:
        emit(type_records(_call(c, "GET", "/api/fault-types")), TYPE_FIELDS, output_format(args))
    return 0


FAULT_FIELDS = ("id", "type", "target", "params", "expires_in_s")
TYPE_FIELDS = ("type", "target", "params", "help")


def fault_records(faults: list[dict[str, Any]], now: float | None = None) -> list[dict[str, Any]]:
    import time

    t = time.time() if now is None else now
    return [{"id": f["id"], "type": f["type"], "target": f["target"], "params": f["params"],
             "expires_in_s": None if f["expires"] is None else max(0, round(f["expires"] - t))}
            for f in faults]


def type_records(types: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": t["type"], "target": t["target"], "help": t["help"],
             "params": {k: "<required>" if v["required"] else v["default"] for k, v in t["params"].items()}}
            for t in types]


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args)
    if args.command == "run":
        return cmd_run(args)
    if args.command == "fault":
        return cmd_fault(args)
    handler = getattr(args, "fn", None) or args.func
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main(None))
