"""sharpeyes-inventory: validate, count, generate and publish the fleet inventory."""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import entry_points
from pathlib import Path

from .console import UserError, cli_main
from .loader import InventoryError, load_inventory
from .model import Inventory

SAMPLE = Path(__file__).parent / "sample" / "fengquan"
ENTRY_POINT_GROUP = "sharpeyes.inventory_commands"


def _load(path: str | None) -> Inventory:
    try:
        return load_inventory(path or SAMPLE)
    except InventoryError as exc:
        n = len(exc.problems)
        raise UserError(f"{path or SAMPLE}: {n} error{'s' if n != 1 else ''}",
                        [str(p) for p in exc.problems]) from None


def cmd_validate(args: argparse.Namespace) -> int:
    inv = _load(args.inventory)
    print(f"ok: {len(inv.devices)} devices, {len(inv.links)} fiber links, {len(inv.sites)} sites")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from .stats import compute_stats, format_stats

    inv = _load(args.inventory)
    if args.json:
        print(json.dumps(compute_stats(inv), ensure_ascii=False, indent=1))
    else:
        print(format_stats(inv, by_village=args.villages))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from .generate import generate, scaled_spec
    from .writer import write_inventory

    inv = generate(scaled_spec(args.scale) if args.scale else None)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserError(f"{out} is not empty (use --force to overwrite)")
    files = write_inventory(inv, out)
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
    p = argparse.ArgumentParser(prog="sharpeyes-inventory", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name: str, help: str, fn, inventory: bool = True) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        sp = sub.add_parser(name, help=help)
        if inventory:
            sp.add_argument("--inventory", "-i", metavar="DIR",
                            help="inventory directory (default: the embedded sample district)")
        sp.set_defaults(fn=fn)
        return sp

    add("validate", "load and validate an inventory; list every error", cmd_validate)
    sp = add("stats", "counts per township / village / kind / role / contractor / status", cmd_stats)
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp.add_argument("--villages", action="store_true", help="also list cameras per village")
    sp = add("generate", "write the sample district (or a large synthetic fleet) as YAML", cmd_generate,
             inventory=False)
    sp.add_argument("--out", required=True, metavar="DIR")
    sp.add_argument("--scale", type=int, metavar="N", help="a prefecture-scale fleet of about N devices")
    sp.add_argument("--force", action="store_true")
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
    (``exporters.discovery.cli:register``) comes in that way.
    """
    found = []
    for mod in ("inventory.spreadsheet", "inventory.diff"):
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
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main(None))
