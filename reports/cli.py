"""``sharpeyes-report monthly``: the monthly online-rate report as XLSX and PDF."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import zoneinfo
from pathlib import Path

from inventory import Inventory, InventoryError, load_inventory
from inventory.console import UserError, cli_main

from .availability import compute, month_period
from .config import load_config, load_exclusions
from .prometheus import Prometheus


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sharpeyes-report", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("monthly", help="the monthly online-rate report (XLSX + PDF)")
    m.add_argument("--month", help="YYYY-MM, in the district's time zone (default: the previous month there)")
    m.add_argument("--prometheus", required=True, help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    db = m.add_mutually_exclusive_group()
    db.add_argument("--tickets-db", metavar="URL",
                    help="tickets database URL (SQLAlchemy), read-only, for MTTR/SLA")
    db.add_argument("--tickets-db-env", metavar="NAME",
                    help="read the tickets database URL from this environment variable (keeps the password "
                         "off the command line)")
    db.add_argument("--tickets-db-file", metavar="PATH",
                    help="read the tickets database URL from this file (e.g. mode 0640, root-owned)")
    m.add_argument("--exclusions", help="reviewed exclusions YAML (maintenance, power cuts, force majeure)")
    m.add_argument("--inventory", help="inventory directory (names, tags such as key_area, fiber topology)")
    m.add_argument("--config", help="report config YAML (targets, exclusions path, scrape interval)")
    m.add_argument("--timezone", help="time zone when no inventory is given (default Asia/Shanghai)")
    m.add_argument("--out", required=True, help="output directory")
    m.add_argument("--no-pdf", action="store_true", help="write only the workbook")
    return p


def _inventory(path: str | None) -> Inventory | None:
    if path is None:
        return None
    try:
        return load_inventory(path)
    except InventoryError as exc:
        first = exc.problems[0] if exc.problems else exc
        raise UserError(f"invalid inventory {path}: {first}") from None
    except OSError as exc:
        raise UserError(f"cannot read inventory {path}: {exc}") from None


def previous_month(tz: dt.tzinfo, now: dt.datetime | None = None) -> str:
    """YYYY-MM of the month before the current one in ``tz`` (the district's calendar, not the host's)."""
    today = (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def tickets_db_url(args: argparse.Namespace) -> str | None:
    """The tickets database URL from --tickets-db, --tickets-db-env or --tickets-db-file (None: none given)."""
    if args.tickets_db is not None:
        url = args.tickets_db.strip()
        where = "--tickets-db"
    elif args.tickets_db_env is not None:
        where = f"--tickets-db-env {args.tickets_db_env}"
        url = os.environ.get(args.tickets_db_env, "").strip()
        if not url:
            raise UserError(f"{where}: the environment variable is not set or empty")
    elif args.tickets_db_file is not None:
        where = f"--tickets-db-file {args.tickets_db_file}"
        try:
            url = Path(args.tickets_db_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(f"{where}: cannot read: {exc.strerror}") from None
    else:
        return None
    if not url:
        raise UserError(f"{where}: empty database URL", status=2)
    return url


def monthly(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    tickets_db = tickets_db_url(args)  # before anything slow: a missing secret fails at once
    cfg = load_config(args.config)
    inv = _inventory(args.inventory)
    tzname = inv.district.timezone if inv is not None else (args.timezone or "Asia/Shanghai")
    try:
        tz = zoneinfo.ZoneInfo(tzname)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown time zone {tzname!r}", status=2) from None
    if args.month is None:
        args.month = previous_month(tz)
    period = month_period(args.month, tz)
    excl_path = args.exclusions or cfg.exclusions
    exclusions = load_exclusions(excl_path, tz) if excl_path else []
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {out}: {exc.strerror}") from None
    prom = Prometheus(args.prometheus)
    prom.check()
    result = compute(prom, cfg, period, inv, exclusions)
    if inv is None:
        result.notes.append(
            "未提供资产清单（--inventory）：名称取自 sharpeyes_device_info，重点区域标签不可用"
        )
    if tickets_db:
        from .tickets_db import read_tickets

        result.tickets = read_tickets(tickets_db, period.start, period.end)
        if result.tickets is None:
            result.notes.append("工单库中无 tickets 表：无工单数据")
    t1 = time.monotonic()
    from .tables import build_tables
    from .xlsx import write_workbook

    district = inv.district.name if inv is not None else ""
    tables = build_tables(result, cfg, inv, district)
    stem = f"online-rate-{args.month}"
    files = [write_workbook(tables, out / f"{stem}.xlsx")]
    if not args.no_pdf:
        from .pdf import write_pdf

        files.append(write_pdf(result, cfg, tables, district, out / f"{stem}.pdf"))
    t2 = time.monotonic()
    print(
        f"{args.month}: {len(result.devices)} devices, {result.queries} queries: computed in {t1 - t0:.1f} s, "
        f"written in {t2 - t1:.1f} s: " + ", ".join(str(f) for f in files),
        file=sys.stderr,
    )
    return 0


@cli_main("sharpeyes-report")
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "monthly":
        return monthly(args)
    raise UserError(f"unknown command {args.command}", status=2)


if __name__ == "__main__":
    sys.exit(main(None))
