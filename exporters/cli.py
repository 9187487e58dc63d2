"""sharpeyes-exporter: the multi-target prober for Sharp Eyes camera networks.

    sharpeyes-exporter [--config.file F] [--inventory DIR] [--web.listen-address HOST:PORT]
                       [--config.check] [--log.level LEVEL]
    sharpeyes-exporter promconfig --exporter HOST:PORT [--exporter ...] --out FILE
    sharpeyes-exporter discover|reconcile|audit ...   (exporters/discovery, docs/discovery.md)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from exporters.app import DEFAULT_TIMEOUT_OFFSET, Exporter
from exporters.config import ConfigError, load_config
from exporters.discovery.auth import register_auth_section
from exporters.discovery.cli import COMMANDS as DISCOVERY_COMMANDS
from exporters.discovery.cli import register as register_discovery
from exporters.inventory_state import SAMPLE, InventoryState
from inventory import InventoryError
from inventory.console import UserError, cli_main

register_auth_section()  # discovery (exporters/discovery): `cli:` auth sections in the config

PROG = "sharpeyes-exporter"
DEFAULT_LISTEN = "127.0.0.1:9430"


def _config_error(exc: ConfigError) -> UserError:
    n = len(exc.problems)
    return UserError(f"invalid config: {n} error{'s' if n != 1 else ''}", [str(p) for p in exc.problems])


def _inventory_error(exc: InventoryError, where: str) -> UserError:
    n = len(exc.problems)
    return UserError(f"{where}: {n} inventory error{'s' if n != 1 else ''}", [str(p) for p in exc.problems])


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UserError(f"--web.listen-address {value!r} is not HOST:PORT", status=2)
    return host.strip("[]") or "0.0.0.0", int(port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Probe cameras, switches and platforms listed in the "
                                "sharpeyes inventory for Prometheus (multi-target exporter).")
    p.add_argument("--config.file", dest="config_file", metavar="PATH",
                   help="exporter configuration (default: the embedded default.yml)")
    p.add_argument("--inventory", metavar="DIR", help=f"inventory directory (default: {SAMPLE})")
    p.add_argument("--web.listen-address", dest="listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"address to listen on (default: {DEFAULT_LISTEN})")
    p.add_argument("--config.check", dest="check", action="store_true",
                   help="validate the configuration (and inventory), print a summary and exit")
    p.add_argument("--config.dump", dest="dump", action="store_true",
                   help="print the effective configuration (secrets as <secret>) and exit")
    p.add_argument("--log.level", dest="log_level", default="info",
                   choices=("debug", "info", "warn", "error"), help="log level (default: info)")
    p.add_argument("--timeout-offset", type=float, default=DEFAULT_TIMEOUT_OFFSET, metavar="SECONDS",
                   help="subtracted from Prometheus' scrape timeout to get the probe's budget (default: 0.5)")
    p.add_argument("--inventory.poll-interval", dest="poll", type=float, default=5.0, metavar="SECONDS",
                   help="how often to check the inventory directory for changes; 0 disables (default: 5)")
    p.add_argument("--inventory.township", dest="townships", action="append", metavar="ID",
                   help="probe, list (/sd) and publish (/inventory/metrics) only this township's devices; "
                        "repeatable; \"\" = the district-level devices without a township (core switch, "
                        "district platform); default: every device")
    sub = p.add_subparsers(dest="cmd", metavar="{promconfig,discover,reconcile,audit}")
    sp = sub.add_parser("promconfig", help="write prometheus.yml scrape jobs for one or more exporters")
    sp.add_argument("--exporter", action="append", required=True, metavar="HOST:PORT",
                    help="an exporter instance; give it N times to shard targets across N exporters")
    sp.add_argument("--sd-mode", choices=("http", "file"), default="http",
                    help="targets from the exporters' /sd (http, default) or file_sd JSON files (file)")
    sp.add_argument("--inventory-url", metavar="URL",
                    help="base URL serving /sd for http_sd (default: each shard's own exporter)")
    sp.add_argument("--sd-dir", default="file_sd", metavar="DIR",
                    help="where `sharpeyes-inventory sd --out DIR` writes <module>.json (file mode)")
    sp.add_argument("--rules", action="append", metavar="GLOB", help="rule_files entry (repeatable)")
    sp.add_argument("--alertmanager", metavar="URL", help="Alertmanager, e.g. http://127.0.0.1:9093")
    sp.add_argument("--tickets", action="append", default=[], metavar="HOST:PORT",
                    help="a sharpeyes-tickets instance to scrape (/metrics), for the tickets dashboards")
    sp.add_argument("--interval-scale", type=float, default=1.0, metavar="FACTOR",
                    help="multiply every scrape interval and timeout (e.g. 0.2 for demos and tests)")
    sp.add_argument("--out", required=True, metavar="FILE", help="output file ('-' for stdout)")
    register_discovery(sub)  # discovery sub-commands
    return p


def cmd_promconfig(args: argparse.Namespace) -> int:
    from exporters.promconfig import PromConfigError, build, render, scaled_jobs

    try:
        cfg = build(args.exporter, sd_mode=args.sd_mode, inventory_url=args.inventory_url, sd_dir=args.sd_dir,
                    rules=args.rules, alertmanager=args.alertmanager, tickets=args.tickets,
                    jobs=scaled_jobs(args.interval_scale))
    except PromConfigError as exc:
        raise UserError(str(exc), status=2) from None
    text = render(cfg)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from None
    n = len(cfg["scrape_configs"])
    print(f"wrote {out}: {n} scrape jobs for {len(args.exporter)} exporter(s)", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config_file)
    except ConfigError as exc:
        raise _config_error(exc) from None
    if args.dump:
        sys.stdout.write(config.dump())
        return 0
    try:
        inv = InventoryState.load(args.inventory).restrict(args.townships)
    except InventoryError as exc:
        raise _inventory_error(exc, args.inventory or str(SAMPLE)) from None
    missing = sorted({d.auth for d in inv.inventory.devices.values() if d.auth} - set(config.auths))
    if missing:
        raise UserError(f"the inventory names auth profiles the config lacks: {', '.join(missing)}")
    devices = len(inv.inventory.devices)
    print(f"config OK: {config.source}: {len(config.modules)} modules ({', '.join(config.modules)}), "
          f"{len(config.auths)} auth profiles; inventory {inv.directory}: {devices} devices"
          + (f", probing {inv.shard_text()} ({len(inv.labels)} active)" if inv.townships is not None else ""))
    return 0


async def serve(exporter: Exporter, host: str, port: int) -> None:
    from aiohttp import web

    runner = web.AppRunner(exporter.make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        logging.getLogger("sharpeyes.exporter").info("listening on %s:%d", host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cmd == "promconfig":
        return cmd_promconfig(args)
    if args.cmd in DISCOVERY_COMMANDS:  # discovery sub-commands
        return int(args.fn(args))
    level = {"warn": logging.WARNING}.get(args.log_level, getattr(logging, args.log_level.upper()))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.check or args.dump:
        return cmd_check(args)
    host, port = parse_listen(args.listen)
    from prometheus_client import disable_created_metrics

    disable_created_metrics()  # no *_created series on /metrics: they only add noise for counters
    exporter = Exporter(args.config_file, args.inventory, timeout_offset=args.timeout_offset,
                        poll_interval=args.poll, townships=args.townships)
    try:
        exporter.load()
    except ConfigError as exc:
        raise _config_error(exc) from None
    except InventoryError as exc:
        raise _inventory_error(exc, args.inventory or str(SAMPLE)) from None
    asyncio.run(serve(exporter, host, port))
    return 0


if __name__ == "__main__":
    sys.exit(main(None))
