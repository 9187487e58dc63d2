"""sharpeyes-recording: ask every recorder what it holds (录像完整率, 存储天数) and serve it on /metrics."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
from zoneinfo import ZoneInfo

from aiohttp import web

from sharpeyes.cli import (
    UserError,
    add_config_flags,
    add_web_flags,
    cli_main,
    host_port,
    parser,
    setup_logging,
)
from sharpeyes.contract import SAMPLE_DISTRICT, default_address
from sharpeyes.inventory import InventoryError, load_inventory

from .config import load_config, load_credentials
from .service import Collector, http_transports
from .store import RecordingStore, StoreError

PROG = "sharpeyes-recording"


def build_parser() -> argparse.ArgumentParser:
    p = parser(PROG, __doc__.splitlines()[0], examples=(
        "sharpeyes-recording serve --config.file recording.yml",
        "sharpeyes-recording collect --from 2026-11-01 --to 2026-12-01   # backfill a month",
    ))
    add_config_flags(p)
    p.add_argument("-i", "--inventory", default=str(SAMPLE_DISTRICT), help="inventory directory")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="collect every interval and serve /metrics")
    add_web_flags(s, default_address("recording"))
    c = sub.add_parser("collect", help="one collection over a window (default: the last interval), then exit")
    c.add_argument("--from", dest="start", help="window start, YYYY-MM-DD[THH:MM] in the district's time zone")
    c.add_argument("--to", dest="end", help="window end (default: now)")
    for sp in (s, c):  # also after the sub-command (`serve --config.file F`), as the other commands take them
        sp.add_argument("--config.file", dest="config_file", default=argparse.SUPPRESS, metavar="PATH",
                        help="configuration file (default: embedded defaults)")
        sp.add_argument("--config.check", dest="config_check", action="store_true", default=argparse.SUPPRESS,
                        help="validate the configuration, print 'ok' and exit 0; else one line and exit 2")
        sp.add_argument("-i", "--inventory", default=argparse.SUPPRESS, help="inventory directory")
    return p


def _when(text: str, tz: str) -> float:
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text!r} is not a date or time (YYYY-MM-DD[THH:MM])", status=2) from None
    return (t if t.tzinfo else t.replace(tzinfo=ZoneInfo(tz))).timestamp()


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    cfg = load_config(args.config_file)
    if args.config_check:
        print("ok")
        return 0
    try:
        inv = load_inventory(args.inventory)
    except InventoryError as e:
        raise UserError(f"invalid inventory {args.inventory}", [str(p) for p in e.problems[:20]], status=2) from None
    store = RecordingStore(cfg.db)
    try:
        store.migrate()
    except StoreError as e:
        raise UserError(str(e), status=2) from None
    collector = Collector(cfg, inv, store, http_transports(cfg, load_credentials(cfg.secrets_file)))
    if args.command == "collect":
        now = time.time()
        end = _when(args.end, inv.district.timezone) if args.end else now
        start = _when(args.start, inv.district.timezone) if args.start else end - cfg.interval
        if end <= start:
            raise UserError("--to must be after --from", status=2)
        results = asyncio.run(collector.round(start, end))
        failed = [r for r in results if r.error]
        print(f"{len(results)} recorders asked, {len(failed)} could not be asked")
        return 1 if failed else 0
    return asyncio.run(_serve(collector, args.web_listen_address))


async def _serve(collector: Collector, address: str) -> int:
    host, port = host_port(address)
    runner = web.AppRunner(collector.app(), access_log=None)  # as the exporter: no line per scrape
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    stop = asyncio.Event()
    try:
        await collector.run(stop)
    finally:
        await runner.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(None))
