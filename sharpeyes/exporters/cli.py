"""sharpeyes-exporter: the multi-target prober for Sharp Eyes camera networks.

    sharpeyes-exporter [--config.file F] [-i DIR] [--web.listen-address HOST:PORT]
                       [--config.check] [--log.level LEVEL]
    sharpeyes-exporter promconfig --exporter HOST:PORT [--exporter ...] --out FILE
    sharpeyes-exporter discover|reconcile|audit ...   (exporters/discovery, docs/discovery.md)
    sharpeyes-exporter vqd rebaseline CAMERA... [--vqd.state-dir DIR]   (docs/vqd.md)
    sharpeyes-exporter vqd list [--vqd.state-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from sharpeyes.cli import ConfigError, UserError, cli_main, duration_arg, host_port_arg, setup_logging
from sharpeyes.cli import parser as cli_parser
from sharpeyes.exporters.app import DEFAULT_DISCOVERY_METRICS, DEFAULT_TIMEOUT_OFFSET, Exporter
from sharpeyes.exporters.config import load_config
from sharpeyes.exporters.discovery.auth import register_auth_section
from sharpeyes.exporters.discovery.cli import COMMANDS as DISCOVERY_COMMANDS
from sharpeyes.exporters.discovery.cli import register as register_discovery
from sharpeyes.exporters.inventory_state import SAMPLE, InventoryState
from sharpeyes.exporters.traps.cli import TrapSettings, add_trap_flags, start_receiver, trap_settings
from sharpeyes.exporters.webconfig import WebConfig, WebConfigError, load_web_config
from sharpeyes.inventory import InventoryError
from sharpeyes.output import add_output_flags, emit, output_format

register_auth_section()  # discovery (exporters/discovery): `cli:` auth sections in the config

PROG = "sharpeyes-exporter"
# `vqd list` in a table and CSV (docs/cli-output.md); JSON has the same keys
VQD_FIELDS = ("camera", "learning_since", "day_samples", "day_reference", "night_samples", "night_reference",
              "last_still", "state_dir", "problem")
DEFAULT_LISTEN = "127.0.0.1:9430"


def build_parser() -> argparse.ArgumentParser:
    p = cli_parser(PROG, "Probe cameras, switches and platforms listed in the sharpeyes inventory for "
                   "Prometheus (multi-target exporter).", examples=(
                       f"{PROG} --config.file /etc/sharpeyes/exporter.yml -i /srv/inventory",
                       f"{PROG} --config.file exporter.yml -i /srv/inventory --config.check",
                       f"{PROG} promconfig --exporter 10.0.0.5:9430 --out /etc/prometheus/sharpeyes.yml",
                       f"{PROG} discover --once -i /srv/inventory"))
    p.add_argument("--config.file", dest="config_file", metavar="PATH",
                   help="exporter configuration (default: the embedded default.yml)")
    p.add_argument("--inventory", "-i", metavar="DIR", help=f"inventory directory (default: {SAMPLE})")
    p.add_argument("--web.listen-address", dest="web_listen_address", type=host_port_arg,
                   default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"address to listen on (default: {DEFAULT_LISTEN})")
    p.add_argument("--web.config.file", dest="web_config_file", default=None, metavar="PATH",
                   help="exporter-toolkit web configuration (TLS and basic auth); default: plain HTTP")
    p.add_argument("--config.check", dest="config_check", action="store_true",
                   help="validate the configuration (and inventory), print a summary and exit 0; "
                        "else the errors and exit 2")
    p.add_argument("--config.dump", dest="dump", action="store_true",
                   help="print the effective configuration (secrets as <secret>) and exit")
    p.add_argument("--timeout-offset", type=duration_arg, default=DEFAULT_TIMEOUT_OFFSET, metavar="DURATION",
                   help="subtracted from Prometheus' scrape timeout to get the probe's budget (default: 500ms)")
    p.add_argument("--inventory.poll-interval", dest="poll", type=duration_arg, default=5.0, metavar="DURATION",
                   help="how often to check the inventory directory for changes; 0 disables (default: 5s)")
    p.add_argument("--inventory.township", dest="townships", action="append", metavar="ID",
                   help="probe, list (/sd) and publish (/inventory/metrics) only this township's devices; "
                        "repeatable; \"\" = the district-level devices without a township (core switch, "
                        "district platform); default: every device")
    p.add_argument("--discovery.metrics-file", dest="discovery_metrics", default=str(DEFAULT_DISCOVERY_METRICS),
                   metavar="PATH", help="discovery/audit results served on /discovery/metrics (default: "
                   f"{DEFAULT_DISCOVERY_METRICS}, relative to the working directory: what `discover` writes "
                   "with its default --state-dir)")
    add_trap_flags(p)
    sub = p.add_subparsers(dest="cmd", metavar="{promconfig,vqd,discover,reconcile,audit}")
    vp = sub.add_parser("vqd", help="video quality diagnosis baselines: list, or rebaseline after a re-aim",
                        description="vqd list fields: " + ", ".join(VQD_FIELDS) + " (docs/vqd.md)")
    vp.add_argument("action", choices=("rebaseline", "list"))
    vp.add_argument("cameras", nargs="*", metavar="CAMERA", help="device ids (rebaseline)")
    vp.add_argument("--vqd.state-dir", dest="state_dir", metavar="DIR",
                    help="state directory (default: the snapshot modules' state_dir in --config.file)")
    add_output_flags(vp)  # vqd list
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
    sp.add_argument("--alertmanager", action="append", metavar="URL",
                    help="Alertmanager, e.g. http://127.0.0.1:9093; repeat for each peer of an HA cluster")
    sp.add_argument("--remote-write", action="append", metavar="URL",
                    help="remote-write every sample to a global store, e.g. VictoriaMetrics "
                         "http://127.0.0.1:8428/api/v1/write (repeatable)")
    sp.add_argument("--tickets", action="append", default=[], metavar="HOST:PORT",
                    help="a sharpeyes-tickets instance to scrape (/metrics), for the tickets dashboards")
    sp.add_argument("--recording", action="append", default=[], metavar="HOST:PORT",
                    help="a sharpeyes-recording instance to scrape (/metrics): recording alerts and dashboards")
    sp.add_argument("--interval-scale", type=float, default=1.0, metavar="FACTOR",
                    help="multiply every scrape interval and timeout (e.g. 0.2 for demos and tests)")
    sp.add_argument("--module-interval", action="append", default=[], metavar="MODULE=DURATION",
                    help="one module's scrape interval after --interval-scale, e.g. snapshot=2m (repeatable)")
    sp.add_argument("--out", required=True, metavar="FILE", help="output file ('-' for stdout)")
    register_discovery(sub)  # discovery sub-commands
    return p


def cmd_promconfig(args: argparse.Namespace) -> int:
    from sharpeyes.exporters.promconfig import PromConfigError, build, module_interval, render, scaled_jobs

    try:
        intervals = dict(module_interval(text) for text in args.module_interval)
        cfg = build(args.exporter, sd_mode=args.sd_mode, inventory_url=args.inventory_url, sd_dir=args.sd_dir,
                    rules=args.rules, alertmanager=args.alertmanager, tickets=args.tickets,
                    remote_write=args.remote_write, recording=args.recording,
                    jobs=scaled_jobs(args.interval_scale, intervals))
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


def cmd_vqd(args: argparse.Namespace) -> int:
    from sharpeyes.vqd.store import BaselineStore

    if args.state_dir:
        dirs = [args.state_dir]
    else:
        config = load_config(args.config_file)
        dirs = sorted({m.settings.state_dir for m in config.modules.values() if m.prober == "snapshot"})
        if not dirs:
            raise UserError("no snapshot module in the configuration: give --vqd.state-dir")
    stores = [BaselineStore(d) for d in dirs]
    if args.action == "list":
        rows = [store.summary(camera) for store in stores for camera in store.cameras()]
        emit(rows, VQD_FIELDS, output_format(args), empty="no baselines")
        return 0
    if not args.cameras:
        raise UserError("vqd rebaseline: name at least one CAMERA", status=2)
    for camera in args.cameras:
        try:
            found = [store.reset(camera) for store in stores]
        except ValueError as exc:
            raise UserError(str(exc), status=2) from None
        state = "forgotten; learning again from its next stills" if any(found) else "had no baseline"
        print(f"{camera}: {state}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config_file)
    if args.dump:
        sys.stdout.write(config.dump())
        return 0
    try:
        inv = InventoryState.load(args.inventory).restrict(args.townships)
    except InventoryError as exc:
        raise exc.user_error(args.inventory or SAMPLE) from None
    missing = sorted({d.auth for d in inv.inventory.devices.values() if d.auth} - set(config.auths))
    if missing:
        raise ConfigError(f"{config.source}: the inventory names auth profiles the config lacks: "
                          f"{', '.join(missing)}")
    devices = len(inv.inventory.devices)
    print(f"config OK: {config.source}: {len(config.modules)} modules ({', '.join(config.modules)}), "
          f"{len(config.auths)} auth profiles; inventory {inv.directory}: {devices} devices"
          + (f", probing {inv.shard_text()} ({len(inv.labels)} active)" if inv.townships is not None else ""))
    return 0


def _web_config(args: argparse.Namespace) -> WebConfig | None:
    if not args.web_config_file:
        return None
    try:
        return load_web_config(args.web_config_file)
    except WebConfigError as exc:
        n = len(exc.problems)
        raise UserError(f"invalid web config: {n} error{'s' if n != 1 else ''}",
                        [str(p) for p in exc.problems], status=2) from None


async def serve(exporter: Exporter, host: str, port: int, web_config: WebConfig | None = None,
                traps: TrapSettings | None = None) -> None:
    from aiohttp import web

    app = exporter.make_app()
    if web_config is not None:
        app.middlewares.insert(0, web_config.middleware())
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=web_config.ssl_context if web_config else None)
        try:
            await site.start()
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        logging.getLogger("sharpeyes.exporter").info(
            "listening on %s://%s:%d%s", "https" if web_config and web_config.ssl_context else "http", host, port,
            " (basic auth)" if web_config is not None and web_config.users else "")
        receiver = await start_receiver(exporter, traps)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        if receiver is not None:
            await receiver.close()
    finally:
        await runner.cleanup()


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # before anything imports onvif-zeep-async, whose client module calls basicConfig(INFO) on import
    setup_logging(args)
    if args.cmd == "promconfig":
        return cmd_promconfig(args)
    if args.cmd == "vqd":
        return cmd_vqd(args)
    if args.cmd in DISCOVERY_COMMANDS:  # discovery sub-commands
        return int(args.fn(args))
    web_config = _web_config(args)
    if args.config_check or args.dump:
        return cmd_check(args)
    host, port = args.web_listen_address
    traps = trap_settings(args)
    from prometheus_client import disable_created_metrics

    disable_created_metrics()  # no *_created series on /metrics: they only add noise for counters
    exporter = Exporter(args.config_file, args.inventory, timeout_offset=args.timeout_offset,
                        poll_interval=args.poll, townships=args.townships,
                        discovery_metrics=args.discovery_metrics)
    try:
        exporter.load()
    except InventoryError as exc:
        raise exc.user_error(args.inventory or SAMPLE) from None
    asyncio.run(serve(exporter, host, port, web_config, traps))
    return 0


if __name__ == "__main__":
    sys.exit(main(None))
