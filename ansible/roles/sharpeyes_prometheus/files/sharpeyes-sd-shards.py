"""Write per-township file_sd target files for Prometheus: <module>_<shard>.json.

    python sharpeyes-sd-shards.py --inventory DIR --out DIR --shard baodong --shard "" --shard "*"

The same groups as ``sharpeyes-inventory sd`` (one per device, contract labels), filtered to one
township: a shard named after a township gets that township's devices, the shard "" the devices
without a township (district level: core switch, district platform) and the shard "*" every device.
Shard file names use "district" for "" and "all" for "*". Files are replaced atomically and only
when their content changes; other *.json files are removed (the directory holds nothing else).
Prints a JSON summary ({"changed": [...], "counts": {...}}) for Ansible. Exit 1 if a device is in
no shard.
"""

import argparse
import json
import sys
from pathlib import Path

from sharpeyes.inventory import InventoryError, load_inventory
from sharpeyes.inventory.sd import MODULES, file_sd


def shard_name(township: str) -> str:
    return {"": "district", "*": "all"}.get(township, township)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--inventory", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--shard", action="append", default=[], help="township id, '' or '*' (repeatable)")
    p.add_argument("--allow-unassigned", action="store_true")
    args = p.parse_args()
    try:
        inv = load_inventory(args.inventory)
    except InventoryError as exc:
        print(f"sharpeyes-sd-shards: {args.inventory}: {len(exc.problems)} inventory errors", file=sys.stderr)
        return 1
    shards = list(dict.fromkeys(args.shard))
    unknown = [s for s in shards if s not in ("", "*") and s not in inv.townships]
    if unknown:
        print(f"sharpeyes-sd-shards: unknown townships: {', '.join(unknown)}", file=sys.stderr)
        return 1
    if "*" not in shards and not args.allow_unassigned:
        missing = sorted({d.township or "(district level)" for d in inv.active_devices()} -
                         {s or "(district level)" for s in shards})
        if missing:
            print(f"sharpeyes-sd-shards: no exporter shard probes: {', '.join(missing)}", file=sys.stderr)
            return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    changed, counts, wanted = [], {}, set()
    for module in MODULES:
        groups = file_sd(inv, module)
        for shard in shards:
            kept = [g for g in groups if shard == "*" or g["labels"]["township"] == shard]
            name = f"{module}_{shard_name(shard)}.json"
            wanted.add(name)
            counts[name] = len(kept)
            text = json.dumps(kept, ensure_ascii=False, indent=1) + "\n"
            path = out / name
            if path.exists() and path.read_text(encoding="utf-8") == text:
                continue
            tmp = out / f".{name}.tmp"
            tmp.write_text(text, encoding="utf-8")
            tmp.chmod(0o644)
            tmp.replace(path)
            changed.append(name)
    for stale in out.glob("*.json"):  # the directory is ours alone
        if stale.name not in wanted:
            stale.unlink()
            changed.append(f"-{stale.name}")
    print(json.dumps({"changed": changed, "counts": counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
