"""``sharpeyes-report monthly``: the monthly online-rate report as XLSX and PDF."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import zoneinfo
from pathlib import Path

from sharpeyes.cli import UserError, cli_main, setup_logging
from sharpeyes.cli import parser as cli_parser
from sharpeyes.inventory import Inventory, InventoryError, load_inventory
from sharpeyes.output import add_output_flags, emit, output_format, progress, quiet

from .availability import compute, month_period
from .config import load_config, load_exclusions
from .prometheus import Prometheus


def parser() -> argparse.ArgumentParser:
    prog = "sharpeyes-report"
    p = cli_parser(prog, "The monthly online-rate report (在线率/完好率/录像完整率, repair timeliness) as XLSX "
                   "and PDF, computed from Prometheus.", examples=(
                       f"{prog} monthly --prometheus http://127.0.0.1:9090 -i /srv/inventory --out reports/",
                       f"{prog} monthly --month 2026-10 --prometheus http://127.0.0.1:9090 "
                       "--tickets-db-env SHARPEYES_TICKETS_DB --out reports/",
                       f"{prog} monthly --config.file report.yaml --config.check"))
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("monthly", help="the monthly online-rate report (XLSX + PDF)")
    m.add_argument("--month", help="YYYY-MM, in the district's time zone (default: the previous month there)")
    m.add_argument("--prometheus", metavar="URL",
                   help="Prometheus base URL, e.g. http://127.0.0.1:9090 (required unless --config.check)")
    db = m.add_mutually_exclusive_group()
    db.add_argument("--tickets-db", metavar="URL",
                    help="tickets database URL (SQLAlchemy), read-only, for MTTR/SLA")
    db.add_argument("--tickets-db-env", metavar="NAME",
                    help="read the tickets database URL from this environment variable (keeps the password "
                         "off the command line)")
    db.add_argument("--tickets-db-file", metavar="PATH",
                    help="read the tickets database URL from this file (e.g. mode 0640, root-owned)")
    m.add_argument("--recording-db", metavar="URL",
                   help="recording store URL (sharpeyes-recording's db), read-only: 录像完整率 and 存储天数达标率 "
                        "(needs --inventory); $SHARPEYES_RECORDING_DB is used when this is not given")
    m.add_argument("--exclusions", help="reviewed exclusions YAML (maintenance, power cuts, force majeure)")
    m.add_argument("--inventory", "-i", metavar="DIR",
                   help="inventory directory (names, tags such as key_area, fiber topology)")
    m.add_argument("--config.file", dest="config_file", metavar="PATH",
                   help="report config YAML (targets, exclusions path, scrape interval; default: built-in)")
    m.add_argument("--config.check", dest="config_check", action="store_true",
                   help="validate the config, the exclusions and the inventory, print 'ok' and exit 0; "
                        "else one line and exit 2")
    m.add_argument("--timezone", help="time zone when no inventory is given (default Asia/Shanghai)")
    m.add_argument("--out", metavar="DIR", help="output directory (required unless --config.check)")
    m.add_argument("--no-pdf", action="store_true", help="write only the workbook")
    add_output_flags(m)
    return p


SUMMARY_FIELDS = ("township", "name", "cameras", "online_rate", "compliance", "outages", "prev_rate")


def summary_records(result: object) -> list[dict[str, object]]:
    """Per township and the district (township ``""``): cameras, online rate (0..1, null when not
    monitored), share of cameras meeting the target, outages and last month's rate."""
    import math

    from .availability import cameras, group

    cams = cameras(result)  # type: ignore[arg-type]
    if cams.empty:
        return []
    prev = result.previous  # type: ignore[attr-defined]
    names = dict(zip(cams["township"], cams.get("township_name", cams["township"]), strict=True))
    cams = cams.assign(district="")
    out = []
    for by in ("township", "district"):
        for key, row in group(cams, by, prev).iterrows():
            def num(v: object) -> float | None:
                return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 6)  # type: ignore[arg-type]
            out.append({"township": str(key), "name": names.get(key, "") if by == "township" else "全区 district",
                        "cameras": int(row["cameras"]), "online_rate": num(row["rate"]),
                        "compliance": num(row["compliance"]), "outages": int(row["outages"]),
                        "prev_rate": num(row["prev_rate"])})
    return out


def _inventory(path: str | None) -> Inventory | None:
    if path is None:
        return None
    try:
        return load_inventory(path)
    except InventoryError as exc:
        raise exc.user_error(path) from None
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
    for flag in ("prometheus", "out"):
        if not args.config_check and not getattr(args, flag):
            raise UserError(f"monthly: --{flag} is required", status=2)
    tickets_db = tickets_db_url(args)  # before anything slow: a missing secret fails at once
    cfg = load_config(args.config_file)
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
    if args.config_check:
        print("ok")
        return 0
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {out}: {exc.strerror}") from None
    prom = Prometheus(args.prometheus)
    prom.check()
    with progress("Prometheus queries", args=args) as tracker:
        prom.on_query = tracker.advance
        result = compute(prom, cfg, period, inv, exclusions)
        prom.on_query = None
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
    rec_url = args.recording_db or os.environ.get("SHARPEYES_RECORDING_DB")
    if rec_url:
        tables = _with_recording(tables, result, cfg, inv, rec_url, period)
    stem = f"online-rate-{args.month}"
    with progress("report files", total=1 if args.no_pdf else 2, args=args) as tracker:
        files = [write_workbook(tables, out / f"{stem}.xlsx")]
        tracker.advance()
        if not args.no_pdf:
            from .pdf import write_pdf

            files.append(write_pdf(result, cfg, tables, district, out / f"{stem}.pdf"))
            tracker.advance()
    t2 = time.monotonic()
    emit(summary_records(result), SUMMARY_FIELDS, output_format(args), empty="no cameras monitored")
    if not quiet(args):
        print(
            f"{args.month}: {len(result.devices)} devices, {result.queries} queries: computed in {t1 - t0:.1f} s, "
            f"written in {t2 - t1:.1f} s: " + ", ".join(str(f) for f in files),
            file=sys.stderr,
        )
    return 0


def _with_recording(tables: list, result, cfg, inv: Inventory | None, url: str, period) -> list:  # type: ignore[no-untyped-def,type-arg]
    from .availability import cameras
    from .recording_db import read_recording
    from .recording_tables import assessment_table, recording_tables

    if inv is None:
        raise UserError("--recording-db needs --inventory (recorders, channels, plans, retention)", status=2)
    try:
        rec = read_recording(url, inv, period.start, period.end)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    cams = cameras(result)
    monitored = cams["monitored_s"].sum() if len(cams) else 0
    online = cams["online_s"].sum() / monitored if monitored else float("nan")
    result.notes.extend(rec.notes)
    return [tables[0], assessment_table(online, cfg.default_target, rec), *tables[1:], *recording_tables(rec, inv)]


@cli_main("sharpeyes-report")
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging(args)
    if args.command == "monthly":
        return monthly(args)
    raise UserError(f"unknown command {args.command}", status=2)


if __name__ == "__main__":
    sys.exit(main(None))
