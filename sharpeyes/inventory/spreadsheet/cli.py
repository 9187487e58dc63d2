"""The `import` and `export` sub-commands of sharpeyes-inventory."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sharpeyes.cli import UserError
from sharpeyes.output import add_quiet_flag, progress

from .apply import import_spreadsheet, write_files
from .export import export_inventory
from .mapping import DEFAULT_MAPPING, load_mapping


def cmd_export(args: argparse.Namespace) -> int:
    from ..cli import _load

    inv = _load(args.inventory)
    mapping = load_mapping(args.mapping)
    fmt = args.format or ("csv" if args.out.lower().endswith(".csv") else "xlsx")
    paths = export_inventory(inv, args.out, fmt, mapping)
    print(
        f"wrote {', '.join(map(str, paths))}: {len(inv.devices)} devices, {len(inv.links)} fiber links, "
        f"{len(inv.sites)} sites"
    )
    return 0


IMPORT_STEPS = 4  # read, load, merge, validate


def cmd_import(args: argparse.Namespace) -> int:
    from ..diff import diff_inventories, format_diff

    mapping = load_mapping(args.mapping)
    with progress("import", total=IMPORT_STEPS + 1, args=args) as tracker:
        old, new, result, files, problems = import_spreadsheet(args.file, args.into, mapping, tracker.step)
        tracker.step("diff")
        diff = diff_inventories(old, new)
        tracker.advance()
    for note in result.notes:
        print(f"note: {note}")
    print(format_diff(diff))
    n = len(result.failed)
    if result.failed and not args.allow_partial:
        raise UserError(
            f"{args.file}: {n} row{'s' if n != 1 else ''} cannot be imported; nothing written "
            "(--allow-partial imports the others)",
            result.failed,
        )
    if problems:
        raise UserError(f"{args.file}: the merged inventory is invalid; nothing written", problems)
    skipped = f", {n} row{'s' if n != 1 else ''} skipped" if n else ""
    if args.dry_run:
        for line in result.failed:
            print(f"skipped: {line}")
        print(f"dry run: {result.imported} rows would be imported{skipped}; nothing written")
        return 0
    write_files(files, Path(args.into))
    for line in result.failed:
        print(f"skipped: {line}")
    print(f"imported {result.imported} rows into {args.into}{skipped}")
    return 0


def register(sub: Any) -> None:
    sp = sub.add_parser("export", help="write the inventory as a contractors' spreadsheet (XLSX or CSV)")
    sp.add_argument(
        "--inventory", "-i", metavar="DIR", help="inventory directory (default: the embedded sample district)"
    )
    sp.add_argument("--format", choices=("xlsx", "csv"), help="default: from the --out suffix")
    sp.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="the workbook, or the devices CSV (other sheets go beside it as <stem>-<sheet>.csv)",
    )
    sp.add_argument("--mapping", default=str(DEFAULT_MAPPING), metavar="YAML", help="column mapping file")
    sp.set_defaults(fn=cmd_export)
    sp = sub.add_parser("import", help="merge a contractors' spreadsheet (XLSX or CSV) into an inventory")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--mapping", default=str(DEFAULT_MAPPING), metavar="YAML", help="column mapping file")
    sp.add_argument("--into", required=True, metavar="DIR", help="inventory directory to merge into")
    sp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    sp.add_argument(
        "--allow-partial",
        action="store_true",
        help="import the good rows even when some rows cannot be imported",
    )
    add_quiet_flag(sp)
    sp.set_defaults(fn=cmd_import)
