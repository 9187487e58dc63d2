"""sharpeyes-inventory: validate, count, generate and publish the fleet inventory."""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import entry_points
from pathlib import Path

from sharpeyes.cli import EXIT_FINDINGS, UserError, cli_main, setup_logging
from sharpeyes.cli import parser as cli_parser
from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.output import add_output_flags, add_quiet_flag, emit, progress

from .loader import InventoryError, load_inventory
from .model import Inventory

SAMPLE = SAMPLE_DISTRICT
ENTRY_POINT_GROUP = "sharpeyes.inventory_commands"


def _load(path: str | None) -> Inventory:
    try:
        return load_inventory(path or SAMPLE)
    except InventoryError as exc:
        raise exc.user_error(path or SAMPLE, status=EXIT_FINDINGS) from None


VALIDATE_FIELDS = ("file", "line", "object", "field", "message")


def cmd_validate(args: argparse.Namespace) -> int:
    fmt = getattr(args, "output", None)
    if fmt is None:
        inv = _load(args.inventory)
        print(f"ok: {len(inv.devices)} devices, {len(inv.links)} fiber links, {len(inv.sites)} sites")
        return 0
    try:
        load_inventory(args.inventory or SAMPLE)
    except InventoryError as exc:
        emit([_problem(p) for p in exc.problems], VALIDATE_FIELDS, fmt, empty="ok")
        return EXIT_FINDINGS
    emit([], VALIDATE_FIELDS, fmt, empty="ok")
    return 0


def _problem(p: object) -> dict[str, object]:
    return {"file": str(getattr(p, "file", "") or ""), "line": getattr(p, "line", None) or None,
            "object": getattr(p, "obj", ""), "field": getattr(p, "field", ""),
            "message": str(getattr(p, "message", p))}


def cmd_stats(args: argparse.Namespace) -> int:
    from .stats import STAT_FIELDS, compute_stats, format_stats, stat_records

    inv = _load(args.inventory)
    fmt = getattr(args, "output", None)
    if args.json_doc:  # the nested document
        print(json.dumps(compute_stats(inv), ensure_ascii=False, indent=1))
    elif fmt:
        emit(stat_records(inv, by_village=args.villages), STAT_FIELDS, fmt)
    else:
        print(format_stats(inv, by_village=args.villages))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from .generate import generate, scaled_spec
    from .writer import write_inventory

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserError(f"{out} is not empty (use --force to overwrite)")
    with progress("generate", args=args):
        inv = generate(scaled_spec(args.scale) if args.scale else None)
    with progress("write files", args=args) as tracker:
        files = write_inventory(inv, out, tracker)
    print(f"wrote {len(files)} files, {len(inv.devices)} devices, {len(inv.links)} fiber links to {out}")
    return 0


def cmd_sd(args: argparse.Namespace) -> int:
    from .sd import info_metrics, write_file_sd

    inv = _load(args.inventory)
    townships = None
    if args.township is not None:
        townships = tuple(dict.fromkeys(args.township))
        unknown = [t for t in townships if t and t not in inv.townships]
        if unknown:
            raise UserError(f"--township: no township {unknown[0]!r} in the inventory "
                            f"(known: {', '.join(inv.townships)}; \"\" = district level)", status=2)
    counts = write_file_sd(inv, args.out, townships)
    if args.info:
        Path(args.info).write_text(info_metrics(inv, townships), encoding="utf-8")
    print(", ".join(f"{m}: {n}" for m, n in counts.items()) + f" targets written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    prog = "sharpeyes-inventory"
    p = cli_parser(prog, "Validate, count, generate and publish the fleet inventory (the source of truth).",
                   examples=(f"{prog} validate -i /srv/inventory",
                             f"{prog} sd -i /srv/inventory --out /etc/prometheus/file_sd",
                             f"{prog} export -i /srv/inventory --out fleet.xlsx"))
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name: str, help: str, fn, inventory: bool = True,  # type: ignore[no-untyped-def]
            examples: tuple[str, ...] = ()) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, examples=examples)
        if inventory:
            sp.add_argument("--inventory", "-i", metavar="DIR",
                            help="inventory directory (default: the embedded sample district)")
        sp.set_defaults(fn=fn)
        return sp

    sp = add("validate", "load and validate an inventory; list every error", cmd_validate, examples=(
        f"{prog} validate -i /srv/inventory", f"{prog} validate -i /srv/inventory --output json"))
    add_output_flags(sp)
    sp = add("stats", "counts per township / village / kind / role / contractor / status", cmd_stats, examples=(
        f"{prog} stats -i /srv/inventory --villages", f"{prog} stats --output csv > stats.csv"))
    add_output_flags(sp)
    sp.add_argument("--json", dest="json_doc", action="store_true",
                    help="the counts as one nested JSON document (--output json gives records)")
    sp.add_argument("--villages", action="store_true", help="also list cameras per village")
    sp = add("generate", "write the sample district (or a large synthetic fleet) as YAML", cmd_generate,
             inventory=False)
    sp.add_argument("--out", required=True, metavar="DIR")
    sp.add_argument("--scale", type=int, metavar="N", help="a prefecture-scale fleet of about N devices")
    sp.add_argument("--force", action="store_true")
    add_quiet_flag(sp)
    sp = add("sd", "write Prometheus file_sd targets per probe module", cmd_sd)
    sp.add_argument("--out", required=True, metavar="DIR")
    sp.add_argument("--info", metavar="FILE", help="also write the inventory _info series to FILE")
    sp.add_argument("--township", action="append", metavar="ID",
                    help="only this township's devices (repeatable; \"\" = the district-level devices "
                         "without a township); default: every device")
    for extra in _extra_commands():
        extra(sub)
    return p


def _extra_commands() -> list:  # type: ignore[type-arg]
    """Sub-commands living in their own modules (spreadsheet import/export, diff, discovery …).

    Other packages add theirs through the entry-point group ``sharpeyes.inventory_commands`` (a
    ``register(subparsers)`` function each), so that inventory/ never imports them: discovery
    (``sharpeyes.exporters.discovery.cli:register``) comes in that way.
    """
    found = []
    for mod in ("sharpeyes.inventory.spreadsheet", "sharpeyes.inventory.diff"):
        try:
            module = __import__(mod, fromlist=["register"])
        except ImportError:
            continue
        found.append(module.register)
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            found.append(ep.load())
        except ImportError:  # the providing package is broken or half installed: skip its commands
            continue
    return found


@cli_main("sharpeyes-inventory")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main(None))
