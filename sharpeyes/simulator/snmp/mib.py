"""A lazily computed MIB view: shared templates of scalars and tables, values computed per request.

A template (one per device kind/vendor) is a sorted list of nodes, each owning an OID prefix:
- :class:`Scalars`: fixed instances (``sysDescr.0``…), each a function of the device context;
- :class:`Table`: columns × rows, rows listed per device (sorted index tuples), values per cell.
GET is a bisect to the node and a call; GETNEXT walks nodes in order and bisects the rows, so no
device ever materialises its MIB as objects. A cell function returning None means "no instance".
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from .ber import OID, Value

Ctx = Any
Getter = Callable[[Ctx], Value | None]
CellGetter = Callable[[Ctx, tuple[int, ...]], Value | None]
RowsFn = Callable[[Ctx], Sequence[tuple[int, ...]]]


class Node:
    prefix: OID

    def get(self, ctx: Ctx, suffix: OID) -> Value | None:
        raise NotImplementedError

    def next(self, ctx: Ctx, suffix: OID | None) -> tuple[OID, Value] | None:
        """The first instance strictly after ``suffix`` (None: the first instance of all)."""
        raise NotImplementedError


class Scalars(Node):
    """Fixed instances below a prefix: ``{(1, 0): getter, (3, 0): getter}``."""

    def __init__(self, prefix: OID, items: dict[OID, Getter]) -> None:
        self.prefix = prefix
        self.keys = sorted(items)
        self.items = items

    def get(self, ctx: Ctx, suffix: OID) -> Value | None:
        fn = self.items.get(suffix)
        return fn(ctx) if fn is not None else None

    def next(self, ctx: Ctx, suffix: OID | None) -> tuple[OID, Value] | None:
        i = 0 if suffix is None else bisect_right(self.keys, suffix)
        while i < len(self.keys):
            key = self.keys[i]
            value = self.items[key](ctx)
            if value is not None:
                return self.prefix + key, value
            i += 1
        return None


class Table(Node):
    """``prefix`` is the entry OID (…Table.1); columns ``{col: cell getter}``; ``rows(ctx)`` sorted indexes.

    ``column_rows`` may give a column its own (sparser) rows function.
    """

    def __init__(
        self,
        prefix: OID,
        rows: RowsFn,
        columns: dict[int, CellGetter],
        column_rows: dict[int, RowsFn] | None = None,
    ) -> None:
        self.prefix = prefix
        self.rows = rows
        self.cols = sorted(columns)
        self.columns = columns
        self.column_rows = column_rows or {}

    def _rows(self, ctx: Ctx, col: int) -> Sequence[tuple[int, ...]]:
        fn = self.column_rows.get(col, self.rows)
        return fn(ctx)

    def get(self, ctx: Ctx, suffix: OID) -> Value | None:
        if len(suffix) < 2:
            return None
        fn = self.columns.get(suffix[0])
        if fn is None:
            return None
        index = suffix[1:]
        rows = self._rows(ctx, suffix[0])
        i = bisect_left(rows, index)
        if i == len(rows) or rows[i] != index:
            return None
        return fn(ctx, index)

    def next(self, ctx: Ctx, suffix: OID | None) -> tuple[OID, Value] | None:
        if suffix is None or not suffix:
            ci, after = 0, None
        else:
            ci = bisect_left(self.cols, suffix[0])
            after = suffix[1:] if ci < len(self.cols) and self.cols[ci] == suffix[0] else None
        while ci < len(self.cols):
            col = self.cols[ci]
            rows = self._rows(ctx, col)
            i = 0 if after is None else bisect_right(rows, after)
            fn = self.columns[col]
            while i < len(rows):
                value = fn(ctx, rows[i])
                if value is not None:
                    return (*self.prefix, col, *rows[i]), value
                i += 1
            ci += 1
            after = None
        return None


class MibTemplate:
    """Nodes sorted by prefix (prefixes must not nest); one template serves many devices."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = sorted(nodes, key=lambda n: n.prefix)
        self.prefixes = [n.prefix for n in self.nodes]
        for a, b in zip(self.prefixes, self.prefixes[1:], strict=False):
            if b[: len(a)] == a:
                raise ValueError(f"nested MIB nodes {a} and {b}")

    def _node_at(self, oid: OID) -> int:
        """Index of the last node whose prefix <= oid (-1 if none)."""
        return bisect_right(self.prefixes, oid) - 1

    def get(self, ctx: Ctx, oid: OID) -> Value | None:
        i = self._node_at(oid)
        if i < 0:
            return None
        node = self.nodes[i]
        n = len(node.prefix)
        if oid[:n] != node.prefix or len(oid) == n:
            return None
        return node.get(ctx, oid[n:])

    def next(self, ctx: Ctx, oid: OID) -> tuple[OID, Value] | None:
        i = self._node_at(oid)
        if i >= 0:
            node = self.nodes[i]
            n = len(node.prefix)
            if oid[:n] == node.prefix:
                found = node.next(ctx, oid[n:] if len(oid) > n else None)
                if found is not None:
                    return found
            # oid is after this node's prefix but not inside it: the node lies wholly before oid
        for node in self.nodes[i + 1 :]:
            found = node.next(ctx, None)
            if found is not None:
                return found
        return None
