"""What changed between two inventories: added / removed / changed objects with their changed fields.

Used by ``sharpeyes-inventory diff OLD NEW`` and by ``import --dry-run``. Objects are compared by id
and field by field (the device's resolved contractor, ports as written in the YAML).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field, fields
from typing import Any

from sharpeyes.output import add_output_flags, emit

from .model import Inventory
from .writer import compress_ports

# what is compared, in report order: label, Inventory attribute
SECTIONS = (
    ("contractor", "contractors"),
    ("township", "townships"),
    ("village", "villages"),
    ("site", "sites"),
    ("device", "devices"),
    ("fiber link", "links"),
)
_SKIP = frozenset({"id", "source"})


def _value(v: Any) -> str:
    """A field as the reviewer reads it."""
    if v is None:
        return ""
    if isinstance(v, tuple):
        if v and hasattr(v[0], "media"):
            return ", ".join(compress_ports(v))
        return ", ".join(map(str, v))
    if hasattr(v, "isoformat"):
        return str(v.isoformat())
    return str(v)


def _fields(obj: Any) -> dict[str, str]:
    return {f.name: _value(getattr(obj, f.name)) for f in fields(obj) if f.name not in _SKIP}


@dataclass
class Change:
    kind: str  # "device", "fiber link", …
    id: str
    fields: dict[str, tuple[str, str]]  # field -> (old, new)

    def __str__(self) -> str:
        parts = "; ".join(f"{k}: {old or '∅'} → {new or '∅'}" for k, (old, new) in self.fields.items())
        return f"~ {self.kind} {self.id}: {parts}"


@dataclass
class InventoryDiff:
    added: list[tuple[str, str]] = field(default_factory=list)  # (kind, id)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: dict[str, int] = field(default_factory=dict)  # kind -> count

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def as_json(self) -> dict[str, Any]:
        return {
            "added": [{"kind": k, "id": i} for k, i in self.added],
            "removed": [{"kind": k, "id": i} for k, i in self.removed],
            "changed": [
                {
                    "kind": c.kind,
                    "id": c.id,
                    "fields": {k: {"old": o, "new": n} for k, (o, n) in c.fields.items()},
                }
                for c in self.changed
            ],
            "unchanged": self.unchanged,
        }


def diff_inventories(old: Inventory, new: Inventory) -> InventoryDiff:
    out = InventoryDiff()
    district_changes = {
        k: (a, b) for k, a in _fields(old.district).items() if (b := _fields(new.district)[k]) != a
    }
    if not old.district.id and new.district.id:
        out.added.append(("district", new.district.id))
    elif district_changes:
        out.changed.append(Change("district", new.district.id, district_changes))
    for kind, attr in SECTIONS:
        before: dict[str, Any] = getattr(old, attr)
        after: dict[str, Any] = getattr(new, attr)
        same = 0
        for oid, obj in after.items():
            prev = before.get(oid)
            if prev is None:
                out.added.append((kind, oid))
                continue
            was, now = _fields(prev), _fields(obj)
            changes = {k: (was[k], now[k]) for k in was if was[k] != now[k]}
            if changes:
                out.changed.append(Change(kind, oid, changes))
            else:
                same += 1
        out.removed += [(kind, oid) for oid in before if oid not in after]
        out.unchanged[kind] = same
    return out


def _plural(kind: str, n: int) -> str:
    return f"{n} {kind}{'' if n == 1 else 'es' if kind.endswith('ch') else 's'}"


def format_diff(d: InventoryDiff) -> str:
    lines = [f"+ {kind} {oid}" for kind, oid in d.added]
    lines += [f"- {kind} {oid}" for kind, oid in d.removed]
    lines += [str(c) for c in d.changed]
    counts = []
    for label, items in (("added", d.added), ("removed", d.removed)):
        by_kind: dict[str, int] = {}
        for kind, _ in items:
            by_kind[kind] = by_kind.get(kind, 0) + 1
        counts.append(f"{label}: " + (", ".join(_plural(k, n) for k, n in by_kind.items()) or "nothing"))
    changed: dict[str, int] = {}
    for c in d.changed:
        changed[c.kind] = changed.get(c.kind, 0) + 1
    counts.append("changed: " + (", ".join(_plural(k, n) for k, n in changed.items()) or "nothing"))
    counts.append("unchanged: " + ", ".join(_plural(k, n) for k, n in d.unchanged.items()))
    return "\n".join([*lines, *counts])


DIFF_FIELDS = ("change", "kind", "id", "field", "old", "new")


def diff_records(d: InventoryDiff) -> list[dict[str, Any]]:
    """One record per added/removed object and per changed field."""
    out: list[dict[str, Any]] = [{"change": "added", "kind": k, "id": i, "field": "", "old": None, "new": None}
                                 for k, i in d.added]
    out += [{"change": "removed", "kind": k, "id": i, "field": "", "old": None, "new": None} for k, i in d.removed]
    out += [{"change": "changed", "kind": c.kind, "id": c.id, "field": f, "old": was, "new": now}
            for c in d.changed for f, (was, now) in c.fields.items()]
    return out


def cmd_diff(args: argparse.Namespace) -> int:
    from .cli import _load

    d = diff_inventories(_load(args.old), _load(args.new))
    fmt = getattr(args, "output", None)
    if args.json_doc:
        print(json.dumps(d.as_json(), ensure_ascii=False, indent=1))
    elif fmt:
        emit(diff_records(d), DIFF_FIELDS, fmt, empty="no differences")
    else:
        print(format_diff(d))
    return 1 if (args.exit_code and d) else 0


def register(sub: Any) -> None:
    sp = sub.add_parser(
        "diff", help="added / removed / changed devices, links and sites between two inventories",
        examples=("sharpeyes-inventory diff /srv/inventory.old /srv/inventory --exit-code",
                  "sharpeyes-inventory diff OLD_DIR NEW_DIR --output csv > changes.csv"),
    )
    sp.add_argument("old", metavar="OLD_DIR")
    sp.add_argument("new", metavar="NEW_DIR")
    add_output_flags(sp)
    sp.add_argument("--json", dest="json_doc", action="store_true",
                    help="the summary document (added/removed/changed/unchanged) as JSON")
    sp.set_defaults(output=None)
    sp.add_argument("--exit-code", action="store_true", help="exit with status 1 when the inventories differ")
    sp.set_defaults(fn=cmd_diff)
