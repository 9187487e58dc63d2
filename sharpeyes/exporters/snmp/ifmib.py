"""IF-MIB columns and how an inventory port name finds its ifIndex.

Real inventories write the CLI / ifDescr name ("TenGigabitEthernet 0/5") where the switch's ifName
is "Te0/5", some agents answer the 32-bit ifTable only (no ifName at all), and stacks or VRF
sub-interfaces repeat an ifName. A port is resolved by ifName, then ifDescr (whole, or its first
word), then the ENTITY-MIB name of the port's physical entity (entPhysicalName through
entAliasMapping), then ifAlias; each compared exactly, then case-folded, then with the vendor's
interface type abbreviated to one canonical spelling. A name that matches several ifIndexes is
ambiguous and is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_SPEED = "1.3.6.1.2.1.2.2.1.5"  # bit/s, saturates at 2^32-1
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_IN_DISCARDS = "1.3.6.1.2.1.2.2.1.13"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"
IF_OUT_DISCARDS = "1.3.6.1.2.1.2.2.1.19"
IF_OUT_ERRORS = "1.3.6.1.2.1.2.2.1.20"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"  # Mbit/s
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"
STATUS_UP = 1  # ifAdminStatus / ifOperStatus up(1)
STATUS_DOWN = 2

# Interface type spellings -> one canonical abbreviation (Cisco, Huawei, H3C/HP Comware, ZTE, Ruijie).
_TYPES = {
    "hundredgige": "100ge", "hundredgigabitethernet": "100ge", "100ge": "100ge", "hu": "100ge",
    "fortygige": "40ge", "fortygigabitethernet": "40ge", "40ge": "40ge", "fo": "40ge",
    "twentyfivegige": "25ge", "twentyfivegigabitethernet": "25ge", "25ge": "25ge",
    "tengigabitethernet": "te", "ten-gigabitethernet": "te", "tengige": "te", "te": "te",
    "xgigabitethernet": "te", "xge": "te",
    "gigabitethernet": "gi", "gige": "gi", "gi": "gi", "ge": "gi",
    "fastethernet": "fa", "fa": "fa", "fe": "fa",
    "ethernet": "eth", "eth": "eth", "et": "eth",
    "port-channel": "po", "po": "po", "bridge-aggregation": "bagg", "bagg": "bagg",
    "eth-trunk": "eth-trunk", "vlanif": "vlan", "vlan-interface": "vlan", "vlan": "vlan",
}
_SPLIT = re.compile(r"^(\d*[a-z][a-z\-]*?)-?(\d.*)$")


def normalise(name: str) -> str:
    """'TenGigabitEthernet 0/5', 'Ten-GigabitEthernet0/5', 'XGE0/5', 'Te0/5' -> 'te0/5'."""
    compact = "".join(name.split()).casefold()
    m = _SPLIT.match(compact)
    if m is None:
        return compact
    kind, rest = m.groups()
    return _TYPES.get(kind, kind) + rest


def index_of(oid: str, root: str) -> int | None:
    """The ifIndex of a column row, or None when the row is not ``root.<integer>``."""
    prefix = root + "."
    if not oid.startswith(prefix):
        return None
    arc = oid[len(prefix):]
    if not arc.isdigit() or len(arc) > 10:
        return None
    return int(arc)


@dataclass(slots=True)
class NameTable:
    """One name column (ifName, ifDescr or ifAlias) as three lookups: exact, folded, normalised."""

    exact: dict[str, set[int]] = field(default_factory=dict)
    folded: dict[str, set[int]] = field(default_factory=dict)
    normal: dict[str, set[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, names: Mapping[int, str], first_word: bool = False) -> NameTable:
        table = cls()
        for i, name in names.items():
            candidates = {name}
            words = name.split()
            if first_word and len(words) > 1 and any(c.isdigit() for c in words[0]):
                candidates.add(words[0])
            for text in candidates:
                if not text:
                    continue
                table.exact.setdefault(text, set()).add(i)
                table.folded.setdefault(text.casefold(), set()).add(i)
                table.normal.setdefault(normalise(text), set()).add(i)
        return table

    def lookup(self, name: str) -> set[int]:
        for found in (self.exact.get(name), self.folded.get(name.casefold()), self.normal.get(normalise(name))):
            if found:
                return found
        return set()


@dataclass(slots=True)
class Resolution:
    """Inventory port name -> ifIndex; what did not resolve, and what matched several ifIndexes."""

    found: dict[str, int] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[int]] = field(default_factory=dict)


def resolve(names: Iterable[str], tables: Iterable[NameTable]) -> Resolution:
    """The first table that names a port exactly once wins; several matches everywhere = ambiguous.

    Once a name matched several interfaces, a later table only picks among those (a stack's
    duplicate ifName told apart by the ENTITY-MIB port name), never an unrelated interface."""
    ordered = list(tables)
    out = Resolution()
    for name in dict.fromkeys(names):
        several: set[int] = set()
        for table in ordered:
            hits = table.lookup(name)
            narrowed = hits & several if several else hits
            if len(narrowed) == 1:
                out.found[name] = next(iter(narrowed))
                break
            several |= hits
        else:
            if several:
                out.ambiguous[name] = sorted(several)
            else:
                out.unresolved.append(name)
    return out
