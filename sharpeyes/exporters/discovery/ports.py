"""Interface names as switches abbreviate them -> the inventory's full port names.

VRP prints ``GE0/0/1`` and ``XGE0/0/49`` in its brief tables, Comware ``GE1/0/1`` / ``XGE1/0/49``
(= ``Ten-GigabitEthernet1/0/49``), IOS ``Gi1/0/1`` / ``Te1/1/1``; the inventory and ifName use the
full names. A name is reduced to (speed class, numbers) and looked up among the switch's ports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# prefix (lower case, longest first) -> speed class
_CLASSES: tuple[tuple[str, str], ...] = (
    ("ten-gigabitethernet", "10g"), ("tengigabitethernet", "10g"), ("xgigabitethernet", "10g"),
    ("twentyfivegige", "25g"), ("fortygige", "40g"), ("hundredgige", "100g"),
    ("gigabitethernet", "1g"), ("fastethernet", "100m"), ("ethernet", "100m"),
    ("100ge", "100g"), ("40ge", "40g"), ("25ge", "25g"), ("10ge", "10g"), ("xge", "10g"),
    ("meth", "meth"), ("gige", "1g"), ("ge", "1g"), ("gi", "1g"), ("te", "10g"), ("fa", "100m"),
    ("fe", "100m"), ("eth", "100m"),
)
_NAME = re.compile(r"^\s*([A-Za-z][A-Za-z\-]*?)\s*(\d+(?:/\d+)*(?:\.\d+)?)\s*$")


def port_key(name: str) -> tuple[str, str] | None:
    m = _NAME.match(name)
    if m is None:
        return None
    prefix = m.group(1).lower()
    for p, cls in _CLASSES:
        if prefix == p:
            return cls, m.group(2)
    return prefix, m.group(2)


class PortResolver:
    """Resolve reported interface names against one switch's inventory ports."""

    def __init__(self, names: Iterable[str]) -> None:
        self.exact: dict[str, str] = {}
        self.by_key: dict[tuple[str, str], str] = {}
        for n in names:
            self.exact[n.casefold()] = n
            key = port_key(n)
            if key is not None:
                self.by_key.setdefault(key, n)

    def __call__(self, reported: str) -> str:
        reported = reported.strip()
        hit = self.exact.get(reported.casefold())
        if hit is not None:
            return hit
        key = port_key(reported)
        if key is not None and key in self.by_key:
            return self.by_key[key]
        return reported
