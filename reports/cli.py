"""``sharpeyes-report monthly``: the monthly online-rate report as XLSX and PDF."""

from __future__ import annotations

import argparse
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
    m.add_argument("--month", required=True, help="YYYY-MM, in the district's time zone")
    m.add_argument("--prometheus", required=True, help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    m.add_argument("--tickets-db", help="tickets database URL (SQLAlchemy), read-only, for MTTR/SLA")
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


def monthly(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    cfg = load_config(args.config)
    inv = _inventory(args.inventory)
    tzname = inv.district.timezone if inv is not None else (args.timezone or "Asia/Shanghai")
    try:
        tz = zoneinfo.ZoneInfo(tzname)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown time zone {tzname!r}", status=2) from None
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
    if args.tickets_db:
        from .tickets_db import read_tickets

        result.tickets = read_tickets(args.tickets_db, period.start, period.end)
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
        f"{len(result.devices)} devices, {result.queries} queries: computed in {t1 - t0:.1f} s, "
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
